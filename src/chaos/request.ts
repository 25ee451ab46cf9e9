/** What a `sis chaos` request means: modes, rates and seed parsed, the cell plan, and the cells of a recorded run to replay. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type Arch, isArch } from "../arch.ts";
import { UsageError } from "../errors.ts";
import { CHAOS_MODES, type ChaosMode, isChaosMode } from "./modes.ts";
import type { Injection } from "./records.ts";
import type { CellSpec } from "./run.ts";
import { defaultOps } from "./power.ts";
import { type CellPlan, parseSeed, planCell } from "./workload.ts";

/** `--modes a,b` or `all`. */
export function parseModes(text: string): ChaosMode[] {
  if (text.trim() === "all") return [...CHAOS_MODES];
  const modes = text.split(",").map((mode) => mode.trim()).filter((mode) => mode !== "");
  if (modes.length === 0) throw new UsageError(`--modes is empty (valid: all, ${CHAOS_MODES.join(", ")})`);
  for (const mode of modes) {
    if (!isChaosMode(mode)) {
      throw new UsageError(`Unknown chaos mode "${mode}" (valid: ${CHAOS_MODES.join(", ")})`);
    }
  }
  return [...new Set(modes as ChaosMode[])];
}

/** `--rates 10,30,100`: whole percents 0-100. */
export function parseRates(text: string): number[] {
  const rates = text.split(",").map((rate) => rate.trim()).filter((rate) => rate !== "");
  if (rates.length === 0) throw new UsageError("--rates is empty (for example --rates 10,30,100)");
  return [
    ...new Set(rates.map((rate) => {
      if (!/^\d{1,3}$/.test(rate) || Number(rate) > 100) {
        throw new UsageError(`Bad rate "${rate}" in --rates: a whole percent 0-100`);
      }
      return Number(rate);
    })),
  ];
}

/** `--seed`: a u64 (decimal or 0x hex), or `random` for a fresh one (printed, so the run can be repeated). */
export function resolveSeed(text: string): string {
  if (text === "random") {
    const words = crypto.getRandomValues(new Uint32Array(2));
    return ((BigInt(words[0]) << 32n) | BigInt(words[1])).toString();
  }
  const seed = parseSeed(text);
  if (seed === undefined) {
    throw new UsageError(`Bad --seed "${text}": a u64 in decimal or 0x hex, or "random"`);
  }
  return seed;
}

/** Reads an earlier chaos run's bundle: each cell's plan and its recorded injection sequence. */
export async function loadRecordedRun(
  dir: string,
  only?: string,
): Promise<
  { runId: string; specs: CellSpec[]; recorded: Map<string, Injection[]>; kernels: Record<string, string> }
> {
  const readJson = async (path: string) => {
    try {
      return JSON.parse(await readFile(path, "utf8"));
    } catch (error) {
      const why = (error as { code?: string }).code === "ENOENT" ? "missing" : (error as Error).message;
      throw new UsageError(`Cannot replay ${dir}: ${path}: ${why}`, {
        fix: "pass the runs/<id> folder of a finished 'sis chaos run' or 'sis chaos matrix'",
      });
    }
  };
  const manifest = await readJson(join(dir, "manifest.json"));
  if (manifest?.kind !== "chaos" || !Array.isArray(manifest.jobs)) {
    throw new UsageError(`${dir} is not a chaos run bundle (its manifest has no "kind": "chaos")`);
  }
  const specs: CellSpec[] = [];
  const recorded = new Map<string, Injection[]>();
  for (const job of manifest.jobs as { name: string; arch: string }[]) {
    if (only !== undefined && job.name !== only) continue;
    if (!isArch(job.arch)) throw new UsageError(`${dir}: cell ${job.name} has unknown arch "${job.arch}"`);
    const plan: CellPlan = await readJson(join(dir, job.name, "plan.json"));
    const result = await readJson(join(dir, job.name, "result.json"));
    if (plan?.schema !== 1 || !isChaosMode(plan.mode) || !Array.isArray(plan.ops)) {
      throw new UsageError(`${dir}/${job.name}/plan.json is not a chaos plan of schema 1`);
    }
    if (!Array.isArray(result?.summary?.sequence)) {
      throw new UsageError(`${dir}/${job.name}/result.json has no recorded injection sequence`);
    }
    specs.push({ arch: job.arch as Arch, plan });
    recorded.set(job.name, result.summary.sequence);
  }
  if (specs.length === 0) {
    throw new UsageError(only ? `${dir} has no cell "${only}"` : `${dir} has no cells to replay`);
  }
  const kernels: Record<string, string> = {};
  for (const [arch, kernel] of Object.entries(manifest.kernels ?? {})) {
    const sha256 = (kernel as { sha256?: unknown })?.sha256;
    if (typeof sha256 === "string") kernels[arch] = sha256;
  }
  return { runId: manifest.id ?? dir, specs, recorded, kernels };
}

/** Every cell of `arches × modes × rates`, in the engine's stable order (arch, mode, rate). */
export function planCells(
  arches: readonly Arch[],
  modes: readonly ChaosMode[],
  rates: readonly number[],
  workload: { seed: string; ops?: number; delayUs?: number },
): CellSpec[] {
  const specs: CellSpec[] = [];
  for (const arch of arches) {
    for (const mode of modes) {
      for (const rate of rates) {
        const plan = planCell({
          mode,
          ratePercent: rate,
          seed: workload.seed,
          // Enough checks that a generator at 2/3 or 3/2 of the rate is caught (src/chaos/power.ts).
          ops: workload.ops ?? defaultOps(rate),
          delayUs: workload.delayUs,
        });
        specs.push({ arch, plan });
      }
    }
  }
  return specs;
}
