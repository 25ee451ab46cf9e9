/** What a `sis test` job is (a suite on one arch and config, one boot) and how it runs and is judged; the engine (src/runs/) does the rest. */
import type { Arch } from "../arch.ts";
import { EnvironmentError, KernelHangError, SisError } from "../errors.ts";
import type { MachineConfig } from "../qemu/profiles.ts";
import type { ProgressReporter } from "../report/progress.ts";
import type { JobResult, KernelFailure, StepResult } from "../report/results.ts";
import { type BootedMachine, type EngineJob, type JobContext, throwIfStopped } from "../runs/engine.ts";
import type { RunStop } from "../runs/signals.ts";
import { KernelExitedError, Session, SessionPanicError } from "./driver.ts";
import { checkExpectations, expectationFor, type Step, type Suite } from "./suite.ts";

/** One boot: a suite on one arch and config. */
export interface Job extends EngineJob {
  name: string;
  arch: Arch;
  config: MachineConfig;
  suite: Suite;
  /** The suite's steps after `--filter`. */
  steps: Step[];
  /** A pending suite boots nothing. */
  boots: boolean;
}

export type { BootedMachine };

/** What a suite job needs beyond the engine's {@link JobContext}. */
export interface SuiteJobOptions {
  qemuBinaries: Partial<Record<Arch, string>>;
  bootTimeoutMs: number;
  commandTimeoutMs: number;
  reporter: ProgressReporter;
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
        jobs.push({
          name: `${arch}-${config.name}-${suite.name}`,
          arch,
          config,
          suite,
          steps,
          boots: !suite.pending,
        });
      }
    }
  }
  return jobs;
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

/**
 * What an error that ended a job's machine means: the run's stop
 * (`interrupted`: a signal or a full disk shut the machine down under the
 * job) or the kernel's failure. A bug in sis (an untyped error) and a missing
 * tool (exit 3, unless the run was stopped anyway) are rethrown.
 */
export function jobFailureOf(error: unknown, stop: RunStop): KernelFailure {
  // Anything that is not a typed error is a bug in sis: the job's `finally`
  // still tears QEMU down, and the error surfaces with its stack.
  if (!(error instanceof SisError) && !(error instanceof Error && error.name === "QmpError")) throw error;
  // A missing QEMU is the machine's problem, not the kernel's: the run stops with exit 3.
  if (error instanceof EnvironmentError && !stop.isStopped) throw error;
  return stop.isStopped ? { kind: "interrupted", message: stop.reason } : kernelFailureOf(error);
}

function stepResult(job: Job, step: Step, status: StepResult["status"], messages: string[]): StepResult {
  // The step's line in its suite file, for `::error file=,line=` (steps are the suite's own objects).
  const line = job.suite.stepLines?.[job.suite.steps.indexOf(step)];
  return {
    id: `${job.suite.name}/${step.name}`,
    name: step.name,
    command: step.run,
    status,
    durationMs: 0,
    messages,
    output: [],
    ...(line ? { location: { file: job.suite.source, line } } : {}),
  };
}

function jobBase(job: Job) {
  return { name: job.name, arch: job.arch, config: job.config.name, suite: job.suite.name };
}

/** The result of a job the run never started (stopped by a signal or a full disk first). */
export function notRunJob(job: Job, why: string): JobResult {
  return {
    ...jobBase(job),
    status: "interrupted",
    durationMs: 0,
    steps: job.steps.map((step) => stepResult(job, step, "skipped", [why])),
  };
}

/** Runs one suite job in one boot through the engine's {@link JobContext}. */
export async function runSuiteJob(job: Job, run: JobContext, options: SuiteJobOptions): Promise<JobResult> {
  const started = performance.now();
  const base = jobBase(job);
  const stepResult_ = (step: Step, status: StepResult["status"], messages: string[]) =>
    stepResult(job, step, status, messages);

  if (job.suite.pending) {
    const result: JobResult = {
      ...base,
      status: "pending",
      durationMs: 0,
      steps: job.steps.map((step) => stepResult_(step, "pending", [job.suite.pending!])),
    };
    options.reporter.jobFinished(result);
    return result;
  }

  options.reporter.jobStarted(job.name);
  const recorder = await run.record({
    ...base,
    memoryMiB: job.config.memoryMiB,
    cpus: job.config.cpus,
  });
  const steps: StepResult[] = [];
  let machine: BootedMachine | undefined;
  let failure: KernelFailure | undefined;
  let bootMs: number | undefined;
  let exit: Awaited<ReturnType<BootedMachine["shutdown"]>> | undefined;
  try {
    machine = await run.launch({ config: job.config, qemuBinary: options.qemuBinaries[job.arch] });
    const session = new Session(machine, {
      bootTimeoutMs: options.bootTimeoutMs,
      commandTimeoutMs: options.commandTimeoutMs,
      onEvent: (event) => recorder.event(event),
    });
    bootMs = (await session.boot()).bootMs;
    recorder.event({ kind: "boot", bootMs });
    await session.enableFraming();
    for (const step of job.steps) {
      throwIfStopped(run.stop, `job ${job.name}`);
      const stepStarted = performance.now();
      try {
        const result = await session.run(
          step.run,
          step.timeout_ms ?? job.suite.timeout_ms ?? options.commandTimeoutMs,
        );
        const messages = checkExpectations(expectationFor(step, job.config.name), result);
        const done: StepResult = {
          ...stepResult_(step, messages.length ? "failed" : "passed", messages),
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
          ...stepResult_(step, "failed", [error instanceof Error ? error.message : String(error)]),
          durationMs: Math.round(performance.now() - stepStarted),
        };
        steps.push(failed);
        recorder.event({ kind: "step", ...failed });
        options.reporter.stepFinished(job.name, failed);
        throw error;
      }
    }
  } catch (error) {
    failure = jobFailureOf(error, run.stop);
    recorder.event({ ...failure, kind: "kernel-failure", failure: failure.kind });
    const why = `not run: kernel ${failure.kind}${failure.stage ? ` at ${failure.stage}` : ""}`;
    const ran = steps.length;
    for (const step of job.steps.slice(ran)) steps.push(stepResult_(step, "skipped", [why]));
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
    status: failure?.kind === "interrupted"
      ? "interrupted"
      : failure
      ? "error"
      : steps.some((step) => step.status === "failed")
      ? "failed"
      : "passed",
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
