/** Unit tests for the suite runner against the fake kernel: results, skips after a kernel failure, bundles, pending suites. */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import { BUILTIN_CONFIGS } from "../qemu/profiles.ts";
import type { ProgressReporter } from "../report/progress.ts";
import type { JobResult } from "../report/results.ts";
import { testContext } from "../context.ts";
import { runEngine } from "../runs/engine.ts";
import { RunStop } from "../runs/signals.ts";
import { buildPaths } from "../toolchain/build.ts";
import { FakeKernel } from "./fake_kernel.ts";
import { type BootedMachine, type Job, notRunJob, planJobs, runSuiteJob } from "./runner.ts";
import { parseSuite } from "./suite.ts";

const silent: ProgressReporter = { jobStarted() {}, stepFinished() {}, jobFinished() {}, runFinished() {} };

/** A fake machine: the fake kernel's console plus a teardown that records it ran. */
function fakeLaunch(shutdowns: string[], stop?: RunStop) {
  return async (options: { arch: string }): Promise<BootedMachine> => {
    // With a stop: the riscv64 boot is where "the user presses Ctrl-C", and
    // the aarch64 boot waits for it, so the pool cannot finish aarch64 and
    // start the third job (x86_64) first, however the boots are scheduled.
    if (stop && options.arch === "riscv64") stop.interrupt("SIGINT");
    if (stop && options.arch === "aarch64" && !stop.signal.aborted) {
      await new Promise((resolve) => stop.signal.addEventListener("abort", resolve, { once: true }));
    }
    const kernel = new FakeKernel({ chunkSize: 7 });
    return {
      chunks: kernel.chunks,
      write: (bytes: Uint8Array) => kernel.write(bytes),
      argv: ["fake-qemu", options.arch],
      pid: 4242,
      shutdown: () => {
        shutdowns.push(options.arch);
        return Promise.resolve({ code: 0, signal: null, outcome: { kind: "poweroff", code: 0 } });
      },
    };
  };
}

/** Runs jobs through the engine with fake machines and a fake cargo that installs a dummy ELF. */
export async function runFake(root: string, jobs: Job[], shutdowns: string[], stop?: RunStop): Promise<{
  code: number;
  results: JobResult[];
  manifest: { jobs: Record<string, unknown>[] };
}> {
  let results: JobResult[] = [];
  let bundleDir = "";
  // Kernel sources present (empty): the engine then asks its builder, here the fake one.
  await Deno.mkdir(join(root, "kernel", "sis-kernel", "src"), { recursive: true });
  const code = await runEngine({
    kind: "test",
    root,
    context: testContext({ cwd: root }),
    argv: ["sis", "test"],
    jobs,
    kernels: {},
    parallel: 2,
    outputs: {},
    launch: fakeLaunch(shutdowns, stop),
    stop,
    build: async (arches) => {
      for (const arch of arches) {
        const { elf } = buildPaths(root, arch);
        await Deno.mkdir(join(elf, ".."), { recursive: true });
        await Deno.writeFile(elf, new Uint8Array([0x7f, 0x45, 0x4c, 0x46]));
      }
    },
    runJob: (job, run) =>
      runSuiteJob(job, run, {
        qemuBinaries: {},
        bootTimeoutMs: 1000,
        commandTimeoutMs: 1000,
        reporter: silent,
      }),
    notRun: notRunJob,
    finish: (jobResults, info) => {
      results = jobResults;
      bundleDir = info.bundleDir;
      const report = {
        schema: 1 as const,
        runId: info.runId,
        startedAt: info.startedAt,
        durationMs: 0,
        jobs: jobResults,
        summary: { passed: 0, failed: 0, skipped: 0, pending: 0, kernelFailures: 0 },
      };
      return { json: report, report, exitCode: jobResults.some((job) => job.status === "error") ? 4 : 0 };
    },
  });
  return { code, results, manifest: JSON.parse(await Deno.readTextFile(join(bundleDir, "manifest.json"))) };
}

Deno.test("the engine runs each suite in one boot, checks steps, and skips the rest after a panic", async () => {
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
    const shutdowns: string[] = [];
    const { code, results, manifest } = await runFake(runs, jobs, shutdowns);
    assertEquals(code, 4);
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
    assertEquals(manifest.jobs.find((job) => job.name === "x86_64-default-good")?.qemuArgv, [
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

Deno.test("a stop mid-run: the running job ends interrupted, later ones are not run, reports are written, exit 130", async () => {
  const runs = await Deno.makeTempDir();
  try {
    const suite = parseSuite(
      { steps: [{ name: "a", run: "echo a" }, { name: "b", run: "echo b" }] },
      "s",
      "s.yaml",
    );
    const jobs = planJobs(["aarch64", "riscv64", "x86_64"], [BUILTIN_CONFIGS.default], [suite], () => true);
    const shutdowns: string[] = [];
    const { code, results } = await runFake(runs, jobs, shutdowns, new RunStop());
    assertEquals(code, 130);
    // Parallel 2: the first two jobs started; the riscv64 launch stopped the run.
    assertEquals(results.map((job) => job.status).slice(1), ["interrupted", "interrupted"]);
    assertEquals(results[2].steps.map((step) => step.messages[0]), [
      "not run: interrupted by SIGINT",
      "not run: interrupted by SIGINT",
    ]);
    // The machine that booted as the stop came was shut down, not left running.
    ok(shutdowns.includes("riscv64"));
    const [runDir] = [...Deno.readDirSync(join(runs, "runs"))].map((entry) => join(runs, "runs", entry.name));
    const written = JSON.parse(await Deno.readTextFile(join(runDir, "results.json")));
    assertEquals(written.jobs.length, 3);
  } finally {
    await Deno.remove(runs, { recursive: true });
  }
});
