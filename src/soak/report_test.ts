import assert from "node:assert/strict";
import { join } from "node:path";
import { testContext } from "../context.ts";
import { UsageError } from "../errors.ts";
import { main } from "../cli.ts";
import { writeSyntheticSamples } from "./_synthetic.ts";
import { reportSoak } from "./report.ts";

async function withBundle(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sis-soak-report-" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const start = 1_700_000_000_000;

async function writeEvents(dir: string, events: Record<string, unknown>[]): Promise<void> {
  await Deno.writeTextFile(join(dir, "events.ndjson"), events.map((e) => JSON.stringify(e) + "\n").join(""));
}

Deno.test("reportSoak() finds the leak on one arch, no leak on the other, and exits 1", async () => {
  await withBundle(async (dir) => {
    await writeSyntheticSamples(join(dir, "samples.ndjson"), {
      archs: ["x86_64", "riscv64"],
      samples: 600,
      leakBytesPerSample: { x86_64: 2000 },
      startMs: start,
    });
    const result = await reportSoak({ source: dir });
    assert.equal(result.worst, "leak");
    assert.equal(result.exitCode, 1);
    const summary = JSON.parse(await Deno.readTextFile(join(dir, "summary.json")));
    const verdictOf = (arch: string, series: string) =>
      summary.archs.find((a: { arch: string }) => a.arch === arch).verdicts.find((v: { series: string }) =>
        v.series === series
      );
    assert.equal(verdictOf("x86_64", "sis_heap_current_bytes").verdict, "leak");
    assert.equal(verdictOf("riscv64", "sis_heap_current_bytes").verdict, "no leak");
    assert.equal(verdictOf("riscv64", "sis_tasks").verdict, "no leak");
    // 2000 bytes per 1 s sample = 7.2 MB per hour.
    const slope = verdictOf("x86_64", "sis_heap_current_bytes").slopePerHour;
    assert(Math.abs(slope - 7_200_000) < 200_000, `slope ${slope}`);
    assert(verdictOf("x86_64", "sis_heap_current_bytes").hoursToExhaustion > 8);
  });
});

Deno.test("reportSoak() draws every gauge and counter rate as a non-empty SVG line", async () => {
  await withBundle(async (dir) => {
    await writeSyntheticSamples(join(dir, "samples.ndjson"), {
      archs: ["aarch64"],
      samples: 120,
      startMs: start,
    });
    const result = await reportSoak({ source: dir });
    assert.equal(result.exitCode, 0);
    const html = await Deno.readTextFile(result.html);
    const figures = [...html.matchAll(/<figure class="chart" data-series="([^"]*)" data-points="(\d+)">/g)];
    assert.deepEqual(figures.map((f) => f[1]).sort(), [
      "sis_ctx_switches_total",
      "sis_heap_current_bytes",
      "sis_heap_size_bytes",
      "sis_tasks",
      "sis_vfs_used_bytes",
    ]);
    for (const paths of html.matchAll(/<path class="line" d="([^"]*)"/g)) {
      assert(paths[1].split("L").length > 50);
    }
    assert.match(html, /sis_ctx_switches_total \(rate per second\)/);
    assert.match(html, /0\.1\.0 \(abc1234\)/);
  });
});

