/** Tests of the chaos orchestration against fake machines: bundles, parallel cells, replay loading and comparison, reports. */
import { deepStrictEqual as assertEquals, equal, ok, rejects } from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { UsageError } from "../errors.ts";
import { BUILTIN_CONFIGS } from "../qemu/profiles.ts";
import { toJunitXml } from "../report/junit.ts";
import { testContext } from "../context.ts";
import type { BootedMachine } from "../runs/engine.ts";
import { fakeKernelBuilder } from "../session/fake_builder.ts";
import { loadRecordedRun, parseModes, parseRates, resolveSeed } from "./request.ts";
import { FakeChaosKernel, type FakeDefect } from "./fake_chaos_kernel.ts";
import { CHAOS_MODES } from "./modes.ts";
import { chaosExitCode, type ChaosResults, toRunResults } from "./results.ts";
import { type CellSpec, compareSequences, runChaosCells } from "./run.ts";
import { cellLine, chaosTable } from "./table.ts";
import { planCell } from "./workload.ts";

/** Launches a fake chaos kernel per cell; `defects` breaks chosen arches. */
function fakeLaunch(defects: Record<string, FakeDefect> = {}, launched: string[] = []) {
  return (options: { arch: string }): Promise<BootedMachine> => {
    launched.push(options.arch);
    const kernel = new FakeChaosKernel({ defect: defects[options.arch] });
    return Promise.resolve(kernel.machine(["fake-qemu", options.arch]));
  };
}

async function run(
  specs: CellSpec[],
  root: string,
  defects: Record<string, FakeDefect> = {},
  recorded?: ChaosResults,
) {
  // Kernel sources present (empty): the engine then asks its builder, here the fake one.
  await mkdir(join(root, "kernel", "sis-kernel", "src"), { recursive: true });
  const { code, results } = await runChaosCells(specs, {
    root,
    context: testContext({ cwd: root }),
    argv: ["sis", "chaos"],
    launch: fakeLaunch(defects),
    build: fakeKernelBuilder(root),
    qemuBinaries: {},
    config: BUILTIN_CONFIGS.default,
    bootTimeoutMs: 1000,
    commandTimeoutMs: 1000,
    parallel: 2,
    confidence: 0.999,
    recorded: recorded
      ? new Map(recorded.cells.map((cell) => [cell.name, cell.summary.sequence]))
      : undefined,
  });
  return { code, results: results!, bundle: { dir: join(root, "runs", results!.runId) } };
}

const specs = (seed = "42"): CellSpec[] =>
  (["riscv64", "x86_64"] as const).flatMap((arch) =>
    (["disk_full", "random_panic"] as const).map((mode) => ({
      arch,
      plan: planCell({ mode, ratePercent: 30, seed, ops: 20 }),
    }))
  );

Deno.test("runChaosCells() runs every cell, records plan, transcript and result, and reports them", async () => {
  const runs = await Deno.makeTempDir();
  try {
    const { bundle, results } = await run(specs(), runs);
    assertEquals(results.cells.map((cell) => cell.name), [
      "riscv64-disk_full-r30",
      "riscv64-random_panic-r30",
      "x86_64-disk_full-r30",
      "x86_64-random_panic-r30",
    ]);
    equal(results.summary.passed, 4, chaosTable(results));
    equal(chaosExitCode(results.summary), 0);
    const dir = join(bundle.dir, "x86_64-disk_full-r30");
    const plan = JSON.parse(await readFile(join(dir, "plan.json"), "utf8"));
    equal(plan.mode, "disk_full");
    const transcript = JSON.parse(await readFile(join(dir, "transcript.json"), "utf8"));
    equal(transcript.ops.length, 20);
    ok((await readFile(join(dir, "events.ndjson"), "utf8")).includes(`"kind":"begin"`));
    const table = chaosTable(results);
    ok(table.includes("INJECTED/CHECKS") && table.includes("expected panic"), table);
    ok(table.includes("4 cell(s): 4 passed, 0 failed"));
    ok(
      table.includes("panic riscv64-random_panic-r30: ") && table.includes(" at chaos.rs:1:1\n  report: "),
      table,
    );
    ok(cellLine(results.cells[0]).startsWith("PASS riscv64-disk_full-r30 "));
  } finally {
    await Deno.remove(runs, { recursive: true });
  }
});

