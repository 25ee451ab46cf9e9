/** Tests of the log record parser and the streaming scanner: examples from the kernel, recorded transcripts, and properties. */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  classifyLine,
  type FieldValue,
  formatHumanRecord,
  formatJsonRecord,
  isOrdinaryRecord,
  jsonRecordSchema,
  LEVELS,
  type LogLine,
  type LogRecord,
} from "./log.ts";
import { scanLog, type ScannedLine, scanText } from "./stream.ts";
import { PROPERTY_RUNS } from "./_property.ts";

const encoder = new TextEncoder();

Deno.test("classifyLine() reads the kernel's human and JSON examples", () => {
  const human = classifyLine(String.raw`[WARN] fs: write failed path="/tmp/a \"b\"" errno=ENOSPC`);
  assert.equal(human.kind, "record");
  const json = classifyLine(
    String
      .raw`{"ts":9871,"level":"WARN","subsystem":"fs","status":"write failed","path":"/tmp/a \"b\"","errno":"ENOSPC"}`,
  );
  assert.equal(json.kind, "record");
  if (human.kind !== "record" || json.kind !== "record") return;
  assert.deepEqual(human.record.fields, { path: '/tmp/a "b"', errno: "ENOSPC" });
  assert.equal(human.record.status, "write failed");
  assert.deepEqual({ ...json.record, format: "human", ts: undefined }, { ...human.record, ts: undefined });
  assert.equal(json.record.ts, 9871);
});

Deno.test("classifyLine() strips the framed-mode prefix and a trailing CR", () => {
  const line = classifyLine("\x01sis:log [INFO] shell: ready\r");
  assert.equal(line.kind, "record");
  assert.equal(line.kind === "record" && line.record.subsystem, "shell");
  assert.equal(classifyLine("\x01sis:end 3 0").kind, "marker");
});

Deno.test("classifyLine() reports truncated JSON, bad levels and bad fields as malformed", () => {
  const cases: [string, RegExp][] = [
    ['{"ts":1,"level":"INFO","subsystem":"fs"', /invalid JSON/],
    ['{"ts":1,"level":"LOUD","subsystem":"fs","status":"x"}', /level/],
    ['{"ts":-1,"level":"INFO","subsystem":"fs","status":"x"}', /ts/],
    ['{"ts":1,"level":"INFO","status":"x"}', /subsystem/],
    ['{"ts":1,"level":7,"subsystem":"fs","status":"x"}', /level/],
    ['[INFO] fs: mounted root="/', /unterminated/],
    ["[INFO] fs: mounted a=1 =2", /field/],
    ["[LOUD] fs: mounted", /unknown level/],
    ['{"ts":1,"level":"FATAL","subsystem":"panic","status":"panic"}', /panic record/],
  ];
  for (const [text, reason] of cases) {
    const line = classifyLine(text);
    assert.equal(line.kind, "malformed", text);
    assert.match((line as { reason: string }).reason, reason, text);
  }
});

Deno.test("classifyLine() treats shell output and JSON documents as output", () => {
  for (const text of ["sis> ", "hello from sis", "", '{"metrics":[]}', "[1, 2]", "README.md"]) {
    assert.equal(classifyLine(text).kind, "output", text);
  }
});

Deno.test("every record in the recorded transcripts parses, none is malformed", async () => {
  const dir = new URL("../../fixtures/transcripts/", import.meta.url);
  let files = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith(".log")) continue;
    files++;
    const text = new TextDecoder().decode(Deno.readFileSync(new URL(entry.name, dir)));
    const lines = scanText(text);
    const malformed = lines.filter(({ line }) => line.kind === "malformed");
    assert.deepEqual(malformed, [], entry.name);
    assert.ok(lines.some(({ line }) => line.kind === "record"), `${entry.name} has records`);
  }
  assert.ok(files >= 3, "transcripts are recorded (deno task fixtures:record)");
});

// ---- properties ----

const word = fc.stringMatching(/^[a-z][a-z0-9_]{0,11}$/);
const anyText = fc.string({ unit: "binary", maxLength: 40 });
const fieldValue: fc.Arbitrary<FieldValue> = fc.oneof(
  anyText,
  fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }),
  fc.boolean(),
);
const record = (format: "json" | "human"): fc.Arbitrary<LogRecord> =>
  fc.record({
    ts: format === "json" ? fc.nat() : fc.constant(undefined),
    level: fc.constantFrom(...LEVELS),
    subsystem: word,
    // Human status: words without "=" (a `key=` token starts the fields).
    status: format === "json"
      ? anyText
      : fc.array(word, { minLength: 1, maxLength: 3 }).map((w) => w.join(" ")),
    fields: fc.dictionary(
      word.filter((key) => !["ts", "level", "subsystem", "status", "__proto__"].includes(key)),
      fieldValue,
      { maxKeys: 8, noNullPrototype: true },
    ),
    format: fc.constant(format),
  }, { noNullPrototype: true }).map((value) => {
    if (value.ts === undefined) delete (value as Partial<LogRecord>).ts;
    // The kernel never writes a panic-shaped ordinary record.
    if (value.level === "FATAL" && value.subsystem === "panic") value.subsystem = "panics";
    return value as LogRecord;
  });

