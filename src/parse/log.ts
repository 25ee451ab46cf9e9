/** Kernel log records (docs/observability.md): classify one line, parse human and JSON records, format them back. */
import { match, P } from "ts-pattern";
import { z } from "zod";

/**
 * Every line of a kernel transcript is one of: a JSON record, a human
 * record, a framing marker, shell output, or a malformed record (something
 * that claims to be a record, `{...` or `[LEVEL] ...`, but does not parse
 * or does not match the schema). Classification never throws: a bad line
 * becomes a `malformed` value with a reason, which callers count and
 * report with its line number.
 */

/** Levels, least severe first, as the kernel names them. */
export const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"] as const;
export type Level = typeof LEVELS[number];

/** Severity rank of a level (TRACE 0 … FATAL 5). */
export function levelRank(level: Level): number {
  return LEVELS.indexOf(level);
}

/** Parses a level name in any letter case, as `logctl level` does. */
export function parseLevel(text: string): Level | undefined {
  const upper = text.toUpperCase();
  return (LEVELS as readonly string[]).includes(upper) ? upper as Level : undefined;
}

/** A field value as the kernel writes it: strings, integers, booleans; nested values only in panic records. */
export type FieldValue = string | number | boolean | null | FieldValue[] | { [key: string]: FieldValue };

/** One log record, from either format. */
export interface LogRecord {
  /** Microseconds since boot; human records carry none. */
  ts?: number;
  level: Level;
  subsystem: string;
  status: string;
  /** Extra fields in the order the kernel wrote them. */
  fields: Record<string, FieldValue>;
  format: "json" | "human";
}

/** The fixed keys of a JSON record (docs/observability.md: keys in this order). */
export const FIXED_KEYS = ["ts", "level", "subsystem", "status"] as const;

/** The JSON record schema: the four fixed keys, then any extra fields. */
export const jsonRecordSchema = z.looseObject({
  ts: z.number().int().nonnegative(),
  level: z.enum(LEVELS),
  subsystem: z.string(),
  status: z.string(),
});

/** The panic path's record (kernel/sis-kernel/src/panic.rs): level FATAL, subsystem panic. */
export interface PanicRecord {
  ts: number;
  level: "FATAL";
  subsystem: "panic";
  status: string;
  message: string;
  location: string | null;
  arch: string;
  registers: Record<string, string>;
  backtrace: string[];
  /** Fields a newer kernel adds. */
  [key: string]: unknown;
}

/** The schema of {@link PanicRecord} (typed explicitly: the library's public types must not be inferred). */
export const panicRecordSchema: z.ZodType<PanicRecord> = z.looseObject({
  ts: z.number().int().nonnegative(),
  level: z.literal("FATAL"),
  subsystem: z.literal("panic"),
  status: z.string(),
  message: z.string(),
  location: z.string().nullable(),
  arch: z.string(),
  registers: z.record(z.string(), z.string().regex(/^0x[0-9a-f]+$/i)),
  backtrace: z.array(z.string().regex(/^0x[0-9a-f]+$/i)),
});

/** What one line is. */
export type LogLine =
  | { kind: "record"; record: LogRecord; /** Set for the panic path's JSON record. */ panic?: PanicRecord }
  | { kind: "marker"; name: string; text: string }
  | { kind: "malformed"; reason: string; text: string }
  | { kind: "output"; text: string };

/** Framing prefix of a log record in machine mode (docs/PROTOCOL.md). */
export const LOG_PREFIX = "\x01sis:log ";

const HUMAN_HEAD = /^\[([A-Za-z]+)\] ([^\s:]+): ?/;
const FIELD_KEY = /^[A-Za-z_][A-Za-z0-9_.\-]*$/;

