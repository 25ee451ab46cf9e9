/** The run engine every kernel-booting command goes through: job plan and shard, fresh kernels, bundle, worker pool, signals, reports, exit code (docs/ENGINE.md). */
import { join } from "node:path";
import type { Arch } from "../arch.ts";
import type { CommandContext } from "../context.ts";
import { EnvironmentError, InterruptedError } from "../errors.ts";
import { type LaunchOptions, Machine, type MachineExit, shutdownAllMachines } from "../qemu/machine.ts";
import { type JobResult, type RunResults, summarize } from "../report/results.ts";
import { VERSION } from "../version.ts";
import { type JobRecorder, RunBundle } from "./bundle.ts";
import { diskError } from "../disk_errors.ts";
import { ensureKernels, type KernelBuilder, type KernelFile, type KernelRequest } from "./kernels.ts";
import { type ReportFiles, writeReports } from "./outputs.ts";
import { selectJobs } from "./plan.ts";
import { runPool } from "./pool.ts";
import { installRunSignals, RunStop, signalExitCode } from "./signals.ts";

/** What the engine needs of a planned job; commands add their own fields. */
export interface EngineJob {
  /** Unique in the run; also the job's folder in the bundle. */
  readonly name: string;
  readonly arch: Arch;
  /** False for a job that never boots (a pending suite): no kernel is built for it. */
  readonly boots?: boolean;
}

/** What the engine needs of a booted machine: a console, identity and teardown. */
export interface BootedMachine {
  readonly chunks: Machine["chunks"];
  write(bytes: Uint8Array): Promise<void>;
  readonly argv: readonly string[];
  readonly pid: number;
  readonly qemuVersion?: string;
  /** Host ports on 127.0.0.1 forwarded to the guest's services, when it has a NIC (docs/NETWORK.md). */
  readonly forwards?: { readonly metrics: number; readonly echo: number };
  /** Stops QEMU (idempotent); resolves with how it ended, the outcome mapped per arch. */
  shutdown(): Promise<Pick<MachineExit, "code" | "signal" | "outcome">>;
}

/** Starts a machine: `Machine.launch` in production, a fake kernel in unit tests. */
export type Launcher = (options: LaunchOptions) => Promise<BootedMachine>;

/** What a job gets from the engine. */
export interface JobContext {
  readonly kernel: KernelFile;
  readonly bundle: RunBundle;
  /** Stopped at the first SIGINT/SIGTERM or disk failure: a job checks it between steps. */
  readonly stop: RunStop;
  /**
   * Opens the job's bundle folder and adds it to the manifest with `details`.
   * Call once, before {@link launch}.
   */
  record(details: Record<string, unknown>): Promise<JobRecorder>;
  /**
   * Boots the job's kernel: serial bytes go to the job's recorder, QEMU's
   * argv, pid and version to the manifest. Refuses to boot once the run is
   * stopped (throws {@link InterruptedError}).
   */
  launch(options: Omit<LaunchOptions, "kernelPath" | "onSerialBytes" | "arch">): Promise<BootedMachine>;
}

/** Facts about the finished run that every command's `finish` gets. */
export interface RunInfo {
  runId: string;
  startedAt: string;
  durationMs: number;
  bundleDir: string;
  /** The signal that stopped the run, if one did. */
  interrupted?: "SIGINT" | "SIGTERM";
  kernels: Record<string, KernelFile>;
}

/** A command's verdict on its results. */
export interface Finished {
  /** The command's JSON: results.json in the bundle and `--json`. */
  json: unknown;
  /** The same in the shared shape, for JUnit and GitHub output. */
  report: RunResults;
  /** 0, 1 or 4 (the engine overrides it with 130/143 or 3). */
  exitCode: number;
  /** Printed to stdout after the reports are written (a summary table). */
  text?: string;
}

