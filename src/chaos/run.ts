/** What a chaos cell job does (one boot: arm, workload, stats, recovery) and how it is judged; the run engine (src/runs/) does the rest. */
import { join } from "node:path";
import type { Arch } from "../arch.ts";
import type { CommandContext } from "../context.ts";
import { EnvironmentError, InterruptedError, SisError } from "../errors.ts";
import type { MachineConfig } from "../qemu/profiles.ts";
import { writeJsonAtomically } from "../runs/bundle.ts";
import {
  type BootedMachine,
  type EngineJob,
  type JobContext,
  type Launcher,
  runEngine,
} from "../runs/engine.ts";
import type { KernelBuilder } from "../runs/kernels.ts";
import type { ReportFiles } from "../runs/outputs.ts";
import type { RunStop } from "../runs/signals.ts";
import { kernelFailureOf } from "../session/runner.ts";
import { runCell } from "./cell.ts";
import { checkCell } from "./check.ts";
import type { Injection } from "./records.ts";
import {
  cellName,
  type CellResult,
  chaosExitCode,
  type ChaosResults,
  summarizeCells,
  toRunResults,
} from "./results.ts";
import { type CellTranscript, emptyTranscript } from "./transcript.ts";
import type { CellPlan } from "./workload.ts";

/** One cell to run: a plan on an arch. */
export interface CellSpec {
  arch: Arch;
  plan: CellPlan;
}

/** A cell as an engine job. */
interface CellJob extends EngineJob {
  arch: Arch;
  plan: CellPlan;
}

/** Where the chaos kernels live, relative to the project root (apart from the plain kernels `sis test` boots). */
export const CHAOS_BUILD_DIR = "build/chaos";

export interface ChaosRunOptions {
  root: string;
  context: CommandContext;
  argv: readonly string[];
  config: MachineConfig;
  qemuBinaries: Partial<Record<Arch, string>>;
  bootTimeoutMs: number;
  commandTimeoutMs: number;
  /** Cells booted at once. */
  parallel: number;
  confidence: number;
  /** Boot the installed chaos kernels as they are. */
  noBuild?: boolean;
  shard?: string;
  /** Keep only cells whose name (`x86_64-disk_full-r30`) contains this. */
  filter?: string;
  outputs?: ReportFiles;
  /** Extra manifest fields. */
  manifest?: Record<string, unknown>;
  /** Called as each cell finishes (progress lines). */
  onCell?: (cell: CellResult) => void;
  /** Replay: the recorded injection sequence per cell name, to compare with. */
  recorded?: ReadonlyMap<string, Injection[]>;
  /** Text printed after the reports (the summary table), from the results. */
  text?: (results: ChaosResults) => string;
  /** Unit tests: fake machines, a fake cargo, a folder for bundles, a stop by hand. */
  launch?: Launcher;
  build?: KernelBuilder;
  runsDir?: string;
  stop?: RunStop;
}

/**
 * Runs chaos cells on the run engine (docs/ENGINE.md): chaos kernels built
 * fresh, one boot per cell, at most `parallel` at once; each cell is checked
 * here, everything else (signals, bundle, reports, exit code) is the engine's.
 */
export async function runChaosCells(
  specs: readonly CellSpec[],
  options: ChaosRunOptions,
): Promise<{ code: number; results?: ChaosResults }> {
  let results: ChaosResults | undefined;
  const jobs: CellJob[] = specs.map((spec) => ({
    ...spec,
    name: cellName(spec.arch, spec.plan.mode, spec.plan.ratePercent),
  }));
  const firstSeed = specs[0]?.plan.seed ?? "0";
  const code = await runEngine<CellJob, CellResult>({
    kind: "chaos",
    root: options.root,
    context: options.context,
    argv: options.argv,
    jobs,
    asked: "the chaos plan",
    shard: options.shard,
    filter: options.filter,
    kernels: { features: ["chaos"], outDir: CHAOS_BUILD_DIR, noBuild: options.noBuild },
    parallel: options.parallel,
    outputs: options.outputs ?? {},
    runsDir: options.runsDir,
    manifest: {
      // The manifest's numeric seed field; the exact u64 is chaos.seed and each cell's plan.json.
      seed: Number(firstSeed),
      chaos: { seed: firstSeed, cells: specs.map((spec) => ({ arch: spec.arch, plan: spec.plan })) },
      configs: [{ ...options.config }],
      ...options.manifest,
    },
    started: ({ runId, bundleDir, jobs }) =>
      `sis: chaos ${runId}: ${jobs} cell(s), seed ${firstSeed}, bundle ${bundleDir}\n`,
    runJob: (job, run) => runOne(job, run, options),
    notRun: notRunCell,
    onJobDone: (cell) => options.onCell?.(cell),
    finish: (cells, info) => {
      results = {
        schema: 1,
        kind: "chaos",
        runId: info.runId,
        startedAt: info.startedAt,
        durationMs: info.durationMs,
        confidence: options.confidence,
        cells,
        summary: summarizeCells(cells),
        interrupted: info.interrupted,
        kernels: info.kernels,
      };
      return {
        json: results,
        report: toRunResults(results),
        exitCode: chaosExitCode(results.summary),
        text: options.text?.(results),
      };
    },
    launch: options.launch,
    build: options.build,
    stop: options.stop,
  });
  return { code, results };
}

