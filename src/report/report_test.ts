/** Unit tests for the JUnit, GitHub and JSON reports over a run with every kind of outcome. */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { annotations, escapeData, escapeProperty, stepSummary } from "./github.ts";
import { escapeXml, toJunitXml } from "./junit.ts";
import { type JobResult, runExitCode, type RunResults, summarize } from "./results.ts";

const step = (id: string, status: JobResult["steps"][number]["status"], extra = {}) => ({
  id: `smoke/${id}`,
  name: id,
  command: id,
  status,
  durationMs: 1.5,
  messages: status === "failed" ? ['output does not contain "x" & <y>'] : [],
  output: ['line with \x00 NUL, \x1b[31mcolour\x1b[0m and <xml> & "quotes"', "\ud800 lone surrogate"],
  ...extra,
});

function sampleRun(): RunResults {
  const jobs: JobResult[] = [
    {
      name: "riscv64-default-smoke",
      arch: "riscv64",
      config: "default",
      suite: "smoke",
      status: "failed",
      bootMs: 40,
      durationMs: 120,
      steps: [step("help", "passed"), step("echo", "failed")],
    },
    {
      name: "x86_64-lowmem-smoke",
      arch: "x86_64",
      config: "lowmem",
      suite: "smoke",
      status: "error",
      durationMs: 5000,
      steps: [step("help", "failed"), step("echo", "skipped", { messages: ["not run: kernel panic"] })],
      kernel: {
        kind: "panic",
        message: "kernel panicked: boom",
        stage: "command 1",
        report: ["!!! PANIC", "at a.rs:1"],
      },
    },
    {
      name: "aarch64-default-networking",
      arch: "aarch64",
      config: "default",
      suite: "networking",
      status: "pending",
      durationMs: 0,
      steps: [step("ping", "pending", { messages: ["no NIC yet"] })],
    },
  ];
  return {
    schema: 1,
    runId: "test-run",
    startedAt: "2026-01-01T00:00:00Z",
    durationMs: 5200,
    jobs,
    summary: summarize(jobs),
  };
}

Deno.test("summarize() counts steps and kernel failures, and runExitCode() ranks kernel failures first", () => {
  const run = sampleRun();
  assertEquals(run.summary, { passed: 1, failed: 2, skipped: 1, pending: 1, kernelFailures: 1 });
  assertEquals(runExitCode(run.summary), 4);
  assertEquals(runExitCode({ ...run.summary, kernelFailures: 0 }), 1);
  assertEquals(runExitCode({ passed: 3, failed: 0, skipped: 0, pending: 2, kernelFailures: 0 }), 0);
});

Deno.test("toJunitXml() is well-formed XML even with control bytes and lone surrogates in the output", () => {
  const xml = toJunitXml(sampleRun());
  assertEquals(XMLValidator.validate(xml), true);
  const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(xml);
  const suites = parsed.testsuites.testsuite;
  assertEquals(parsed.testsuites.tests, "5");
  assertEquals(parsed.testsuites.failures, "2");
  assertEquals(suites.map((suite: { name: string }) => suite.name), [
    "riscv64.default.smoke",
    "x86_64.lowmem.smoke",
    "aarch64.default.networking",
  ]);
  const failed = suites[0].testcase[1];
  assertEquals(failed.name, "echo");
  assertEquals(failed.failure.message, 'output does not contain "x" & <y>');
  assertEquals(suites[1].testcase[0].failure.type, "panic");
  ok("skipped" in suites[2].testcase);
});

Deno.test("escapeXml() replaces characters XML 1.0 forbids and escapes markup", () => {
  assertEquals(escapeXml("a<b>&\"'\x00\x07\t\n"), "a&lt;b&gt;&amp;&quot;&apos;\ufffd\ufffd\t\n");
  assertEquals(escapeXml("\ud83d\ude00 ok \udc00"), "\ud83d\ude00 ok \ufffd");
});

Deno.test("annotations() gives one ::error line per failure with workflow-command escaping", () => {
  const lines = annotations(sampleRun());
  assertEquals(lines.length, 3);
  ok(lines.every((line) => line.startsWith("::error title=") && !line.includes("\n")));
  ok(lines[0].includes("smoke/echo failed (riscv64/default)"));
  ok(lines.some((line) => line.includes("kernel panic (x86_64/lowmem%2C smoke%2C stage command 1)")));
  assertEquals(escapeData("50%\r\nx"), "50%25%0D%0Ax");
  assertEquals(escapeProperty("a:b,c"), "a%3Ab%2Cc");
});

Deno.test("stepSummary() has a verdict, one table row per job and the failures", () => {
  const markdown = stepSummary(sampleRun());
  ok(markdown.startsWith("## sis test: kernel failure\n"));
  ok(markdown.includes("| riscv64 | default | smoke | failed | 1 | 1 | 40 ms |"));
  ok(markdown.includes("| x86_64 | lowmem | smoke | panic at command 1 |"));
  ok(markdown.includes("- **smoke/echo** (riscv64/default)"));
});
