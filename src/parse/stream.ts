/** Streams a log of any size line by line in bounded memory, classifying each line; an optional needle pre-filter skips lines that cannot match. */
import { classifyLine, type LogLine } from "./log.ts";

/**
 * The input is read in chunks; only complete lines are decoded, and the
 * bytes after the last newline are carried to the next chunk. A line longer
 * than `maxLineBytes` is cut there, reported as malformed ("line too
 * long"), and the rest of it is skipped up to its newline, so memory stays
 * bounded by the chunk size plus `maxLineBytes` whatever the input holds.
 *
 * Speed: without needles, a chunk's complete lines are decoded as one
 * string and split. With needles (for example the level names a `--level
 * ERROR` filter accepts) the bytes are searched directly and only lines
 * containing a needle are decoded and classified; a line without any needle
 * cannot pass the filter, so the result is the same as classifying
 * everything (a property test checks that, for any chunking).
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
  /**
   * Number the lines (default true). With needles and without numbering,
   * lines that hold no needle are never looked at, and `lineNo` is 0.
   */
  countLines?: boolean;
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
  const countLines = options.countLines ?? true;
  // Each needle is searched for by one anchor byte, then compared whole
  // (lineStartsWithNeedles); the anchor starts as its first capital letter
  // and is re-chosen from the data by chooseAnchors.
  const byteNeedles: ByteNeedle[] | undefined = needles?.map((needle) => {
    const bytes = new TextEncoder().encode(needle);
    const offset = Math.max(0, bytes.findIndex((byte) => byte >= 0x41 && byte <= 0x5a));
    return { bytes, offset, anchor: bytes[offset] };
  });
  let carry: Uint8Array = new Uint8Array(0);
  /** True while skipping the rest of a line that was already cut. */
  let isSkipping = false;
  let lineNo = 0;
  let bytes = 0;

  const emitText = (text: string, isLossy: boolean) => {
    lineNo++;
    visit({ lineNo, line: withLossy(classifyLine(text), isLossy), isLossy });
  };

  /** Decodes one line's bytes, saying whether they were valid UTF-8. */
  const decodeLine = (line: Uint8Array): { text: string; isLossy: boolean } => {
    try {
      return { text: strictDecoder.decode(line), isLossy: false };
    } catch {
      return { text: lossyDecoder.decode(line), isLossy: true };
    }
  };

  let hasChosenAnchors = false;
  /** Needle mode on bytes: only the lines holding a needle are decoded and classified. */
  const emitNeedleBlock = (block: Uint8Array) => {
    if (!hasChosenAnchors) {
      chooseAnchors(byteNeedles!, block.subarray(0, 1 << 20));
      hasChosenAnchors = true;
    }
    const starts = lineStartsWithNeedles(block, byteNeedles!);
    const baseLine = lineNo;
    let counted = 0;
    let countedLines = 0;
    let previous = -1;
    for (const start of starts) {
      if (start === previous) continue;
      previous = start;
      if (countLines) {
        for (
          let at = block.indexOf(NEWLINE, counted);
          at >= 0 && at < start;
          at = block.indexOf(NEWLINE, counted)
        ) {
          countedLines++;
          counted = at + 1;
        }
      }
      const end = block.indexOf(NEWLINE, start);
      const { text, isLossy } = decodeLine(block.subarray(start, end < 0 ? block.length : end));
      visit({
        lineNo: countLines ? baseLine + countedLines + 1 : 0,
        line: withLossy(classifyLine(text), isLossy),
        isLossy,
      });
    }
    if (countLines) {
      for (let at = block.indexOf(NEWLINE, counted); at >= 0; at = block.indexOf(NEWLINE, counted)) {
        countedLines++;
        counted = at + 1;
      }
      lineNo = baseLine + countedLines + 1;
    }
  };

  /** Handles a block of complete lines (each ended by `\n`, the last newline excluded). */
  const emitBlock = (block: Uint8Array) => {
    if (needles) return emitNeedleBlock(block);
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
    if (block.length <= maxLineBytes || !hasLongLine(block, maxLineBytes)) return emitBlock(block);
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

/**
 * Picks the needles' anchors from the bytes that are rarest in `sample`
 * (the first MiB of the input). The scan's cost is the number of anchor
 * hits, and which letter is rare depends on the log (`E` is in TRACE and
 * DEBUG, `O` in INFO).
 */
function chooseAnchors(needles: ByteNeedle[], sample: Uint8Array): void {
  const counts = new Uint32Array(256);
  for (let index = 0; index < sample.length; index++) counts[sample[index]]++;
  // At most two distinct anchor bytes (the word scan tests two at once):
  // the pair, among the needles' bytes, that covers every needle at the
  // lowest total count in the sample.
  const candidates = [...new Set(needles.flatMap((needle) => [...needle.bytes]))];
  let best: number[] | undefined;
  let bestCost = Infinity;
  for (let i = 0; i < candidates.length; i++) {
    for (let j = i; j < candidates.length; j++) {
      const pair = i === j ? [candidates[i]] : [candidates[i], candidates[j]];
      if (!needles.every((needle) => pair.some((byte) => needle.bytes.includes(byte)))) continue;
      const cost = pair.reduce((sum, byte) => sum + counts[byte], 0);
      if (cost < bestCost) [best, bestCost] = [pair, cost];
    }
  }
  if (!best) return; // More than two bytes needed: keep the defaults.
  for (const needle of needles) {
    const anchor = best.filter((byte) =>
      needle.bytes.includes(byte)
    ).sort((x, y) => counts[x] - counts[y])[0];
    needle.offset = needle.bytes.indexOf(anchor);
    needle.anchor = anchor;
  }
}

/** Whether some line of `block` is longer than `limit`, in about `length / limit` native searches. */
function hasLongLine(block: Uint8Array, limit: number): boolean {
  let lineStart = 0;
  while (block.length - lineStart > limit) {
    const newline = block.lastIndexOf(NEWLINE, lineStart + limit);
    if (newline < lineStart) return true;
    lineStart = newline + 1;
  }
  return false;
}

interface ByteNeedle {
  bytes: Uint8Array;
  /** Index in `bytes` of the anchor byte searched for. */
  offset: number;
  anchor: number;
}

/**
 * The start offsets, in order and without repeats, of the lines of `block`
 * that contain a needle. The anchor bytes are looked for four at a time in
 * 32-bit words with the "has zero byte" bit trick (a word w holds byte b
 * when (w ^ b*0x01010101) has a zero byte); Uint8Array.indexOf, the
 * obvious tool, ran at about a third of this speed here. A candidate is
 * then compared whole, and a match skips to the end of its line.
 */
export function lineStartsWithNeedles(block: Uint8Array, needles: readonly ByteNeedle[]): number[] {
  const starts: number[] = [];
  const anchors = [...new Set(needles.map((needle) => needle.anchor))];
  const patterns = anchors.map((anchor) => Math.imul(anchor, 0x01010101));
  const headLength = Math.min(block.length, (4 - (block.byteOffset & 3)) & 3);
  const wordCount = (block.length - headLength) >> 2;
  // Int32, not Uint32: every value stays a small integer for the JIT (Uint32 values above 2^31 become doubles).
  // A block shorter than its alignment has no words (and no aligned offset to view them at).
  const words = wordCount > 0
    ? new Int32Array(block.buffer, block.byteOffset + headLength, wordCount)
    : new Int32Array(0);
  const first = patterns[0];
  const second = patterns.length > 1 ? patterns[1] : first;
  const isTwoOrFewer = patterns.length <= 2;
  // (The word loop lives in its own small function: inlined in this one it ran at a third of the speed.)
  // Needles by anchor byte: one array lookup tells whether a byte is an anchor.
  const byByte: (ByteNeedle[] | undefined)[] = new Array(256).fill(undefined);
  for (const needle of needles) (byByte[needle.anchor] ??= []).push(needle);
  // The byte every needle anchored on a byte has right after its anchor (-1:
  // they differ, or none; -2: not an anchor): most anchor hits are rejected
  // by it inline, without a call.
  const follow = new Int16Array(256).fill(-2);
  for (const { bytes, offset, anchor } of needles) {
    const next = offset + 1 < bytes.length ? bytes[offset + 1] : -1;
    follow[anchor] = follow[anchor] === -2 || follow[anchor] === next ? next : -1;
  }
  let resumeAt = 0;
  for (let at = 0; at < headLength; at++) {
    if (at >= resumeAt && byByte[block[at]] !== undefined) {
      resumeAt = checkCandidate(block, byByte[block[at]]!, starts, at);
    }
  }
  for (let word = 0; word < wordCount; word++) {
    word = isTwoOrFewer ? nextCandidate(words, word, first, second) : nextCandidateAny(words, word, patterns);
    if (word < 0) break;
    const base = headLength + word * 4;
    for (let at = base; at < base + 4; at++) {
      const byte = block[at];
      const next = follow[byte];
      if (next === -2 || at < resumeAt || (next >= 0 && block[at + 1] !== next)) continue;
      resumeAt = checkCandidate(block, byByte[byte]!, starts, at);
    }
    if (resumeAt > base + 4) word = ((resumeAt - headLength) >> 2) - 1;
  }
  for (let at = headLength + wordCount * 4; at < block.length; at++) {
    if (at >= resumeAt && byByte[block[at]] !== undefined) {
      resumeAt = checkCandidate(block, byByte[block[at]]!, starts, at);
    }
  }
  return starts;
}

/**
 * The index of the first word from `from` holding byte pattern `first` or
 * `second` (each a byte times 0x01010101), or -1: a word w holds byte b
 * when w ^ b*0x01010101 has a zero byte.
 */
function nextCandidate(words: Int32Array, from: number, first: number, second: number): number {
  for (let word = from; word < words.length; word++) {
    const value = words[word];
    const a = value ^ first;
    const b = value ^ second;
    if ((((a - 0x01010101) & ~a) | ((b - 0x01010101) & ~b)) & 0x80808080) return word;
  }
  return -1;
}

/** `nextCandidate` for any number of patterns. */
function nextCandidateAny(words: Int32Array, from: number, patterns: readonly number[]): number {
  for (let word = from; word < words.length; word++) {
    const value = words[word];
    for (const pattern of patterns) {
      const mixed = value ^ pattern;
      if (((mixed - 0x01010101) & ~mixed & 0x80808080) !== 0) return word;
    }
  }
  return -1;
}

/** Compares the needles anchored on the byte at `at`; on a match records its line and returns the next line's start. */
function checkCandidate(
  block: Uint8Array,
  needles: readonly ByteNeedle[],
  starts: number[],
  at: number,
): number {
  for (let which = 0; which < needles.length; which++) {
    const needle = needles[which];
    const bytes = needle.bytes;
    const begin = at - needle.offset;
    const length = bytes.length;
    if (begin < 0 || begin + length > block.length) continue;
    let index = 0;
    while (index < length && block[begin + index] === bytes[index]) index++;
    if (index < length) continue;
    const lineStart = begin === 0 ? 0 : block.lastIndexOf(NEWLINE, begin - 1) + 1;
    if (starts.length === 0 || starts[starts.length - 1] !== lineStart) starts.push(lineStart);
    const lineEnd = block.indexOf(NEWLINE, at);
    return lineEnd < 0 ? block.length : lineEnd + 1;
  }
  return at + 1;
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
