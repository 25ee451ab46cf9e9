/** Unit tests for the `sis metrics serve` job on the engine with the fake kernel and a local HTTP stand-in: each verdict and exit code. */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import type { CommandContext } from "../context.ts";
import { RunStop } from "../runs/signals.ts";
import { FakeKernel } from "../session/fake_kernel.ts";
import { fakeMachine, runFakeMachineJob } from "../session/fake_machine.ts";
import { serveJob, type ServeResult } from "./metrics_serve.ts";

/** The kernel's HTTP service as seen through the forward: `/healthz` answers `ok` when `isHealthy`. */
function httpStandIn(isHealthy: boolean) {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(isHealthy ? "ok\n" : "starting\n", { status: isHealthy ? 200 : 503 }),
  );
}

/** Waits for the URL on stdout: the job is serving (an event, not a delay). */
async function serving(context: () => CommandContext | undefined, isOver: () => boolean): Promise<void> {
  while (!isOver()) {
    const stdout = (context()?.stdout as { text?: string } | undefined)?.text ?? "";
    if (stdout.includes("/metrics\n")) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Serves on a fake kernel; `whileServing` acts once the URL is out (ends
 * the machine, stops the run), and the run's code, output and results come back.
 */
async function serve(
  whileServing: (kernel: FakeKernel, stop: RunStop) => void,
  isHealthy = true,
) {
  const http = httpStandIn(isHealthy);
  const kernel = new FakeKernel();
  const stop = new RunStop();
  let context: CommandContext | undefined;
  try {
    const running = runFakeMachineJob({
      command: ["metrics", "serve"],
      purpose: "metrics-serve",
      step: { name: "served /metrics until stopped", command: "GET /metrics" },
      stop,
      launch: () => fakeMachine(kernel, { metrics: http.addr.port, echo: 0 }),
      runJob: (job, run, jobContext) => {
        context = jobContext;
        return serveJob(job, run, { context: jobContext });
      },
    });
    // A job that ends before it serves is judged by the assertions, not waited on forever.
    let isOver = false;
    const ended = running.finally(() => (isOver = true)).then(() => false);
    if (isHealthy && await Promise.race([serving(() => context, () => isOver).then(() => !isOver), ended])) {
      whileServing(kernel, stop);
    }
    const run = await running;
    const [job] = run.results.jobs as ServeResult[];
    return { ...run, job, stdout: run.context.stdout.text, stderr: run.context.stderr.text };
  } finally {
    await http.shutdown();
  }
}

Deno.test("metrics serve stopped by the user after serving passed, in a run that exits 130", async () => {
  const { code, job, stdout, results } = await serve((kernel, stop) => {
    stop.interrupt("SIGINT");
    // The engine's teardown ends the machine; the fake's console ends as QEMU's would.
    kernel.stop();
  });
  assertEquals(code, 130);
  assertEquals(stdout, `${job.url}\n`);
  assertEquals([results.kind, results.interrupted, job.status, job.steps[0].status], [
    "metrics-serve",
    "SIGINT",
    "passed",
    "passed",
  ]);
  ok(/^served http:\S+ for \d+\.\d s until SIGINT$/.test(job.steps[0].messages[0]), job.steps[0].messages[0]);
});

Deno.test("metrics serve fails with exit 4 when the kernel panics while serving, with its report", async () => {
  const { code, job, stderr } = await serve((kernel) => {
    kernel.chunks.push(
      new TextEncoder().encode(
        '\x01sis:panic\r\n{"level":"FATAL","subsystem":"panic","message":"ticker"}\r\n',
      ),
    );
    kernel.stop();
  });
  assertEquals(code, 4);
  assertEquals([job.status, job.kernel?.kind, job.kernel?.record?.message], ["error", "panic", "ticker"]);
  ok(stderr.includes("sis: machine ended: "), stderr);
});

Deno.test("metrics serve fails with exit 1 when the machine ends otherwise while serving", async () => {
  const { code, job } = await serve((kernel) => kernel.stop());
  assertEquals(code, 1);
  assertEquals([job.status, job.kernel?.kind], ["error", "exited"]);
});

Deno.test("metrics serve that never gets an HTTP answer prints one error line, exits 1 and prints no URL", async () => {
  const { code, job, stdout, stderr } = await serve(() => {}, false);
  assertEquals(code, 1);
  assertEquals(stdout, "");
  assertEquals(
    stderr.match(/^error: the kernel on "riscv64" does not answer HTTP at http:\S+$/gm)?.length,
    1,
    stderr,
  );
  assertEquals([job.status, job.url], ["error", undefined]);
});