Deno.test("classifyLine() never throws, whatever the line", () => {
  const lineLike = fc.oneof(
    anyText,
    fc.string({ unit: "grapheme", maxLength: 80 }),
    anyText.map((text) => `{${text}`),
    anyText.map((text) => `[INFO] ${text}`),
    fc.json().map((text) => text),
  );
  fc.assert(
    fc.property(lineLike, (text) => {
      const line: LogLine = classifyLine(text);
      assert.ok(["record", "marker", "malformed", "output"].includes(line.kind));
    }),
    { numRuns: PROPERTY_RUNS },
  );
});

Deno.test("JSON records written by formatJsonRecord() read back unchanged", () => {
  fc.assert(
    fc.property(record("json"), (value) => {
      const line = classifyLine(formatJsonRecord(value));
      assert.equal(line.kind, "record");
      assert.deepEqual((line as { record: LogRecord }).record, value);
    }),
    { numRuns: PROPERTY_RUNS },
  );
});

Deno.test("human records written by formatHumanRecord() read back unchanged", () => {
  fc.assert(
    fc.property(record("human"), (value) => {
      const line = classifyLine(formatHumanRecord(value));
      assert.equal(line.kind, "record", formatHumanRecord(value));
      assert.deepEqual((line as { record: LogRecord }).record, value);
    }),
    { numRuns: PROPERTY_RUNS },
  );
});

async function scanChunks(chunks: Uint8Array[], options = {}): Promise<ScannedLine[]> {
  const seen: ScannedLine[] = [];
  await scanLog(
    (async function* () {
      yield* chunks;
    })(),
    (line) => seen.push(line),
    options,
  );
  return seen;
}

function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(bytes.slice(start, point));
    start = point;
  }
  chunks.push(bytes.slice(start));
  return chunks;
}

const logText = fc.array(
  fc.oneof(
    record("json").map(formatJsonRecord),
    record("human").map(formatHumanRecord),
    anyText.filter((text) => !text.includes("\n")),
    fc.constant('{"ts":1,"level":"ERROR"'),
  ),
  { maxLength: 20 },
).map((lines) => lines.join("\n"));

Deno.test("scanLog() gives the same lines however the input is chunked", async () => {
  await fc.assert(
    fc.asyncProperty(logText, fc.array(fc.nat(), { maxLength: 6 }), async (text, cuts) => {
      const bytes = encoder.encode(text);
      const whole = await scanChunks([bytes]);
      const chunked = await scanChunks(split(bytes, cuts));
      assert.deepEqual(chunked, whole);
      assert.deepEqual(whole.map(({ line }) => line), scanText(text).map(({ line }) => line));
    }),
    { numRuns: PROPERTY_RUNS / 5 },
  );
});

Deno.test("scanLog() with level needles finds exactly the records a full scan finds", async () => {
  await fc.assert(
    fc.asyncProperty(logText, fc.array(fc.nat(), { maxLength: 4 }), async (text, cuts) => {
      const bytes = encoder.encode(text);
      const isSevere = ({ line }: ScannedLine) =>
        line.kind === "record" && (line.record.level === "ERROR" || line.record.level === "FATAL");
      const full = (await scanChunks([bytes])).filter(isSevere);
      const needles = ['"ERROR"', "[ERROR]", '"FATAL"', "[FATAL]"];
      const fast = (await scanChunks(split(bytes, cuts), { needles })).filter(isSevere);
      assert.deepEqual(fast, full);
    }),
    { numRuns: PROPERTY_RUNS / 5 },
  );
});

Deno.test("scanLog() cuts an over-long line, reports it, and keeps going", async () => {
  const long = "x".repeat(5000);
  const text = `[INFO] a: one\n${long}\n[INFO] b: two\n`;
  const lines = await scanChunks(split(encoder.encode(text), [3, 700, 2000, 5010]), { maxLineBytes: 1024 });
  assert.deepEqual(lines.map(({ lineNo, line }) => [lineNo, line.kind]), [
    [1, "record"],
    [2, "malformed"],
    [3, "record"],
  ]);
  assert.match((lines[1].line as { reason: string }).reason, /too long/);
});

Deno.test("scanLog() reports a record with invalid UTF-8 by line number", async () => {
  const bytes = new Uint8Array([...encoder.encode("[INFO] a: ok\n[INFO] b: "), 0xff, 0xfe, 10]);
  const lines = await scanChunks([bytes]);
  assert.equal(lines[0].line.kind, "record");
  assert.equal(lines[1].line.kind, "malformed");
  assert.equal(lines[1].lineNo, 2);
  assert.ok(lines[1].isLossy);
});

Deno.test("isOrdinaryRecord() accepts exactly what the zod schema accepts (the panic record aside)", () => {
  const value = fc.oneof(
    fc.integer({ min: -5, max: 2 ** 60 }).map(Number),
    fc.double(),
    fc.constantFrom(...LEVELS, "info", "LOUD", "", "panic", "fs"),
    fc.string({ maxLength: 4 }),
    fc.boolean(),
    fc.constant(null),
  );
  const candidate = fc.record({
    ts: value,
    level: value,
    subsystem: value,
    status: value,
    extra: value,
  }, { requiredKeys: ["level"], noNullPrototype: true });
  fc.assert(
    fc.property(fc.oneof(candidate, fc.anything()), (object) => {
      const isPanic = typeof object === "object" && object !== null &&
        (object as { level?: unknown }).level === "FATAL" &&
        (object as { subsystem?: unknown }).subsystem === "panic";
      assert.equal(isOrdinaryRecord(object), jsonRecordSchema.safeParse(object).success && !isPanic);
    }),
    { numRuns: PROPERTY_RUNS },
  );
});
