/** Tests of the chaos cell runner and checker against the fake chaos kernel: every mode passes, and every deliberate defect fails the right assertion. */
import { deepStrictEqual as assertEquals, equal, ok } from "node:assert/strict";
import { runCell } from "./cell.ts";
import { type AssertionId, type CellVerdict, checkCell } from "./check.ts";
import { FakeChaosKernel, type FakeDefect } from "./fake_chaos_kernel.ts";
import { CHAOS_MODES, type ChaosMode } from "./modes.ts";
import { planCell } from "./workload.ts";

async function cell(
  mode: ChaosMode,
  rate: number,
  options: { seed?: string; defect?: FakeDefect; ops?: number } = {},
) {
  let time = 0;
  const clock = { now: () => time, advance: (ms: number) => (time += ms) };
  const kernel = new FakeChaosKernel({ defect: options.defect, clock });
  const plan = planCell({ mode, ratePercent: rate, seed: options.seed ?? "42", ops: options.ops ?? 40 });
  const { transcript } = await runCell(kernel, "fake", plan, {
    bootTimeoutMs: 1000,
    commandTimeoutMs: 1000,
    now: clock.now,
  });
  return { transcript, verdict: checkCell(transcript) };
}

function statusOf(verdict: CellVerdict, id: AssertionId) {
  return verdict.assertions.find((assertion) => assertion.id === id)?.status;
}

function explain(verdict: CellVerdict): string {
  return verdict.assertions.filter((a) => a.status === "failed").map((a) =>
    `${a.id}: ${a.messages.join("; ")}`
  )
    .join("\n");
}

for (const mode of CHAOS_MODES) {
  Deno.test(`checkCell() passes a correct kernel in ${mode} at rates 0, 30 and 100`, async () => {
    for (const rate of [0, 30, 100]) {
      const { verdict, transcript } = await cell(mode, rate);
      equal(verdict.status, "passed", `${mode} ${rate}: ${explain(verdict)}`);
      if (mode === "random_panic" && rate > 0) {
        ok(transcript.panic, "random_panic at a positive rate panics");
        equal(verdict.summary.expectedPanic, true);
        equal(statusOf(verdict, "recovery"), "skipped");
      } else {
        equal(statusOf(verdict, "recovery"), "passed");
        equal(statusOf(verdict, "intact"), "passed");
      }
      if (rate === 0) equal(verdict.summary.injections, 0);
      if (rate === 100 && mode !== "random_panic") equal(verdict.summary.injections, 40);
      // Even a panic at the very first operation leaves no assertion skipped that could be judged.
      for (const id of ["setup", "errno", "logged", "sequence", "rate", "health", "panic"] as const) {
        equal(statusOf(verdict, id), "passed", `${mode} ${rate}: ${id}`);
      }
    }
  });
}

Deno.test("checkCell() reports failures, counters and a Wilson interval for disk_full at 30%", async () => {
  const { verdict } = await cell("disk_full", 30);
  ok(verdict.summary.failedOps > 0 && verdict.summary.failedOps < 40);
  equal(verdict.summary.failedOps, verdict.summary.injections);
  equal(verdict.summary.checks, 40);
  ok(verdict.summary.interval!.low < 0.3 && verdict.summary.interval!.high > 0.3);
  ok(verdict.summary.rateVerdict!.includes("Wilson"));
});

Deno.test("checkCell() measures slow_io's added latency", async () => {
  const { verdict } = await cell("slow_io", 50);
  equal(verdict.summary.addedLatencyMs, 20);
  equal(statusOf(verdict, "latency"), "passed");
});

const DEFECTS: [FakeDefect, ChaosMode, AssertionId[]][] = [
  ["counter", "disk_full", ["counters"]],
  ["errno", "disk_full", ["errno", "logged"]],
  ["unlogged", "disk_fail", ["logged", "counters"]],
  ["dead-point", "network_fail", ["rate", "counters"]],
  ["sticky", "disk_full", ["recovery"]],
  ["corrupt", "disk_fail", ["intact"]],
  ["no-delay", "slow_io", ["latency"]],
  ["over-delay", "slow_io", ["latency"]],
  ["partial", "disk_full", ["files"]],
  ["panic-on-fault", "disk_full", ["panic"]],
  ["tx-on-failure", "network_fail", ["counters"]],
];

for (const [defect, mode, expected] of DEFECTS) {
  Deno.test(`checkCell() fails a kernel with the "${defect}" defect in ${mode}`, async () => {
    const { verdict } = await cell(mode, 30, { defect });
    ok(verdict.status !== "passed", `${defect} went unnoticed`);
    for (const id of expected) {
      equal(statusOf(verdict, id), "failed", `${id} should fail for ${defect}: ${explain(verdict)}`);
    }
  });
}

Deno.test("a kernel panic outside random_panic is an error, with its message", async () => {
  const { verdict } = await cell("disk_full", 30, { defect: "panic-on-fault" });
  equal(verdict.status, "error");
  ok(verdict.assertions.find((a) => a.id === "panic")!.messages[0].includes("panicked"));
});

Deno.test("the same seed gives the same injection sequence; another seed another one", async () => {
  const first = await cell("disk_fail", 30, { seed: "7" });
  const second = await cell("disk_fail", 30, { seed: "7" });
  const other = await cell("disk_fail", 30, { seed: "8" });
  ok(first.verdict.summary.sequence.length > 0);
  assertEquals(first.verdict.summary.sequence, second.verdict.summary.sequence);
  ok(JSON.stringify(first.verdict.summary.sequence) !== JSON.stringify(other.verdict.summary.sequence));
});

Deno.test("checkCell() fails when a doctored stats line disagrees with the observed failures", async () => {
  const { transcript } = await cell("memory_pressure", 30);
  const stats = JSON.parse(transcript.stats!.output[0]);
  stats.modes.memory_pressure.injections += 1;
  transcript.stats!.output = [JSON.stringify(stats)];
  const verdict = checkCell(transcript);
  equal(statusOf(verdict, "counters"), "failed");
  ok(explain(verdict).includes("the CLI saw"));
});

Deno.test("a kernel that keeps human logs is checked the same (records parsed from key=value lines)", async () => {
  let time = 0;
  const kernel = new FakeChaosKernel({ clock: { now: () => time, advance: (ms) => (time += ms) } });
  const plan = planCell({ mode: "disk_fail", ratePercent: 30, seed: "42", ops: 40 });
  plan.setup = plan.setup.filter((command) => command !== "logctl json");
  const { transcript } = await runCell(kernel, "fake", plan, { bootTimeoutMs: 1000, commandTimeoutMs: 1000 });
  const verdict = checkCell(transcript);
  equal(verdict.status, "passed", explain(verdict));
  ok(verdict.summary.injections > 0);
  const json = await cell("disk_fail", 30);
  assertEquals(verdict.summary.sequence, json.verdict.summary.sequence);
});

Deno.test("checkCell() fails the health assertion on a protocol warning", async () => {
  const { transcript } = await cell("disk_full", 30);
  transcript.ops[3].op.warnings.push("frame 12 closed by an end marker for 13");
  const verdict = checkCell(transcript);
  equal(statusOf(verdict, "health"), "failed");
  ok(explain(verdict).includes("protocol warning"));
});
