/** Incremental parser for the kernel's serial stream (docs/PROTOCOL.md): bytes in, typed events out. */

/**
 * The parser is a byte-at-a-time state machine, so the events it returns do
 * not depend on how the stream was split into chunks: feeding a transcript
 * in one piece or one byte at a time gives the same events. That property
 * is what the unit tests check with fast-check.
 *
 * Decisions that follow from the protocol:
 * - Lines end at `\n`; a `\r` right before it is dropped. UTF-8 never uses
 *   0x0a inside a multi-byte sequence, so splitting bytes on it is safe.
 * - The prompt `sis> ` is recognised the moment its fifth byte arrives at the
 *   start of a line outside a frame. Inside a frame (between `begin` and
 *   `end`) nothing is a prompt: a command that prints `sis> ` is output.
 * - A marker line starts with SOH (0x01). A marker that does not parse is a
 *   `garbage` event rather than an exception: bad input never stops the run.
 * - Bytes that are not UTF-8 are decoded with U+FFFD and the event says so.
 * - A line longer than `maxLineBytes` is cut there (event marked truncated)
 *   and the rest of it is dropped, so a kernel spewing bytes without a
 *   newline cannot grow memory without bound.
 */

import { KERNEL_ENTRY_PREFIX, MARK, MARKER, PROMPT } from "../protocol.ts";

/** One thing seen on the serial stream. */
export type SerialEvent =
  /** A line of text. `seq` is set when it is output of framed command `seq`. */
  | { kind: "line"; text: string; seq?: number; lossy?: boolean; truncated?: boolean }
  /** The shell prompt `sis> ` at the start of a line, outside a frame. */
  | { kind: "prompt" }
  /** The kernel's first line (`SIS kernel ...`). */
  | { kind: "kernel-entry"; text: string }
  /** `\x01sis:ready`: framing is on. */
  | { kind: "ready" }
  /** `\x01sis:begin <seq> <line>`. */
  | { kind: "begin"; seq: number; line: string }
  /** `\x01sis:end <seq> <status>`. */
  | { kind: "end"; seq: number; status: number }
  /** `\x01sis:log <record>`; `record` is the parsed JSON when it parses. */
  | { kind: "log"; text: string; record?: unknown; seq?: number }
  /** `\x01sis:panic`: the panic path started; the report follows as lines. */
  | { kind: "panic" }
  /** A marker line that does not parse, kept for the transcript. */
  | { kind: "garbage"; text: string; reason: string };

export interface FramingOptions {
  /** Longest line kept, in bytes; the rest of a longer line is dropped. */
  maxLineBytes?: number;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const PROMPT_BYTES = new TextEncoder().encode(PROMPT);
const strictDecoder = new TextDecoder("utf-8", { fatal: true });
const lossyDecoder = new TextDecoder("utf-8");

/** Decodes bytes, reporting whether any were not valid UTF-8. */
function decode(bytes: Uint8Array): { text: string; lossy: boolean } {
  try {
    return { text: strictDecoder.decode(bytes), lossy: false };
  } catch {
    return { text: lossyDecoder.decode(bytes), lossy: true };
  }
}

/** Parses one marker line (without its SOH) into an event. */
export function parseMarker(body: string, seq: number | undefined): SerialEvent {
  const space = body.indexOf(" ");
  const name = space < 0 ? body : body.slice(0, space);
  const rest = space < 0 ? "" : body.slice(space + 1);
  const garbage = (reason: string): SerialEvent => ({ kind: "garbage", text: "\x01" + body, reason });
  switch (name) {
    case MARKER.ready:
      return rest === "" ? { kind: "ready" } : garbage("ready marker with arguments");
    case MARKER.panic:
      return { kind: "panic" };
    case MARKER.log: {
      let record: unknown = undefined;
      try {
        record = JSON.parse(rest);
      } catch {
        // A log line that is not JSON is still a log line; the record is just absent.
      }
      return seq === undefined
        ? { kind: "log", text: rest, record }
        : { kind: "log", text: rest, record, seq };
    }
    case MARKER.begin: {
      const match = /^(\d{1,10})(?: (.*))?$/s.exec(rest);
      if (!match) return garbage("begin marker without a sequence number");
      return { kind: "begin", seq: Number(match[1]), line: match[2] ?? "" };
    }
    case MARKER.end: {
      const match = /^(\d{1,10}) (\d{1,3})$/.exec(rest);
      if (!match) return garbage("end marker without sequence number and status");
      const status = Number(match[2]);
      if (status > 255) return garbage("end marker status above 255");
      return { kind: "end", seq: Number(match[1]), status };
    }
    default:
      return garbage(`unknown marker "${name}"`);
  }
}

/** The incremental parser: call `feed` with each chunk, collect the events. */
export class FramingParser {
  readonly #maxLineBytes: number;
  #buffer: Uint8Array;
  #length = 0;
  #isTruncated = false;
  /** Sequence number of the frame we are inside, if any. */
  #frameSeq: number | undefined = undefined;

