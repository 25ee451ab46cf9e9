/** Unit tests for the suite runner against the fake kernel: results, skips after a kernel failure, bundles, pending suites. */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import { BUILTIN_CONFIGS } from "../qemu/profiles.ts";
import type { ProgressReporter } from "../report/progress.ts";
import { RunBundle } from "../runs/bundle.ts";
import { FakeKernel } from "./fake_kernel.ts";
import { type BootedMachine, planJobs, runJobs } from "./runner.ts";
import { parseSuite } from "./suite.ts";

const silent: ProgressReporter = { jobStarted() {}, stepFinished() {}, jobFinished() {}, runFinished() {} };

/** A fake machine: the fake kernel's console plus a teardown that records it ran. */
function fakeLaunch(shutdowns: string[]) {
  return (options: { arch: string }): Promise<BootedMachine> => {
    const kernel = new FakeKernel({ chunkSize: 7 });
    return Promise.resolve({
      chunks: kernel.chunks,
      write: (bytes: Uint8Array) => kernel.write(bytes),
      argv: ["fake-qemu", options.arch],
      pid: 4242,
      shutdown: () => {
        shutdowns.push(options.arch);
        return Promise.resolve({ code: 0, signal: null, outcome: { kind: "poweroff", code: 0 } });
      },
    });
  };
}

Deno.test("runJobs() runs each suite in one boot, checks steps, and skips the rest after a panic", async () => {
  const runs = await Deno.makeTempDir();
  try {
    const good = parseSuite(
      {
        steps: [
          { name: "echo", run: "echo hi", expect: { contains: ["hi"] } },
          { name: "wrong expectation", run: "echo hi", expect: { contains: ["bye"] } },
          { name: "errno", run: "cat /x", expect: { status: 2, regex: ["^error: ENOENT"] } },
        ],
      },
      "good",
      "good.yaml",
    );
    const boom = parseSuite(
      {
        steps: [
          { name: "before", run: "echo x" },
          { name: "panic", run: "panic boom" },
          { name: "after", run: "echo y" },
        ],
      },
      "boom",
      "boom.yaml",
    );
    const later = parseSuite({ pending: "not yet", steps: [{ name: "a", run: "x" }] }, "later", "later.yaml");
    const jobs = planJobs(["riscv64", "x86_64"], [BUILTIN_CONFIGS.default], [good, boom, later], () => true);
    assertEquals(jobs.map((job) => job.name).slice(0, 3), [
      "riscv64-default-good",
      "riscv64-default-boom",
      "riscv64-default-later",
    ]);
    const bundle = await RunBundle.create(runs, { sisVersion: "0", deno: "2", argv: [], cwd: "/", seed: 1 });
    const shutdowns: string[] = [];
    const results = await runJobs(jobs, {
      launch: fakeLaunch(shutdowns),
      kernels: { riscv64: { path: "/k", sha256: "0" }, x86_64: { path: "/k", sha256: "0" } },
      qemuBinaries: {},
      bootTimeoutMs: 1000,
      commandTimeoutMs: 1000,
      bundle,
      reporter: silent,
      parallel: 2,
    });
    const [goodJob, boomJob, laterJob] = results;
    assertEquals(goodJob.steps.map((step) => step.status), ["passed", "failed", "passed"]);
    assertEquals(goodJob.steps[1].messages, ['output does not contain "bye"']);
    assertEquals(goodJob.status, "failed");
    assertEquals(boomJob.status, "error");
    assertEquals(boomJob.kernel?.kind, "panic");
    assertEquals(boomJob.kernel?.stage, "command 2");
    assertEquals(boomJob.steps.map((step) => step.status), ["passed", "failed", "skipped"]);
    ok(boomJob.steps[2].messages[0].startsWith("not run: kernel panic at command 2"));
    assertEquals(laterJob.status, "pending");
    // Every booted machine was torn down (pending suites boot nothing).
    assertEquals(shutdowns.length, 4);
    // The bundle has each boot's events and result, and the manifest its argv.
    const event = (await Deno.readTextFile(join(boomJob.bundleDir!, "events.ndjson"))).split("\n").filter(
      Boolean,
    )
      .map((line) => JSON.parse(line)).find((entry) => entry.kind === "kernel-failure");
    assertEquals(event.failure, "panic");
    assertEquals(bundle.manifest.jobs.find((job) => job.name === "x86_64-default-good")?.qemuArgv, [
      "fake-qemu",
      "x86_64",
    ]);
  } finally {
    await Deno.remove(runs, { recursive: true });
  }
});

Deno.test("planJobs() drops suites whose steps are all filtered out", () => {
  const suite = parseSuite({ steps: [{ name: "one", run: "x" }, { name: "two", run: "y" }] }, "s", "s.yaml");
  const jobs = planJobs(
    ["aarch64"],
    [BUILTIN_CONFIGS.default, BUILTIN_CONFIGS.smp],
    [suite],
    (_, step) => step === "two",
  );
  assertEquals(jobs.map((job) => [job.name, job.steps.length]), [["aarch64-default-s", 1], [
    "aarch64-smp-s",
    1,
  ]]);
  assertEquals(planJobs(["aarch64"], [BUILTIN_CONFIGS.default], [suite], () => false), []);
});