Deno.test("a broken kernel on one arch fails only its cells; JUnit and exit code say so", async () => {
  const runs = await Deno.makeTempDir();
  try {
    const { results } = await run(specs(), runs, { x86_64: "counter" });
    const byName = Object.fromEntries(results.cells.map((cell) => [cell.name, cell.status]));
    equal(byName["riscv64-disk_full-r30"], "passed");
    equal(byName["x86_64-disk_full-r30"], "failed");
    equal(chaosExitCode(results.summary), 1);
    const xml = toJunitXml(toRunResults(results));
    equal(XMLValidator.validate(xml), true);
    const parsed = new XMLParser({ ignoreAttributes: false }).parse(xml);
    const suites = parsed.testsuites.testsuite;
    equal(suites.length, 4);
    const broken = suites.find((suite: Record<string, string>) =>
      suite["@_name"] === "x86_64.chaos.disk_full.r30"
    );
    ok(Number(broken["@_failures"]) >= 1);
    ok(
      chaosTable(results).includes("FAIL x86_64-disk_full-r30: kernel counters equal the failures observed"),
    );
  } finally {
    await Deno.remove(runs, { recursive: true });
  }
});

Deno.test("an unexpected panic is a kernel error: exit code 4 and a kernel failure in JUnit", async () => {
  const runs = await Deno.makeTempDir();
  try {
    const { results } = await run(
      [{ arch: "riscv64", plan: planCell({ mode: "disk_fail", ratePercent: 50, seed: "1", ops: 10 }) }],
      runs,
      { riscv64: "panic-on-fault" },
    );
    equal(results.cells[0].status, "error");
    equal(chaosExitCode(results.summary), 4);
    equal(toRunResults(results).summary.kernelFailures, 1);
  } finally {
    await Deno.remove(runs, { recursive: true });
  }
});

Deno.test("a recorded run replays with the same sequence, and a doctored record does not", async () => {
  const runs = await Deno.makeTempDir();
  try {
    const first = await run(specs("7"), runs);
    const loaded = await loadRecordedRun(first.bundle.dir);
    equal(loaded.specs.length, 4);
    assertEquals(loaded.specs[0].plan, first.results.cells[0] && specs("7")[0].plan);
    const again = await run(loaded.specs, runs, {}, first.results);
    ok(again.results.cells.every((cell) => cell.replay?.matched), chaosTable(again.results));
    // Doctor one recorded sequence: the replay must notice.
    const path = join(first.bundle.dir, "riscv64-disk_full-r30", "result.json");
    const result = JSON.parse(await readFile(path, "utf8"));
    result.summary.sequence[0].check += 1;
    await writeFile(path, JSON.stringify(result));
    const doctored = await loadRecordedRun(first.bundle.dir, "riscv64-disk_full-r30");
    equal(doctored.specs.length, 1);
    const replay = await run(doctored.specs, runs, {}, {
      ...first.results,
      cells: [{
        ...first.results.cells[0],
        summary: { ...first.results.cells[0].summary, sequence: result.summary.sequence },
      }],
    });
    equal(replay.results.cells[0].replay?.matched, false);
    equal(replay.results.cells[0].status, "failed");
    ok(replay.results.cells[0].replay?.difference?.startsWith("injection 1: recorded"));
  } finally {
    await Deno.remove(runs, { recursive: true });
  }
});

Deno.test("loadRecordedRun() refuses folders that are not chaos bundles", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await rejects(loadRecordedRun(dir), /Cannot replay .*manifest.json: missing/);
    await writeFile(join(dir, "manifest.json"), JSON.stringify({ jobs: [] }));
    await rejects(loadRecordedRun(dir), UsageError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compareSequences() names the first difference", () => {
  const a = { mode: "disk_full", point: "block_write", effect: "fail", errno: "ENOSPC", check: 3, seq: 1 };
  ok(compareSequences([a], [{ ...a }]).matched);
  const shorter = compareSequences([a, { ...a, check: 5, seq: 2 }], [a]);
  equal(shorter.matched, false);
  ok(shorter.difference!.includes("injection 2") && shorter.difference!.includes("now none"));
});

Deno.test("--modes, --rates and --seed are checked", () => {
  assertEquals(parseModes("all"), [...CHAOS_MODES]);
  assertEquals(parseModes("slow_io, disk_full,slow_io"), ["slow_io", "disk_full"]);
  ok(throwsUsage(() => parseModes("disk_ful")));
  assertEquals(parseRates("10,30,100"), [10, 30, 100]);
  ok(throwsUsage(() => parseRates("101")));
  ok(throwsUsage(() => parseRates("1.5")));
  equal(resolveSeed("0x10"), "16");
  equal(resolveSeed("18446744073709551615"), "18446744073709551615");
  ok(throwsUsage(() => resolveSeed("18446744073709551616")));
  ok(/^\d+$/.test(resolveSeed("random")));
});

function throwsUsage(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (error) {
    return error instanceof UsageError;
  }
}
