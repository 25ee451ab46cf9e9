import assert from "node:assert/strict";
import { join } from "node:path";
import { stressCommand } from "./plan.ts";
import { parseScrape } from "./scrape.ts";
import { cutTornTail, SoakWriter } from "./writer.ts";
import { readSamples } from "./samples.ts";

Deno.test("parseScrape() keeps each series key as the exposition writes it, labels and escapes included", () => {
  const metrics = parseScrape([
    'sis_build_info{version="0.1.0",commit="abc",arch="x86_64"} 1',
    "sis_ctx_switch_p50_seconds 0.000000139",
    'sis_cpu_busy_seconds_total{cpu="0"} 1.5',
    'odd{path="a \\"b\\" c"} 2',
    "sis_heap_current_bytes 4393096\r",
    "# a comment",
    "not a metric line",
    "",
  ]);
  assert.deepEqual(metrics, {
    'sis_build_info{version="0.1.0",commit="abc",arch="x86_64"}': 1,
    sis_ctx_switch_p50_seconds: 1.39e-7,
    'sis_cpu_busy_seconds_total{cpu="0"}': 1.5,
    'odd{path="a \\"b\\" c"}': 2,
    sis_heap_current_bytes: 4393096,
  });
});

Deno.test("stressCommand() asks for the leak only when there is one", () => {
  assert.equal(
    stressCommand({ workload: "mixed", intensity: 10, leakBytes: 0 }),
    "stress start mixed --intensity 10",
  );
  assert.equal(
    stressCommand({ workload: "heap", intensity: 5, leakBytes: 256 }),
    "stress start heap --intensity 5 --leak 256",
  );
});

Deno.test("SoakWriter appends whole lines at once, and cutTornTail() removes only a torn last line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sis-soak-writer-" });
  try {
    const samples = join(dir, "samples.ndjson");
    const writer = new SoakWriter(samples, join(dir, "events.ndjson"));
    writer.sample({ t: 1, arch: "x86_64", boot: 1, metrics: { a: 1 } });
    // Visible to another reader before any close or sync: what a kill -9 leaves.
    assert.equal((await Deno.readTextFile(samples)).split("\n").length, 2);
    writer.sample({ t: 2, arch: "x86_64", boot: 1, metrics: { a: 2 } });
    writer.close();
    await Deno.writeTextFile(samples, '{"t":3,"arch":"x8', { append: true });
    assert.equal(cutTornTail(samples), 17);
    assert.equal(cutTornTail(samples), 0);
    const again = new SoakWriter(samples, join(dir, "events.ndjson"));
    again.sample({ t: 3, arch: "x86_64", boot: 2, metrics: { a: 3 } });
    again.close();
    const { archs, tally } = await readSamples(samples);
    assert.deepEqual(archs[0].series.get("a"), [1, 2, 3]);
    assert.equal(tally.invalidLines + tally.tornLastLine, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a full disk under the bundle becomes one environment error naming the path (exit 3)", async () => {
  const { diskError } = await import("../disk_errors.ts");
  const { EnvironmentError } = await import("../errors.ts");
  // The error Deno's writeSync throws on a full disk. The writer meeting a
  // really full file system is tests/e2e/soak_test.ts's tmpfs test (the test
  // runner may not open /dev/full: Deno asks --allow-all for devices).
  const full = Object.assign(new Error("No space left on device (os error 28)"), { code: "ENOSPC" });
  const failure = diskError(full, "runs/x/samples.ndjson");
  assert(failure instanceof EnvironmentError, String(failure));
  assert.equal(failure.exitCode, 3);
  assert.match(
    failure.message,
    /^cannot write runs\/x\/samples\.ndjson: ENOSPC \(no space left on device\)$/,
  );
  // Anything that is not a disk problem stays what it was (a bug shows as one).
  const other = new TypeError("not a disk problem");
  assert.equal(diskError(other, "runs/x/samples.ndjson"), other);
});

Deno.test("Scraper learns the names once, then reads values only, and falls back when the count changes", async () => {
  const { Scraper } = await import("./scrape.ts");
  const sent: string[] = [];
  let valuesLine = "5 6";
  const session = {
    run(command: string) {
      sent.push(command);
      const output = command.endsWith("simple") ? ['a{cpu="0"} 1', "b 2"] : [valuesLine];
      return Promise.resolve(
        { output } as unknown as Awaited<ReturnType<import("../session/driver.ts").Session["run"]>>,
      );
    },
  };
  const scraper = new Scraper();
  assert.deepEqual(await scraper.scrape(session), { 'a{cpu="0"}': 1, b: 2 });
  assert.deepEqual(await scraper.scrape(session), { 'a{cpu="0"}': 5, b: 6 });
  valuesLine = "7 8 9";
  assert.deepEqual(await scraper.scrape(session), { 'a{cpu="0"}': 1, b: 2 });
  assert.deepEqual(sent, [
    "metricsctl --format simple",
    "metricsctl --format values",
    "metricsctl --format values",
    "metricsctl --format simple",
  ]);
});
