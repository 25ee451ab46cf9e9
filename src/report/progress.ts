/** Progress output of `sis test`: a live view redrawn in place on a terminal, plain lines otherwise (CI logs). */
import pc from "picocolors";
import type { Output } from "../context.ts";
import type { JobResult, RunResults, StepResult } from "./results.ts";

/** What the runner tells the reporter. */
export interface ProgressReporter {
  jobStarted(job: string): void;
  stepFinished(job: string, step: StepResult): void;
  jobFinished(result: JobResult): void;
  runFinished(results: RunResults): void;
}

type Colors = ReturnType<typeof pc.createColors>;

function statusWord(colors: Colors, status: string): string {
  switch (status) {
    case "passed":
      return colors.green("PASS");
    case "failed":
      return colors.red("FAIL");
    case "pending":
      return colors.yellow("PEND");
    default:
      return colors.yellow("SKIP");
  }
}

function summaryLine(colors: Colors, results: RunResults): string {
  const { summary } = results;
  const parts = [
    colors.green(`${summary.passed} passed`),
    (summary.failed ? colors.red : colors.dim)(`${summary.failed} failed`),
    `${summary.skipped} skipped`,
    `${summary.pending} pending`,
  ];
  if (summary.kernelFailures) parts.push(colors.red(`${summary.kernelFailures} kernel failure(s)`));
  return `${parts.join(", ")} in ${(results.durationMs / 1000).toFixed(2)} s (run ${results.runId})`;
}

function kernelLines(colors: Colors, job: JobResult): string[] {
  if (!job.kernel) return [];
  const lines = [colors.red(`${job.name}: kernel ${job.kernel.kind}: ${job.kernel.message}`)];
  for (const line of (job.kernel.report ?? []).slice(-15)) lines.push(`  | ${line}`);
  return lines;
}

/** One line per step and job: what a CI log wants. */
export class PlainReporter implements ProgressReporter {
  readonly #out: Output;
  readonly #colors: Colors;
  constructor(out: Output, color: boolean) {
    this.#out = out;
    this.#colors = pc.createColors(color);
  }
  jobStarted(job: string): void {
    this.#out.write(`start ${job}\n`);
  }
  stepFinished(job: string, step: StepResult): void {
    const extra = step.status !== "passed" && step.messages.length ? `: ${step.messages.join("; ")}` : "";
    this.#out.write(
      `${statusWord(this.#colors, step.status)} ${job} ${step.id} (${
        step.durationMs.toFixed(1)
      } ms)${extra}\n`,
    );
  }
  jobFinished(result: JobResult): void {
    for (const line of kernelLines(this.#colors, result)) this.#out.write(line + "\n");
    const boot = result.bootMs === undefined ? "" : `, boot ${result.bootMs} ms`;
    this.#out.write(`done  ${result.name}: ${result.status}${boot}\n`);
  }
  runFinished(results: RunResults): void {
    this.#out.write(summaryLine(this.#colors, results) + "\n");
  }
}

/**
 * A live table: one line per running job with its step count, redrawn in
 * place (cursor up + clear line); failures are printed above it as they
 * happen so they stay on screen.
 */
export class LiveReporter implements ProgressReporter {
  readonly #out: Output;
  readonly #colors: Colors;
  readonly #running = new Map<string, { steps: number; failed: number }>();
  #drawn = 0;
  constructor(out: Output, color: boolean) {
    this.#out = out;
    this.#colors = pc.createColors(color);
  }
  #redraw(above: string[] = []): void {
    let text = this.#drawn > 0 ? `\x1b[${this.#drawn}A\x1b[J` : "";
    for (const line of above) text += line + "\n";
    for (const [job, state] of this.#running) {
      const failed = state.failed ? this.#colors.red(` ${state.failed} failed`) : "";
      text += `${this.#colors.cyan("⠿")} ${job}: ${state.steps} steps${failed}\n`;
    }
    this.#drawn = this.#running.size;
    this.#out.write(text);
  }
  jobStarted(job: string): void {
    this.#running.set(job, { steps: 0, failed: 0 });
    this.#redraw();
  }
  stepFinished(job: string, step: StepResult): void {
    const state = this.#running.get(job);
    if (state) {
      state.steps++;
      if (step.status === "failed") state.failed++;
    }
    this.#redraw(
      step.status === "failed"
        ? [`${statusWord(this.#colors, "failed")} ${job} ${step.id}: ${step.messages.join("; ")}`]
        : [],
    );
  }
  jobFinished(result: JobResult): void {
    this.#running.delete(result.name);
    const passed = result.steps.filter((step) => step.status === "passed").length;
    const word = result.status === "passed"
      ? this.#colors.green("ok  ")
      : result.status === "pending"
      ? this.#colors.yellow("pend")
      : this.#colors.red("FAIL");
    const boot = result.bootMs === undefined ? "" : `, boot ${result.bootMs} ms`;
    this.#redraw([
      ...kernelLines(this.#colors, result),
      `${word} ${result.name} (${passed}/${result.steps.length}${boot}, ${
        (result.durationMs / 1000).toFixed(2)
      } s)`,
    ]);
  }
  runFinished(results: RunResults): void {
    this.#redraw([summaryLine(this.#colors, results)]);
  }
}
