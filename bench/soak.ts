/**
 * Bench: the soak report and the cost of scraping.
 *
 * 1. `sis report soak` on a synthetic 7-day soak at 1 Hz with 20 series
 *    (604,800 samples, 12.1 M points, written by this script in the sample
 *    format into bench/out/): wall time of the whole command (target < 5 s)
 *    and the HTML size (target < 2 MB).
 * 2. Headless Chromium: time to load and draw that report minus the time for
 *    an empty page, measured alternately in the same run (target < 1 s).
 * 3. The stress workload's iterations per second on the real kernel, with a
 *    `metricsctl` scrape every second against none, alternating windows on
 *    one boot per arch (target: scraping slows it by under 5 %).
 *
 * `deno run -A bench/soak.ts [--runs N] [--window-s S] [--skip-kernel] [--skip-report] [--arch A]`
 */
import { join } from "node:path";
import { type Arch, ARCHES } from "../src/arch.ts";
import { Machine } from "../src/qemu/machine.ts";
import { BUILTIN_CONFIGS } from "../src/qemu/profiles.ts";
import { Session } from "../src/session/driver.ts";
import { writeSyntheticSamples } from "../src/soak/_synthetic.ts";
import { SOAK_BUILD_DIR } from "../src/soak/plan.ts";
import { parseScrape, Scraper } from "../src/soak/scrape.ts";
import { median, ROOT, runsArgument } from "./_common.ts";

const runs = runsArgument(Deno.args, 3);
const windowIndex = Deno.args.indexOf("--window-s");
const windowS = windowIndex >= 0 ? Number(Deno.args[windowIndex + 1]) : 20;
const outDir = join(ROOT, "bench", "out", "soak-week");
const SAMPLES = 604_800;

async function ensureWeek(): Promise<void> {
  await Deno.mkdir(outDir, { recursive: true });
  const path = join(outDir, "samples.ndjson");
  const marker = join(outDir, "complete");
  if (await Deno.stat(marker).then(() => true, () => false)) return;
  const started = performance.now();
  // 6 series of the synthetic soak (build info, heap, heap size, tasks, VFS, a counter) + 14 more = 20.
  const lines = await writeSyntheticSamples(path, {
    archs: ["x86_64"],
    samples: SAMPLES,
    extraSeries: 14,
    leakBytesPerSample: { x86_64: 1 },
  });
  await Deno.writeTextFile(marker, `${lines}\n`);
  console.log(`generated ${lines} samples in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

async function timeReport(): Promise<number> {
  const started = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-A", join(ROOT, "src/cli.ts"), "report", "soak", outDir],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - started;
  // Exit 1 is the verdict (the synthetic heap leaks 1 byte a second, on purpose); anything else is a failure.
  if (output.code !== 0 && output.code !== 1) throw new Error(new TextDecoder().decode(output.stderr));
  return ms;
}

async function timeChromium(url: string): Promise<number> {
  const started = performance.now();
  const output = await new Deno.Command("chromium", {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--no-first-run",
      `--screenshot=${join(outDir, "shot.png")}`,
      "--window-size=1280,4000",
      url,
    ],
    stdout: "null",
    stderr: "null",
  }).output();
  if (!output.success) throw new Error(`chromium failed on ${url}`);
  return performance.now() - started;
}

async function benchReport(): Promise<void> {
  await ensureWeek();
  const times: number[] = [];
  for (let run = 0; run < runs; run++) times.push(await timeReport());
  const html = join(outDir, "report.html");
  const size = (await Deno.stat(html)).size;
  console.log(
    `sis report soak, 7 days at 1 Hz x 20 series (${(SAMPLES * 20 / 1e6).toFixed(1)} M points): ` +
      `median ${(median(times) / 1000).toFixed(2)} s over ${runs} (${
        times.map((ms) => (ms / 1000).toFixed(2)).join(", ")
      }; target < 5 s); HTML ${(size / 1024).toFixed(0)} KiB (target < 2048 KiB)`,
  );
  const empty = join(outDir, "empty.html");
  await Deno.writeTextFile(empty, "<!DOCTYPE html><html><body></body></html>\n");
  const page: number[] = [];
  const blank: number[] = [];
  for (let run = 0; run < runs; run++) {
    blank.push(await timeChromium(`file://${empty}`));
    page.push(await timeChromium(`file://${html}`));
  }
  console.log(
    `chromium --headless --screenshot: report ${median(page).toFixed(0)} ms, empty page ${
      median(blank).toFixed(0)
    } ms: drawing the report costs ${(median(page) - median(blank)).toFixed(0)} ms (target < 1000 ms)`,
  );
}

/** Iterations per second of the stress workload over `windowS`, scraping every second or not. */
async function iterationRate(session: Session, scrape: boolean): Promise<number> {
  const iterations = async () => {
    const result = await session.run("metricsctl --format simple");
    return { at: performance.now(), count: parseScrape(result.output).sis_stress_iterations_total };
  };
  const start = await iterations();
  if (scrape) {
    // Scraped as sis soak does: names once, then values only.
    const scraper = new Scraper();
    for (let second = 1; second < windowS; second++) {
      await new Promise((resolve) => setTimeout(resolve, start.at + second * 1000 - performance.now()));
      await scraper.scrape(session);
    }
    await new Promise((resolve) => setTimeout(resolve, start.at + windowS * 1000 - performance.now()));
  } else {
    // The shell sleeps in the kernel: no serial traffic at all for the window.
    await session.run(`sleep ${windowS * 1000}`, windowS * 1000 + 30_000);
  }
  const end = await iterations();
  return (end.count - start.count) / ((end.at - start.at) / 1000);
}

async function benchScrapeCost(arch: Arch): Promise<void> {
  const kernelPath = join(ROOT, SOAK_BUILD_DIR, arch, "sis-kernel.elf");
  if (!(await Deno.stat(kernelPath).then(() => true, () => false))) {
    console.log(`${arch}: no ${kernelPath} (run a soak once to build it); skipped`);
    return;
  }
  const machine = await Machine.launch({ arch, config: BUILTIN_CONFIGS.default, kernelPath });
  try {
    const session = new Session(machine, { bootTimeoutMs: 30_000, commandTimeoutMs: 30_000 });
    await session.boot();
    await session.enableFraming();
    await session.run("stress start mixed --intensity 10");
    const quiet: number[] = [];
    const scraped: number[] = [];
    for (let run = 0; run < runs; run++) {
      quiet.push(await iterationRate(session, false));
      scraped.push(await iterationRate(session, true));
    }
    const slowdown = 1 - median(scraped) / median(quiet);
    console.log(
      `${arch}: stress iterations/s without scraping ${median(quiet).toFixed(0)}, scraping every 1 s ${
        median(scraped).toFixed(0)
      }: ${(slowdown * 100).toFixed(1)} % slower (target < 5 %; ${runs} alternating ${windowS} s windows)`,
    );
  } finally {
    await machine.shutdown();
  }
}

const archIndex = Deno.args.indexOf("--arch");
const arches = archIndex >= 0 ? ARCHES.filter((arch) => arch === Deno.args[archIndex + 1]) : ARCHES;
if (!Deno.args.includes("--skip-report")) await benchReport();
if (!Deno.args.includes("--skip-kernel")) {
  for (const arch of arches) await benchScrapeCost(arch);
}
