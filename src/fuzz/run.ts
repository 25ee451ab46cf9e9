/** What a fuzz job does on its arch (fuzz in chunks, and on a crash: keep the report, replay, minimize, write the reproducer) and a replay job; the run engine (src/runs/) does the rest. */
import { join } from "node:path";
import type { Arch } from "../arch.ts";
import type { CommandContext } from "../context.ts";
import type { KernelFailure } from "../report/results.ts";
import { writeJsonAtomically } from "../runs/bundle.ts";
import { type EngineJob, type JobContext, type Launcher, runEngine } from "../runs/engine.ts";
import type { KernelBuilder } from "../runs/kernels.ts";
import type { ReportFiles } from "../runs/outputs.ts";
import type { RunStop } from "../runs/signals.ts";
import { ddmin } from "./ddmin.ts";
import { describeCall, generateCall, hex, type Layout } from "./generator.ts";
import { FuzzKernel, type FuzzKernelOptions } from "./kernel.ts";
import { CHUNK_CALLS, listArguments, runArguments } from "./plan.ts";
import { REPRO_KIND, type Reproducer, type ReproFile } from "./repro.ts";
import {
  type FuzzArchResult,
  type FuzzCrash,
  fuzzExitCode,
  type FuzzResults,
  type ReplayArchResult,
  toRunResults,
} from "./results.ts";
import { addCounts, parseUserLines, subtractCounts, type SyscallCounts } from "./transcript.ts";

/** Where the positive-control kernels live (apart from the plain ones in build/). */
export const FUZZ_BREAK_BUILD_DIR = "build/fuzz-break";
export const FUZZ_BREAK_FEATURE = "fuzz-break";
/** The control's panic message starts with this (kernel/sis-kernel/src/user/broken.rs). */
const CONTROL_PANIC = "fuzz-break:";

/** Most delta-debugging tests per crash; each is one `run fuzz` (and a boot when it crashed). */
const MAX_MINIMIZE_TESTS = 64;

/** What to fuzz on one arch. */
export interface FuzzSpec {
  arch: Arch;
  seed: bigint;
  /** Calls to make (from index 0), or undefined with `timeMs`. */
  calls?: number;
  /** Fuzz for this long (wall clock) instead of a call count. */
  timeMs?: number;
}

interface FuzzJob extends EngineJob {
  arch: Arch;
  spec?: FuzzSpec;
  reproducer?: Reproducer;
}

export interface FuzzRunOptions extends Omit<FuzzKernelOptions, "qemuBinary"> {
  root: string;
  context: CommandContext;
  argv: readonly string[];
  qemuBinaries: Partial<Record<Arch, string>>;
  parallel: number;
  /** The positive control: boot the fuzz-break kernels, and expect (and minimize) their crash. */
  control: boolean;
  noBuild?: boolean;
  outputs?: ReportFiles;
  onArch?: (result: FuzzArchResult | ReplayArchResult) => void;
  text?: (results: FuzzResults) => string;
  /** Unit tests: fake machines, a fake cargo, a folder for bundles, a stop by hand. */
  launch?: Launcher;
  build?: KernelBuilder;
  runsDir?: string;
  stop?: RunStop;
}

/** The crash signature delta debugging compares: kind and message with every number masked (addresses differ, the bug does not). */
export function crashSignature(kind: string, message: string): string {
  return `${kind}: ${message.replace(/0x[0-9a-f]+|\d+/gi, "#")}`;
}

/** A kernel failure as a fuzz crash, with the reproducer range when the report names the call in flight. */
export function crashOf(failure: KernelFailure, chunkStart: number, heartbeat?: number): FuzzCrash {
  const kind = failure.kind === "hang" ? "hang" : failure.kind === "exited" ? "exited" : "panic";
  const raw = failure.record?.message;
  const message = typeof raw === "string" ? raw : failure.message;
  const user = parseUserLines(failure.report ?? []).find((line) => line.program === "fuzz");
  const crash: FuzzCrash = {
    kind,
    message,
    signature: crashSignature(kind, kind === "hang" ? "no output" : message),
    report: failure.report ?? [],
  };
  if (user?.progress !== undefined) {
    crash.progress = user.progress;
    crash.syscall = user.syscall;
    crash.range = { start: chunkStart, end: user.progress };
  } else if (kind === "hang") {
    // A hung kernel prints no report: the chunk up to one heartbeat batch past the last index seen.
    crash.range = {
      start: chunkStart,
      end: Math.min(chunkStart + CHUNK_CALLS - 1, (heartbeat ?? chunkStart) + 65_536),
    };
  }
  return crash;
}

