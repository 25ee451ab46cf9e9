/** Tests of the fuzz orchestration against fake kernels: chunks and coverage, a crash found, replayed, minimized by ddmin and written, replay's exit code, the control's verdict, a hang. */
import assert from "node:assert/strict";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { testContext } from "../context.ts";
import { BUILTIN_CONFIGS } from "../qemu/profiles.ts";
import type { BootedMachine } from "../runs/engine.ts";
import type { KernelRequest } from "../runs/kernels.ts";
import { fakeKernelBuilder } from "../session/fake_builder.ts";
import { FakeFuzzKernel, type FakeFuzzOptions } from "./fake_fuzz_kernel.ts";
import { parseRepro } from "./repro.ts";
import type { FuzzArchResult, ReplayArchResult } from "./results.ts";
import { type FuzzSpec, runFuzz } from "./run.ts";

/** Launches a fake kernel per boot; every kernel launched is kept for inspection. */
function fakeLaunch(options: FakeFuzzOptions, kernels: FakeFuzzKernel[] = []) {
  return (): Promise<BootedMachine> => {
    const kernel = new FakeFuzzKernel(options);
    kernels.push(kernel);
    return Promise.resolve(kernel.machine(["fake-qemu"]));
  };
}

async function fuzz(
  work: Parameters<typeof runFuzz>[0],
  kernel: FakeFuzzOptions,
  extra: { control?: boolean; hangTimeoutMs?: number } = {},
) {
  const root = await Deno.makeTempDir({ prefix: "sis-fuzz-run-" });
  await mkdir(join(root, "kernel", "sis-kernel", "src"), { recursive: true });
  const kernels: FakeFuzzKernel[] = [];
  const builds: KernelRequest[] = [];
  const context = testContext({ cwd: root });
  const { code, results } = await runFuzz(work, {
    root,
    context,
    argv: ["sis", "fuzz"],
    launch: fakeLaunch(kernel, kernels),
    build: fakeKernelBuilder(root, builds),
    qemuBinaries: {},
    config: BUILTIN_CONFIGS.default,
    bootTimeoutMs: 2000,
    commandTimeoutMs: 2000,
    hangTimeoutMs: extra.hangTimeoutMs ?? 5000,
    parallel: 2,
    control: extra.control ?? false,
  });
  return {
    code,
    results: results!,
    kernels,
    features: builds.map((request) => [...(request.features ?? [])]),
    root,
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

const specs = (calls: number, arches: FuzzSpec["arch"][] = ["riscv64", "x86_64"]): FuzzSpec[] =>
  arches.map((arch) => ({ arch, seed: 42n, calls }));

Deno.test("runFuzz() without a crash: chunks of 100,000 calls, coverage from syscalls --json, exit 0", async () => {
  await using run = await fuzz({ specs: specs(250_000) }, {});
  const { code, results, kernels } = run;
  assert.equal(code, 0);
  for (const arch of results.archs as FuzzArchResult[]) {
    assert.equal(arch.status, "passed");
    assert.equal(arch.calls, 250_000);
    assert.equal(arch.coverage.bySyscall.progress.ok, 250_000);
    assert.ok(arch.callsPerSecond > 0);
    assert.equal(arch.layout?.buffer, "0x2000004000");
  }
  assert.deepEqual(kernels[0].runs, [
    "seed=42 calls=100000 start=0",
    "seed=42 calls=100000 start=100000",
    "seed=42 calls=50000 start=200000",
  ]);
});

Deno.test("a crash that needs two earlier calls is replayed, minimized by ddmin to those three calls, and written to repro.json", async () => {
  const kernel = { crashAt: 1500, needs: [10, 500] };
  await using run = await fuzz({ specs: specs(5000, ["x86_64"]) }, kernel);
  const { code, results, kernels } = run;
  assert.equal(code, 4);
  const arch = results.archs[0] as FuzzArchResult;
  assert.equal(arch.status, "crashed");
  assert.deepEqual(arch.crash?.range, { start: 0, end: 1500 });
  assert.deepEqual(arch.replay, { crashed: true, sameCrash: true, message: "fake: broken" });
  assert.deepEqual(arch.minimized?.indices, [10, 500, 1500]);
  assert.equal(arch.minimized?.isMinimal, true);
  assert.equal(arch.minimized?.listing.length, 3);
  assert.match(arch.minimized!.listing[2], /^#1500 \w+\(/);
  // One boot to find, one for the confirming replay, one per ddmin test: each replay starts fresh.
  assert.equal(kernels.length, 2 + arch.minimized!.tests);
  assert.ok(kernels.slice(1).every((kernel) => kernel.runs.length === 1));
  assert.equal(kernels[1].runs[0], "seed=42 list=0-1500");
  const repro = parseRepro(await readFile(results.repro!, "utf8"), "repro.json");
  assert.deepEqual(repro.reproducers[0].indices, [10, 500, 1500]);
  assert.deepEqual(repro.features, []);
  const listing = await readFile(join(arch.bundleDir!, "repro.txt"), "utf8");
  assert.match(listing, /minimized by ddmin in \d+ test\(s\) to 3 call\(s\)/);

  await using stillBroken = await fuzz({ repro }, kernel);
  assert.equal(stillBroken.code, 4);
  const replay = stillBroken.results.archs[0] as ReplayArchResult;
  assert.equal(replay.sameCrash, true);
  assert.deepEqual(stillBroken.kernels[0].runs, ["seed=42 list=10,500,1500"]);
  await using fixed = await fuzz({ repro }, {});
  assert.equal(fixed.code, 0);
  assert.equal(fixed.results.archs[0].status, "passed");
});

Deno.test("--control builds the fuzz-break kernels and passes when the control is found, replayed and minimized", async () => {
  const kernel = {
    crashAt: 777,
    message: "fuzz-break: write(5, 0x2000005ffa, 0x10001) hit the deliberately broken path",
  };
  await using run = await fuzz({ specs: specs(100_000, ["riscv64"]) }, kernel, {
    control: true,
  });
  const { code, results, features } = run;
  assert.deepEqual(features, [["fuzz-break"]]);
  assert.equal(code, 0);
  const arch = results.archs[0] as FuzzArchResult;
  assert.equal(arch.status, "passed");
  assert.deepEqual(arch.minimized?.indices, [777]);
  const repro = parseRepro(await readFile(results.repro!, "utf8"), "repro.json");
  assert.deepEqual(repro.features, ["fuzz-break"]);
});

Deno.test("--control fails (exit 1) when the control is not found, and a different crash is exit 4", async () => {
  await using missed = await fuzz({ specs: specs(2000, ["x86_64"]) }, {}, { control: true });
  assert.equal(missed.code, 1);
  assert.match((missed.results.archs[0] as FuzzArchResult).problem!, /not found in 2000 calls/);
  await using other = await fuzz({ specs: specs(2000, ["x86_64"]) }, { crashAt: 5 }, { control: true });
  assert.equal(other.code, 4);
});

Deno.test("a hang is a crash with a reproducer range, and its replay hangs too", async () => {
  await using run = await fuzz({ specs: specs(3000, ["x86_64"]) }, { hangAt: 2000 }, {
    hangTimeoutMs: 300,
  });
  const { code, results } = run;
  assert.equal(code, 4);
  const arch = results.archs[0] as FuzzArchResult;
  assert.equal(arch.crash?.kind, "hang");
  assert.equal(arch.crash?.range?.start, 0);
  assert.ok(arch.crash!.range!.end >= 2000);
  assert.equal(arch.replay?.sameCrash, true);
  assert.ok(arch.minimized!.indices.includes(2000));
});

Deno.test("a crash after the process ended (its cleanup) has the whole chunk as reproducer and plain ddmin finds the one call", async () => {
  await using run = await fuzz({ specs: specs(3000, ["x86_64"]) }, { crashAfterExitOf: 1234 });
  const { code, results } = run;
  assert.equal(code, 4);
  const arch = results.archs[0] as FuzzArchResult;
  assert.equal(arch.crash?.progress, undefined);
  assert.deepEqual(arch.crash?.range, { start: 0, end: 2999 });
  assert.equal(arch.replay?.sameCrash, true);
  assert.deepEqual(arch.minimized?.indices, [1234]);
  assert.equal(arch.minimized?.isMinimal, true);
});
