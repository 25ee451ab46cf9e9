/** Runs chaos cells (one boot each) in parallel up to a limit, records each into the run bundle, and checks it. */
import { join } from "node:path";
import type { Arch } from "../arch.ts";
import { EnvironmentError, SisError } from "../errors.ts";
import { type LaunchOptions, Machine } from "../qemu/machine.ts";
import type { MachineConfig } from "../qemu/profiles.ts";
import { type RunBundle, writeJsonAtomically } from "../runs/bundle.ts";
import { type BootedMachine, kernelFailureOf } from "../session/runner.ts";
import { runCell } from "./cell.ts";
import { checkCell } from "./check.ts";
import type { Injection } from "./records.ts";
import { cellName, type CellResult } from "./results.ts";
import { type CellTranscript, emptyTranscript } from "./transcript.ts";
import type { CellPlan } from "./workload.ts";

/** One cell to run: a plan on an arch. */
export interface CellSpec {
  arch: Arch;
  plan: CellPlan;
}

export interface ChaosRunOptions {
  /** Starts a machine; `Machine.launch` by default, a fake kernel in unit tests. */
  launch?: (options: LaunchOptions) => Promise<BootedMachine>;
  kernels: Readonly<Record<string, { path: string; sha256: string }>>;
  qemuBinaries: Partial<Record<Arch, string>>;
  config: MachineConfig;
  bootTimeoutMs: number;
  commandTimeoutMs: number;
  bundle: RunBundle;
  /** Cells booted at once. */
  parallel: number;
  confidence: number;
  /** Called as each cell finishes (progress lines). */
  onCell?: (cell: CellResult) => void;
  /** Replay: the recorded injection sequence per cell name, to compare with. */
  recorded?: ReadonlyMap<string, Injection[]>;
}

/** Runs every cell, at most `parallel` at a time; results in spec order. */
export async function runCells(specs: readonly CellSpec[], options: ChaosRunOptions): Promise<CellResult[]> {
  const results: CellResult[] = new Array(specs.length);
  let next = 0;
  const worker = async () => {
    while (next < specs.length) {
      const index = next++;
      results[index] = await runOne(specs[index], options);
      options.onCell?.(results[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.parallel, specs.length)) }, worker));
  return results;
}

async function runOne(spec: CellSpec, options: ChaosRunOptions): Promise<CellResult> {
  const { arch, plan } = spec;
  const name = cellName(arch, plan.mode, plan.ratePercent);
  const started = performance.now();
  const kernel = options.kernels[arch];
  const recorder = await options.bundle.startJob(name, {
    arch,
    mode: plan.mode,
    ratePercent: plan.ratePercent,
    seed: plan.seed,
    memoryMiB: options.config.memoryMiB,
    cpus: options.config.cpus,
    elf: kernel.path,
    elfSha256: kernel.sha256,
  });
  await writeJsonAtomically(join(recorder.dir, "plan.json"), plan);
  let machine: BootedMachine | undefined;
  let transcript: CellTranscript | undefined;
  let bootMs: number | undefined;
  try {
    try {
      machine = await (options.launch ?? Machine.launch)({
        arch,
        config: options.config,
        kernelPath: kernel.path,
        qemuBinary: options.qemuBinaries[arch],
        onSerialBytes: (chunk) => recorder.serialBytes(chunk),
      });
    } catch (error) {
      // A missing QEMU stops the whole run (exit 3); anything else is this cell's boot failure.
      if (error instanceof EnvironmentError || !(error instanceof SisError)) throw error;
      transcript = emptyTranscript(arch, plan);
      transcript.kernelFailure = kernelFailureOf(error);
    }
    if (machine) {
      const entry = options.bundle.manifest.jobs.find((candidate) => candidate.name === name);
      if (entry) {
        entry.qemuArgv = machine.argv;
        entry.qemuPid = machine.pid;
        await options.bundle.saveManifest();
      }
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
    if (transcript && exit) transcript.qemuExit = exit.outcome as CellTranscript["qemuExit"];
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
  const recorded = options.recorded?.get(name);
  if (recorded) {
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
