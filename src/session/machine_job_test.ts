/** Unit tests for one-machine jobs on the engine with the fake kernel: the bundle and results.json, an early failure's error line and exit code, a stop. */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import type { JobContext } from "../runs/engine.ts";
import { RunStop } from "../runs/signals.ts";
import { Session } from "./driver.ts";
import { FakeKernel } from "./fake_kernel.ts";
import { fakeMachine, runFakeMachineJob } from "./fake_machine.ts";
import { failedEarly, type MachineJob, type MachineJobOutcome, verdict } from "./machine_job.ts";

const step = { name: "the session ended cleanly", command: "sis run" };

/** Runs one job on a fresh fake kernel. */
function runOne(runJob: (job: MachineJob, run: JobContext) => Promise<MachineJobOutcome>, stop?: RunStop) {
  return runFakeMachineJob({
    command: ["run"],
    flags: ["--memory-mib", "64"],
    purpose: "console",
    step,
    runJob,
    stop,
    launch: () => fakeMachine(new FakeKernel()),
  });
}

Deno.test("runMachineJob() writes a one-job bundle whose results.json carries the job's verdict and exit code", async () => {
  const { code, results, manifest } = await runOne(async (job, run) => {
    const recorder = await run.record({ config: job.config.name });
    const machine = await run.launch({ config: job.config });
    await new Session(machine).boot();
    await machine.shutdown();
    const result = verdict(job, step, { status: "failed", durationMs: 1, messages: ["powered off with 3"] });
    await recorder.finish(result);
    return { result, exitCode: 3 };
  });
  assertEquals(code, 3);
  assertEquals(manifest.argv, [
    "sis",
    "run",
    "--arch",
    "riscv64",
    "--config",
    "default",
    "--memory-mib",
    "64",
    "--no-build",
  ]);
  assertEquals(manifest.jobs.map((job) => [job.name, job.qemuPid]), [["riscv64-default-console", 4242]]);
  assertEquals(results.kind, "run");
  assertEquals(results.jobs.map((job) => [job.status, job.suite]), [["failed", "console"]]);
  assertEquals(results.jobs[0].steps[0].status, "failed");
  assertEquals(results.jobs[0].steps[0].messages, ["powered off with 3"]);
  assertEquals(results.summary.failed, 1);
});

Deno.test("a one-machine job that fails on the way up prints its error once and exits with its code", async () => {
  const { code, context, results } = await runOne(async (job, run) => {
    await run.record({});
    const session = new Session(await run.launch({ config: job.config }), { commandTimeoutMs: 1000 });
    await session.boot();
    await session.enableFraming();
    try {
      await session.run("panic boom");
      throw new Error("the fake kernel did not panic");
    } catch (error) {
      const { exitCode, error: printed, ...judged } = failedEarly(error, run.stop);
      return { result: verdict(job, step, { ...judged, durationMs: 1 }), exitCode, error: printed };
    }
  });
  assertEquals(code, 4);
  assertEquals(context.stderr.text.match(/^error: kernel panicked at stage "command 1": boom$/gm)?.length, 1);
  assertEquals([results.jobs[0].status, results.jobs[0].kernel?.kind], ["error", "panic"]);
  assertEquals(results.summary.kernelFailures, 1);
});

Deno.test("a one-machine job stopped by a signal is interrupted; the run still writes results.json and exits 130", async () => {
  const stop = new RunStop();
  const { code, context, results } = await runOne(async (job, run) => {
    await run.record({});
    stop.interrupt("SIGINT");
    try {
      await run.launch({ config: job.config });
      throw new Error("launch after a stop must refuse");
    } catch (error) {
      const { exitCode, error: printed, ...judged } = failedEarly(error, run.stop);
      return { result: verdict(job, step, { ...judged, durationMs: 0 }), exitCode, error: printed };
    }
  }, stop);
  assertEquals(code, 130);
  assertEquals(results.interrupted, "SIGINT");
  assertEquals([results.jobs[0].status, results.jobs[0].steps[0].status], ["interrupted", "skipped"]);
  ok(!context.stderr.text.includes("error:"), context.stderr.text);
});
