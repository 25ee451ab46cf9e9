import assert from "node:assert/strict";
import { join } from "node:path";
import { parseSampleLine, readEvents, readSamples } from "./samples.ts";

async function withFile(text: string, run: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sis-soak-samples-" });
  try {
    const path = join(dir, "samples.ndjson");
    await Deno.writeTextFile(path, text);
    await run(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const line = (t: number, arch: string, boot: number, metrics: Record<string, number>) =>
  JSON.stringify({ t, arch, boot, metrics }) + "\n";

Deno.test("readSamples() splits archs into columns and fills series a scrape lacked with gaps", async () => {
  const text = line(1000, "x86_64", 1, { a: 1 }) + line(1000, "riscv64", 1, { a: 9 }) +
    line(2000, "x86_64", 1, { a: 2, 'b{cpu="0"}': 5 }) + line(3000, "x86_64", 2, { 'b{cpu="0"}': 6 });
  await withFile(text, async (path) => {
    const { archs, tally } = await readSamples(path);
    assert.deepEqual(archs.map((arch) => arch.arch), ["x86_64", "riscv64"]);
    const x86 = archs[0];
    assert.deepEqual(x86.t, [1000, 2000, 3000]);
    assert.deepEqual(x86.boot, [1, 1, 2]);
    assert.deepEqual(x86.series.get("a"), [1, 2, NaN]);
    assert.deepEqual(x86.series.get('b{cpu="0"}'), [NaN, 5, 6]);
    assert.equal(tally.used, 4);
    assert.equal(tally.tornLastLine, 0);
  });
});

Deno.test("readSamples() skips a torn last line with a counted warning and keeps every whole line", async () => {
  const whole = line(1000, "aarch64", 1, { a: 1 }) + line(2000, "aarch64", 1, { a: 2 });
  await withFile(whole + '{"t":3000,"arch":"aarch64","bo', async (path) => {
    const { archs, tally } = await readSamples(path);
    assert.deepEqual(archs[0].series.get("a"), [1, 2]);
    assert.equal(tally.tornLastLine, 1);
    assert.equal(tally.invalidLines, 0);
    assert.match(tally.problems[0], /line 3: torn last line/);
  });
});

Deno.test("readSamples() counts a bad line in the middle and goes on", async () => {
  const text = line(1000, "aarch64", 1, { a: 1 }) + "garbage\n" + '{"t":"x"}\n' +
    line(2000, "aarch64", 1, { a: 2 });
  await withFile(text, async (path) => {
    const { archs, tally } = await readSamples(path);
    assert.deepEqual(archs[0].series.get("a"), [1, 2]);
    assert.equal(tally.invalidLines, 2);
  });
});

Deno.test("readSamples() reads lines that straddle its read chunks", async () => {
  // Long label values make lines of ~100 KB: several cross the 4 MiB chunk boundary.
  const label = "v".repeat(100_000);
  let text = "";
  for (let i = 0; i < 100; i++) text += line(i, "x86_64", 1, { [`s{l="${label}"}`]: i });
  await withFile(text, async (path) => {
    const { archs, tally } = await readSamples(path);
    assert.equal(tally.used, 100);
    assert.equal(archs[0].series.get(`s{l="${label}"}`)?.[99], 99);
  });
});

Deno.test("readSamples() puts rows of a resumed file back in time order", async () => {
  const text = line(3000, "x86_64", 2, { a: 3 }) + line(1000, "x86_64", 1, { a: 1 });
  await withFile(text, async (path) => {
    const { archs } = await readSamples(path);
    assert.deepEqual(archs[0].t, [1000, 3000]);
    assert.deepEqual(archs[0].series.get("a"), [1, 3]);
  });
});

Deno.test("parseSampleLine() says which field is wrong", () => {
  assert.equal(parseSampleLine('{"t":1,"arch":"x","boot":1}'), '"metrics" is not an object');
  assert.equal(parseSampleLine("[1]"), '"t" is not a number');
  assert.equal(parseSampleLine("{"), "not valid JSON");
});

Deno.test("readEvents() treats a missing events file as no events", async () => {
  const { events, tally } = await readEvents("/nonexistent/events.ndjson");
  assert.deepEqual(events, []);
  assert.equal(tally.lines, 0);
});
