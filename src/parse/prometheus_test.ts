/** Tests of the Prometheus parser and linter: verdicts compared with Debian's promtool on fixtures, random expositions and a live Prometheus server; properties. */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import {
  checkExposition,
  fastSample,
  formatPrometheus,
  keyOf,
  lintExposition,
  type MetricFamily,
  type MetricType,
  parsePrometheus,
  promtoolLines,
  scanSampleLine,
  seriesKey,
} from "./prometheus.ts";
import { compareScrapes } from "./scrapes.ts";
import { PROPERTY_RUNS } from "./_property.ts";
import { findPrometheus, findPromtool, ignoreWithout, requireTool } from "../../tests/_tools.ts";

const FIXTURES = new URL("../../fixtures/prometheus/", import.meta.url);

/** promtool from $PROMTOOL, PATH, or the unpacked Debian package (docs/observability.md). */

const promtool = await findPromtool();
const prometheus = await findPrometheus();

interface Verdict {
  /** 0 clean, 1 parse error, 3 lint problems (promtool's exit codes). */
  code: number;
  lines: string[];
}

async function promtoolVerdict(text: string): Promise<Verdict> {
  const child = new Deno.Command(requireTool("promtool", promtool), {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const output = await child.output();
  const printed = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  const lines = printed.split("\n").filter((line) => line !== "");
  return { code: output.code, lines: output.code === 3 ? lines : [] };
}

/** Our verdict in promtool's terms: parse errors it makes → 1, its lint lines → 3. */
function ourVerdict(text: string): Verdict {
  const exposition = checkExposition(text, { format: "text" });
  if (exposition.problems.some((problem) => problem.severity === "error" && problem.isPromtool)) {
    return { code: 1, lines: [] };
  }
  const lines = promtoolLines(exposition.problems);
  return { code: lines.length > 0 ? 3 : 0, lines };
}

Deno.test({
  name: "checkExposition() agrees with promtool check metrics on every fixture",
  ignore: ignoreWithout("promtool", promtool),
  fn: async () => {
    const names = (await readdir(FIXTURES)).filter((name) => name.endsWith(".prom"));
    assert.ok(names.some((name) => name.startsWith("kernel-")), "a kernel exposition is recorded");
    for (const name of names) {
      const text = await readFile(new URL(name, FIXTURES), "utf8");
      assert.deepEqual(ourVerdict(text), await promtoolVerdict(text), name);
    }
  },
});

Deno.test("the kernel's expositions are clean, with the families docs/observability.md lists", async () => {
  for (const name of (await readdir(FIXTURES)).filter((name) => name.startsWith("kernel-"))) {
    const exposition = checkExposition(await readFile(new URL(name, FIXTURES), "utf8"));
    assert.deepEqual(exposition.problems, [], name);
    const families = new Map(exposition.families.map((family) => [family.name, family]));
    assert.equal(families.get("sis_ctx_switch_duration_seconds")?.type, "histogram", name);
    assert.equal(families.get("sis_chaos_injections_total")?.samples.length, 6, name);
    assert.equal(families.get("sis_build_info")?.samples[0].labels.arch, name.slice(7, -5), name);
  }
});

Deno.test("the strict checks find duplicate series, split families and bad histograms", async () => {
  const exposition = checkExposition(await readFile(new URL("strict-problems.prom", FIXTURES), "utf8"));
  const strict = exposition.problems.filter((problem) => !problem.isPromtool).map((problem) => problem.text);
  assert.ok(strict.some((text) => /duplicate series dup_total/.test(text)), strict.join("\n"));
  assert.ok(strict.some((text) => /split_gauge.*split/.test(text)));
  assert.ok(strict.some((text) => /increasing "le" order/.test(text)));
  assert.ok(strict.some((text) => /\+Inf/.test(text)));
});

Deno.test("parsePrometheus() reads OpenMetrics: escapes, exemplars, NaN, ±Inf, timestamps, # EOF", async () => {
  const exposition = parsePrometheus(await readFile(new URL("openmetrics.prom", FIXTURES), "utf8"));
  assert.equal(exposition.format, "openmetrics");
  assert.ok(exposition.hasEof);
  assert.deepEqual(exposition.problems, []);
  const [requests, latency, rpc] = exposition.families;
  assert.equal(requests.type, "counter");
  assert.equal(requests.unit, "requests");
  assert.equal(requests.help, 'Requests served, with \\"escapes\\" \\ and\nnewlines.');
  assert.equal(requests.samples[0].labels.path, '/a"b\\c\nd');
  assert.equal(requests.samples[0].timestampMs, 1395066363000);
  assert.equal(latency.samples.length, 4);
  assert.ok(Number.isNaN(rpc.samples[0].value));
  assert.equal(rpc.samples[1].value, Infinity);
  assert.equal(rpc.samples[2].value, -Infinity);
});

Deno.test("parsePrometheus() reports each bad line with its number and keeps the rest", () => {
  const exposition = parsePrometheus('a 1\nb{x="1} 2\nc 3\nd{x="1",x="2"} 4\ne abc\n');
  assert.deepEqual(exposition.families.map((family) => family.name), ["a", "c"]);
  assert.deepEqual(exposition.problems.map((problem) => problem.line), [2, 4, 5]);
});

Deno.test({
  // Debian's Prometheus 2.42 serves its own /metrics in the text format only (it
  // does not negotiate OpenMetrics there); OpenMetrics is checked on fixtures.
  name: "a live Prometheus server's /metrics gets promtool's verdict",
  ignore: ignoreWithout("promtool", promtool) || ignoreWithout("prometheus", prometheus),
  fn: async () => {
    const server = requireTool("prometheus", prometheus);
    requireTool("promtool", promtool);
    const dir = await mkdtemp(join(tmpdir(), "sis-prom-"));
    // A port the kernel just handed out as free, rather than a random guess that may be taken.
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (probe.addr as Deno.NetAddr).port;
    probe.close();
    await writeFile(join(dir, "prometheus.yml"), "global:\n  scrape_interval: 1h\n");
    const child = new Deno.Command(server, {
      args: [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      const fetchText = async (accept?: string): Promise<string> => {
        const deadline = performance.now() + 15_000;
        for (;;) {
          try {
            const response = await fetch(`http://127.0.0.1:${port}/metrics`, {
              headers: accept ? { accept } : {},
            });
            if (response.ok) return await response.text();
            await response.body?.cancel();
          } catch (error) {
            if (performance.now() > deadline) throw error;
          }
          // Polling a server that is starting: the wait is for its socket, bounded by the deadline.
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      };
      const text = await fetchText();
      assert.ok(text.split("\n").length > 100);
      assert.deepEqual(ourVerdict(text), await promtoolVerdict(text));
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await rm(dir, { recursive: true, force: true });
    }
  },
});

// ---- generated expositions ----

const nameWord = fc.constantFrom(
  "http",
  "requests",
  "latency",
  "Ms",
  "ms",
  "bytes",
  "kilobytes",
  "total",
  "count",
  "sum",
  "bucket",
  "seconds",
  "gauge",
  "counter",
  "info",
  "a",
  "s",
  "b1",
  "fooBar",
);
const metricName = fc.array(nameWord, { minLength: 1, maxLength: 4 }).map((words) => words.join("_"));
const labelValue = fc.string({ unit: "binary", maxLength: 12 }).map((text) =>
  // Control characters cannot be written in a label value (the kernel writes U+FFFD instead).
  // deno-lint-ignore no-control-regex
  text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?")
);
const familyArb: fc.Arbitrary<MetricFamily> = fc.record({
  name: metricName,
  type: fc.constantFrom<MetricType>("counter", "gauge", "untyped", "summary", "histogram"),
  help: fc.option(
    fc.string({ unit: "binary", maxLength: 20 }).map((text) =>
      // deno-lint-ignore no-control-regex
      text.replace(/[\u0000-\u001f]/g, " ").trimStart()
    ),
    { nil: undefined },
  ).map((help) => help === "" ? undefined : help),
  labelName: fc.constantFrom("a", "code", "myLabel", "le", "quantile", "path"),
  values: fc.array(fc.tuple(labelValue, fc.oneof(fc.double({ noNaN: false }), fc.integer())), {
    minLength: 1,
    maxLength: 3,
  }),
}).map(({ name, type, help, labelName, values }) => {
  const family: MetricFamily = { name, type, samples: [] };
  if (help !== undefined) family.help = help;
  const seen = new Set<string>();
  values.forEach(([value, number], index) => {
    if (type === "histogram") {
      if (index > 0) return;
      const base = { code: value };
      family.samples.push(
        { name: `${name}_bucket`, labels: { ...base, le: "0.5" }, value: 1, line: 0 },
        { name: `${name}_bucket`, labels: { ...base, le: "+Inf" }, value: 2, line: 0 },
        { name: `${name}_sum`, labels: base, value: 3, line: 0 },
        { name: `${name}_count`, labels: base, value: 2, line: 0 },
      );
      return;
    }
    const labels: Record<string, string> = type === "summary"
      ? { quantile: String(index / 4) }
      : { [labelName]: labelName === "le" || labelName === "quantile" ? String(index) : value };
    const key = JSON.stringify(labels);
    if (seen.has(key)) return;
    seen.add(key);
    family.samples.push({ name, labels, value: number, line: 0 });
  });
  return family;
});
const expositionArb = fc.uniqueArray(familyArb, {
  maxLength: 5,
  selector: (family) => family.name,
}).filter((families) => {
  // A name two families claim is ambiguous: keep each family's names, and
  // the component names its type reserves (`x_count` of summary `x`), to itself.
  const reserved: Record<string, string[]> = {
    histogram: ["_bucket", "_sum", "_count", "_created"],
    summary: ["_sum", "_count", "_created"],
    counter: ["_total", "_created"],
  };
  const all = families.flatMap((family) => [
    ...new Set([
      family.name,
      ...family.samples.map((sample) => sample.name),
      ...(reserved[family.type] ?? []).map((suffix) => family.name + suffix),
    ]),
  ]);
  return new Set(all).size === all.length;
});

Deno.test({
  name: "checkExposition() agrees with promtool on 200 generated expositions",
  ignore: ignoreWithout("promtool", promtool),
  fn: async () => {
    // promlint picks the unit of a name by iterating a Go map, so a name with
    // two unit words ("kilobytes" and "seconds") gets a random verdict from
    // promtool; such names are left out of the comparison (docs/PARSERS.md).
    const hasTwoUnits = (name: string) =>
      name.split("_").filter((word) => /bytes|seconds/.test(word)).length > 1;
    const samples = fc.sample(
      expositionArb.filter((families) => !families.some((family) => hasTwoUnits(family.name))),
      { numRuns: 200, seed: 42 },
    );
    for (const families of samples) {
      const text = formatPrometheus(families);
      assert.deepEqual(ourVerdict(text), await promtoolVerdict(text), text);
    }
  },
});

Deno.test("parsePrometheus() never throws, whatever the text, and every sample and problem points at a real line", () => {
  const line = fc.oneof(
    fc.string({ unit: "binary", maxLength: 60 }),
    fc.constantFrom("# HELP x y", "# TYPE x counter", "# TYPE x histogram", "# EOF", "x 1", 'x{a="\\q"} 1'),
    metricName.map((name) => `${name}{le="+Inf"} NaN 12`),
  );
  fc.assert(
    fc.property(fc.array(line, { maxLength: 8 }), (lines) => {
      const text = lines.join("\n");
      const exposition = checkExposition(text);
      // Whatever the text, what comes back points into it: every sample and
      // problem names a real line, each line gives at most one sample, and a
      // sample's line holds its name.
      const count = text.split("\n").length;
      const samples = exposition.families.flatMap((family) => family.samples);
      assert.ok(samples.length <= count);
      assert.equal(new Set(samples.map((sample) => sample.line)).size, samples.length);
      for (const sample of samples) {
        assert.ok(sample.line >= 1 && sample.line <= count, `sample line ${sample.line} of ${count}`);
        assert.ok(text.split("\n")[sample.line - 1].includes(sample.name), sample.name);
      }
      for (const problem of exposition.problems) {
        if (problem.line !== undefined) assert.ok(problem.line >= 1 && problem.line <= count + 1);
      }
    }),
    { numRuns: PROPERTY_RUNS },
  );
});

Deno.test("expositions written by formatPrometheus() read back unchanged, text and OpenMetrics", () => {
  fc.assert(
    fc.property(
      expositionArb,
      fc.constantFrom<"text" | "openmetrics">("text", "openmetrics"),
      (families, format) => {
        const parsed = parsePrometheus(formatPrometheus(families, format), { format });
        const strip = (list: MetricFamily[]) =>
          list.map((family) => ({
            ...family,
            type: family.type === "unknown" ? "untyped" : family.type,
            samples: family.samples.map(({ line: _line, key: _key, ...sample }) => sample),
          }));
        assert.deepEqual(strip(parsed.families), strip(families));
      },
    ),
    { numRuns: PROPERTY_RUNS },
  );
});

Deno.test("compareScrapes() flags counters going backwards, vanished series and label budgets", () => {
  const first = parsePrometheus(
    '# TYPE c_total counter\nc_total{a="1"} 5\nc_total{a="2"} 1\n# TYPE g gauge\ng 9\n',
  );
  const second = parsePrometheus('# TYPE c_total counter\nc_total{a="1"} 4\n# TYPE g gauge\ng 1\n');
  const findings = compareScrapes(
    [{ name: "one", exposition: first }, { name: "two", exposition: second }],
    1,
  );
  assert.deepEqual(findings.map((finding) => finding.kind).sort(), [
    "counter-reset",
    "label-budget",
    "series-gone",
  ]);
  assert.ok(findings.every((finding) => finding.metric === "c_total"));
});

Deno.test("the regular-expression fast path and the scanner agree on every sample line", () => {
  const piece = fc.constantFrom(
    "a",
    "_x",
    ":",
    "{",
    "}",
    ",",
    "=",
    '"',
    "\\",
    "\\n",
    '\\"',
    " ",
    "\t",
    "1",
    "-2",
    "NaN",
    "+Inf",
    "le",
    "1e3",
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 14 }).map((pieces) => pieces.join("")), (line) => {
      const fast = fastSample(line, 1);
      if (fast !== undefined) assert.deepEqual(fast, scanSampleLine(line, 1, false), line);
    }),
    { numRuns: PROPERTY_RUNS },
  );
  assert.ok(fastSample('a{b="1",c="x\\"y"} 2 3', 1), "the fast path takes ordinary lines");
});

Deno.test("in the text format a counter `x` does not absorb `x_total` (as Go's parser reads it)", () => {
  const text = "# HELP x h\n# TYPE x counter\nx 1\nx_total 2\n";
  assert.deepEqual(parsePrometheus(text).families.map((family) => family.name), ["x", "x_total"]);
  assert.deepEqual(promtoolLines(checkExposition(text).problems), [
    'x counter metrics should have "_total" suffix',
    "x_total no help text",
  ]);
});

Deno.test("histogram checks group buckets by series, whatever the place of `le` among the labels", () => {
  const text = [
    "# HELP h h",
    "# TYPE h histogram",
    'h_bucket{a="x\\"y",le="1"} 1',
    'h_bucket{a="x\\"y",le="+Inf"} 2',
    'h_count{a="x\\"y"} 2',
    'h_bucket{le="1",z="2"} 1',
    'h_bucket{le="+Inf",z="2"} 3',
    'h_count{z="2"} 4',
    'h_bucket{le="1"} 5',
    'h_bucket{le="+Inf"} 5',
    "h_count 5",
    "",
  ].join("\n");
  const strict = parsePrometheus(text).problems.filter((problem) => !problem.isPromtool).map((problem) =>
    problem.text
  );
  assert.deepEqual(strict, ["histogram _count 4 differs from the +Inf bucket 3"]);
});

Deno.test("lintExposition() (sis metrics check on one scrape) finds what checkExposition() finds", async () => {
  /** The same problems in the same order, and a tally per family with samples: count and series keys. */
  const agree = (text: string) => {
    const full = checkExposition(text);
    const { exposition, tallies } = lintExposition(text);
    assert.deepEqual(exposition.problems, full.problems, text);
    assert.equal(exposition.format, full.format, text);
    // The keys the parser takes from the line (sorted when out of order) are the canonical ones.
    for (const family of full.families) {
      for (const sample of family.samples) assert.equal(keyOf(sample), seriesKey(sample.labels), text);
    }
    assert.deepEqual(
      tallies.map((tally) => [tally.family.name, tally.samples, tally.keys]),
      full.families.filter((family) => family.samples.length > 0).map((family) => [
        family.name,
        family.samples.length,
        family.samples.map(keyOf),
      ]),
      text,
    );
  };
  for (const entry of await readdir(FIXTURES)) agree(await readFile(new URL(entry, FIXTURES), "utf8"));
  // Labels out of order (with `,` and `=` in values), repeats, bad buckets,
  // TYPE lines late, split families: the paths the streaming checker takes.
  const line = fc.oneof(
    fc.constantFrom(
      "# HELP h help",
      "# TYPE h histogram",
      "# TYPE c counter",
      "# TYPE s summary",
      "# EOF",
      "",
    ),
    fc.tuple(
      fc.constantFrom("h_bucket", "h_count", "h_sum", "c", "c_total", "s", "g", "fooBar"),
      fc.array(
        fc.tuple(
          fc.constantFrom("le", "quantile", "b", "a", "aB", "z"),
          fc.constantFrom("1", "+Inf", "x,y=", 'q\\"', ""),
        ),
        { maxLength: 4 },
      ),
      fc.constantFrom("1", "-1", "2", "NaN", "x"),
    ).map(([name, labels, value]) => `${name}{${labels.map(([k, v]) => `${k}="${v}"`).join(",")}} ${value}`),
  );
  fc.assert(
    fc.property(fc.array(line, { maxLength: 12 }), (lines) => agree(lines.join("\n") + "\n")),
    { numRuns: PROPERTY_RUNS },
  );
  for (const families of fc.sample(expositionArb, { numRuns: 100, seed: 7 })) {
    agree(formatPrometheus(families));
    agree(formatPrometheus(families, "openmetrics"));
  }
});
