/**
 * End-to-end tests of the kernel's network (issue 10) on every arch in the
 * real QEMU: DHCP, ping to the gateway, `/metrics` over HTTP checked by
 * promtool and scraped by a real Prometheus server, 1,000 malformed requests,
 * 10 MB through echo, and ENODEV on `no-network`. All traffic goes to the
 * 127.0.0.1 ports QEMU forwards to the guest; nothing else is contacted.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Arch, ARCHES } from "../../src/arch.ts";
import { freeLoopbackPort, type Machine } from "../../src/qemu/machine.ts";
import { BUILTIN_CONFIGS, type HostForwards, type MachineConfig } from "../../src/qemu/profiles.ts";
import type { Session } from "../../src/session/driver.ts";
import { findPrometheus, findPromtool, ignoreWithout, pipeThrough, requireTool } from "../_tools.ts";
import { bootFramed, ok, withFramedKernel } from "./_boot.ts";
import { bundleResults, isQemuAlive, pollFor, ROOT, sis, SisProcess, stopSis } from "./_harness.ts";

const promtool = await findPromtool();
const prometheus = await findPrometheus();

interface Booted {
  arch: Arch;
  session: Session;
  machine: Machine;
  forwards: HostForwards;
}

async function boot(arch: Arch, config: MachineConfig): Promise<Booted> {
  const { machine, session } = await bootFramed(
    { arch, config, kernelPath: join(ROOT, "build", arch, "sis-kernel.elf") },
    30_000,
  );
  return { arch, session, machine, forwards: machine.forwards! };
}

/** Waits for the background DHCP: `ifconfig` is asked until it shows an address (bounded). */
async function waitForAddress(kernel: Booted): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const lines = await ok(kernel.session, "ifconfig");
    if (lines.some((line) => line.includes("inet 10.0.2.15/24"))) return lines;
    assert.ok(Date.now() < deadline, `${kernel.arch}: no address after 20 s: ${lines.join(" | ")}`);
    // The kernel sleeps between the two asks, so the guest gets the CPU.
    await ok(kernel.session, "sleep 50");
  }
}

function heapBytes(lines: string[]): number {
  const line = lines.find((entry) => entry.startsWith("heap_current_bytes "));
  assert.ok(line, "memstats has heap_current_bytes");
  return Number(line.split(" ")[1]);
}

/** Sends `bytes` on a fresh connection and reads until the server closes (or `timeoutMs`). */
async function exchange(port: number, bytes: Uint8Array, timeoutMs = 20_000): Promise<string> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => connection.close(), timeoutMs);
  try {
    if (bytes.length > 0) await connection.write(bytes);
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(65536);
    for (;;) {
      let count: number | null;
      try {
        count = await connection.read(buffer);
      } catch {
        break; // reset by the peer: whatever arrived is the answer
      }
      if (count === null) break;
      chunks.push(buffer.slice(0, count));
    }
    return new TextDecoder().decode(concat(chunks));
  } finally {
    clearTimeout(timer);
    try {
      connection.close();
    } catch {
      // Already closed by the timer.
    }
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return all;
}

const encoder = new TextEncoder();

/** The kinds of bad request the server must survive, by index. */
function malformedRequest(index: number): { bytes: Uint8Array; expect: RegExp } {
  switch (index % 6) {
    case 0: {
      const garbage = new Uint8Array(16 + (index % 200));
      for (let i = 0; i < garbage.length; i++) garbage[i] = (index * 31 + i * 7) & 0xff;
      garbage[0] = 0x01; // a control byte: no request line can start so
      return { bytes: garbage, expect: /^HTTP\/1\.1 400 / };
    }
    case 1: // truncated, then the client closes its side
      return { bytes: encoder.encode("GET /metrics HTTP/1.1\r\nHost: x"), expect: /^HTTP\/1\.1 400 / };
    case 2: // huge headers
      return {
        bytes: encoder.encode(`GET /metrics HTTP/1.1\r\nX-Big: ${"a".repeat(6000)}\r\n\r\n`),
        expect: /^HTTP\/1\.1 431 /,
      };
    case 3:
      return { bytes: encoder.encode("POST /metrics HTTP/1.1\r\n\r\n"), expect: /^HTTP\/1\.1 405 / };
    case 4:
      return { bytes: encoder.encode("GET /nope HTTP/1.1\r\n\r\n"), expect: /^HTTP\/1\.1 404 / };
    default:
      return { bytes: encoder.encode("GET metrics HTTP/9\r\n\r\n"), expect: /^HTTP\/1\.1 400 / };
  }
}