/** Classifies one line (without its line ending). Never throws. */
export function classifyLine(line: string): LogLine {
  let text = line.endsWith("\r") ? line.slice(0, -1) : line;
  if (text.startsWith(LOG_PREFIX)) text = text.slice(LOG_PREFIX.length);
  else if (text.charCodeAt(0) === 1) {
    const space = text.indexOf(" ");
    return { kind: "marker", name: text.slice(1, space < 0 ? undefined : space), text };
  }
  const first = text.charCodeAt(0);
  if (first === 0x7b /* { */) return classifyJson(text);
  if (first === 0x5b /* [ */) {
    const head = HUMAN_HEAD.exec(text);
    if (head) {
      const level = parseLevel(head[1]);
      if (level === undefined || head[1] !== level) {
        return { kind: "malformed", reason: `unknown level "${head[1]}"`, text };
      }
      return parseHumanBody(level, head[2], text.slice(head[0].length), text);
    }
    if (/^\[(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\]/.test(text)) {
      return { kind: "malformed", reason: "human record without `subsystem: `", text };
    }
  }
  return { kind: "output", text };
}

function classifyJson(text: string): LogLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: "malformed", reason: `invalid JSON: ${(error as Error).message}`, text };
  }
  // The common case, checked by hand: exactly what `jsonRecordSchema`
  // accepts (a property test holds the two to the same verdicts), at a
  // fraction of zod's cost per line. Everything else goes through
  // ts-pattern and zod, which also say what is wrong.
  if (isOrdinaryRecord(value)) return { kind: "record", record: toRecord(value) };
  // ts-pattern dispatches on the record's shape: the panic record has a
  // stricter schema than an ordinary record, and a non-object is output.
  return match(value)
    .with({ level: "FATAL", subsystem: "panic" }, (candidate): LogLine => {
      const panic = panicRecordSchema.safeParse(candidate);
      if (!panic.success) return malformedFromZod(panic.error, text, "panic record");
      return { kind: "record", record: toRecord(panic.data), panic: panic.data };
    })
    .with({ level: P.string }, (candidate): LogLine => {
      const record = jsonRecordSchema.safeParse(candidate);
      if (!record.success) return malformedFromZod(record.error, text, "log record");
      return { kind: "record", record: toRecord(record.data) };
    })
    .with(
      { level: P.nonNullable },
      (): LogLine => ({ kind: "malformed", reason: "log record: level: not a string", text }),
    )
    // Valid JSON that is not a record (a command's JSON output, such as
    // `version --json` or `metricsctl --format json`) is output, not an error.
    .otherwise((): LogLine => ({ kind: "output", text }));
}

const LEVEL_SET: ReadonlySet<string> = new Set(LEVELS);

/** True when `jsonRecordSchema` accepts `value` and it is not the panic record. */
export function isOrdinaryRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  const ts = record.ts;
  return typeof ts === "number" && Number.isSafeInteger(ts) && ts >= 0 &&
    typeof record.level === "string" && LEVEL_SET.has(record.level) &&
    typeof record.subsystem === "string" && typeof record.status === "string" &&
    !(record.level === "FATAL" && record.subsystem === "panic");
}

function malformedFromZod(error: z.ZodError, text: string, what: string): LogLine {
  const issue = error.issues[0];
  const path = issue.path.map(String).join(".") || "(top level)";
  return { kind: "malformed", reason: `${what}: ${path}: ${issue.message}`, text };
}

