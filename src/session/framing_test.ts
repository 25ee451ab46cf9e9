/** Unit tests for the serial framing parser over synthetic and recorded streams. */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import fc from "fast-check";
import { FramingParser, parseMarker, parseTranscript, type SerialEvent } from "./framing.ts";

const encoder = new TextEncoder();
const fixture = (name: string) =>
  Deno.readFileSync(new URL(`../../fixtures/serial/${name}`, import.meta.url));

/** Every stream in fixtures/serial: synthetic ones and ones recorded from real boots (run bundles). */
const FIXTURES = [
  "synthetic-session.bin",
  "synthetic-panic.bin",
  "synthetic-garbage.bin",
  "recorded-riscv64-smoke.bin",
  "recorded-riscv64-panic.bin",
];

/** Feeds `bytes` split at the given cut points, returning all events. */
function feedSplit(bytes: Uint8Array, cuts: number[]): SerialEvent[] {
  const parser = new FramingParser();
  const events: SerialEvent[] = [];
  let start = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    events.push(...parser.feed(bytes.subarray(start, cut)));
    start = cut;
  }
  events.push(...parser.feed(bytes.subarray(start)), ...parser.finish());
  return events;
}

Deno.test("parseTranscript() classes a framed session into prompt, frames, output and logs", () => {
  const events = parseTranscript(fixture("synthetic-session.bin"));
  const kinds = events.map((event) => event.kind);
  assertEquals(kinds.slice(0, 5), ["line", "line", "line", "kernel-entry", "log"]);
  assertEquals(events.filter((event) => event.kind === "prompt").length, 6);
  assertEquals(events.filter((event) => event.kind === "ready").length, 1);
  assertEquals(
    events.filter((event) => event.kind === "end"),
    [
      { kind: "end", seq: 1, status: 0 },
      { kind: "end", seq: 2, status: 2 },
      { kind: "end", seq: 3, status: 0 },
      { kind: "end", seq: 4, status: 127 },
    ],
  );
  // The log record in the middle of `ls /` is told apart from its output.
  const inFrame3 = events.filter((event) =>
    (event.kind === "line" || event.kind === "log") && event.seq === 3
  );
  assertEquals(inFrame3, [
    {
      kind: "log",
      text: '{"level":"INFO","subsystem":"sched","msg":"tick"}',
      record: { level: "INFO", subsystem: "sched", msg: "tick" },
      seq: 3,
    },
    { kind: "line", text: "README.md", seq: 3 },
  ]);
  assertEquals(events.find((event) => event.kind === "begin" && event.seq === 2), {
    kind: "begin",
    seq: 2,
    line: "cat /nope",
  });
});

Deno.test("FramingParser gives the same events however the stream is split", () => {
  for (const name of FIXTURES) {
    const bytes = fixture(name);
    const whole = parseTranscript(bytes);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 40 }), (cuts) => {
        assertEquals(feedSplit(bytes, cuts), whole);
      }),
      { numRuns: 300 },
    );
    // One byte at a time, the worst case of a slow UART.
    assertEquals(feedSplit(bytes, [...bytes.keys()]), whole);
  }
});

Deno.test("FramingParser reports the panic marker and keeps the report lines", () => {
  const events = parseTranscript(fixture("synthetic-panic.bin"));
  const panicAt = events.findIndex((event) => event.kind === "panic");
  assertEquals(panicAt > 0, true);
  const after = events.slice(panicAt + 1);
  assertEquals(after.map((event) => event.kind), ["line", "line", "line", "line"]);
  // The panic ends the frame: its report lines are not command output.
  assertEquals(after.every((event) => !("seq" in event)), true);
});

Deno.test("FramingParser survives garbage bytes, non-UTF-8 and malformed markers", () => {
  const events = parseTranscript(fixture("synthetic-garbage.bin"));
  const output = events.find((event) => event.kind === "line" && event.seq === 1);
  assertEquals(output, { kind: "line", text: "\ufffd\ufffd bad", seq: 1, lossy: true });
  const garbage = events.filter((event) => event.kind === "garbage");
  assertEquals(garbage.length, 2);
  assertEquals(garbage.map((event) => event.kind === "garbage" && event.reason), [
    'unknown marker "sis:bogus"',
    "end marker without sequence number and status",
  ]);
  // The malformed end did not close frame 1; the good one did.
  assertEquals(events.filter((event) => event.kind === "end"), [{ kind: "end", seq: 1, status: 0 }]);
  assertEquals(events.at(-1), { kind: "line", text: "\x00\x1b[31mnoise\x1b[0m" });
});