/** Truncated requests need the client to half-close so the server sees the end. */
async function sendMalformed(port: number, index: number): Promise<string> {
  const { bytes } = malformedRequest(index);
  if (index % 6 !== 1) return exchange(port, bytes);
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await connection.write(bytes);
    await connection.closeWrite();
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(4096);
    for (;;) {
      const count = await connection.read(buffer).catch(() => null);
      if (count === null) break;
      chunks.push(buffer.slice(0, count));
    }
    return new TextDecoder().decode(concat(chunks));
  } finally {
    connection.close();
  }
}

/** Writes `total` bytes of a fixed pattern to echo and reads them back; true if identical. */
async function echoRoundTrip(port: number, total: number): Promise<void> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  let closed = false;
  const pattern = (offset: number) => (offset * 2654435761) >>> 24;
  try {
    const writer = (async () => {
      const chunk = new Uint8Array(64 * 1024);
      for (let sent = 0; sent < total; sent += chunk.length) {
        const length = Math.min(chunk.length, total - sent);
        for (let i = 0; i < length; i++) chunk[i] = pattern(sent + i);
        let written = 0;
        while (written < length) written += await connection.write(chunk.subarray(written, length));
      }
      await connection.closeWrite();
    })();
    let received = 0;
    const reader = (async () => {
      const buffer = new Uint8Array(64 * 1024);
      while (received < total) {
        const count = await connection.read(buffer);
        assert.notEqual(count, null, `echo closed after ${received} of ${total} bytes`);
        for (let i = 0; i < count!; i++) {
          if (buffer[i] !== pattern(received + i)) assert.fail(`echo byte ${received + i} differs`);
        }
        received += count!;
      }
    })();
    // Both halves are awaited together, so a reset seen by the writer fails
    // this test with the progress made instead of escaping as an uncaught
    // error; a failed reader shuts the socket so a blocked writer ends too.
    const [writeHalf, readHalf] = await Promise.allSettled([
      writer,
      reader.catch((error) => {
        connection.close();
        closed = true;
        throw error;
      }),
    ]);
    for (const half of [readHalf, writeHalf]) {
      if (half.status === "rejected") {
        throw new Error(`echo of ${total} bytes failed after ${received} came back: ${half.reason}`, {
          cause: half.reason,
        });
      }
    }
    assert.equal(received, total);
  } finally {
    if (!closed) connection.close();
  }
}