/** A cell the run never started (stopped by a signal or a full disk first). */
function notRunCell(job: CellJob, why: string): CellResult {
  const transcript = emptyTranscript(job.arch, job.plan);
  return {
    name: job.name,
    arch: job.arch,
    mode: job.plan.mode,
    ratePercent: job.plan.ratePercent,
    seed: job.plan.seed,
    ops: job.plan.ops.length,
    status: "interrupted",
    durationMs: 0,
    assertions: [],
    summary: checkCell(transcript, 0.999).summary,
    kernel: { kind: "interrupted", message: why },
  };
}

async function runOne(job: CellJob, run: JobContext, options: ChaosRunOptions): Promise<CellResult> {
  const { arch, plan } = job;
  const name = job.name;
  const started = performance.now();
  const recorder = await run.record({
    mode: plan.mode,
    ratePercent: plan.ratePercent,
    seed: plan.seed,
    memoryMiB: options.config.memoryMiB,
    cpus: options.config.cpus,
  });
  await writeJsonAtomically(join(recorder.dir, "plan.json"), plan);
  let machine: BootedMachine | undefined;
  let transcript: CellTranscript | undefined;
  let bootMs: number | undefined;
  try {
    try {
      machine = await run.launch({ config: options.config, qemuBinary: options.qemuBinaries[arch] });
    } catch (error) {
      // A missing QEMU or a stopped run ends the whole run; anything else is this cell's boot failure.
      if (error instanceof EnvironmentError || error instanceof InterruptedError) throw error;
      if (!(error instanceof SisError)) throw error;
      transcript = emptyTranscript(arch, plan);
      transcript.kernelFailure = kernelFailureOf(error);
    }
    if (machine) {
      const ran = await runCell(machine, arch, plan, {
        bootTimeoutMs: options.bootTimeoutMs,
        commandTimeoutMs: options.commandTimeoutMs,
        onEvent: (event) => recorder.event(event),
        echoPort: machine.forwards?.echo,
      });
      transcript = ran.transcript;
      bootMs = ran.bootMs;
    }
  } finally {
    const exit = machine ? await machine.shutdown() : undefined;
    if (transcript && exit) transcript.qemuExit = exit.outcome;
    recorder.close();
  }
  const verdict = checkCell(transcript!, options.confidence);
  await writeJsonAtomically(join(recorder.dir, "transcript.json"), transcript);
  const result: CellResult = {
    name,
    arch,
    mode: plan.mode,
    ratePercent: plan.ratePercent,
    seed: plan.seed,
    ops: plan.ops.length,
    status: verdict.status,
    bootMs,
    durationMs: Math.round(performance.now() - started),
    assertions: verdict.assertions,
    summary: verdict.summary,
    kernel: transcript!.kernelFailure,
    qemuExit: transcript!.qemuExit,
    bundleDir: recorder.dir,
  };
  if (run.stop.isStopped) {
    // The machine was shut down under the cell: its verdict is no verdict.
    result.status = "interrupted";
    result.kernel = { kind: "interrupted", message: run.stop.reason };
  }
  const recorded = options.recorded?.get(name);
  if (recorded && result.status !== "interrupted") {
    result.replay = compareSequences(recorded, verdict.summary.sequence);
    if (!result.replay.matched && result.status === "passed") result.status = "failed";
  }
  await recorder.finish(result);
  return result;
}

/** Compares two injection sequences field by field (timestamps are not part of them). */
export function compareSequences(
  recorded: readonly Injection[],
  now: readonly Injection[],
): { matched: boolean; recorded: number; now: number; difference?: string } {
  const base = { recorded: recorded.length, now: now.length };
  const length = Math.max(recorded.length, now.length);
  for (let index = 0; index < length; index++) {
    const [was, is] = [recorded[index], now[index]];
    if (JSON.stringify(canonical(was)) !== JSON.stringify(canonical(is))) {
      return {
        ...base,
        matched: false,
        difference: `injection ${index + 1}: recorded ${was ? JSON.stringify(canonical(was)) : "none"}, now ${
          is ? JSON.stringify(canonical(is)) : "none"
        }`,
      };
    }
  }
  return { ...base, matched: true };
}

/** Fixed key order, so records that differ only in key order compare equal. */
function canonical(injection: Injection | undefined): Record<string, unknown> | undefined {
  if (!injection) return undefined;
  const { mode, point, effect, errno, delayUs, check, seq } = injection;
  return { mode, point, effect, errno, delayUs, check, seq };
}