Deno.test("FramingParser never throws on arbitrary bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
      const events = parseTranscript(bytes, { maxLineBytes: 100 });
      for (const event of events) {
        if (event.kind === "line") assertEquals(encoder.encode(event.text).length <= 300, true);
      }
    }),
    { numRuns: 500 },
  );
});

Deno.test("FramingParser cuts an endless line at maxLineBytes and marks it truncated", () => {
  const parser = new FramingParser({ maxLineBytes: 16 });
  const events = [
    ...parser.feed(encoder.encode("x".repeat(1000))),
    ...parser.feed(encoder.encode("\r\nok\r\n")),
  ];
  assertEquals(events, [
    { kind: "line", text: "x".repeat(16), truncated: true },
    { kind: "line", text: "ok" },
  ]);
});

Deno.test("FramingParser does not take `sis> ` printed inside a frame for a prompt", () => {
  const events = parseTranscript(
    encoder.encode("\x01sis:begin 5 echo sis> \r\nsis> \r\n\x01sis:end 5 0\r\nsis> "),
  );
  assertEquals(events, [
    { kind: "begin", seq: 5, line: "echo sis> " },
    { kind: "line", text: "sis> ", seq: 5 },
    { kind: "end", seq: 5, status: 0 },
    { kind: "prompt" },
  ]);
});

Deno.test("FramingParser flushes a partial last line when the stream ends", () => {
  const parser = new FramingParser();
  assertEquals(parser.feed(encoder.encode("dying wor")), []);
  assertEquals(parser.finish(), [{ kind: "line", text: "dying wor" }]);
});

Deno.test("parseMarker() rejects truncated or out-of-range markers", () => {
  assertEquals(parseMarker("sis:end 3 256", undefined).kind, "garbage");
  assertEquals(parseMarker("sis:end 3", undefined).kind, "garbage");
  assertEquals(parseMarker("sis:begin", undefined).kind, "garbage");
  assertEquals(parseMarker("sis:ready now", undefined).kind, "garbage");
  assertEquals(parseMarker("sis:begin 12", undefined), { kind: "begin", seq: 12, line: "" });
  assertEquals(parseMarker("sis:log not json", undefined), {
    kind: "log",
    text: "not json",
    record: undefined,
  });
});

Deno.test("parseTranscript() reads a recorded riscv64 smoke session: OpenSBI, entry, five frames", () => {
  const events = parseTranscript(fixture("recorded-riscv64-smoke.bin"));
  const entry = events.findIndex((event) => event.kind === "kernel-entry");
  // OpenSBI's banner comes first, as plain lines (the `firmware` stage).
  ok(entry > 10 && events.slice(0, entry).every((event) => event.kind === "line"));
  const begins = events.filter((event) => event.kind === "begin");
  assertEquals(begins.map((event) => event.kind === "begin" && event.line), [
    "help",
    "echo hello from sis",
    "version",
    "ls /",
    "cat /README.md",
  ]);
  const ends = events.filter((event) => event.kind === "end" && event.seq > 0);
  assertEquals(ends.map((event) => event.kind === "end" && event.status), [0, 0, 0, 0, 0]);
  const echo = events.filter((event) => event.kind === "line" && event.seq === 2);
  assertEquals(echo, [{ kind: "line", text: "hello from sis", seq: 2 }]);
  ok(events.every((event) => event.kind !== "garbage"));
});

Deno.test("parseTranscript() reads a recorded riscv64 panic: marker, report, FATAL record, no frame end", () => {
  const events = parseTranscript(fixture("recorded-riscv64-panic.bin"));
  const panicAt = events.findIndex((event) => event.kind === "panic");
  ok(panicAt > 0);
  assertEquals(events[panicAt - 1], { kind: "begin", seq: 2, line: "panic boom" });
  const report = events.slice(panicAt + 1).map((event) => event.kind === "line" ? event.text : event.kind);
  ok(report.includes("!!! KERNEL PANIC !!!"));
  ok(report.some((line) => line.startsWith("message:") && line.endsWith("boom")));
  ok(report.some((line) => line.startsWith('{"ts":') && line.includes('"level":"FATAL"')));
  ok(!events.slice(panicAt).some((event) => event.kind === "end"));
});
