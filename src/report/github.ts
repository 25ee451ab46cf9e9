/** GitHub Actions output: `::error` workflow annotations for failures and a markdown step summary. */
import { isAbsolute, relative } from "node:path";
import type { RunResults, StepResult } from "./results.ts";

/**
 * Workflow commands are parsed line by line; `%`, CR and LF must be
 * percent-encoded in the message, and additionally `:` and `,` in property
 * values (https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts).
 */
export function escapeData(text: string): string {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

/**
 * `file=…,line=…,` for a step written in a suite file, so GitHub shows the
 * failure on that YAML line. GitHub wants the path relative to the
 * repository: a path under `root` is made relative, others are left out.
 */
function stepPosition(step: StepResult, root: string | undefined): string {
  if (!step.location) return "";
  let file = step.location.file;
  if (isAbsolute(file)) {
    if (root === undefined) return "";
    file = relative(root, file);
    if (file.startsWith("..") || isAbsolute(file)) return "";
  }
  return `file=${escapeProperty(file.replaceAll("\\", "/"))},line=${step.location.line},`;
}

/**
 * One `::error` line per failed step (at its suite YAML line when known) and
 * per kernel failure. `root` is the repository the suite paths are relative to.
 */
export function annotations(results: RunResults, options: { root?: string } = {}): string[] {
  const lines: string[] = [];
  for (const job of results.jobs) {
    const where = `${job.arch}/${job.config}`;
    if (job.kernel && job.kernel.kind !== "interrupted") {
      const title = `kernel ${job.kernel.kind} (${where}, ${job.suite}${
        job.kernel.stage ? `, stage ${job.kernel.stage}` : ""
      })`;
      const body = [job.kernel.message, ...(job.kernel.report ?? []).slice(-20)].join("\n");
      lines.push(`::error title=${escapeProperty(title)}::${escapeData(body)}`);
    }
    for (const step of job.steps) {
      if (step.status !== "failed") continue;
      const title = `${step.id} failed (${where})`;
      lines.push(
        `::error ${stepPosition(step, options.root)}title=${escapeProperty(title)}::${
          escapeData(`$ ${step.command}\n${step.messages.join("\n")}`)
        }`,
      );
    }
  }
  return lines;
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** A markdown summary: totals, one row per job, then the failures. */
export function stepSummary(results: RunResults): string {
  const { summary } = results;
  const verdict = summary.kernelFailures > 0 ? "kernel failure" : summary.failed > 0 ? "failed" : "passed";
  let markdown = `## sis test: ${verdict}\n\n`;
  markdown += `${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped, ` +
    `${summary.pending} pending in ${
      (results.durationMs / 1000).toFixed(1)
    } s (run \`${results.runId}\`)\n\n`;
  markdown += `| arch | config | suite | result | passed | failed | boot |\n|---|---|---|---|---|---|---|\n`;
  for (const job of results.jobs) {
    const passed = job.steps.filter((step) => step.status === "passed").length;
    const failed = job.steps.filter((step) => step.status === "failed").length;
    const result = job.kernel
      ? `${job.kernel.kind}${job.kernel.stage ? ` at ${job.kernel.stage}` : ""}`
      : job.status;
    markdown += `| ${job.arch} | ${job.config} | ${job.suite} | ${cell(result)} | ${passed} | ${failed} | ` +
      `${job.bootMs === undefined ? "" : `${job.bootMs} ms`} |\n`;
  }
  const failures = results.jobs.flatMap((job) =>
    job.steps.filter((step) => step.status === "failed").map((step) => ({ job, step }))
  );
  if (failures.length > 0) {
    markdown += `\n### Failures\n\n`;
    for (const { job, step } of failures) {
      markdown += `- **${cell(step.id)}** (${job.arch}/${job.config}): \`${cell(step.command)}\`: ` +
        `${cell(step.messages.join("; "))}\n`;
    }
  }
  return markdown;
}