function listing(seed: bigint, indices: readonly number[], layout: Layout): string[] {
  return indices.map((index) => `#${index} ${describeCall(generateCall(seed, BigInt(index), layout))}`);
}

function layoutHex(layout: Layout): Record<string, string> {
  return Object.fromEntries(Object.entries(layout).map(([key, value]) => [key, hex(value as bigint)]));
}

/** A crash's test for ddmin: does running exactly `indices` on a freshly booted kernel crash it the same way? */
async function crashesTheSameWay(
  kernel: FuzzKernel,
  seed: bigint,
  indices: readonly number[],
  signature: string,
) {
  const args = listArguments(seed, indices);
  // Too fragmented to pass as arguments: treated as not crashing, so never kept.
  if (args === undefined) return { crashed: false, same: false };
  // Every test on a fresh boot: files and mappings an earlier test's process
  // left in the kernel must not decide whether this one crashes.
  await kernel.shutdown();
  const outcome = await kernel.fuzz(args);
  // A crash just after the process ended (its cleanup) shows on the next command.
  const failure = outcome.kind === "crash" ? outcome.failure : (await kernel.syscallCounts()).failure;
  if (!failure) return { crashed: false, same: false };
  if (failure.kind === "interrupted" || failure.kind === "boot") {
    return { crashed: false, same: false, failure };
  }
  const crash = crashOf(failure, indices[0], outcome.kind === "crash" ? outcome.heartbeat : undefined);
  return { crashed: true, same: crash.signature === signature, crash };
}

/** Fuzzes one arch: chunks of CHUNK_CALLS calls, each its own process, until the count or time is reached or the kernel crashes. */
async function runFuzzJob(job: FuzzJob, run: JobContext, options: FuzzRunOptions): Promise<FuzzArchResult> {
  const spec = job.spec!;
  const started = performance.now();
  const recorder = await run.record({
    seed: String(spec.seed),
    calls: spec.calls,
    timeMs: spec.timeMs,
    control: options.control,
  });
  const kernel = new FuzzKernel(run, recorder, { ...options, qemuBinary: options.qemuBinaries[job.arch] });
  const result: FuzzArchResult = {
    name: job.name,
    arch: job.arch,
    status: "passed",
    seed: String(spec.seed),
    control: options.control,
    calls: 0,
    failedCalls: 0,
    elapsedMs: 0,
    callsPerSecond: 0,
    coverage: { calls: 0, bySyscall: {} },
    timings: { fuzzMs: 0 },
    bundleDir: recorder.dir,
    durationMs: 0,
  };
  try {
    // The fuzzing phase includes the first boot: "time to find" is from nothing running to the crash.
    const fuzzStarted = performance.now();
    let coverage: SyscallCounts = { calls: 0, bySyscall: {} };
    let before = await kernel.syscallCounts();
    let next = 0;
    let crashedChunkCalls = 0;
    const deadline = spec.timeMs === undefined ? undefined : performance.now() + spec.timeMs;
    while (!before.failure && !before.problem) {
      const remainingCalls = spec.calls === undefined ? CHUNK_CALLS : spec.calls - next;
      const remainingMs = deadline === undefined ? undefined : deadline - performance.now();
      if (remainingCalls <= 0 || (remainingMs !== undefined && remainingMs <= 0) || run.stop.isStopped) break;
      const count = Math.min(CHUNK_CALLS, remainingCalls);
      const outcome = await kernel.fuzz(runArguments(spec.seed, next, count, remainingMs));
      if (outcome.kind === "crash") {
        if (outcome.failure.kind === "interrupted" || outcome.failure.kind === "boot") {
          result.kernel = outcome.failure;
        } else {
          result.crash = crashOf(outcome.failure, next, outcome.heartbeat);
        }
        crashedChunkCalls = result.crash?.progress === undefined ? 0 : result.crash.progress - next + 1;
        break;
      }
      if (outcome.kind === "problem") {
        result.problem = outcome.why;
        break;
      }
      result.calls += outcome.done.calls;
      result.failedCalls += outcome.done.failed;
      result.elapsedMs += outcome.done.elapsedMs;
      const chunkStart = next;
      next += outcome.done.calls;
      const after = await kernel.syscallCounts();
      if (after.failure && after.failure.kind !== "interrupted" && after.failure.kind !== "boot") {
        // The kernel died after the chunk's process ended (in its cleanup): the whole chunk is the reproducer.
        result.crash = crashOf(after.failure, chunkStart);
        if (result.crash.progress === undefined) result.crash.range = { start: chunkStart, end: next - 1 };
        break;
      }
      if (after.counts && before.counts) {
        coverage = addCounts(coverage, subtractCounts(after.counts, before.counts));
      }
      before = after;
    }
    if (before.failure) result.kernel = before.failure;
    if (before.problem) result.problem = before.problem;
    result.coverage = coverage;
    // The rate counts finished chunks only (a crashed one has no elapsed time); the total includes the crashed chunk's calls.
    result.callsPerSecond = result.elapsedMs > 0 ? Math.round(result.calls / (result.elapsedMs / 1000)) : 0;
    result.calls += crashedChunkCalls;
    result.timings.fuzzMs = Math.round(performance.now() - fuzzStarted);
    if (kernel.layout) result.layout = layoutHex(kernel.layout);
    if (result.crash) {
      await writeJsonAtomically(join(recorder.dir, "crash.json"), result.crash);
      const features = options.control ? [FUZZ_BREAK_FEATURE] : [];
      await confirmAndMinimize(result, spec.seed, kernel, recorder.dir, { runId: run.bundle.id, features });
    }
  } finally {
    await kernel.shutdown();
    recorder.close();
  }
  result.status = verdict(result, options.control, run);
  result.durationMs = Math.round(performance.now() - started);
  await recorder.finish(result);
  return result;
}

