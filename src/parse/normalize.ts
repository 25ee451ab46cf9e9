/** Turns log records into stable event templates: timestamps, durations, addresses, ids and other varying numbers become placeholders. */
import type { FieldValue, LogRecord } from "./log.ts";

/**
 * Two boots of the same kernel differ in every number (uptime, heap
 * addresses, byte counts, latencies) but not in which events happen and in
 * what order. A template keeps the level, subsystem, status and field
 * *names* and replaces varying values, recursively through nested objects
 * and arrays (the old check normalized only top-level JSON keys). `ts` is
 * dropped. Words stay: `errno=ENOSPC` and `arch=x86_64` are part of the
 * event, while `ram_bytes=536341504` becomes `ram_bytes=<num>`.
 */

const RULES: ReadonlyArray<[RegExp, string]> = [
  // ISO 8601 dates and times (build dates, wall clock).
  [/\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b/g, "<time>"],
  // UUIDs.
  [/\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g, "<uuid>"],
  // Addresses.
  [/\b0x[0-9a-fA-F]+\b/g, "<hex>"],
  // Durations with a unit.
  [/\b\d+(?:\.\d+)?\s?(?:ns|us|µs|ms|s|min|h)\b/g, "<dur>"],
  // Hex ids such as commit hashes: 7+ hex digits holding both a digit and a letter.
  [/\b(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{7,64}\b/g, "<id>"],
  // Any other number (integers, decimals, exponents).
  [/(?<![A-Za-z0-9_.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g, "<num>"],
];

/** Replaces the varying parts of a text. */
export function normalizeText(text: string): string {
  let out = text;
  for (const [pattern, placeholder] of RULES) out = out.replace(pattern, placeholder);
  return out;
}

/** Normalizes a field value: numbers become `<num>`, strings are normalized, nesting is kept. */
export function normalizeValue(value: FieldValue): FieldValue {
  if (typeof value === "number") return "<num>";
  if (typeof value === "string") return normalizeText(value);
  if (Array.isArray(value)) return value.map(normalizeValue);
  if (value !== null && typeof value === "object") {
    const out: Record<string, FieldValue> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = normalizeValue(inner);
    return out;
  }
  return value;
}

/** The template of a record: `LEVEL subsystem: status key=value…` with placeholders. */
export function recordTemplate(record: LogRecord): string {
  let text = `${record.level} ${record.subsystem}: ${normalizeText(record.status)}`;
  for (const [key, value] of Object.entries(record.fields)) {
    const normalized = normalizeValue(value);
    text += ` ${key}=${typeof normalized === "string" ? normalized : JSON.stringify(normalized)}`;
  }
  return text;
}
