/** Results of a chaos run (cells of arch × mode × rate), their JSON form, and their JUnit form through the shared report writer. */
import {
  type JobResult,
  type KernelFailure,
  type RunResults,
  type StepResult,
  summarize,
} from "../report/results.ts";
import type { Assertion, CellSummary } from "./check.ts";
import type { ChaosMode } from "./modes.ts";

/** One cell: a mode at a rate on an arch, one boot. */
export interface CellResult {
  /** `<arch>-<mode>-r<rate>`: also its folder in the run bundle. */
  name: string;
  arch: string;
  mode: ChaosMode;
  ratePercent: number;
  seed: string;
  ops: number;
  /** `interrupted`: the run was stopped (signal, full disk) before the cell finished or started. */
  status: "passed" | "failed" | "error" | "interrupted";
  bootMs?: number;
  durationMs: number;
  assertions: Assertion[];
  summary: CellSummary;
  /** A panic, hang or exit; under random_panic a panic here is the expected one. */
  kernel?: KernelFailure;
  qemuExit?: unknown;
  bundleDir?: string;
  /** Set by `sis chaos replay`: whether the injection sequence matched the recorded one. */
  replay?: { matched: boolean; recorded: number; now: number; difference?: string };
}

export interface ChaosSummary {
  cells: number;
  passed: number;
  failed: number;
  /** Cells whose kernel panicked, hung or died unexpectedly. */
  errors: number;
  /** Cells stopped by a signal or a full disk. */
  interrupted?: number;
}

export interface ChaosResults {
  schema: 1;
  kind: "chaos";
  runId: string;
  startedAt: string;
  durationMs: number;
  /** The Wilson interval's confidence level used for the rate assertions. */
  confidence: number;
  cells: CellResult[];
  summary: ChaosSummary;
  /** Set when a signal stopped the run. */
  interrupted?: "SIGINT" | "SIGTERM";
  /** The chaos kernel booted per arch (path, sha256, commit). */
  kernels?: Record<string, unknown>;
}

export function cellName(arch: string, mode: string, ratePercent: number): string {
  return `${arch}-${mode}-r${ratePercent}`;
}

export function summarizeCells(cells: readonly CellResult[]): ChaosSummary {
  return {
    cells: cells.length,
    passed: cells.filter((cell) => cell.status === "passed").length,
    failed: cells.filter((cell) => cell.status === "failed").length,
    errors: cells.filter((cell) => cell.status === "error").length,
    interrupted: cells.filter((cell) => cell.status === "interrupted").length,
  };
}

/** 0 all passed, 4 a kernel panicked or hung unexpectedly, 1 an assertion failed (docs/CLI.md codes). */
export function chaosExitCode(summary: ChaosSummary): number {
  if (summary.errors > 0) return 4;
  if (summary.failed > 0) return 1;
  return 0;
}

/**
 * The chaos results in the shape of `sis test` results, so the one JUnit
 * writer (and GitHub annotations) serve both: a cell is a test suite named
 * `<arch>.chaos.<mode>.r<rate>`, each assertion a test case.
 */
export function toRunResults(results: ChaosResults): RunResults {
  const jobs: JobResult[] = results.cells.map((cell) => {
    const command =
      `sis chaos run ${cell.mode} --rate ${cell.ratePercent} --seed ${cell.seed} --ops ${cell.ops} ` +
      `--arch ${cell.arch}`;
    const steps: StepResult[] = cell.assertions.map((assertion) => ({
      id: `${cell.mode}.r${cell.ratePercent}/${assertion.id}`,
      name: assertion.name,
      command,
      status: assertion.status,
      durationMs: 0,
      messages: assertion.messages,
      output: [],
    }));
    if (cell.status === "interrupted" && steps.length === 0) {
      steps.push({
        id: `${cell.mode}.r${cell.ratePercent}/run`,
        name: "the cell ran",
        command,
        status: "skipped",
        durationMs: 0,
        messages: [cell.kernel?.message ?? "interrupted"],
        output: [],
      });
    }
    if (cell.replay) {
      steps.push({
        id: `${cell.mode}.r${cell.ratePercent}/replay`,
        name: "the injection sequence matches the recorded run",
        command,
        status: cell.replay.matched ? "passed" : "failed",
        durationMs: 0,
        messages: cell.replay.difference ? [cell.replay.difference] : [],
        output: [],
      });
    }
    return {
      name: cell.name,
      arch: cell.arch,
      config: "chaos",
      suite: `${cell.mode}.r${cell.ratePercent}`,
      status: cell.status === "error" ? "error" : cell.status,
      bootMs: cell.bootMs,
      durationMs: cell.durationMs,
      steps,
      // An expected panic is a result, not a kernel failure.
      kernel: cell.status === "error" || cell.status === "interrupted" ? cell.kernel : undefined,
      qemuExit: cell.qemuExit,
      bundleDir: cell.bundleDir,
    };
  });
  const summary = summarize(jobs);
  return {
    schema: 1,
    kind: "chaos",
    interrupted: results.interrupted,
    runId: results.runId,
    startedAt: results.startedAt,
    durationMs: results.durationMs,
    jobs,
    summary,
  };
}
