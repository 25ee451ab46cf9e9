/**
 * Network benchmark (issue 10), per arch, archs one after the other:
 * - `/metrics`: sequential scrapes over the QEMU forward, each on a new
 *   connection as Prometheus makes them; scrapes per second and p99
 *   latency (targets: at least 100/s, p99 under 50 ms);
 * - echo: 10 MB through the echo service, MB/s one way (target 5 MB/s);
 * - boot to the prompt with the NIC (`default`) against without it
 *   (`no-network`) in the same run: the NIC must not slow the prompt.
 * Figures are printed, never asserted. `--scrapes N` (default 500), `--runs N` boots (default 5).
 */
import { type Arch, ARCHES } from "../src/arch.ts";
import { Machine } from "../src/qemu/machine.ts";
import { BUILTIN_CONFIGS, type MachineConfig } from "../src/qemu/profiles.ts";
import { Session } from "../src/session/driver.ts";
import { kernelPath, median, runsArgument } from "./_common.ts";
import { echoTransfer } from "../src/chaos/echo.ts";

const ECHO_BYTES = 10 * 1024 * 1024;

function scrapesArgument(args: string[]): number {
  const index = args.indexOf("--scrapes");
  const value = index >= 0 ? Number(args[index + 1]) : 500;
  return Number.isInteger(value) && value > 0 ? value : 500;
}

async function bootMs(arch: Arch, path: string, config: MachineConfig): Promise<number> {
  const started = performance.now();
  const machine = await Machine.launch({ arch, config, kernelPath: path });
  try {
    await new Session(machine, { bootTimeoutMs: 20_000, commandTimeoutMs: 10_000 }).boot();
    return performance.now() - started;
  } finally {
    await machine.shutdown();
  }
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

export async function benchNet(scrapes: number, runs: number): Promise<void> {
  console.log(
    `arch      scrapes/s  p50 ms  p99 ms  echo MB/s  boot NIC  boot no-NIC  (${scrapes} scrapes, ${runs} boots)`,
  );
  for (const arch of ARCHES) {
    const path = kernelPath(arch);
    if (!path) continue;
    const machine = await Machine.launch({ arch, config: BUILTIN_CONFIGS.default, kernelPath: path });
    let scrapeRate = 0, p50 = 0, p99 = 0, echoRate = 0;
    try {
      const session = new Session(machine, { bootTimeoutMs: 20_000, commandTimeoutMs: 20_000 });
      await session.boot();
      await session.enableFraming();
      const address = await session.run("ifconfig --wait");
      if (address.status !== 0) throw new Error(`${arch}: no address: ${address.output.join(" | ")}`);
      const url = `http://127.0.0.1:${machine.forwards!.metrics}/metrics`;
      // Warm-up: first connections through slirp and the kernel's slots.
      for (let i = 0; i < 10; i++) await (await fetch(url)).text();
      const latencies: number[] = [];
      const started = performance.now();
      for (let i = 0; i < scrapes; i++) {
        const begin = performance.now();
        const response = await fetch(url, { headers: { connection: "close" } });
        const text = await response.text();
        if (response.status !== 200 || !text.includes("sis_uptime_seconds")) {
          throw new Error(`${arch}: bad scrape`);
        }
        latencies.push(performance.now() - begin);
      }
      scrapeRate = scrapes / ((performance.now() - started) / 1000);
      latencies.sort((a, b) => a - b);
      [p50, p99] = [percentile(latencies, 0.5), percentile(latencies, 0.99)];
      const echo = await echoTransfer(machine.forwards!.echo, ECHO_BYTES, 300_000);
      if (!echo.isIntact) throw new Error(`${arch}: echo failed: ${echo.error ?? "altered"}`);
      echoRate = ECHO_BYTES / 1e6 / (echo.durationMs / 1000);
    } finally {
      await machine.shutdown();
    }
    const withNic: number[] = [], without: number[] = [];
    for (let run = 0; run < runs; run++) {
      withNic.push(await bootMs(arch, path, BUILTIN_CONFIGS.default));
      without.push(await bootMs(arch, path, BUILTIN_CONFIGS["no-network"]));
    }
    console.log(
      `${arch.padEnd(9)} ${scrapeRate.toFixed(0).padStart(9)}  ${p50.toFixed(1).padStart(6)}  ${
        p99.toFixed(1).padStart(6)
      }  ${echoRate.toFixed(1).padStart(9)}  ${median(withNic).toFixed(0).padStart(5)} ms  ${
        median(without).toFixed(0).padStart(8)
      } ms`,
    );
  }
}

if (import.meta.main) await benchNet(scrapesArgument(Deno.args), runsArgument(Deno.args, 5));
