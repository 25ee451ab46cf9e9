/** The result model of a test run (jobs of arch × config × suite, their steps) and its JSON form. */
import type { BootStage } from "../errors.ts";

export type StepStatus = "passed" | "failed" | "skipped" | "pending";

export interface StepResult {
  /** `suite/step`, unique within a job. */
  id: string;
  name: string;
  command: string;
  status: StepStatus;
  durationMs: number;
  /** Why it failed, one entry per unmet expectation, or why it was skipped. */
  messages: string[];
  /** The command's output lines (framed: never its echo). */
  output: string[];
  exitStatus?: number;
  /** Where the step is written: the suite file and the 1-based line its entry starts on. */
  location?: { file: string; line: number };
}

/** How a job's kernel misbehaved, when it did. */
export interface KernelFailure {
  /** `interrupted`: the run was stopped (signal, full disk) while this job's machine ran; not the kernel's fault. */
  kind: "panic" | "hang" | "exited" | "boot" | "interrupted";
  message: string;
  stage?: BootStage;
  /** The panic report or the last serial lines. */
  report?: string[];
  record?: Record<string, unknown>;
}

export interface JobResult {
  /** `<arch>-<config>-<suite>`, also its folder in the run bundle. */
  name: string;
  arch: string;
  config: string;
  suite: string;
  /** `interrupted`: stopped by a signal or a full disk before it finished (or started). */
  status: "passed" | "failed" | "pending" | "error" | "interrupted";
  bootMs?: number;
  durationMs: number;
  steps: StepResult[];
  kernel?: KernelFailure;
  /** The QEMU exit outcome, as mapped back per arch. */
  qemuExit?: unknown;
  /** The job's folder in the run bundle. */
  bundleDir?: string;
}

export interface RunSummary {
  passed: number;
  failed: number;
  skipped: number;
  pending: number;
  /** Jobs whose kernel panicked, hung or died. */
  kernelFailures: number;
}

/**
 * The results JSON of `sis test` (and the shape chaos and regress give their
 * JUnit/GitHub output). Shards are merged from it: it only ever grows by
 * optional fields, nothing is renamed or removed within schema 1.
 */
export interface RunResults {
  schema: 1;
  runId: string;
  startedAt: string;
  durationMs: number;
  jobs: JobResult[];
  summary: RunSummary;
  /** The command that produced it (`test`, `chaos`, `regress`); absent in older files means `test`. */
  kind?: string;
  /** `--shard i/N` of this run, when sharded. */
  shard?: string;
  /** Set when a signal stopped the run: its jobs not finished are `interrupted`. */
  interrupted?: "SIGINT" | "SIGTERM";
  /** The kernel booted per arch (path, sha256, commit). */
  kernels?: Record<string, unknown>;
}

export function summarize(jobs: readonly JobResult[]): RunSummary {
  const summary: RunSummary = { passed: 0, failed: 0, skipped: 0, pending: 0, kernelFailures: 0 };
  for (const job of jobs) {
    if (job.kernel && job.kernel.kind !== "interrupted") summary.kernelFailures++;
    for (const step of job.steps) summary[step.status]++;
  }
  return summary;
}

/** The exit code for a run: 4 if a kernel panicked or hung, 1 if a test failed, else 0. */
export function runExitCode(summary: RunSummary): number {
  if (summary.kernelFailures > 0) return 4;
  if (summary.failed > 0) return 1;
  return 0;
}