/** Replays the crash's range, then minimizes it with ddmin and writes the job's repro.json and repro.txt. */
async function confirmAndMinimize(
  result: FuzzArchResult,
  seed: bigint,
  kernel: FuzzKernel,
  dir: string,
  run: { runId: string; features: string[] },
) {
  const crash = result.crash!;
  if (!crash.range) return;
  const { start, end } = crash.range;
  const replayStarted = performance.now();
  const range = Array.from({ length: end - start + 1 }, (_, at) => start + at);
  const replay = await crashesTheSameWay(kernel, seed, range, crash.signature);
  result.replay = { crashed: replay.crashed, sameCrash: replay.same, message: replay.crash?.message };
  result.timings.replayMs = Math.round(performance.now() - replayStarted);
  if (!replay.same) return;
  const minimizeStarted = performance.now();
  const sameCrash = async (candidate: readonly number[]) =>
    (await crashesTheSameWay(kernel, seed, candidate, crash.signature)).same;
  let tests = 0;
  let indices: number[];
  let isMinimal = true;
  if (crash.progress !== undefined) {
    // The call in flight is in every reproducer (it is where the kernel died):
    // try it alone first, then ddmin over the calls before it with it kept.
    tests++;
    indices = [end];
    if (!(await sameCrash([end]))) {
      const reduced = await ddmin(range.slice(0, -1), (prefix) => sameCrash([...prefix, end]), {
        maxTests: MAX_MINIMIZE_TESTS,
      });
      tests += reduced.tests;
      indices = [...reduced.items, end];
      isMinimal = reduced.isMinimal;
    }
  } else {
    // No call in flight (a hang, or a crash after the process ended): plain ddmin over the range.
    const reduced = await ddmin(range, sameCrash, { maxTests: MAX_MINIMIZE_TESTS });
    tests = reduced.tests;
    indices = reduced.items;
    isMinimal = reduced.isMinimal;
  }
  const layout = kernel.layout;
  result.minimized = {
    indices,
    listing: layout ? listing(seed, indices, layout) : indices.map((index) => `#${index}`),
    tests,
    isMinimal,
  };
  result.timings.minimizeMs = Math.round(performance.now() - minimizeStarted);
  await writeRepro(join(dir, "repro.json"), run.runId, [result], run.features);
  await Deno.writeTextFile(join(dir, "repro.txt"), reproText(result));
}

