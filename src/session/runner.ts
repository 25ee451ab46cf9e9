/** Runs suite jobs (arch × config × suite, one boot each) in parallel, recording each into the run bundle. */
import type { Arch } from "../arch.ts";
import { EnvironmentError, KernelHangError, SisError } from "../errors.ts";
import { type LaunchOptions, Machine } from "../qemu/machine.ts";
import type { MachineConfig } from "../qemu/profiles.ts";
import type { ProgressReporter } from "../report/progress.ts";
import type { JobResult, KernelFailure, StepResult } from "../report/results.ts";
import type { RunBundle } from "../runs/bundle.ts";
import { KernelExitedError, Session, SessionPanicError } from "./driver.ts";
import { checkExpectations, expectationFor, type Step, type Suite } from "./suite.ts";

/** One boot: a suite on one arch and config. */
export interface Job {
  name: string;
  arch: Arch;
  config: MachineConfig;
  suite: Suite;
  /** The suite's steps after `--filter`. */
  steps: Step[];
}

/** What the runner needs of a booted machine: a console plus identity and teardown. */
export interface BootedMachine {
  readonly chunks: Machine["chunks"];
  write(bytes: Uint8Array): Promise<void>;
  readonly argv: readonly string[];
  readonly pid: number;
  readonly qemuVersion?: string;
  /** Host ports forwarded to the guest's services, when it has a NIC. */
  readonly forwards?: { readonly metrics: number; readonly echo: number };
  shutdown(): Promise<{ code: number; signal: string | null; outcome: unknown }>;
}

export interface RunnerOptions {
  /** Starts a machine; `Machine.launch` by default, a fake kernel in unit tests. */
  launch?: (options: LaunchOptions) => Promise<BootedMachine>;
  kernels: Readonly<Record<string, { path: string; sha256: string }>>;
  qemuBinaries: Partial<Record<Arch, string>>;
  bootTimeoutMs: number;
  commandTimeoutMs: number;
  bundle: RunBundle;
  reporter: ProgressReporter;
  /** Jobs running at once (default: the core count). */
  parallel: number;
}

/** Builds the job list in a stable order (arch, then config, then suite): sharding depends on it. */
export function planJobs(
  arches: readonly Arch[],
  configs: readonly MachineConfig[],
  suites: readonly Suite[],
  filter: (suite: string, step: string) => boolean,
): Job[] {
  const jobs: Job[] = [];
  for (const arch of arches) {
    for (const config of configs) {
      for (const suite of suites) {
        const steps = suite.steps.filter((step) => filter(suite.name, step.name));
        if (steps.length === 0) continue;
        jobs.push({ name: `${arch}-${config.name}-${suite.name}`, arch, config, suite, steps });
      }
    }
  }
  return jobs;
}

/** Runs `jobs` with at most `options.parallel` at a time; results in job order. */
export async function runJobs(jobs: readonly Job[], options: RunnerOptions): Promise<JobResult[]> {
  const results: JobResult[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      results[index] = await runJob(jobs[index], options);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.parallel, jobs.length)) }, worker));
  return results;
}

/** Classes an error from the session or launch as a kernel failure. */
export function kernelFailureOf(error: unknown): KernelFailure {
  if (error instanceof SessionPanicError) {
    return {
      kind: "panic",
      message: error.message,
      stage: error.stage,
      report: error.report,
      record: error.record,
    };
  }
  const tail = error instanceof SisError && error.serialTail ? error.serialTail.split("\n") : undefined;
  if (error instanceof KernelHangError) {
    return { kind: "hang", message: error.message, stage: error.stage, report: tail };
  }
  if (error instanceof KernelExitedError) {
    return { kind: "exited", message: error.message, stage: error.stage, report: tail };
  }
  return { kind: "boot", message: error instanceof Error ? error.message : String(error), report: tail };
}

