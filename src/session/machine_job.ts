/** One-job plans for the commands that keep one machine up for as long as their user wants (`sis run`, `sis metrics serve`): the job, its one verdict step, and the results in the shared shape; the engine (src/runs/) does the rest. */
import type { Arch } from "../arch.ts";
import type { CommandContext } from "../context.ts";
import { exitCodeOf, formatError } from "../errors.ts";
import type { MachineConfig } from "../qemu/profiles.ts";
import type { JobResult, KernelFailure } from "../report/results.ts";
import { type EngineJob, type JobContext, jobRunResults, type Launcher, runEngine } from "../runs/engine.ts";
import type { RunStop } from "../runs/signals.ts";
import { jobFailureOf } from "./runner.ts";

/** The one job: a machine of one arch and config, doing what its command does (`console`, `metrics-serve`). */
export interface MachineJob extends EngineJob {
  readonly arch: Arch;
  readonly config: MachineConfig;
  /** What the machine is for; the job's `suite` in the results and the end of its name. */
  readonly purpose: string;
}

/** The job's one step: what its verdict is about, as JUnit and GitHub output name it. */
export interface VerdictStep {
  name: string;
  command: string;
}

/** A job's verdict: its result (results.json) and the exit code it asks for. */
export interface MachineJobOutcome<R extends JobResult = JobResult> {
  result: R;
  /** The command's exit code when no signal or full disk stopped the run (those win in the engine). */
  exitCode: number;
  /** An error to print as the command's one `error:` line (with its fix and serial tail). */
  error?: unknown;
}

/** Where the one machine runs: the project, the command's context, and the kernel to boot. */
export interface MachinePlace {
  root: string;
  context: CommandContext;
  arch: Arch;
  config: MachineConfig;
  noBuild: boolean;
}

export interface MachineRunSpec<R extends JobResult> {
  /** The command's words (`["run"]`, `["metrics", "serve"]`): its argv, and joined by `-` the manifest and results `kind`. */
  command: readonly string[];
  /** The command's own flags, for the manifest's argv (`--arch`, `--config` and `--no-build` are added). */
  flags: readonly string[];
  place: MachinePlace;
  purpose: string;
  step: VerdictStep;
  /** Restores the terminal before a second signal exits at once (`sis run`). */
  beforeExit?: () => void;
  runJob(job: MachineJob, run: JobContext): Promise<MachineJobOutcome<R>>;
  /** Unit tests: a fake kernel, a folder for bundles, a stop by hand. */
  launch?: Launcher;
  runsDir?: string;
  stop?: RunStop;
}

/**
 * Runs a one-job plan on the engine: the kernel built fresh, the bundle
 * (manifest, serial, events, the job's result.json and the run's
 * results.json in the `RunResults` shape of `sis test`), the signal policy
 * and the exit code, exactly as for the commands with many jobs.
 */
export function runMachineJob<R extends JobResult>(spec: MachineRunSpec<R>): Promise<number> {
  const { root, context, arch, config, noBuild } = spec.place;
  const kind = spec.command.join("-");
  const job: MachineJob = {
    name: `${arch}-${config.name}-${spec.purpose}`,
    arch,
    config,
    purpose: spec.purpose,
  };
  return runEngine<MachineJob, MachineJobOutcome>({
    kind,
    root,
    context,
    argv: [
      "sis",
      ...spec.command,
      "--arch",
      arch,
      "--config",
      config.name,
      ...spec.flags,
      ...(noBuild ? ["--no-build"] : []),
    ],
    jobs: [job],
    kernels: { noBuild },
    parallel: 1,
    outputs: {},
    manifest: { arches: [arch], configs: [{ ...config }] },
    beforeExit: spec.beforeExit,
    started: ({ runId, bundleDir }) => `sis: ${kind} ${runId}: ${job.name}, bundle ${bundleDir}\n`,
    runJob: (planned, run) => spec.runJob(planned, run),
    notRun: (planned, why) => ({
      result: verdict(planned, spec.step, {
        status: "interrupted",
        durationMs: 0,
        kernel: { kind: "interrupted", message: why },
      }),
      exitCode: 0,
    }),
    finish: (outcomes, info) => {
      const [outcome] = outcomes;
      if (outcome.error !== undefined && !info.interrupted) context.stderr.write(formatError(outcome.error));
      const results = jobRunResults(kind, outcomes.map((one) => one.result), info);
      return { json: results, report: results, exitCode: outcome.exitCode };
    },
    launch: spec.launch,
    runsDir: spec.runsDir,
    stop: spec.stop,
  });
}

/**
 * The job's result with its one step: passed or failed as the status says,
 * skipped when the job was interrupted, the failure's message on it.
 */
export function verdict(
  job: MachineJob,
  step: VerdictStep,
  fields: Omit<JobResult, "name" | "arch" | "config" | "suite" | "steps"> & { messages?: string[] },
): JobResult {
  const { messages = [], ...rest } = fields;
  const why = fields.kernel ? [fields.kernel.message, ...messages] : messages;
  return {
    name: job.name,
    arch: job.arch,
    config: job.config.name,
    suite: job.purpose,
    ...rest,
    steps: [{
      id: `${job.purpose}/${step.name}`,
      name: step.name,
      command: step.command,
      status: fields.status === "passed" ? "passed" : fields.status === "interrupted" ? "skipped" : "failed",
      durationMs: fields.durationMs,
      messages: why,
      output: [],
    }],
  };
}

/**
 * What an error that ended the job before its machine was doing its work
 * (QEMU would not start, the kernel panicked or hung on the way up, the
 * service never answered) makes of it: `interrupted` when the run was
 * stopped, else an `error` with the kernel failure and the error's own exit
 * code and message, as the command printed them before it ran on the engine.
 */
export function failedEarly(error: unknown, stop: RunStop): {
  kernel: KernelFailure;
  status: "interrupted" | "error";
  exitCode: number;
  error?: unknown;
} {
  const kernel = jobFailureOf(error, stop);
  if (kernel.kind === "interrupted") return { kernel, status: "interrupted", exitCode: 0 };
  return { kernel, status: "error", exitCode: exitCodeOf(error), error };
}