Deno.test({
  name:
    "network on every arch: DHCP, ping, promtool-clean /metrics, Prometheus scrapes, 1,000 bad requests, 10 MB echo",
  ignore: ignoreWithout("promtool", promtool) || ignoreWithout("prometheus", prometheus),
  fn: async () => {
    const promtoolPath = requireTool("promtool", promtool);
    const prometheusPath = requireTool("prometheus", prometheus);
    const kernels = await Promise.all(ARCHES.map((arch) => boot(arch, BUILTIN_CONFIGS.default)));
    const dir = await mkdtemp(join(tmpdir(), "sis-net-prom-"));
    let server: Deno.ChildProcess | undefined;
    try {
      for (const kernel of kernels) {
        const ifconfig = await waitForAddress(kernel);
        assert.ok(ifconfig[0].startsWith("eth0: link up"), ifconfig.join(" | "));
        const ping = await ok(kernel.session, "ping 10.0.2.2");
        assert.ok(
          ping.some((line) => /^23 bytes from 10\.0\.2\.2: icmp_seq=\d+ time=\d+\.\d+ ms$/.test(line)),
        );
      }

      // A real Prometheus, loopback only, scraping every kernel each second.
      const port = freeLoopbackPort();
      const targets = kernels.map((kernel) => `"127.0.0.1:${kernel.forwards.metrics}"`).join(", ");
      await writeFile(
        join(dir, "prometheus.yml"),
        `global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: sis\n    static_configs:\n      - targets: [${targets}]\n`,
      );
      const startedAt = Date.now();
      server = new Deno.Command(prometheusPath, {
        args: [
          `--config.file=${join(dir, "prometheus.yml")}`,
          `--storage.tsdb.path=${join(dir, "data")}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        stdout: "null",
        stderr: "null",
      }).spawn();

      await Promise.all(kernels.map(async (kernel) => {
        const url = `http://127.0.0.1:${kernel.forwards.metrics}`;
        const response = await fetch(`${url}/metrics`);
        assert.equal(response.status, 200);
        assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
        const exposition = await response.text();
        const verdict = await pipeThrough(promtoolPath, ["check", "metrics"], exposition);
        assert.equal(verdict.code, 0, verdict.stdout + verdict.stderr);
        assert.equal((verdict.stdout + verdict.stderr).trim(), "", `${kernel.arch}: promtool found problems`);
        const health = await fetch(`${url}/healthz`);
        assert.equal(await health.text(), "ok\n");

        // 1,000 malformed requests, each answered with the right status.
        const heapBefore = heapBytes(await ok(kernel.session, "memstats"));
        for (let index = 0; index < 1000; index++) {
          const answer = await sendMalformed(kernel.forwards.metrics, index);
          assert.match(answer, malformedRequest(index).expect, `${kernel.arch}: request ${index}`);
        }
        // Partial requests left open up to the bound: all 8 slots end with 408.
        const partials = await Promise.all(
          Array.from({ length: 8 }, () => exchange(kernel.forwards.metrics, encoder.encode("GET /metr"))),
        );
        // Prometheus may hold one slot during a scrape: a partial that found
        // the bound reached was refused (no answer), every other one got 408.
        const timedOut = partials.filter((answer) => /^HTTP\/1\.1 408 /.test(answer)).length;
        const refused = partials.filter((answer) => answer === "").length;
        assert.equal(timedOut + refused, 8, `${kernel.arch}: ${JSON.stringify(partials)}`);
        assert.ok(timedOut >= 7, `${kernel.arch}: only ${timedOut} of 8 partial requests timed out with 408`);
        const after = await (await fetch(`${url}/metrics`)).text();
        assert.match(after, /^sis_http_requests_total\{code="400"\} [1-9]\d*$/m);
        assert.match(after, /^sis_http_requests_total\{code="431"\} [1-9]\d*$/m);
        assert.match(after, /^sis_http_requests_total\{code="408"\} [1-9]\d*$/m);
        const heapAfter = heapBytes(await ok(kernel.session, "memstats"));
        assert.ok(
          Math.abs(heapAfter - heapBefore) < 64 * 1024,
          `${kernel.arch}: heap ${heapBefore} -> ${heapAfter} bytes after the bad requests`,
        );

        // 10 MB through echo, intact.
        await echoRoundTrip(kernel.forwards.echo, 10 * 1024 * 1024);
      }));

      // At least 10 s of scrapes: wait until Prometheus holds 10+ samples per kernel.
      const api = `http://127.0.0.1:${port}/api/v1/query`;
      const query = async (promql: string) => {
        const response = await fetch(`${api}?query=${encodeURIComponent(promql)}`);
        const body = await response.json();
        assert.equal(body.status, "success", JSON.stringify(body));
        return body.data.result as {
          metric: Record<string, string>;
          value?: [number, string];
          values?: [number, string][];
        }[];
      };
      for (;;) {
        const series = await query("sis_uptime_seconds[30s]").catch(() => []);
        const enough = series.length === kernels.length && series.every((s) => (s.values?.length ?? 0) >= 10);
        if (enough && Date.now() - startedAt >= 10_000) {
          for (const s of series) {
            const values = s.values!.map(([, value]) => Number(value));
            assert.ok(
              values.every((value, i) => i === 0 || value > values[i - 1]),
              `uptime rises: ${values}`,
            );
          }
          break;
        }
        assert.ok(
          Date.now() - startedAt < 90_000,
          `Prometheus has too few samples after 90 s: ${JSON.stringify(series)}`,
        );
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      const up = await query("up");
      assert.equal(up.length, kernels.length);
      for (const sample of up) assert.equal(sample.value![1], "1", `up for ${sample.metric.instance}`);
      for (const kernel of kernels) await ok(kernel.session, "netstat");
    } finally {
      if (server) {
        server.kill("SIGTERM");
        await server.status;
      }
      await rm(dir, { recursive: true, force: true });
      await Promise.all(kernels.map((kernel) => kernel.machine.shutdown()));
    }
  },
});

/** The `net` task's SWITCHES column in `ps`. */
async function netTaskSwitches(session: Session): Promise<number> {
  const row = (await ok(session, "ps")).map((line) => line.trim().split(/\s+/)).find((fields) =>
    fields[1] === "net"
  );
  assert.ok(row, "ps lists the net task");
  return Number(row[row.length - 1]);
}

Deno.test("the NIC interrupts on every arch: ifconfig names its line, the net task sleeps while the link is quiet and a scrape wakes it", async () => {
  await Promise.all(ARCHES.map(async (arch) => {
    const kernel = await boot(arch, BUILTIN_CONFIGS.default);
    try {
      const ifconfig = await waitForAddress(kernel);
      // The line the firmware described: a GIC SPI from 48 (aarch64), a
      // PLIC source 1-8 (riscv64), the ISA IRQ SeaBIOS gave the PCI
      // function (x86_64); "polled" would mean it could not be routed.
      const line = Number(
        /^ {2}driver virtio-net .* irq (\d+)$/.exec(ifconfig.find((entry) => entry.includes("driver")) ?? "")
          ?.[1],
      );
      const lines: Record<Arch, [number, number]> = { aarch64: [48, 79], riscv64: [1, 8], x86_64: [5, 11] };
      assert.ok(line >= lines[arch][0] && line <= lines[arch][1], `${arch}: ${ifconfig.join(" | ")}`);

      // Quiet link: polled, the task would run every 10 ms (50 times here).
      await ok(kernel.session, "sleep 100");
      const before = await netTaskSwitches(kernel.session);
      await ok(kernel.session, "sleep 500");
      const quiet = await netTaskSwitches(kernel.session) - before;
      assert.ok(quiet <= 5, `${arch}: the net task ran ${quiet} times in 500 ms of a quiet link`);

      // A scrape arrives as frames: the interrupt wakes the task to answer.
      const response = await fetch(`http://127.0.0.1:${kernel.forwards.metrics}/healthz`);
      assert.equal((await response.text()).trim(), "ok");
      assert.ok(
        await netTaskSwitches(kernel.session) > before + quiet,
        `${arch}: the scrape did not wake the net task`,
      );
    } finally {
      await kernel.machine.shutdown();
    }
  }));
});

Deno.test("no-network on every arch: ifconfig, netstat and ping fail with ENODEV", async () => {
  await Promise.all(ARCHES.map(async (arch) => {
    const kernelPath = join(ROOT, "build", arch, "sis-kernel.elf");
    await withFramedKernel(
      { arch, config: BUILTIN_CONFIGS["no-network"], kernelPath },
      30_000,
      async (session, machine) => {
        assert.equal(machine.forwards, undefined);
        assert.equal(machine.argv.includes("-netdev"), false);
        for (const command of ["ifconfig", "netstat", "ping 10.0.2.2"]) {
          const result = await session.run(command);
          assert.equal(result.status, 19, `${arch}: ${command}: ${result.output.join(" | ")}`);
          assert.deepEqual(result.output, ["error: ENODEV: no network interface"]);
        }
      },
    );
  }));
});

Deno.test("sis metrics serve keeps /metrics reachable on the --listen port until Ctrl-C, then stops QEMU", async () => {
  const port = freeLoopbackPort();
  const serve = new SisProcess(["metrics", "serve", "--arch", "x86_64", "--listen", `127.0.0.1:${port}`]);
  try {
    const url = await pollFor(() => /^(http:\/\/\S+)\n/m.exec(serve.stdout)?.[1], 60_000);
    assert.equal(url, `http://127.0.0.1:${port}/metrics`);
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /^sis_uptime_seconds \d/m);
    const pid = Number(/QEMU pid (\d+)/.exec(serve.stderr)?.[1]);
    assert.ok(isQemuAlive(pid), serve.stderr);
    serve.child.kill("SIGINT");
    const finished = await serve.done;
    assert.equal(finished.code, 130, finished.stderr);
    assert.equal(isQemuAlive(pid), false, "QEMU was stopped");
    // Serving until the user stops it is the job's purpose: it passed, in a run stopped by SIGINT.
    assert.equal(finished.stdout, `${url}\n`);
    const { dir, results } = await bundleResults(finished.stderr);
    const [job] = results.jobs as (typeof results.jobs[number] & { url: string })[];
    assert.deepEqual(
      { kind: results.kind, interrupted: results.interrupted, status: job.status, url: job.url },
      { kind: "metrics-serve", interrupted: "SIGINT", status: "passed", url },
    );
    assert.match(job.steps[0].messages[0], /^served http:\S+ for \d+\.\d s until SIGINT$/);
    const events = await Deno.readTextFile(join(dir, job.name, "events.ndjson"));
    assert.ok(events.includes(`"kind":"serving","url":"${url}"`), events.slice(-500));
  } finally {
    await stopSis(serve, "SIGKILL");
  }
});

Deno.test("sis metrics serve refuses a non-loopback --listen and a config without a NIC (exit 2)", async () => {
  const wide = await sis(["metrics", "serve", "--arch", "riscv64", "--listen", "0.0.0.0:9100"]);
  assert.equal(wide.code, 2);
  assert.match(wide.stderr, /^error: --listen "0\.0\.0\.0:9100" is not 127\.0\.0\.1:PORT \(fix: /m);
  const none = await sis(["metrics", "serve", "--arch", "riscv64", "--config", "no-network"]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no network interface: nothing to serve/);
});