async function runJob(job: Job, options: RunnerOptions): Promise<JobResult> {
  const started = performance.now();
  const base = { name: job.name, arch: job.arch, config: job.config.name, suite: job.suite.name };
  const stepResult = (step: Step, status: StepResult["status"], messages: string[]): StepResult => ({
    id: `${job.suite.name}/${step.name}`,
    name: step.name,
    command: step.run,
    status,
    durationMs: 0,
    messages,
    output: [],
  });

  if (job.suite.pending) {
    const result: JobResult = {
      ...base,
      status: "pending",
      durationMs: 0,
      steps: job.steps.map((step) => stepResult(step, "pending", [job.suite.pending!])),
    };
    options.reporter.jobFinished(result);
    return result;
  }

  options.reporter.jobStarted(job.name);
  const kernel = options.kernels[job.arch];
  const recorder = await options.bundle.startJob(job.name, {
    ...base,
    memoryMiB: job.config.memoryMiB,
    cpus: job.config.cpus,
    elf: kernel.path,
    elfSha256: kernel.sha256,
  });
  const steps: StepResult[] = [];
  let machine: BootedMachine | undefined;
  let failure: KernelFailure | undefined;
  let bootMs: number | undefined;
  let exit: Awaited<ReturnType<BootedMachine["shutdown"]>> | undefined;
  try {
    machine = await (options.launch ?? Machine.launch)({
      arch: job.arch,
      config: job.config,
      kernelPath: kernel.path,
      qemuBinary: options.qemuBinaries[job.arch],
      onSerialBytes: (chunk) => recorder.serialBytes(chunk),
    });
    const entry = options.bundle.manifest.jobs.find((candidate) => candidate.name === job.name);
    if (entry) {
      entry.qemuArgv = machine.argv;
      entry.qemuPid = machine.pid;
      entry.qemuVersion = machine.qemuVersion;
      await options.bundle.saveManifest();
    }
    const session = new Session(machine, {
      bootTimeoutMs: options.bootTimeoutMs,
      commandTimeoutMs: options.commandTimeoutMs,
      onEvent: (event) => recorder.event(event),
    });
    bootMs = (await session.boot()).bootMs;
    recorder.event({ kind: "boot", bootMs });
    await session.enableFraming();
    for (const step of job.steps) {
      const stepStarted = performance.now();
      try {
        const result = await session.run(
          step.run,
          step.timeout_ms ?? job.suite.timeout_ms ?? options.commandTimeoutMs,
        );
        const messages = checkExpectations(expectationFor(step, job.config.name), result);
        const done: StepResult = {
          ...stepResult(step, messages.length ? "failed" : "passed", messages),
          durationMs: result.durationMs,
          output: result.output,
          exitStatus: result.status,
        };
        if (result.warnings.length) {
          done.messages.push(...result.warnings.map((warning) => `warning: ${warning}`));
        }
        steps.push(done);
        recorder.event({ kind: "step", ...done });
        options.reporter.stepFinished(job.name, done);
      } catch (error) {
        const failed = {
          ...stepResult(step, "failed", [error instanceof Error ? error.message : String(error)]),
          durationMs: Math.round(performance.now() - stepStarted),
        };
        steps.push(failed);
        recorder.event({ kind: "step", ...failed });
        options.reporter.stepFinished(job.name, failed);
        throw error;
      }
    }
  } catch (error) {
    // Anything that is not a typed error is a bug in sis: `finally` still
    // tears QEMU down, and the error surfaces with its stack.
    if (!(error instanceof SisError) && !(error instanceof Error && error.name === "QmpError")) throw error;
    // A missing QEMU is the machine's problem, not the kernel's: the run stops with exit 3.
    if (error instanceof EnvironmentError) throw error;
    failure = kernelFailureOf(error);
    recorder.event({ ...failure, kind: "kernel-failure", failure: failure.kind });
    const why = `not run: kernel ${failure.kind}${failure.stage ? ` at ${failure.stage}` : ""}`;
    const ran = steps.length;
    for (const step of job.steps.slice(ran)) steps.push(stepResult(step, "skipped", [why]));
    if (ran === 0 && steps.length > 0) {
      // The kernel failed before any step ran: the first step carries the failure so CI shows it.
      steps[0] = { ...steps[0], status: "failed", messages: [failure.message] };
    }
    for (const step of steps.slice(ran)) options.reporter.stepFinished(job.name, step);
  } finally {
    exit = machine ? await machine.shutdown() : undefined;
    recorder.close();
  }
  const result: JobResult = {
    ...base,
    status: failure ? "error" : steps.some((step) => step.status === "failed") ? "failed" : "passed",
    bootMs,
    durationMs: Math.round(performance.now() - started),
    steps,
    kernel: failure,
    qemuExit: exit ? { code: exit.code, signal: exit.signal, outcome: exit.outcome } : undefined,
    bundleDir: recorder.dir,
  };
  await recorder.finish(result);
  options.reporter.jobFinished(result);
  return result;
}