  constructor(options: FramingOptions = {}) {
    this.#maxLineBytes = options.maxLineBytes ?? 64 * 1024;
    this.#buffer = new Uint8Array(Math.min(256, this.#maxLineBytes));
  }

  /** The frame currently open, if any (for the driver's stage reporting). */
  get openFrame(): number | undefined {
    return this.#frameSeq;
  }

  /** Feeds a chunk of bytes; returns the events it completed, in order. */
  feed(chunk: Uint8Array): SerialEvent[] {
    const events: SerialEvent[] = [];
    for (const byte of chunk) {
      if (byte === NEWLINE) {
        this.#endLine(events);
        continue;
      }
      if (this.#length >= this.#maxLineBytes) {
        this.#isTruncated = true;
        continue;
      }
      this.#push(byte);
      if (
        this.#frameSeq === undefined && this.#length === PROMPT_BYTES.length &&
        this.#startsWithPrompt()
      ) {
        this.#length = 0;
        events.push({ kind: "prompt" });
      }
    }
    return events;
  }

  /**
   * Flushes a pending partial line at end of stream (QEMU exited mid-line),
   * so the last words of a dying kernel are not lost.
   */
  finish(): SerialEvent[] {
    const events: SerialEvent[] = [];
    if (this.#length > 0 || this.#isTruncated) this.#endLine(events);
    return events;
  }

  #push(byte: number): void {
    if (this.#length === this.#buffer.length) {
      const bigger = new Uint8Array(Math.min(this.#buffer.length * 2, this.#maxLineBytes));
      bigger.set(this.#buffer);
      this.#buffer = bigger;
    }
    this.#buffer[this.#length++] = byte;
  }

  #startsWithPrompt(): boolean {
    for (let i = 0; i < PROMPT_BYTES.length; i++) {
      if (this.#buffer[i] !== PROMPT_BYTES[i]) return false;
    }
    return true;
  }

  #endLine(events: SerialEvent[]): void {
    let end = this.#length;
    if (end > 0 && this.#buffer[end - 1] === CARRIAGE_RETURN && !this.#isTruncated) end--;
    const bytes = this.#buffer.subarray(0, end);
    const isTruncated = this.#isTruncated;
    this.#length = 0;
    this.#isTruncated = false;

    if (bytes.length > 0 && bytes[0] === MARK) {
      const { text } = decode(bytes.subarray(1));
      const event = parseMarker(text, this.#frameSeq);
      if (event.kind === "begin") this.#frameSeq = event.seq;
      if (event.kind === "end" || event.kind === "panic") this.#frameSeq = undefined;
      events.push(event);
      return;
    }
    const { text, lossy } = decode(bytes);
    if (this.#frameSeq === undefined && text.startsWith(KERNEL_ENTRY_PREFIX)) {
      events.push({ kind: "kernel-entry", text });
      return;
    }
    const event: SerialEvent = { kind: "line", text };
    if (this.#frameSeq !== undefined) event.seq = this.#frameSeq;
    if (lossy) event.lossy = true;
    if (isTruncated) event.truncated = true;
    events.push(event);
  }
}

/** Parses a whole transcript at once (fixtures, post-mortem of a run bundle). */
export function parseTranscript(bytes: Uint8Array, options?: FramingOptions): SerialEvent[] {
  const parser = new FramingParser(options);
  return [...parser.feed(bytes), ...parser.finish()];
}