function reproducerOf(result: FuzzArchResult): Reproducer | undefined {
  const crash = result.crash;
  if (!crash?.range) return undefined;
  const indices = result.minimized?.indices ??
    Array.from({ length: crash.range.end - crash.range.start + 1 }, (_, at) => crash.range!.start + at);
  return {
    arch: result.arch,
    seed: result.seed,
    range: crash.range,
    indices,
    listing: result.minimized?.listing ?? [],
    crash: { kind: crash.kind, message: crash.message, signature: crash.signature },
  };
}

/** Writes repro.json for the results that have a reproducer; false when none has. */
async function writeRepro(
  path: string,
  runId: string,
  results: readonly FuzzArchResult[],
  features: string[],
) {
  const reproducers = results.map(reproducerOf).filter((one): one is Reproducer => one !== undefined);
  if (reproducers.length === 0) return false;
  const file: ReproFile = { schema: 1, kind: REPRO_KIND, runId, features, reproducers };
  await writeJsonAtomically(path, file);
  return true;
}

/** The readable listing: the crash, the range it was found in, and each minimized call. */
export function reproText(result: FuzzArchResult): string {
  const crash = result.crash!;
  let text = `${result.arch}: ${crash.kind}: ${crash.message}\n`;
  text +=
    `found at call ${crash.range?.end} of seed ${result.seed} (process started at call ${crash.range?.start})\n`;
  if (result.minimized) {
    text +=
      `minimized by ddmin in ${result.minimized.tests} test(s) to ${result.minimized.indices.length} call(s)` +
      `${result.minimized.isMinimal ? "" : " (test budget reached: may not be minimal)"}:\n`;
    for (const line of result.minimized.listing) text += `  ${line}\n`;
  }
  return text;
}

function verdict(result: FuzzArchResult, control: boolean, run: JobContext): FuzzArchResult["status"] {
  if (result.kernel?.kind === "interrupted" || (run.stop.isStopped && !result.crash)) return "interrupted";
  if (result.kernel) return "crashed";
  if (control) {
    const isControl = result.crash?.message.includes(CONTROL_PANIC) ?? false;
    if (result.crash && !isControl) return "crashed";
    if (!result.crash) {
      result.problem ??= `the positive control was not found in ${result.calls} calls`;
      return "failed";
    }
    if (!result.replay?.sameCrash) {
      result.problem ??= "the control's reproducer did not replay";
      return "failed";
    }
    if ((result.minimized?.indices.length ?? Infinity) > 5) {
      result.problem ??= `the control minimized to ${result.minimized?.indices.length} calls, not at most 5`;
      return "failed";
    }
    return "passed";
  }
  if (result.crash) return "crashed";
  if (result.problem) return "failed";
  return "passed";
}

/** Replays one reproducer on a fresh kernel. */
async function runReplayJob(
  job: FuzzJob,
  run: JobContext,
  options: FuzzRunOptions,
): Promise<ReplayArchResult> {
  const reproducer = job.reproducer!;
  const started = performance.now();
  const recorder = await run.record({ seed: reproducer.seed, indices: reproducer.indices.length });
  const kernel = new FuzzKernel(run, recorder, { ...options, qemuBinary: options.qemuBinaries[job.arch] });
  const result: ReplayArchResult = {
    name: job.name,
    arch: job.arch,
    status: "passed",
    seed: reproducer.seed,
    indices: reproducer.indices,
    bundleDir: recorder.dir,
    durationMs: 0,
  };
  try {
    const test = await crashesTheSameWay(
      kernel,
      BigInt(reproducer.seed),
      reproducer.indices,
      reproducer.crash.signature,
    );
    if (test.failure) result.kernel = test.failure;
    if (test.crash) {
      result.crash = test.crash;
      result.sameCrash = test.same;
    }
  } finally {
    await kernel.shutdown();
    recorder.close();
  }
  result.status = result.kernel?.kind === "interrupted" || run.stop.isStopped
    ? "interrupted"
    : result.crash || result.kernel
    ? "crashed"
    : "passed";
  result.durationMs = Math.round(performance.now() - started);
  await recorder.finish(result);
  return result;
}

