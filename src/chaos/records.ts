/** Parsers for what the kernel prints about chaos: injection log records, `chaos stats --json`, `cksum`. */
import { CHAOS_MODES, type ChaosMode } from "./modes.ts";

/** One logged injection, without its timestamp (which differs between boots). */
export interface Injection {
  mode: string;
  point: string;
  effect: string;
  /** Errno name for a failure; absent for a delay or a panic. */
  errno?: string;
  /** For slow_io, the delay injected. */
  delayUs?: number;
  /** The generator draw that fired, since seeding. */
  check: number;
  /** The injection's number since seeding, from 1. */
  seq: number;
}

/**
 * Reads an injection record from a log line: the JSON form
 * (`{"subsystem":"chaos","status":"injected",...}`, what `logctl json` gives)
 * or the human one (`[WARN] chaos: injected mode=... seq=1`). Anything else,
 * including other chaos records, gives undefined.
 */
export function parseInjection(text: string, record?: unknown): Injection | undefined {
  let fields: Record<string, unknown> | undefined;
  if (record && typeof record === "object") fields = record as Record<string, unknown>;
  else if (text.trimStart().startsWith("{")) {
    try {
      const value = JSON.parse(text);
      if (value && typeof value === "object") fields = value;
    } catch {
      return undefined;
    }
  } else {
    const human = /^\[[A-Z]+\] chaos: injected (.*)$/.exec(text.trim());
    if (!human) return undefined;
    fields = { subsystem: "chaos", status: "injected" };
    for (const pair of human[1].split(/\s+/)) {
      const equals = pair.indexOf("=");
      if (equals > 0) fields[pair.slice(0, equals)] = pair.slice(equals + 1);
    }
  }
  if (!fields || fields.subsystem !== "chaos" || fields.status !== "injected") return undefined;
  const check = Number(fields.check);
  const seq = Number(fields.seq);
  if (typeof fields.mode !== "string" || typeof fields.point !== "string") return undefined;
  if (!Number.isSafeInteger(check) || !Number.isSafeInteger(seq)) return undefined;
  const injection: Injection = {
    mode: fields.mode,
    point: fields.point,
    effect: typeof fields.effect === "string" ? fields.effect : "",
    check,
    seq,
  };
  if (typeof fields.errno === "string") injection.errno = fields.errno;
  if (fields.delay_us !== undefined && Number.isFinite(Number(fields.delay_us))) {
    injection.delayUs = Number(fields.delay_us);
  }
  return injection;
}

/** Checks and injections of one mode. */
export interface ModeCounters {
  checks: number;
  injections: number;
}

/** `chaos stats --json`, read. */
export interface ChaosStats {
  mode: string;
  rate: number;
  /** Decimal text, read from the raw line so a u64 above 2^53 stays exact. */
  seed: string;
  delayUs: number;
  contended: number;
  modes: Record<ChaosMode, ModeCounters>;
}

/** Parses the one JSON line of `chaos stats --json`; throws an Error naming what is wrong. */
export function parseStats(lines: readonly string[]): ChaosStats {
  const line = lines.find((candidate) => candidate.trimStart().startsWith("{"));
  if (line === undefined) {
    throw new Error(`chaos stats --json printed no JSON object: ${JSON.stringify(lines)}`);
  }
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new Error(`chaos stats --json is not valid JSON (${(error as Error).message}): ${line}`);
  }
  const count = (name: string, from: Record<string, unknown>) => {
    const number = from[name];
    if (typeof number !== "number" || !Number.isSafeInteger(number) || number < 0) {
      throw new Error(`chaos stats --json: "${name}" is not a count: ${JSON.stringify(number)}`);
    }
    return number;
  };
  if (typeof value.mode !== "string") throw new Error(`chaos stats --json: no "mode": ${line}`);
  const seed = /"seed"\s*:\s*(\d+)/.exec(line)?.[1];
  if (seed === undefined) throw new Error(`chaos stats --json: no numeric "seed": ${line}`);
  const perMode = value.modes;
  if (!perMode || typeof perMode !== "object") throw new Error(`chaos stats --json: no "modes": ${line}`);
  const modes = {} as Record<ChaosMode, ModeCounters>;
  for (const mode of CHAOS_MODES) {
    const entry = (perMode as Record<string, unknown>)[mode];
    if (!entry || typeof entry !== "object") throw new Error(`chaos stats --json: no counters for ${mode}`);
    modes[mode] = {
      checks: count("checks", entry as Record<string, unknown>),
      injections: count("injections", entry as Record<string, unknown>),
    };
  }
  return {
    mode: value.mode,
    rate: count("rate", value),
    seed: BigInt(seed).toString(),
    delayUs: count("delay_us", value),
    contended: count("contended", value),
    modes,
  };
}

/**
 * The checksum part of `cksum <path>`'s output. The whole output is what is
 * compared (checksum and size), so the format may change without breaking
 * the check; this only refuses an empty answer.
 */
export function cksumValue(lines: readonly string[]): string | undefined {
  const text = lines.map((line) => line.trim()).filter((line) => line !== "").join(" ");
  return text === "" ? undefined : text;
}

/**
 * `name value` counters from a device's stats output (`net stats` prints
 * `tx_packets 3`, `tx_bytes 300`, ...). Lines of another shape are skipped.
 */
export function parseCounters(lines: readonly string[]): Record<string, number> {
  const counters: Record<string, number> = {};
  for (const line of lines) {
    const match = /^\s*([a-z_]+)[ =:]+(\d+)\s*$/.exec(line);
    if (match) counters[match[1]] = Number(match[2]);
  }
  return counters;
}
