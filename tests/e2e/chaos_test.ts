/** End-to-end tests of `sis chaos`: the real kernel (chaos feature) in real QEMU on all three archs: the matrix, determinism, replay, and a broken injection point. */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { ARCHES } from "../../src/arch.ts";
import { testContext } from "../../src/context.ts";
import { CHAOS_MODES } from "../../src/chaos/modes.ts";
import type { ChaosResults } from "../../src/chaos/results.ts";
import { runChaosCells } from "../../src/chaos/run.ts";
import { type CellPlan, makeOp, planCell } from "../../src/chaos/workload.ts";
import { BUILTIN_CONFIGS } from "../../src/qemu/profiles.ts";
import { ROOT, sis } from "./_harness.ts";

/**
 * The first test builds the chaos kernels (cargo decides what is stale);
 * later ones pass --no-build so one test file asks cargo once.
 */
async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "sis-e2e-chaos-" });
}

async function readResults(path: string): Promise<ChaosResults> {
  return JSON.parse(await readFile(path, "utf8"));
}

/** `sis chaos matrix --arch all` plus `flags`, which must exit 0; its results from the JSON written into `out`. */
async function matrixOnAllArches(out: string, ...flags: string[]) {
  const json = join(out, "chaos.json");
  const run = await sis(["chaos", "matrix", "--arch", "all", ...flags, "--json", json]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  return { run, results: await readResults(json) };
}

Deno.test("sis chaos matrix --config smp (-smp 4, preemptive SMP) passes every assertion at rate 30 on all three archs", async () => {
  const out = await tempDir();
  try {
    const { results } = await matrixOnAllArches(out, "--config", "smp", "--rates", "30");
    assert.equal(results.cells.length, ARCHES.length * CHAOS_MODES.length);
    assert.equal(results.summary.passed, results.cells.length);
    for (const cell of results.cells) {
      const failed = cell.assertions.filter((assertion) => assertion.status === "failed");
      assert.deepEqual(failed, [], `${cell.name}: ${JSON.stringify(cell.assertions)}`);
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("sis chaos matrix --arch all passes every assertion for every mode and rate on all three archs", async () => {
  const out = await tempDir();
  try {
    const { run, results } = await matrixOnAllArches(out, "--junit", join(out, "chaos.xml"));
    assert.equal(results.cells.length, ARCHES.length * CHAOS_MODES.length * 3);
    assert.equal(results.summary.passed, results.cells.length);
    for (const cell of results.cells) {
      const where = `${cell.name}: ${JSON.stringify(cell.assertions)}`;
      const failed = cell.assertions.filter((assertion) => assertion.status === "failed");
      assert.deepEqual(failed, [], where);
      const ran = new Set(cell.assertions.filter((a) => a.status === "passed").map((a) => a.id));
      for (const id of ["setup", "errno", "logged", "sequence", "rate", "health", "panic"]) {
        assert.ok(ran.has(id as never), `${where}: ${id} did not pass`);
      }
      const { summary } = cell;
      if (cell.mode === "random_panic") {
        // Every rate in the matrix is positive: the panic must have happened and been decoded.
        assert.equal(summary.expectedPanic, true, where);
        assert.match(summary.panicMessage ?? "", /chaos: random panic/, where);
        assert.deepEqual(cell.qemuExit, { kind: "panic" }, where);
        continue;
      }
      for (const id of ["counters", "recovery", "intact"]) assert.ok(ran.has(id as never), `${where}: ${id}`);
      // Modes whose workload writes files: no partial file, and every file written under faults reads back.
      if (["disk_full", "disk_fail", "slow_io"].includes(cell.mode)) assert.ok(ran.has("files"), where);
      // The injection points really fire: the failure the original tests could not show.
      assert.ok(summary.injections > 0, where);
      assert.ok(summary.checks! >= cell.ops, where);
      if (cell.mode === "slow_io") {
        assert.ok(ran.has("latency"), where);
        assert.ok(summary.addedLatencyMs! >= 10, `${where}: added ${summary.addedLatencyMs} ms`);
      } else {
        assert.equal(summary.failedOps, summary.injections, where);
      }
      if (cell.ratePercent === 100) assert.equal(summary.injections, cell.ops, where);
    }
    assert.match(run.stdout, /network_fail acts on the null network device of `net send`/);
    // With the NIC (default config) every network_fail cell below 100 % moved TCP echo through the drops.
    for (
      const cell of results.cells.filter((cell) => cell.mode === "network_fail" && cell.ratePercent < 100)
    ) {
      assert.ok(cell.assertions.some((a) => a.id === "echo" && a.status === "passed"), cell.name);
    }
    // Each expected panic is printed decoded: message and location from the JSON panic record.
    assert.equal(
      run.stdout.match(/^panic \S+-random_panic-r\d+: .*chaos: random panic at \S+ at \S+\.rs:\d+:\d+$/gm)
        ?.length,
      9,
    );
    assert.match(run.stdout, /chaos: 54 cell\(s\): 54 passed, 0 failed, 0 kernel error\(s\)/);
    const xml = await readFile(join(out, "chaos.xml"), "utf8");
    assert.equal(XMLValidator.validate(xml), true);
    const suites = new XMLParser({ ignoreAttributes: false }).parse(xml).testsuites.testsuite;
    assert.equal(suites.length, 54);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

for (const arch of ARCHES) {
  Deno.test(`the same seed gives the same logged injections across two boots on ${arch}, and replay agrees`, async () => {
    const out = await tempDir();
    try {
      const runOnce = async (seed: string, file: string) => {
        const run = await sis([
          "chaos",
          "run",
          "disk_fail",
          "--rate",
          "30",
          "--seed",
          seed,
          "--arch",
          arch,
          "--no-build",
          "--json",
          join(out, file),
        ]);
        assert.equal(run.code, 0, run.stdout + run.stderr);
        const bundle = /bundle (\S+)\n/.exec(run.stderr)?.[1];
        assert.ok(bundle, run.stderr);
        return { results: await readResults(join(out, file)), bundle };
      };
      const first = await runOnce("123456789", "a.json");
      const second = await runOnce("123456789", "b.json");
      const other = await runOnce("987654321", "c.json");
      const sequence = (results: ChaosResults) => results.cells[0].summary.sequence;
      assert.ok(sequence(first.results).length > 0);
      assert.deepEqual(sequence(second.results), sequence(first.results));
      assert.notDeepEqual(sequence(other.results), sequence(first.results));
      // The same with the serial transcript itself: the records, less their timestamps, are identical.
      const records = async (bundle: string) =>
        (await readFile(join(bundle, `${arch}-disk_fail-r30`, "serial.raw"), "utf8"))
          .split("\n")
          .filter((line) => line.includes(`"status":"injected"`))
          .map((line) => line.replace(/"ts":\d+,/, "").trim());
      const logged = await records(first.bundle);
      assert.equal(logged.length, sequence(first.results).length);
      assert.deepEqual(await records(second.bundle), logged);

      const replay = await sis(["chaos", "replay", first.bundle, "--no-build"]);
      assert.equal(replay.code, 0, replay.stdout + replay.stderr);
      assert.match(replay.stdout, /1 of 1 cell\(s\) replayed the recorded injection sequence/);

      // A recorded sequence that the kernel does not reproduce must fail the replay.
      const resultPath = join(first.bundle, `${arch}-disk_fail-r30`, "result.json");
      const recorded = JSON.parse(await readFile(resultPath, "utf8"));
      recorded.summary.sequence[0].check += 1;
      await writeFile(resultPath, JSON.stringify(recorded));
      const doctored = await sis(["chaos", "replay", first.bundle, "--no-build"]);
      assert.equal(doctored.code, 1, doctored.stdout + doctored.stderr);
      assert.match(doctored.stdout, /replay differs\n {2}injection 1: recorded/);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  });
}

/** Runs one cell of `plan` on the real chaos kernel, in one boot, through the run engine. */
async function brokenCell(runs: string, plan: CellPlan) {
  const { results } = await runChaosCells([{ arch: BROKEN_ARCH, plan }], {
    root: ROOT,
    runsDir: runs,
    context: testContext({ cwd: ROOT, env: Deno.env.toObject() }),
    argv: ["sis", "chaos", "(test)"],
    qemuBinaries: {},
    config: BUILTIN_CONFIGS.default,
    bootTimeoutMs: 10_000,
    commandTimeoutMs: 10_000,
    parallel: 1,
    confidence: 0.999,
  });
  return results!.cells[0];
}

/** One arch is enough to show the checker catches each break; x86_64 boots in well under a second. */
const BROKEN_ARCH = "x86_64";

Deno.test("a broken injection point (wrong errno, or a failure not counted) makes the chaos run fail", async () => {
  // The kernel's `chaos break` switch breaks its own block-write point on
  // purpose: `errno` hands disk_full's injections back as EIO, `uncounted`
  // fails writes behind the generator's back (no counter, no log record).
  const runs = await tempDir();
  try {
    for (const [defect, expected] of [["errno", ["errno"]], ["uncounted", ["counters"]]] as const) {
      const plan = planCell({ mode: "disk_full", ratePercent: 30, seed: "42", ops: 40 });
      plan.arm.unshift(`chaos break ${defect}`);
      const cell = await brokenCell(runs, plan);
      assert.equal(cell.status, "failed", `${defect}: ${JSON.stringify(cell.assertions)}`);
      for (const id of expected) {
        assert.equal(cell.assertions.find((a) => a.id === id)?.status, "failed", `${defect} must fail ${id}`);
      }
      // The rest of the kernel behaved: it kept answering and did not panic.
      assert.equal(cell.assertions.find((a) => a.id === "health")?.status, "passed");
      assert.equal(cell.assertions.find((a) => a.id === "panic")?.status, "passed");
    }
    // The same plan without the break passes: the failures above are the defects'.
    const healthy = await brokenCell(
      runs,
      planCell({ mode: "disk_full", ratePercent: 30, seed: "42", ops: 40 }),
    );
    assert.equal(healthy.status, "passed", JSON.stringify(healthy.assertions));
  } finally {
    await Deno.remove(runs, { recursive: true });
  }
});

Deno.test("an armed mode whose point the workload never reaches fails, as the original chaos tests should have", async () => {
  // No rewriting here: the real kernel, armed with disk_full, runs allocations only,
  // so the block-write point is never called and every counter stays 0.
  const runs = await tempDir();
  try {
    const plan = planCell({ mode: "disk_full", ratePercent: 30, seed: "42", ops: 20 });
    plan.ops = plan.ops.map((_, index) => makeOp("alloc", index));
    const cell = await brokenCell(runs, plan);
    assert.equal(cell.status, "failed", JSON.stringify(cell.assertions));
    const rate = cell.assertions.find((a) => a.id === "rate")!;
    assert.equal(rate.status, "failed");
    assert.match(rate.messages.join(" "), /never reached/);
    const counters = cell.assertions.find((a) => a.id === "counters")!;
    assert.match(counters.messages.join(" "), /only 0 check\(s\) for 20 operations/);
    assert.equal(cell.assertions.find((a) => a.id === "panic")?.status, "passed");
  } finally {
    await Deno.remove(runs, { recursive: true });
  }
});

Deno.test("sis chaos refuses bad arguments and a missing bundle with exit 2", async () => {
  const unknown = await sis(["chaos", "run", "disk_ful", "--rate", "30"]);
  assert.equal(unknown.code, 2, unknown.stderr);
  assert.match(unknown.stderr, /see 'sis chaos --help'/);
  const rate = await sis(["chaos", "run", "disk_full", "--rate", "101"]);
  assert.equal(rate.code, 2, rate.stderr);
  const rates = await sis(["chaos", "matrix", "--rates", "10,x", "--no-build"]);
  assert.equal(rates.code, 2, rates.stderr);
  assert.match(rates.stderr, /Bad rate "x"/);
  const missing = await sis(["chaos", "replay", "/nonexistent/run", "--no-build"]);
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /Cannot replay \/nonexistent\/run/);
});
