/** repro.json: the reproducers a fuzz run found (seed, call range, minimized calls, the crash), written in the run bundle and read back by `sis fuzz replay`. */
import { isArch } from "../arch.ts";
import { UsageError } from "../errors.ts";

export const REPRO_KIND = "sis-fuzz-repro";

/** One arch's reproducer. */
export interface Reproducer {
  arch: string;
  /** The generator seed, decimal (a u64 does not fit a JSON number). */
  seed: string;
  /** Calls start..end (inclusive) of the seed in one process: the crash as found. */
  range: { start: number; end: number };
  /** The minimized calls (indices of the seed), in order; the range's when not minimized. */
  indices: number[];
  /** One readable line per call of `indices`. */
  listing: string[];
  crash: { kind: string; message: string; signature: string };
}

export interface ReproFile {
  schema: 1;
  kind: typeof REPRO_KIND;
  runId: string;
  /** Kernel Cargo features the crash needs (`fuzz-break` for the positive control). */
  features: string[];
  reproducers: Reproducer[];
}

const FIX = "pass the repro.json of a sis fuzz run (runs/<id>/repro.json)";

/** Parses and checks repro.json text; anything else is one UsageError line (exit 2). */
export function parseRepro(text: string, shown: string): ReproFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${shown} is not JSON (${(error as Error).message})`, { fix: FIX });
  }
  const bad = (why: string) => new UsageError(`${shown} is not a fuzz reproducer: ${why}`, { fix: FIX });
  const file = value as Partial<ReproFile>;
  if (typeof file !== "object" || file === null || Array.isArray(file)) throw bad("not a JSON object");
  if (file.kind !== REPRO_KIND) throw bad(`"kind" is not "${REPRO_KIND}"`);
  if (file.schema !== 1) throw bad(`unknown "schema" ${JSON.stringify(file.schema)} (this sis reads 1)`);
  if (!Array.isArray(file.features) || !file.features.every((f) => typeof f === "string")) {
    throw bad(`"features" is not a list of names`);
  }
  if (!Array.isArray(file.reproducers) || file.reproducers.length === 0) throw bad(`no "reproducers"`);
  file.reproducers.forEach((one: Partial<Reproducer>, at) => {
    const where = `reproducers[${at}]`;
    if (typeof one !== "object" || one === null) throw bad(`${where} is not an object`);
    if (typeof one.arch !== "string" || !isArch(one.arch)) {
      throw bad(`${where}.arch is not aarch64, riscv64 or x86_64`);
    }
    if (typeof one.seed !== "string" || !/^[0-9]+$/.test(one.seed) || BigInt(one.seed) >= 1n << 64n) {
      throw bad(`${where}.seed is not a decimal u64 string`);
    }
    if (
      !Array.isArray(one.indices) || one.indices.length === 0 ||
      !one.indices.every((index) => Number.isSafeInteger(index) && index >= 0)
    ) {
      throw bad(`${where}.indices is not a non-empty list of call indices`);
    }
    if (typeof one.crash !== "object" || one.crash === null || typeof one.crash.signature !== "string") {
      throw bad(`${where}.crash has no signature`);
    }
  });
  return file as ReproFile;
}
