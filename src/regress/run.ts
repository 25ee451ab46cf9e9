/** What a `sis regress` job is (one boot per arch: capture the event sequence, then store it or diff it) and how it is judged; the run engine does the rest. */
import type { Arch } from "../arch.ts";
import type { CommandContext } from "../context.ts";
import type { MachineConfig } from "../qemu/profiles.ts";
import type { KernelFailure, RunResults, StepResult } from "../report/results.ts";
import { summarize } from "../report/results.ts";
import {
  type BootedMachine,
  type EngineJob,
  type JobContext,
  type Launcher,
  runEngine,
} from "../runs/engine.ts";
import type { KernelBuilder } from "../runs/kernels.ts";
import type { RunStop } from "../runs/signals.ts";
import { type Baseline, baselinePath, saveBaseline } from "./baseline.ts";
import { captureOn, type MachineCapture } from "./capture.ts";
import { type AllowEntry, diffEvents, type DiffResult } from "./diff.ts";

/** One arch to capture. */
interface RegressJob extends EngineJob {
  arch: Arch;
  /** `check`: the baseline to diff against (loaded before anything boots). */
  baseline?: Baseline;
}

/** One arch's outcome. */
export interface RegressJobResult {
  name: string;
  arch: Arch;
  /** `stored`: a baseline was written; `regression`: the check found one; `error`: the kernel failed. */
  status: "passed" | "stored" | "regression" | "error" | "interrupted";
  events: number;
  baselineEvents?: number;
  /** The check's findings (absent for `baseline`). */
  diff?: DiffResult;
  /** A panic, hang or early exit during the capture. */
  failure?: KernelFailure;
  /** `baseline`: where it was written. */
  storedAt?: string;
  durationMs: number;
  bundleDir?: string;
}

export interface RegressRunOptions {
  action: "baseline" | "check";
  root: string;
  context: CommandContext;
  argv: readonly string[];
  arches: readonly Arch[];
  config: MachineConfig;
  suite: string;
  /** Commands run after boot (`baseline`; `check` uses each baseline's own). */
  commands: readonly string[];
  baselineDir: string;
  /** `check`: the baseline of each arch. */
  baselines?: ReadonlyMap<string, Baseline>;
  allowlist: readonly AllowEntry[];
  today: string;
  qemuBinaries: Partial<Record<Arch, string>>;
  timeoutMs: number;
  noBuild?: boolean;
  shard?: string;
  /** Keep only jobs whose name (`x86_64-default-regress`) contains this. */
  filter?: string;
  json?: string;
  junit?: string;
  /** Printed as each arch finishes. */
  onResult?: (result: RegressJobResult) => void;
  launch?: Launcher;
  build?: KernelBuilder;
  runsDir?: string;
  stop?: RunStop;
}

/**
 * Captures every arch (one after another: a regress check compares event
 * order, and parallel boots on a loaded runner add nothing but noise) and
 * judges it. Exit: 4 when a kernel panicked or hung, 1 on a regression, 0.
 */
export function runRegressJobs(options: RegressRunOptions): Promise<number> {
  const jobs: RegressJob[] = options.arches.map((arch) => ({
    name: `${arch}-${options.config.name}-regress`,
    arch,
    baseline: options.baselines?.get(arch),
  }));
  return runEngine<RegressJob, RegressJobResult>({
    kind: "regress",
    root: options.root,
    context: options.context,
    argv: options.argv,
    jobs,
    asked: `--arch ${options.arches.join(",")}`,
    shard: options.shard,
    filter: options.filter,
    kernels: { noBuild: options.noBuild },
    parallel: 1,
    outputs: { json: options.json, junit: options.junit },
    runsDir: options.runsDir,
    manifest: { action: options.action, configs: [{ ...options.config }], suites: [options.suite] },
    runJob: (job, run) => runOne(job, run, options),
    notRun: (job, why) => ({
      name: job.name,
      arch: job.arch,
      status: "interrupted",
      events: 0,
      failure: { kind: "interrupted", message: why },
      durationMs: 0,
    }),
    onJobDone: (result) => options.onResult?.(result),
    finish: (results, info) => {
      // The JSON keeps its original shape (findings per arch), with each arch's status beside them.
      const json: Record<string, unknown> = {};
      for (const result of results) {
        json[result.arch] = { ...result.diff, status: result.status, failure: result.failure };
      }
      const report = toRunResults(results, info);
      const exitCode = results.some((result) => result.status === "error")
        ? 4
        : results.some((result) => result.status === "regression")
        ? 1
        : 0;
      return { json, report, exitCode };
    },
    launch: options.launch,
    build: options.build,
    stop: options.stop,
  });
}

