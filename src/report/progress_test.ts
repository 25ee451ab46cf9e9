/** Unit tests for the progress reporters: plain lines for CI, a redrawn live view for terminals. */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { BufferOutput } from "../context.ts";
import { LiveReporter, PlainReporter } from "./progress.ts";
import { type JobResult, summarize } from "./results.ts";

const job: JobResult = {
  name: "riscv64-default-smoke",
  arch: "riscv64",
  config: "default",
  suite: "smoke",
  status: "error",
  bootMs: 40,
  durationMs: 900,
  steps: [
    { id: "smoke/a", name: "a", command: "echo", status: "passed", durationMs: 1, messages: [], output: [] },
    {
      id: "smoke/b",
      name: "b",
      command: "hang",
      status: "failed",
      durationMs: 700,
      messages: ["timeout"],
      output: [],
    },
    {
      id: "smoke/c",
      name: "c",
      command: "x",
      status: "skipped",
      durationMs: 0,
      messages: ["not run"],
      output: [],
    },
  ],
  kernel: { kind: "hang", message: "command 2 did not finish", stage: "command 2", report: ["last line"] },
};
const run = {
  schema: 1 as const,
  runId: "r1",
  startedAt: "",
  durationMs: 1000,
  jobs: [job],
  summary: summarize([job]),
};

Deno.test("PlainReporter prints one uncoloured line per step, the kernel report and a summary", () => {
  const out = new BufferOutput();
  const reporter = new PlainReporter(out, false);
  reporter.jobStarted(job.name);
  for (const step of job.steps) reporter.stepFinished(job.name, step);
  reporter.jobFinished(job);
  reporter.runFinished(run);
  assertEquals(out.text.split("\n").slice(0, 4), [
    "start riscv64-default-smoke",
    "PASS riscv64-default-smoke smoke/a (1.0 ms)",
    "FAIL riscv64-default-smoke smoke/b (700.0 ms): timeout",
    "SKIP riscv64-default-smoke smoke/c (0.0 ms): not run",
  ]);
  ok(out.text.includes("riscv64-default-smoke: kernel hang: command 2 did not finish\n  | last line\n"));
  ok(out.text.endsWith("1 passed, 1 failed, 1 skipped, 0 pending, 1 kernel failure(s) in 1.00 s (run r1)\n"));
  ok(!out.text.includes("\x1b["), "no escape codes without colour");
});

Deno.test("LiveReporter redraws its running lines in place and keeps failures above them", () => {
  const out = new BufferOutput();
  const reporter = new LiveReporter(out, false);
  reporter.jobStarted(job.name);
  reporter.stepFinished(job.name, job.steps[1]);
  reporter.jobFinished(job);
  // The second draw moves the cursor up over the one running line before rewriting.
  ok(out.text.includes("\x1b[1A\x1b[J"));
  ok(out.text.includes("FAIL riscv64-default-smoke smoke/b: timeout\n"));
  ok(out.text.includes("FAIL riscv64-default-smoke (1/3, boot 40 ms, 0.90 s)\n"));
});