Deno.test("reportSoak() shows an injected <script> log line as text, and marks restarts and resumes", async () => {
  await withBundle(async (dir) => {
    await writeSyntheticSamples(join(dir, "samples.ndjson"), {
      archs: ["x86_64"],
      samples: 60,
      startMs: start,
    });
    await writeEvents(dir, [
      { t: start, arch: "x86_64", boot: 1, kind: "start", message: "soak started" },
      {
        t: start + 10_000,
        arch: "x86_64",
        boot: 1,
        kind: "log",
        level: "WARN",
        message: "<script>alert(1)</script>",
      },
      { t: start + 20_000, arch: "x86_64", boot: 2, kind: "restart", message: 'after "panic" & co' },
      { t: start + 30_000, arch: "x86_64", boot: 3, kind: "resume", message: "resumed" },
    ]);
    const result = await reportSoak({ source: dir });
    const html = await Deno.readTextFile(result.html);
    assert(!html.includes("<script"), "no script element in the page");
    assert.match(html, /&#60;script&#62;alert\(1\)&#60;\/script&#62;/);
    assert.match(html, /class="event ev-restart"/);
    assert.match(html, /class="event ev-resume"/);
    assert.match(html, /segments 2/);
    const summary = JSON.parse(await Deno.readTextFile(result.json));
    assert.equal(summary.archs[0].restarts, 1);
    assert.equal(summary.archs[0].segments, 2);
  });
});

Deno.test("reportSoak() reports a torn last line as a counted warning and still reports", async () => {
  await withBundle(async (dir) => {
    const path = join(dir, "samples.ndjson");
    await writeSyntheticSamples(path, { archs: ["x86_64"], samples: 30, startMs: start });
    await Deno.writeTextFile(path, '{"t":1700000031000,"arch":"x86', { append: true });
    const result = await reportSoak({ source: dir, csv: join(dir, "samples.csv") });
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0], /torn last line/);
    assert.equal(result.archs[0].samples, 30);
    const csv = (await Deno.readTextFile(join(dir, "samples.csv"))).trimEnd().split("\n");
    assert.equal(csv.length, 31);
    assert.match(csv[0], /^t,arch,boot,/);
    assert.match(csv[0], /"sis_build_info\{version=""0\.1\.0"",commit=""abc1234"",arch=""x86_64""\}"/);
  });
});

Deno.test("reportSoak() refuses a missing bundle and an empty one with a usage error", async () => {
  await withBundle(async (dir) => {
    await assert.rejects(reportSoak({ source: join(dir, "nope") }), UsageError);
    await assert.rejects(reportSoak({ source: dir }), /has no samples.ndjson/);
    await Deno.writeTextFile(join(dir, "samples.ndjson"), "");
    await assert.rejects(reportSoak({ source: dir }), /holds no samples/);
  });
});

Deno.test("sis report soak exits 0, 1 with --fail-on inconclusive, and 2 on a missing bundle or a bad flag", async () => {
  await withBundle(async (dir) => {
    // Too short for a verdict: every series is inconclusive.
    await writeSyntheticSamples(join(dir, "samples.ndjson"), {
      archs: ["x86_64"],
      samples: 8,
      startMs: start,
    });
    const run = async (...args: string[]) => {
      const context = testContext({ cwd: dir });
      return { code: await main(["report", "soak", ...args], context), context };
    };
    const plain = await run(".");
    assert.equal(plain.code, 0, plain.context.stderr.text);
    assert.match(plain.context.stdout.text, /x86_64 sis_heap_current_bytes: inconclusive/);
    assert.equal((await run(".", "--fail-on", "inconclusive")).code, 1);
    const missing = await run("missing");
    assert.equal(missing.code, 2);
    assert.match(
      missing.context.stderr.text,
      /^error: Cannot read soak bundle ".*missing": it does not exist/,
    );
    assert.equal((await run(".", "--fail-on", "maybe")).code, 2);
  });
});

Deno.test("reportSoak() names every kernel build in the header and warns when a bundle mixes builds", async () => {
  await withBundle(async (dir) => {
    const line = (t: number, boot: number, commit: string) =>
      JSON.stringify({
        t,
        arch: "x86_64",
        boot,
        metrics: { [`sis_build_info{version="0.1.0",commit="${commit}",arch="x86_64"}`]: 1, sis_tasks: 3 },
      }) + "\n";
    let text = "";
    for (let i = 0; i < 20; i++) text += line(start + i * 1000, 1, "aaaaaaa");
    for (let i = 20; i < 40; i++) text += line(start + i * 1000, 2, "bbbbbbb");
    await Deno.writeTextFile(join(dir, "samples.ndjson"), text);
    const result = await reportSoak({ source: dir });
    const html = await Deno.readTextFile(result.html);
    assert.match(
      html,
      /<p class="warning">Samples come from 2 kernel builds: 0\.1\.0 \(aaaaaaa\), 0\.1\.0 \(bbbbbbb\)\.<\/p>/,
    );
    const summary = JSON.parse(await Deno.readTextFile(result.json));
    assert.deepEqual(summary.archs[0].builds, [
      { version: "0.1.0", commit: "aaaaaaa" },
      { version: "0.1.0", commit: "bbbbbbb" },
    ]);
  });
});