export interface EngineSpec<J extends EngineJob, R> {
  /** Command name: the manifest's `kind` and the messages' prefix (`test`, `chaos`, `regress`). */
  kind: string;
  root: string;
  context: CommandContext;
  /** argv reproducing the run, for the manifest. */
  argv: readonly string[];
  /** The planned jobs in stable order (before `--shard`). */
  jobs: readonly J[];
  /** What selected the jobs, in the user's words, for the "nothing to run" error. */
  asked?: string;
  shard?: string;
  /** `--filter TEXT` of commands whose jobs are the unit (chaos cells, regress arches): keeps jobs whose name contains it. */
  filter?: string;
  kernels: KernelRequest;
  /** Jobs at once. */
  parallel: number;
  outputs: ReportFiles;
  /** Extra manifest fields (seed, configs, suites, chaos cells). */
  manifest?: Record<string, unknown>;
  runJob(job: J, context: JobContext): Promise<R>;
  /** The result of a job the run never started (stopped first). */
  notRun(job: J, why: string): R;
  onJobDone?(result: R): void;
  /** Printed to stderr once the bundle exists (the first line tests and users look for). */
  started?(info: { bundleDir: string; runId: string; jobs: number }): string;
  finish(results: R[], info: RunInfo): Finished | Promise<Finished>;
  /** Called on the second signal right before sis exits (`sis run` restores the terminal's cooked mode). */
  beforeExit?: () => void;
  /** Unit tests: a fake kernel and a fake cargo, and a stop to trigger by hand. */
  launch?: Launcher;
  stop?: RunStop;
  build?: KernelBuilder;
  /** Where bundles go (default `<root>/runs`). */
  runsDir?: string;
  /** Continue this existing bundle instead of creating one (`sis soak --resume`). */
  resumeBundle?: string;
}

/**
 * Runs a command's jobs and returns its exit code: 130/143 when a signal
 * stopped it (after every report is written), 3 (thrown) when `runs/`
 * could not be written, else the command's own verdict.
 */
export async function runEngine<J extends EngineJob, R>(spec: EngineSpec<J, R>): Promise<number> {
  const { context } = spec;
  const filtered = spec.filter === undefined
    ? spec.jobs
    : spec.jobs.filter((job) => job.name.includes(spec.filter!));
  const names = spec.jobs.slice(0, 4).map((job) => job.name).join(", ") +
    (spec.jobs.length > 4 ? ", ..." : "");
  const asked = spec.filter !== undefined && filtered.length === 0
    ? `--filter ${JSON.stringify(spec.filter)} (job names: ${names})`
    : spec.asked;
  const jobs = selectJobs(filtered, { shard: spec.shard, asked });
  const stop = spec.stop ?? new RunStop();
  const removeSignals = installRunSignals(stop, { stderr: context.stderr, beforeExit: spec.beforeExit });
  // Every way of stopping (signal, disk) ends the machines at once; their
  // sessions then fail and each job ends with what it had.
  stop.signal.addEventListener("abort", () => void shutdownAllMachines());
  try {
    const arches = [...new Set(jobs.filter((job) => job.boots !== false).map((job) => job.arch))];
    const kernels = arches.length > 0
      ? await ensureKernels(spec.root, arches, context, spec.kernels, spec.build)
      : {};
    if (stop.interruptedBy) throw new InterruptedError(stop.interruptedBy, `sis ${spec.kind}`);
    const runsDir = spec.runsDir ?? join(spec.root, "runs");
    let bundle: RunBundle;
    try {
      const base = {
        kind: spec.kind,
        sisVersion: VERSION,
        deno: Deno.version.deno,
        argv: [...spec.argv],
        cwd: context.cwd,
        seed: crypto.getRandomValues(new Uint32Array(1))[0],
        shard: spec.shard,
        kernels,
        ...spec.manifest,
      };
      bundle = spec.resumeBundle === undefined
        ? await RunBundle.create(runsDir, base)
        : await RunBundle.open(spec.resumeBundle, base);
    } catch (error) {
      throw diskError(error, spec.resumeBundle ?? runsDir);
    }
    bundle.onWriteError = (error, path) => {
      const mapped = diskError(error, path);
      if (mapped instanceof EnvironmentError) stop.failDisk(mapped);
    };
    const launch = spec.launch ?? Machine.launch;
    context.stderr.write(
      spec.started?.({ bundleDir: bundle.dir, runId: bundle.id, jobs: jobs.length }) ??
        `sis: ${spec.kind} run ${bundle.id}: ${jobs.length} job(s), bundle ${bundle.dir}\n`,
    );
    const started = performance.now();
    const results = await runPool(jobs, {
      parallel: spec.parallel,
      stop: stop.signal,
      run: async (job) => {
        try {
          return await spec.runJob(job, jobContext(job, bundle, kernels, stop, launch));
        } catch (error) {
          const mapped = diskError(error, join(bundle.dir, job.name));
          if (mapped instanceof EnvironmentError) {
            stop.failDisk(mapped);
            return spec.notRun(job, `not finished: ${mapped.message}`);
          }
          if (error instanceof InterruptedError) return spec.notRun(job, `not run: ${stop.reason}`);
          // Once the run is stopped its machines were killed under the jobs: whatever a
          // job tripped over then is the stop's doing, not a bug to report.
          if (stop.isStopped) return spec.notRun(job, `not finished: ${stop.reason}`);
          throw error;
        }
      },
      notStarted: (job) => spec.notRun(job, `not run: ${stop.reason}`),
      onDone: (result) => spec.onJobDone?.(result),
    });
    const finished = await spec.finish(results, {
      runId: bundle.id,
      startedAt: bundle.manifest.startedAt,
      durationMs: Math.round(performance.now() - started),
      bundleDir: bundle.dir,
      interrupted: stop.interruptedBy,
      kernels,
    });
    const writeFailure = await writeReports(context, bundle, finished.json, finished.report, spec.outputs);
    if (finished.text) context.stdout.write(finished.text);
    if (stop.interruptedBy) {
      context.stderr.write(`sis: ${stop.interruptedBy}: QEMU stopped; partial results in ${bundle.dir}\n`);
      return signalExitCode(stop.interruptedBy);
    }
    const failure = stop.diskFailure ?? writeFailure;
    if (failure) throw failure;
    return finished.exitCode;
  } finally {
    removeSignals();
  }
}

