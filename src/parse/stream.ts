/** Streams a log of any size line by line in bounded memory, classifying each line; an optional needle pre-filter skips lines that cannot match. */
import { classifyLine, type LogLine } from "./log.ts";

/**
 * The input is read in chunks; only complete lines are decoded, and the
 * bytes after the last newline are carried to the next chunk. A line longer
 * than `maxLineBytes` is cut there, reported as malformed ("line too
 * long"), and the rest of it is skipped up to its newline, so memory stays
 * bounded by the chunk size plus `maxLineBytes` whatever the input holds.
 *
 * Speed: a chunk's complete lines are decoded as one string (V8's UTF-8
 * decoder is fast on ASCII) and, when the caller gives needles (for example
 * the level names a `--level ERROR` filter accepts), located with
 * `String.prototype.indexOf`, which is vectorized. Only lines containing a
 * needle are classified; a line without any needle cannot pass the filter,
 * so the result is the same as classifying everything (a test checks that).
 */

/** One classified line with its 1-based number in the input. */
export interface ScannedLine {
  lineNo: number;
  line: LogLine;
  /** The line held bytes that are not UTF-8 (decoded with U+FFFD). */
  isLossy: boolean;
}

export interface ScanOptions {
  /** Classify only lines containing one of these strings (a pure speed-up; see above). */
  needles?: readonly string[];
  /** Longest line kept, in bytes (default 1 MiB). */
  maxLineBytes?: number;
}

export interface ScanTotals {
  /** Lines in the input, including skipped ones. */
  lines: number;
  bytes: number;
}

const NEWLINE = 0x0a;
const strictDecoder = new TextDecoder("utf-8", { fatal: true });
const lossyDecoder = new TextDecoder("utf-8");

/**
 * Reads `source` to its end, calling `visit` for every classified line in
 * order. Never throws on content; only the source's own errors propagate.
 */
