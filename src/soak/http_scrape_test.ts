/** The HTTP scraper against a local HTTP server: the sample keys of the exposition, and how a failed request is told apart (dead kernel or dead /metrics). */
import assert from "node:assert/strict";
import { KernelHangError } from "../errors.ts";
import type { BootStage } from "../errors.ts";
import type { CommandResult } from "../session/driver.ts";
import { HttpScraper } from "./http_scrape.ts";
import { parseScrape } from "./scrape.ts";

const EXPOSITION = [
  "# HELP sis_uptime_seconds Time since boot.",
  "# TYPE sis_uptime_seconds gauge",
  "sis_uptime_seconds 12.5",
  "# TYPE sis_http_requests_total counter",
  'sis_http_requests_total{code="200"} 7',
  'sis_http_requests_total{code="404"} 0',
  'sis_cpu_busy_seconds_total{cpu="0"} 0.157',
  "",
].join("\n");

/** A session that records the commands it is asked to run; `fail` makes them throw. */
function fakeSession(fail?: Error) {
  const commands: string[] = [];
  return {
    commands,
    stage: "shell" as BootStage,
    run(command: string): Promise<CommandResult> {
      commands.push(command);
      if (fail) return Promise.reject(fail);
      return Promise.resolve({
        seq: 1,
        command,
        output: ["up 12 s"],
        logs: [],
        status: 0,
        durationMs: 1,
        warnings: [],
      });
    },
  };
}

async function withServer(
  handler: (request: Request) => Response | Promise<Response>,
  body: (port: number) => Promise<void>,
): Promise<void> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  try {
    await body(server.addr.port);
  } finally {
    await server.shutdown();
  }
}

Deno.test("HttpScraper reads /metrics into the same keys as the serial scrape, without touching the console", async () => {
  const paths: string[] = [];
  await withServer((request) => {
    paths.push(new URL(request.url).pathname);
    return new Response(EXPOSITION, { headers: { "content-type": "text/plain; version=0.0.4" } });
  }, async (port) => {
    const session = fakeSession();
    const metrics = await new HttpScraper(port, 2000).scrape(session);
    assert.deepEqual(metrics, parseScrape(EXPOSITION.split("\n")));
    assert.equal(metrics['sis_http_requests_total{code="200"}'], 7);
    assert.equal(metrics['sis_cpu_busy_seconds_total{cpu="0"}'], 0.157);
    assert.deepEqual(paths, ["/metrics"]);
    assert.deepEqual(session.commands, []);
  });
});

Deno.test("HttpScraper: a failed /metrics with a live console is a hang of the HTTP service, with the reason", async () => {
  await withServer(() => new Response("HTTP broke\n", { status: 503 }), async (port) => {
    const session = fakeSession();
    await assert.rejects(
      new HttpScraper(port, 2000).scrape(session),
      (error: unknown) =>
        error instanceof KernelHangError &&
        /GET http:\/\/127\.0\.0\.1:\d+\/metrics failed \(status 503 HTTP broke\)/
          .test(error.message),
    );
    assert.deepEqual(session.commands, ["uptime"]);
  });
});

Deno.test("HttpScraper: when the console fails too, the session's own error (a panic, a hang) is what the soak sees", async () => {
  // A port nothing listens on: connection refused.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const panic = new Error("kernel panicked at stage command 9");
  const session = fakeSession(panic);
  await assert.rejects(new HttpScraper(port, 2000).scrape(session), (error: unknown) => error === panic);
  assert.deepEqual(session.commands, ["uptime"]);
});
