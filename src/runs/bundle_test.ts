/** Unit tests for run bundles: unique ids, files written as the run goes, atomic JSON. */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import { newRunId, RunBundle } from "./bundle.ts";

Deno.test("newRunId() is unique across many calls in the same second and process", () => {
  const now = new Date("2026-11-22T02:00:00Z");
  const ids = new Set(Array.from({ length: 2000 }, () => newRunId(now, 42)));
  assertEquals(ids.size, 2000);
  ok([...ids][0].startsWith("20261122-020000Z-42-"));
});

Deno.test("RunBundle writes manifest, serial bytes with timing, events and results as it goes", async () => {
  const runs = await Deno.makeTempDir();
  try {
    const [first, second] = await Promise.all([
      RunBundle.create(runs, { sisVersion: "0", deno: "2", argv: ["sis"], cwd: "/", seed: 7 }),
      RunBundle.create(runs, { sisVersion: "0", deno: "2", argv: ["sis"], cwd: "/", seed: 8 }),
    ]);
    ok(first.dir !== second.dir);
    const job = await first.startJob("riscv64-default-smoke", { arch: "riscv64" });
    job.serialBytes(new TextEncoder().encode("SIS kernel\r\n"));
    job.serialBytes(new TextEncoder().encode("sis> "));
    job.event({ kind: "prompt", atMs: 1 });
    // Before finish(): a killed run leaves these on disk already.
    const dir = join(first.dir, "riscv64-default-smoke");
    assertEquals(await Deno.readTextFile(join(dir, "serial.raw")), "SIS kernel\r\nsis> ");
    const timing = (await Deno.readTextFile(join(dir, "serial.timing.ndjson"))).trim().split("\n").map((
      line,
    ) => JSON.parse(line));
    assertEquals(timing.map((entry) => [entry.offset, entry.bytes]), [[0, 12], [12, 5]]);
    assertEquals(JSON.parse(await Deno.readTextFile(join(dir, "events.ndjson"))), {
      kind: "prompt",
      atMs: 1,
    });
    const manifest = JSON.parse(await Deno.readTextFile(join(first.dir, "manifest.json")));
    assertEquals([manifest.seed, manifest.jobs[0].name], [7, "riscv64-default-smoke"]);
    await job.finish({ status: "passed" });
    assertEquals(JSON.parse(await Deno.readTextFile(join(dir, "result.json"))), { status: "passed" });
    // No temp files are left behind by the atomic writes.
    const names = [...Deno.readDirSync(first.dir)].map((entry) => entry.name).sort();
    assertEquals(names, ["manifest.json", "riscv64-default-smoke"]);
  } finally {
    await Deno.remove(runs, { recursive: true });
  }
});

Deno.test("manifest saves that overlap land in order: the file ends as the manifest ends", async () => {
  const runs = await Deno.makeTempDir();
  try {
    const bundle = await RunBundle.create(runs, {
      sisVersion: "0",
      deno: "2",
      argv: ["sis"],
      cwd: "/",
      seed: 1,
    });
    // Jobs of one run save the whole manifest as they start and as QEMU
    // comes up, without waiting for each other: the last state must win,
    // never an older copy whose write happened to finish last.
    const saves: Promise<unknown>[] = [];
    for (let index = 0; index < 200; index++) {
      saves.push(bundle.startJob(`job-${index}`, { index, qemuArgv: ["qemu", `-name`, `job-${index}`] }));
      bundle.manifest.jobs[index].qemuArgv = ["qemu", "-name", `job-${index}`, "-started"];
      saves.push(bundle.saveManifest());
    }
    await Promise.all(saves);
    const manifest = JSON.parse(await Deno.readTextFile(join(bundle.dir, "manifest.json")));
    assertEquals(manifest.jobs.length, 200);
    ok(manifest.jobs.every((job: { qemuArgv: string[] }) => job.qemuArgv.at(-1) === "-started"));
  } finally {
    await Deno.remove(runs, { recursive: true });
  }
});