export async function scanLog(
  source: AsyncIterable<Uint8Array>,
  visit: (scanned: ScannedLine) => void,
  options: ScanOptions = {},
): Promise<ScanTotals> {
  const maxLineBytes = options.maxLineBytes ?? 1024 * 1024;
  const needles = options.needles && options.needles.length > 0 ? options.needles : undefined;
  let carry: Uint8Array = new Uint8Array(0);
  /** True while skipping the rest of a line that was already cut. */
  let isSkipping = false;
  let lineNo = 0;
  let bytes = 0;

  const emitText = (text: string, isLossy: boolean) => {
    lineNo++;
    if (needles && !needles.some((needle) => text.includes(needle))) return;
    visit({ lineNo, line: withLossy(classifyLine(text), isLossy), isLossy });
  };

  /** Handles a block of complete lines (each ended by `\n`, the last newline excluded). */
  const emitBlock = (block: Uint8Array) => {
    let text: string;
    try {
      text = strictDecoder.decode(block);
    } catch {
      // Some line in the block is not UTF-8: decode line by line to say which.
      let start = 0;
      for (;;) {
        const end = block.indexOf(NEWLINE, start);
        const line = block.subarray(start, end < 0 ? block.length : end);
        let isLossy = false;
        let lineText: string;
        try {
          lineText = strictDecoder.decode(line);
        } catch {
          lineText = lossyDecoder.decode(line);
          isLossy = true;
        }
        emitText(lineText, isLossy);
        if (end < 0) return;
        start = end + 1;
      }
    }
    if (!needles) {
      let start = 0;
      for (;;) {
        const end = text.indexOf("\n", start);
        lineNo++;
        visit({
          lineNo,
          line: classifyLine(end < 0 ? text.slice(start) : text.slice(start, end)),
          isLossy: false,
        });
        if (end < 0) return;
        start = end + 1;
      }
    }
    // Needle mode: find the lines holding a needle, in order, and count the others.
    const starts: number[] = [];
    for (const needle of needles) {
      for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) {
        const lineStart = text.lastIndexOf("\n", at) + 1;
        starts.push(lineStart);
        const lineEnd = text.indexOf("\n", at);
        if (lineEnd < 0) break;
        at = lineEnd - needle.length + 1;
      }
    }
    if (needles.length > 1) starts.sort((a, b) => a - b);
    const baseLine = lineNo;
    let counted = 0;
    let countedLines = 0;
    let previous = -1;
    for (const start of starts) {
      if (start === previous) continue;
      previous = start;
      for (let at = text.indexOf("\n", counted); at >= 0 && at < start; at = text.indexOf("\n", counted)) {
        countedLines++;
        counted = at + 1;
      }
      const end = text.indexOf("\n", start);
      visit({
        lineNo: baseLine + countedLines + 1,
        line: classifyLine(end < 0 ? text.slice(start) : text.slice(start, end)),
        isLossy: false,
      });
    }
    for (let at = text.indexOf("\n", counted); at >= 0; at = text.indexOf("\n", counted)) {
      countedLines++;
      counted = at + 1;
    }
    lineNo = baseLine + countedLines + 1;
  };

  const tooLong = (head: Uint8Array) => {
    lineNo++;
    const text = lossyDecoder.decode(head.subarray(0, 200));
    visit({
      lineNo,
      line: { kind: "malformed", reason: `line too long (over ${maxLineBytes} bytes)`, text },
      isLossy: false,
    });
  };

  for await (const chunk of source) {
    bytes += chunk.length;
    let data = chunk;
    if (isSkipping) {
      const newline = data.indexOf(NEWLINE);
      if (newline < 0) continue;
      isSkipping = false;
      data = data.subarray(newline + 1);
    }
    const last = data.lastIndexOf(NEWLINE);
    if (last < 0) {
      carry = concat(carry, data);
      if (carry.length > maxLineBytes) {
        tooLong(carry);
        carry = new Uint8Array(0);
        isSkipping = true;
      }
      continue;
    }
    let body: Uint8Array | undefined = data.subarray(0, last);
    if (carry.length > 0) {
      // The carried partial line ends at the first newline of this chunk.
      const first = data.indexOf(NEWLINE);
      const head = concat(carry, data.subarray(0, first));
      if (head.length > maxLineBytes) tooLong(head);
      else emitBlock(head);
      carry = new Uint8Array(0);
      body = first === last ? undefined : data.subarray(first + 1, last);
    }
    if (body !== undefined) emitBlockChecked(body);
    carry = data.slice(last + 1);
    if (carry.length > maxLineBytes) {
      tooLong(carry);
      carry = new Uint8Array(0);
      isSkipping = true;
    }
  }
  if (carry.length > 0) emitBlockChecked(carry);
  return { lines: lineNo, bytes };

  /** Emits a block of lines, cutting any single line longer than the limit. */
  function emitBlockChecked(block: Uint8Array) {
    if (block.length <= maxLineBytes) return emitBlock(block);
    let runStart = 0;
    let lineStart = 0;
    for (;;) {
      const end = block.indexOf(NEWLINE, lineStart);
      const lineEnd = end < 0 ? block.length : end;
      if (lineEnd - lineStart > maxLineBytes) {
        if (lineStart > runStart) emitBlock(block.subarray(runStart, lineStart - 1));
        tooLong(block.subarray(lineStart, lineEnd));
        runStart = lineEnd + 1;
      }
      if (end < 0) break;
      lineStart = end + 1;
    }
    if (runStart <= block.length) emitBlock(block.subarray(runStart));
  }
}

function withLossy(line: LogLine, isLossy: boolean): LogLine {
  if (isLossy && line.kind === "record") {
    return { kind: "malformed", reason: "record is not valid UTF-8", text: formatLossy(line) };
  }
  return line;
}

function formatLossy(line: LogLine & { kind: "record" }): string {
  return `[${line.record.level}] ${line.record.subsystem}: ${line.record.status}`;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b.slice();
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Classifies a whole in-memory text (tests, small transcripts). */
export function scanText(text: string): ScannedLine[] {
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines.map((line, index) => ({ lineNo: index + 1, line: classifyLine(line), isLossy: false }));
}