/** The shared results shape (`RunResults`, schema 1) of a run whose jobs are {@link JobResult}s (`sis test`, `sis run`, `sis metrics serve`). */
export function jobRunResults(kind: string, jobs: JobResult[], info: RunInfo): RunResults {
  return {
    schema: 1,
    kind,
    runId: info.runId,
    startedAt: info.startedAt,
    durationMs: info.durationMs,
    jobs,
    summary: summarize(jobs),
    interrupted: info.interrupted,
    kernels: info.kernels,
  };
}

function jobContext<J extends EngineJob>(
  job: J,
  bundle: RunBundle,
  kernels: Record<string, KernelFile>,
  stop: RunStop,
  launch: Launcher,
): JobContext {
  const kernel = kernels[job.arch];
  let recorder: JobRecorder | undefined;
  return {
    kernel,
    bundle,
    stop,
    async record(details) {
      recorder = await bundle.startJob(job.name, {
        arch: job.arch,
        ...details,
        elf: kernel?.path,
        elfSha256: kernel?.sha256,
      });
      return recorder;
    },
    async launch(options) {
      if (!recorder) throw new Error(`job ${job.name}: record() must come before launch()`);
      throwIfStopped(stop, job.name);
      const into = recorder;
      const machine = await launch({
        ...options,
        arch: job.arch,
        kernelPath: kernel.path,
        onSerialBytes: (chunk) => into.serialBytes(chunk),
      });
      // A stop that came while QEMU was starting missed this machine.
      if (stop.isStopped) {
        await machine.shutdown();
        throwIfStopped(stop, job.name);
      }
      const entry = bundle.manifest.jobs.find((candidate) => candidate.name === job.name);
      if (entry) {
        entry.qemuArgv = machine.argv;
        entry.qemuPid = machine.pid;
        entry.qemuVersion = machine.qemuVersion;
        await bundle.saveManifest();
      }
      return machine;
    },
  };
}

/** Throws why the run stopped: the signal (InterruptedError) or the disk failure (EnvironmentError). */
export function throwIfStopped(stop: RunStop, what: string): void {
  if (stop.interruptedBy) throw new InterruptedError(stop.interruptedBy, what);
  if (stop.diskFailure) throw stop.diskFailure;
}