/**
 * Runs fuzz jobs (one per spec) or replays (one per reproducer) on the run
 * engine (docs/ENGINE.md): fresh kernels (the fuzz-break ones for the
 * control and for reproducers that need them), one boot per job plus one
 * per crash while replaying and minimizing, at most `parallel` at once.
 */
export async function runFuzz(
  work: { specs: readonly FuzzSpec[] } | { repro: ReproFile },
  options: FuzzRunOptions,
): Promise<{ code: number; results?: FuzzResults }> {
  const isReplay = "repro" in work;
  const features = isReplay ? work.repro.features : options.control ? [FUZZ_BREAK_FEATURE] : [];
  const jobs: FuzzJob[] = isReplay
    ? work.repro.reproducers.map((reproducer, at) => ({
      name: `${reproducer.arch}-replay-${at + 1}`,
      arch: reproducer.arch as Arch,
      reproducer,
    }))
    : work.specs.map((spec) => ({ name: `${spec.arch}-fuzz`, arch: spec.arch, spec }));
  const seed = isReplay ? work.repro.reproducers[0].seed : String(work.specs[0]?.seed ?? 0n);
  let results: FuzzResults | undefined;
  const code = await runEngine<FuzzJob, FuzzArchResult | ReplayArchResult>({
    kind: isReplay ? "fuzz-replay" : "fuzz",
    root: options.root,
    context: options.context,
    argv: options.argv,
    jobs,
    asked: isReplay ? "the reproducer file" : "--arch",
    kernels: {
      features,
      outDir: features.includes(FUZZ_BREAK_FEATURE) ? FUZZ_BREAK_BUILD_DIR : "build",
      noBuild: options.noBuild,
    },
    parallel: options.parallel,
    outputs: options.outputs ?? {},
    runsDir: options.runsDir,
    manifest: {
      seed: Number(BigInt(seed) & 0xffff_ffffn),
      fuzz: { seed, features, control: options.control, replayOf: isReplay ? work.repro.runId : undefined },
    },
    started: ({ runId, bundleDir, jobs }) =>
      `sis: fuzz ${runId}: ${jobs} ${
        isReplay ? "replay(s)" : "arch(es)"
      }, seed ${seed}, bundle ${bundleDir}\n`,
    runJob: (job, run) => isReplay ? runReplayJob(job, run, options) : runFuzzJob(job, run, options),
    notRun: (job, why) => notRunResult(job, why, options.control),
    onJobDone: (result) => options.onArch?.(result),
    finish: async (archs, info) => {
      let repro: string | undefined;
      if (!isReplay) {
        const path = join(info.bundleDir, "repro.json");
        if (await writeRepro(path, info.runId, archs as FuzzArchResult[], features)) repro = path;
      }
      results = {
        schema: 1,
        kind: isReplay ? "fuzz-replay" : "fuzz",
        runId: info.runId,
        startedAt: info.startedAt,
        durationMs: info.durationMs,
        archs,
        interrupted: info.interrupted,
        kernels: info.kernels,
        repro,
      };
      return {
        json: results,
        report: toRunResults(results),
        exitCode: fuzzExitCode(archs),
        text: options.text?.(results),
      };
    },
    launch: options.launch,
    build: options.build,
    stop: options.stop,
  });
  return { code, results };
}

function notRunResult(job: FuzzJob, why: string, control: boolean): FuzzArchResult | ReplayArchResult {
  const kernel: KernelFailure = { kind: "interrupted", message: why };
  if (job.reproducer) {
    return {
      name: job.name,
      arch: job.arch,
      status: "interrupted",
      seed: job.reproducer.seed,
      indices: job.reproducer.indices,
      kernel,
      durationMs: 0,
    };
  }
  return {
    name: job.name,
    arch: job.arch,
    status: "interrupted",
    seed: String(job.spec?.seed ?? 0n),
    control,
    calls: 0,
    failedCalls: 0,
    elapsedMs: 0,
    callsPerSecond: 0,
    coverage: { calls: 0, bySyscall: {} },
    timings: { fuzzMs: 0 },
    kernel,
    durationMs: 0,
  };
}