async function runOne(
  job: RegressJob,
  run: JobContext,
  options: RegressRunOptions,
): Promise<RegressJobResult> {
  const started = performance.now();
  const recorder = await run.record({ config: options.config.name, action: options.action });
  let machine: BootedMachine | undefined;
  let capture: MachineCapture;
  try {
    machine = await run.launch({ config: options.config, qemuBinary: options.qemuBinaries[job.arch] });
    capture = await captureOn(machine, job.baseline ? job.baseline.commands : options.commands, {
      bootTimeoutMs: options.timeoutMs,
      commandTimeoutMs: options.timeoutMs,
      onEvent: (event) => recorder.event(event as unknown as Record<string, unknown>),
    });
  } finally {
    await machine?.shutdown();
    recorder.close();
  }
  const base = {
    name: job.name,
    arch: job.arch,
    events: capture.events.length,
    durationMs: Math.round(performance.now() - started),
    bundleDir: recorder.dir,
  };
  let result: RegressJobResult;
  if (run.stop.isStopped) {
    result = { ...base, status: "interrupted", failure: { kind: "interrupted", message: run.stop.reason } };
  } else if (options.action === "baseline") {
    if (capture.failure) {
      // A failed boot is never stored as the expected sequence.
      result = { ...base, status: "error", failure: capture.failure };
    } else {
      const path = baselinePath(options.baselineDir, job.arch, options.config.name);
      await saveBaseline(path, {
        schema: 1,
        arch: job.arch,
        config: options.config.name,
        suite: options.suite,
        commands: [...options.commands],
        kernel: run.kernel.sha256,
        recordedAt: new Date().toISOString(),
        events: capture.events,
      });
      result = { ...base, status: "stored", storedAt: path };
    }
  } else {
    const diff = diffEvents(job.baseline!.events, capture.events, {
      arch: job.arch,
      allowlist: options.allowlist,
      today: options.today,
    });
    if (capture.failure && !capture.events.some((event) => event.kind === "panic")) {
      diff.findings.push({ kind: "panic", template: `KERNEL FAILURE ${capture.failure.message}` });
      diff.isRegression = true;
    }
    // A panic or hang is exit 4 in every command, even when the diff also names it.
    const status = capture.failure ? "error" : diff.isRegression ? "regression" : "passed";
    result = { ...base, status, diff, failure: capture.failure, baselineEvents: job.baseline!.events.length };
  }
  await recorder.finish(result);
  return result;
}

/** Each arch as a job in the shared results shape (JUnit, GitHub): one test case per finding. */
function toRunResults(
  results: readonly RegressJobResult[],
  info: { runId: string; startedAt: string; durationMs: number; interrupted?: "SIGINT" | "SIGTERM" },
): RunResults {
  const jobs = results.map((result) => {
    const command = `sis regress check --arch ${result.arch}`;
    const step = (
      id: string,
      name: string,
      status: StepResult["status"],
      messages: string[],
    ): StepResult => ({
      id: `regress/${id}`,
      name,
      command,
      status,
      durationMs: 0,
      messages,
      output: [],
    });
    const steps: StepResult[] = [];
    if (result.status === "interrupted") {
      steps.push(step("run", "the boot was captured", "skipped", [result.failure?.message ?? "interrupted"]));
    } else if (result.status === "stored" || (result.status === "error" && !result.diff)) {
      steps.push(
        step("capture", "the boot was captured", result.failure ? "failed" : "passed", [
          ...(result.failure ? [result.failure.message] : []),
        ]),
      );
    } else {
      const findings = result.diff?.findings ?? [];
      const unexcused = findings.filter((finding) => !finding.allowedBy);
      steps.push(
        step(
          "sequence",
          "the boot sequence matches the baseline",
          unexcused.length || result.diff?.expired.length ? "failed" : "passed",
          [
            ...unexcused.map((finding) => `${finding.kind} ${finding.template}`),
            ...(result.diff?.expired ?? []).map((entry) => `expired allowlist entry "${entry.template}"`),
          ],
        ),
      );
    }
    return {
      name: result.name,
      arch: result.arch,
      config: "regress",
      suite: "boot",
      status: result.status === "stored" || result.status === "passed"
        ? "passed" as const
        : result.status === "regression"
        ? "failed" as const
        : result.status,
      durationMs: result.durationMs,
      steps,
      kernel: result.failure,
      bundleDir: result.bundleDir,
    };
  });
  return {
    schema: 1,
    kind: "regress",
    runId: info.runId,
    startedAt: info.startedAt,
    durationMs: info.durationMs,
    interrupted: info.interrupted,
    jobs,
    summary: summarize(jobs),
  };
}