function toRecord(data: Record<string, unknown>): LogRecord {
  const fields: Record<string, FieldValue> = {};
  for (const key in data) {
    if (key === "ts" || key === "level" || key === "subsystem" || key === "status") continue;
    // A "__proto__" key from JSON is data, not the prototype.
    if (key === "__proto__") {
      Object.defineProperty(fields, key, {
        value: data[key],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else fields[key] = data[key] as FieldValue;
  }
  return {
    ts: data.ts as number,
    level: data.level as Level,
    subsystem: data.subsystem as string,
    status: data.status as string,
    fields,
    format: "json",
  };
}

/**
 * Splits `status key=value ...` of a human record. The status runs up to
 * the first token shaped `key=`; what follows must be logfmt fields with
 * the kernel's quoting (escape.rs: `\"`, `\\`, `\xNN`, `\u{NNNN}`).
 */
function parseHumanBody(level: Level, subsystem: string, body: string, text: string): LogLine {
  const fields: Record<string, FieldValue> = {};
  let fieldStart = body.length;
  let position = 0;
  // The fields start at the first space-separated token shaped `key=`.
  for (;;) {
    const eq = body.indexOf("=", position);
    const space = body.indexOf(" ", position);
    if (eq > position && (space < 0 || eq < space) && FIELD_KEY.test(body.slice(position, eq))) {
      fieldStart = position;
      break;
    }
    if (space < 0) break;
    position = space + 1;
  }
  const status = fieldStart === body.length ? body : body.slice(0, Math.max(0, fieldStart - 1));
  let cursor = fieldStart;
  while (cursor < body.length) {
    const eq = body.indexOf("=", cursor);
    if (eq < 0) return { kind: "malformed", reason: `field without "=" at column ${cursor + 1}`, text };
    const key = body.slice(cursor, eq);
    if (!FIELD_KEY.test(key)) return { kind: "malformed", reason: `bad field key "${key}"`, text };
    const parsed = readHumanValue(body, eq + 1);
    if (typeof parsed === "string") return { kind: "malformed", reason: parsed, text };
    fields[key] = parsed.value;
    cursor = parsed.end;
    if (cursor < body.length) {
      if (body[cursor] !== " ") {
        return { kind: "malformed", reason: `expected a space after field "${key}"`, text };
      }
      cursor++;
    }
  }
  return { kind: "record", record: { level, subsystem, status, fields, format: "human" } };
}

/** Reads one human field value at `start`; returns it with the index after it, or a reason. */
function readHumanValue(body: string, start: number): { value: FieldValue; end: number } | string {
  if (body[start] !== '"') {
    let end = body.indexOf(" ", start);
    if (end < 0) end = body.length;
    return { value: humanScalar(body.slice(start, end)), end };
  }
  let value = "";
  let index = start + 1;
  while (index < body.length) {
    const char = body[index];
    if (char === '"') return { value, end: index + 1 };
    if (char !== "\\") {
      value += char;
      index++;
      continue;
    }
    const next = body[index + 1];
    if (next === "x") {
      const hex = body.slice(index + 2, index + 4);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return `bad \\x escape at column ${index + 1}`;
      value += String.fromCharCode(parseInt(hex, 16));
      index += 4;
    } else if (next === "u") {
      const close = body.indexOf("}", index);
      const hex = close > 0 ? body.slice(index + 3, close) : "";
      if (body[index + 2] !== "{" || !/^[0-9a-fA-F]{1,6}$/.test(hex) || parseInt(hex, 16) > 0x10ffff) {
        return `bad \\u{…} escape at column ${index + 1}`;
      }
      value += String.fromCodePoint(parseInt(hex, 16));
      index = close + 1;
    } else if (next === '"' || next === "\\") {
      value += next;
      index += 2;
    } else {
      return `bad escape at column ${index + 1}`;
    }
  }
  return "unterminated quoted value";
}

/** An unquoted human value: integers and booleans as the kernel's Display writes them, else text. */
function humanScalar(text: string): FieldValue {
  if (/^-?(0|[1-9]\d{0,15})$/.test(text)) return Number(text);
  if (text === "true") return true;
  if (text === "false") return false;
  return text;
}

/** Writes a record as one JSON line, fixed keys first (the kernel's order). */
export function formatJsonRecord(record: LogRecord): string {
  const out: Record<string, unknown> = {};
  if (record.ts !== undefined) out.ts = record.ts;
  out.level = record.level;
  out.subsystem = record.subsystem;
  out.status = record.status;
  for (const [key, value] of Object.entries(record.fields)) out[key] = value;
  return JSON.stringify(out);
}

/** Writes a record in the kernel's human format (escape.rs rules for values). */
export function formatHumanRecord(record: LogRecord): string {
  let line = `[${record.level}] ${record.subsystem}: ${record.status}`;
  for (const [key, value] of Object.entries(record.fields)) line += ` ${key}=${formatHumanValue(value)}`;
  return line;
}

function formatHumanValue(value: FieldValue): string {
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const text = typeof value === "string" ? value : JSON.stringify(value);
  const isQuoted = text === "" || /[ "=\\\p{Cc}]/u.test(text) || text === "true" || text === "false" ||
    /^-?(0|[1-9]\d{0,15})$/.test(text);
  let body = "";
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f) body += `\\x${code.toString(16).padStart(2, "0")}`;
    else if (code >= 0x80 && code <= 0x9f) body += `\\u{${code.toString(16).padStart(4, "0")}}`;
    else if (isQuoted && (char === '"' || char === "\\")) body += "\\" + char;
    else body += char;
  }
  return isQuoted ? `"${body}"` : body;
}
