/** JUnit XML for CI test viewers: one testsuite per job (arch.config.suite), one testcase per step. */
import type { JobResult, RunResults } from "./results.ts";

/** Characters XML 1.0 forbids: most C0 controls, U+FFFE/U+FFFF, lone surrogates. */
// Matching control characters is the point of this pattern.
const NOT_XML =
  // deno-lint-ignore no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Escapes text for XML 1.0 content and attributes. Characters XML 1.0 does
 * not allow at all (most C0 controls, lone surrogates, U+FFFE/U+FFFF) are
 * replaced with U+FFFD: serial output can contain anything, and one stray
 * byte must not make the whole report unreadable.
 */
export function escapeXml(text: string): string {
  return text
    .replace(NOT_XML, "\uFFFD")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")
    .replace(/\r/g, "&#13;");
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

function suiteXml(job: JobResult): string {
  const className = `${job.arch}.${job.config}.${job.suite}`;
  const failures = job.steps.filter((step) => step.status === "failed").length;
  const skipped = job.steps.filter((step) => step.status === "skipped" || step.status === "pending").length;
  let xml =
    `  <testsuite name="${escapeXml(className)}" tests="${job.steps.length}" failures="${failures}" ` +
    `errors="0" skipped="${skipped}" time="${seconds(job.durationMs)}">\n`;
  xml += `    <properties>\n`;
  xml += `      <property name="arch" value="${escapeXml(job.arch)}"/>\n`;
  xml += `      <property name="config" value="${escapeXml(job.config)}"/>\n`;
  if (job.bootMs !== undefined) xml += `      <property name="boot_ms" value="${job.bootMs}"/>\n`;
  if (job.kernel) xml += `      <property name="kernel_failure" value="${escapeXml(job.kernel.message)}"/>\n`;
  xml += `    </properties>\n`;
  for (const step of job.steps) {
    xml += `    <testcase classname="${escapeXml(className)}" name="${escapeXml(step.name)}" ` +
      `time="${seconds(step.durationMs)}"`;
    const output = step.output.length
      ? `      <system-out>${escapeXml(step.output.join("\n"))}</system-out>\n`
      : "";
    if (step.status === "failed") {
      const message = step.messages.join("; ");
      xml +=
        `>\n      <failure message="${escapeXml(message)}" type="${
          job.kernel ? job.kernel.kind : "assertion"
        }">` +
        `${
          escapeXml([`$ ${step.command}`, ...step.messages, ...(job.kernel?.report ?? [])].join("\n"))
        }</failure>\n` +
        `${output}    </testcase>\n`;
    } else if (step.status === "skipped" || step.status === "pending") {
      xml += `>\n      <skipped message="${escapeXml(step.messages.join("; "))}"/>\n    </testcase>\n`;
    } else {
      xml += output ? `>\n${output}    </testcase>\n` : `/>\n`;
    }
  }
  return xml + `  </testsuite>\n`;
}

/** The whole run as a JUnit XML document. */
export function toJunitXml(results: RunResults): string {
  const all = results.jobs.flatMap((job) => job.steps);
  const failures = all.filter((step) => step.status === "failed").length;
  const skipped = all.filter((step) => step.status === "skipped" || step.status === "pending").length;
  return `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="sis test ${escapeXml(results.runId)}" tests="${all.length}" failures="${failures}" ` +
    `errors="0" skipped="${skipped}" time="${seconds(results.durationMs)}">\n` +
    results.jobs.map(suiteXml).join("") +
    `</testsuites>\n`;
}
