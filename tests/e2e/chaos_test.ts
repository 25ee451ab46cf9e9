/** End-to-end tests of `sis chaos`: the real kernel (chaos feature) in real QEMU on all three archs: the matrix, determinism, replay, and a broken injection point. */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { ARCHES } from "../../src/arch.ts";
import { testContext } from "../../src/context.ts";
import { ensureChaosKernels } from "../../src/chaos/kernels.ts";
import { CHAOS_MODES } from "../../src/chaos/modes.ts";
import type { ChaosResults } from "../../src/chaos/results.ts";
import { runCells } from "../../src/chaos/run.ts";
import { type CellPlan, makeOp, planCell } from "../../src/chaos/workload.ts";
import { Machine } from "../../src/qemu/machine.ts";
import { BUILTIN_CONFIGS } from "../../src/qemu/profiles.ts";
import { AsyncQueue } from "../../src/qemu/socket.ts";
import { RunBundle } from "../../src/runs/bundle.ts";
import type { BootedMachine } from "../../src/session/runner.ts";
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

Deno.test("sis chaos matrix --arch all passes every assertion for every mode and rate on all three archs", async () => {
  const out = await tempDir();
  try {
    const run = await sis([
      "chaos",
      "matrix",
      "--arch",
      "all",
      "--json",
      join(out, "chaos.json"),
      "--junit",
      join(out, "chaos.xml"),
    ]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const results = await readResults(join(out, "chaos.json"));
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
    assert.match(run.stdout, /network_fail acts on the kernel's null network device/);
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

/**
 * A deliberately broken injection point, made by rewriting what the real
 * kernel prints on its way to the checker: no kernel build has a switch that
 * breaks a point, so the fault sits in the serial stream instead. `errno`
 * turns disk_full's ENOSPC into EIO (a point returning the wrong errno);
 * `counter` makes `chaos stats` count one injection fewer (a counter not
 * incremented).
 */
function brokenLaunch(defect: "errno" | "counter") {
  return async (options: Parameters<typeof Machine.launch>[0]): Promise<BootedMachine> => {
    const machine = await Machine.launch(options);
    const chunks = new AsyncQueue<Uint8Array>();
    const decoder = new TextDecoder();
    const encoder = new TextEncoder();
    let pending = "";
    const rewrite = (line: string) => {
      if (defect === "errno") {
        // SOH starts every marker line (docs/PROTOCOL.md); the end marker's status 28 becomes 5.
        const endMarker = new RegExp(`^(${String.fromCharCode(1)}sis:end \\d+) 28(\r?)$`);
        return line.replace(/^error: ENOSPC: /, "error: EIO: ").replace(endMarker, "$1 5$2");
      }
      return line.replace(
        /("disk_full":\{"checks":\d+,"injections":)(\d+)/,
        (_, head, count) => `${head}${Math.max(0, Number(count) - 1)}`,
      );
    };
    (async () => {
      for await (const chunk of machine.chunks) {
        pending += decoder.decode(chunk, { stream: true });
        const end = pending.lastIndexOf("\n");
        let ready = "";
        if (end >= 0) {
          ready = pending.slice(0, end + 1).split("\n").map(rewrite).join("\n");
          pending = pending.slice(end + 1);
        }
        // A prompt has no newline after it: pass it on at once.
        if (pending.endsWith("sis> ")) {
          ready += pending;
          pending = "";
        }
        if (ready) chunks.push(encoder.encode(ready));
      }
      if (pending) chunks.push(encoder.encode(pending));
      chunks.close();
    })();
    return {
      chunks,
      write: (bytes) => machine.write(bytes),
      argv: machine.argv,
      pid: machine.pid,
      shutdown: () => machine.shutdown(),
    };
  };
}

/** Runs one disk_full cell on the real kernel with an optional stream defect and workload. */
async function brokenCell(runs: string, defect: "errno" | "counter" | undefined, plan: CellPlan) {
  const kernels = await ensureChaosKernels(ROOT, [BROKEN_ARCH], testContext(), { reuse: true });
  const bundle = await RunBundle.create(runs, {
    kind: "chaos",
    sisVersion: "test",
    deno: Deno.version.deno,
    argv: [],
    cwd: ROOT,
    seed: 42,
  });
  const [cell] = await runCells([{ arch: BROKEN_ARCH, plan }], {
    launch: defect ? brokenLaunch(defect) : undefined,
    kernels,
    qemuBinaries: {},
    config: BUILTIN_CONFIGS.default,
    bootTimeoutMs: 10_000,
    commandTimeoutMs: 10_000,
    bundle,
    parallel: 1,
    confidence: 0.999,
  });
  return cell;
}

/** One arch is enough to show the checker catches each break; x86_64 boots in well under a second. */
const BROKEN_ARCH = "x86_64";

Deno.test("a broken injection point (wrong errno, or a counter not incremented) makes the chaos run fail", async () => {
  const runs = await tempDir();
  try {
    const plan = planCell({ mode: "disk_full", ratePercent: 30, seed: "42", ops: 40 });
    for (const [defect, expected] of [["errno", ["errno", "logged"]], ["counter", ["counters"]]] as const) {
      const cell = await brokenCell(runs, defect, plan);
      assert.equal(cell.status, "failed", `${defect}: ${JSON.stringify(cell.assertions)}`);
      for (const id of expected) {
        assert.equal(cell.assertions.find((a) => a.id === id)?.status, "failed", `${defect} must fail ${id}`);
      }
      // The rest of the kernel behaved: only the broken property fails.
      assert.equal(cell.assertions.find((a) => a.id === "health")?.status, "passed");
      assert.ok(cell.summary.injections > 0);
    }
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
    const cell = await brokenCell(runs, undefined, plan);
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

Deno.test("sis chaos refuses bad arguments with exit 2 and a missing bundle with exit 1", async () => {
  const unknown = await sis(["chaos", "run", "disk_ful", "--rate", "30"]);
  assert.equal(unknown.code, 2, unknown.stderr);
  assert.match(unknown.stderr, /see 'sis chaos --help'/);
  const rate = await sis(["chaos", "run", "disk_full", "--rate", "101"]);
  assert.equal(rate.code, 2, rate.stderr);
  const rates = await sis(["chaos", "matrix", "--rates", "10,x", "--no-build"]);
  assert.equal(rates.code, 2, rates.stderr);
  assert.match(rates.stderr, /Bad rate "x"/);
  const missing = await sis(["chaos", "replay", "/nonexistent/run", "--no-build"]);
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, /Cannot replay \/nonexistent\/run/);
});
