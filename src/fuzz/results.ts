/** The results of `sis fuzz syscalls` and `sis fuzz replay` (results.json, --json) and their shared RunResults form for JUnit and GitHub output. */
import type { JobResult, KernelFailure, RunResults, StepResult } from "../report/results.ts";
import type { SyscallCounts } from "./transcript.ts";

/** A kernel crash the fuzzer caused, as found. */
export interface FuzzCrash {
  kind: "panic" | "hang" | "exited";
  /** The panic message (or the hang's description). */
  message: string;
  /** What two crashes must share to be "the same crash" (delta debugging's test): kind and message with numbers masked. */
  signature: string;
  /** The `user:` line's progress index: the call in flight. */
  progress?: number;
  /** The syscall number the fuzzer was in, from the same line. */
  syscall?: number;
  /** The reproducer: calls start..end (inclusive) of the seed, in one process. */
  range?: { start: number; end: number };
  /** The panic report, or the last serial lines of a hang. */
  report: string[];
}

/** One arch's fuzz run. */
export interface FuzzArchResult {
  name: string;
  arch: string;
  /** passed: no crash (or, with --control, the control was found, replayed and minimized); crashed: a kernel crash; failed: the fuzzer could not do its job. */
  status: "passed" | "crashed" | "failed" | "interrupted";
  seed: string;
  control: boolean;
  /** Fuzzed calls made (progress calls not counted). */
  calls: number;
  /** Of those, how many returned an errno. */
  failedCalls: number;
  /** Guest time the calls took (kernel uptime, first call to last, summed over chunks). */
  elapsedMs: number;
  /** calls / elapsedMs: the syscall layer's rate, boot and CLI overhead excluded. */
  callsPerSecond: number;
  /** The kernel's counts for the fuzzer's calls (after minus before, over the chunks that finished). */
  coverage: SyscallCounts;
  /** The layout the program reported, in hex (what the listing used). */
  layout?: Record<string, string>;
  crash?: FuzzCrash;
  /** Did replaying the reproducer's range crash the same way? */
  replay?: { crashed: boolean; sameCrash: boolean; message?: string };
  minimized?: {
    indices: number[];
    /** One line per call: `#44021 write(0x5, 0x2000005ffa, 0x10001)`. */
    listing: string[];
    tests: number;
    isMinimal: boolean;
  };
  /** Wall-clock phases: fuzzing from the first boot until the crash (or the end), the confirming replay, minimization (each with its boots). */
  timings: { fuzzMs: number; replayMs?: number; minimizeMs?: number };
  /** Why the job failed when no crash explains it (fuzzer killed, bad arguments, control not found). */
  problem?: string;
  kernel?: KernelFailure;
  bundleDir?: string;
  durationMs: number;
}

/** One reproducer's replay. */
export interface ReplayArchResult {
  name: string;
  arch: string;
  status: "crashed" | "passed" | "failed" | "interrupted";
  seed: string;
  indices: number[];
  /** The crash, when it still happens. */
  crash?: FuzzCrash;
  /** Same kind and message as the recorded crash. */
  sameCrash?: boolean;
  problem?: string;
  kernel?: KernelFailure;
  bundleDir?: string;
  durationMs: number;
}

export interface FuzzResults {
  schema: 1;
  kind: "fuzz" | "fuzz-replay";
  runId: string;
  startedAt: string;
  durationMs: number;
  archs: (FuzzArchResult | ReplayArchResult)[];
  interrupted?: "SIGINT" | "SIGTERM";
  kernels?: Record<string, unknown>;
  /** The run bundle's repro.json, when a crash was found. */
  repro?: string;
}

/** Exit code: 4 when a kernel crashed (or, for replay, still crashes), 1 when a job failed, else 0. */
export function fuzzExitCode(archs: readonly { status: string }[]): number {
  if (archs.some((arch) => arch.status === "crashed")) return 4;
  if (archs.some((arch) => arch.status === "failed")) return 1;
  return 0;
}

function step(
  id: string,
  name: string,
  command: string,
  passed: boolean | "skipped",
  messages: string[],
): StepResult {
  return {
    id,
    name,
    command,
    status: passed === "skipped" ? "skipped" : passed ? "passed" : "failed",
    durationMs: 0,
    messages,
    output: [],
  };
}

/** The shared shape: one job per arch, steps for what was checked. */
export function toRunResults(results: FuzzResults): RunResults {
  const jobs: JobResult[] = results.archs.map((arch) => {
    const command = results.kind === "fuzz"
      ? `sis fuzz syscalls --arch ${arch.arch} --seed ${arch.seed}`
      : `sis fuzz replay`;
    const steps: StepResult[] = [];
    const why = arch.problem ?? arch.kernel?.message ?? "";
    if (arch.status === "interrupted") {
      steps.push(step("fuzz/run", "the run finished", command, "skipped", [why || "interrupted"]));
    } else if ("control" in arch) {
      if (arch.control) {
        steps.push(
          step(
            "fuzz/control-found",
            "the positive control was found",
            command,
            arch.crash !== undefined,
            arch.crash ? [] : [why],
          ),
        );
        steps.push(
          step(
            "fuzz/control-replayed",
            "its reproducer replayed",
            command,
            arch.replay?.sameCrash === true,
            [],
          ),
        );
        steps.push(
          step(
            "fuzz/control-minimized",
            "it was minimized to at most 5 calls",
            command,
            (arch.minimized?.indices.length ?? 99) <= 5,
            [
              arch.minimized ? `${arch.minimized.indices.length} call(s)` : "not minimized",
            ],
          ),
        );
      } else {
        steps.push(
          step(
            "fuzz/no-crash",
            `no kernel crash in ${arch.calls} calls`,
            command,
            arch.status === "passed",
            why ? [why] : [],
          ),
        );
      }
    } else {
      steps.push(
        step(
          "fuzz/replay",
          "the reproducer no longer crashes the kernel",
          command,
          arch.status === "passed",
          why ? [why] : [],
        ),
      );
    }
    const kernel: KernelFailure | undefined = arch.status === "crashed" && arch.crash
      ? { kind: arch.crash.kind, message: arch.crash.message, report: arch.crash.report }
      : arch.kernel;
    return {
      name: arch.name,
      arch: arch.arch,
      config: "fuzz",
      suite: results.kind,
      status: arch.status === "passed"
        ? "passed"
        : arch.status === "interrupted"
        ? "interrupted"
        : arch.status === "crashed"
        ? "error"
        : "failed",
      durationMs: arch.durationMs,
      steps,
      kernel,
      bundleDir: arch.bundleDir,
    };
  });
  const summary = { passed: 0, failed: 0, skipped: 0, pending: 0, kernelFailures: 0 };
  for (const job of jobs) {
    if (job.kernel && job.kernel.kind !== "interrupted") summary.kernelFailures++;
    for (const one of job.steps) summary[one.status]++;
  }
  return {
    schema: 1,
    kind: results.kind,
    runId: results.runId,
    startedAt: results.startedAt,
    durationMs: results.durationMs,
    jobs,
    summary,
    interrupted: results.interrupted,
    kernels: results.kernels,
  };
}
