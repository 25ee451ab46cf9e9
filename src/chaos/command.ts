/** The work behind `sis chaos run|matrix|replay`: plans cells, ensures chaos kernels, runs, reports (terminal, JSON, JUnit, GitHub). */
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import pc from "picocolors";
import { type Arch, expandArch, isArch } from "../arch.ts";
import type { ChaosOptions } from "../commands/chaos.ts";
import type { CommandContext } from "../context.ts";
import { FailedError, UsageError } from "../errors.ts";
import { loadSettings, selectConfigs } from "../qemu/config.ts";
import { installSignalTeardown } from "../qemu/machine.ts";
import { annotations, stepSummary } from "../report/github.ts";
import { toJunitXml } from "../report/junit.ts";
import { RunBundle } from "../runs/bundle.ts";
import { systemProbe } from "../toolchain/probe.ts";
import { findProjectRoot } from "../toolchain/project.ts";
import { DEFAULT_CONFIDENCE } from "./binomial.ts";
import { ensureChaosKernels } from "./kernels.ts";
import { CHAOS_MODES, type ChaosMode, isChaosMode } from "./modes.ts";
import type { Injection } from "./records.ts";
import {
  type CellResult,
  chaosExitCode,
  type ChaosResults,
  summarizeCells,
  toRunResults,
} from "./results.ts";
import { type CellSpec, runCells } from "./run.ts";
import { cellLine, chaosTable, type Palette, PLAIN } from "./table.ts";
import { type CellPlan, DEFAULT_OPS, parseSeed, planCell } from "./workload.ts";

const DEFAULT_TIMEOUT_MS = 10_000;

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

export async function runChaosCommand(options: ChaosOptions, context: CommandContext): Promise<number> {
  const root = await findProjectRoot(context.cwd, context.env, systemProbe);
  const settings = await loadSettings(root);
  const configs = selectConfigs(settings, options.config);
  if (configs.length !== 1) {
    throw new UsageError(`--config must name one config for sis chaos, not "${options.config}"`);
  }
  const config = configs[0];

  let specs: CellSpec[];
  let recorded: Map<string, Injection[]> | undefined;
  let replayOf: string | undefined;
  let recordedKernels: Record<string, string> | undefined;
  if (options.action === "replay") {
    const loaded = await loadRecordedRun(resolve(context.cwd, options.bundle), options.cell);
    specs = loaded.specs;
    recorded = loaded.recorded;
    replayOf = loaded.runId;
    recordedKernels = loaded.kernels;
  } else {
    const seed = resolveSeed(options.seed);
    const modes = options.action === "run" ? [options.mode] : parseModes(options.modes);
    const rates = options.action === "run" ? [options.rate] : parseRates(options.rates);
    specs = [];
    for (const arch of expandArch(options.arch)) {
      for (const mode of modes) {
        for (const rate of rates) {
          const plan = planCell({
            mode,
            ratePercent: rate,
            seed,
            ops: options.ops ?? DEFAULT_OPS,
            delayUs: options.delayUs,
          });
          specs.push({ arch, plan });
        }
      }
    }
  }

  const arches = [...new Set(specs.map((spec) => spec.arch))];
  const kernels = await ensureChaosKernels(root, arches, context, { reuse: options.noBuild });
  for (const [arch, sha256] of Object.entries(recordedKernels ?? {})) {
    if (kernels[arch] && kernels[arch].sha256 !== sha256) {
      context.stderr.write(
        `sis: note: the ${arch} chaos kernel differs from the recorded run's (sha256 ${
          sha256.slice(0, 12)
        } then, ` +
          `${kernels[arch].sha256.slice(0, 12)} now): a different sequence may come from the kernel change\n`,
      );
    }
  }
  const firstSeed = specs[0]?.plan.seed ?? "0";
  const bundle = await RunBundle.create(join(root, "runs"), {
    kind: "chaos",
    sisVersion: "0.1.0",
    deno: Deno.version.deno,
    argv: ["sis", "chaos", ...rebuildArgv(options)],
    cwd: context.cwd,
    // The manifest's numeric seed field; the exact u64 is chaos.seed and each cell's plan.json.
    seed: Number(firstSeed),
    chaos: { seed: firstSeed, replayOf, cells: specs.map((spec) => ({ arch: spec.arch, plan: spec.plan })) },
    arches,
    configs: [{ ...config }],
    kernels,
  });
  const palette: Palette = context.color
    ? { green: pc.green, red: pc.red, yellow: pc.yellow, dim: pc.dim }
    : PLAIN;
  context.stderr.write(
    `sis: chaos ${options.action} ${bundle.id}: ${specs.length} cell(s), seed ${firstSeed}, bundle ${bundle.dir}\n`,
  );
  const removeSignals = installSignalTeardown((signal) => {
    context.stderr.write(`sis: ${signal}: QEMU stopped; partial results in ${bundle.dir}\n`);
    Deno.exit(signal === "SIGINT" ? 130 : 143);
  });
  const started = performance.now();
  try {
    const cells: CellResult[] = await runCells(specs, {
      kernels,
      qemuBinaries: settings.qemuBinaries,
      config,
      bootTimeoutMs: options.bootTimeoutMs ?? settings.bootTimeoutMs ?? DEFAULT_TIMEOUT_MS,
      commandTimeoutMs: options.timeoutMs ?? settings.commandTimeoutMs ?? DEFAULT_TIMEOUT_MS,
      bundle,
      parallel: options.jobs ?? navigator.hardwareConcurrency ?? 2,
      confidence: DEFAULT_CONFIDENCE,
      recorded,
      onCell: (cell) => context.stdout.write(cellLine(cell, palette) + "\n"),
    });
    const results: ChaosResults = {
      schema: 1,
      kind: "chaos",
      runId: bundle.id,
      startedAt: bundle.manifest.startedAt,
      durationMs: Math.round(performance.now() - started),
      confidence: DEFAULT_CONFIDENCE,
      cells,
      summary: summarizeCells(cells),
    };
    await bundle.writeResults(results);
    context.stdout.write("\n" + chaosTable(results, palette));
    if (recorded) {
      const matched = cells.filter((cell) => cell.replay?.matched).length;
      context.stdout.write(
        `replay of ${replayOf}: ${matched} of ${cells.length} cell(s) replayed the recorded injection sequence\n`,
      );
    }
    if (options.json) {
      await writeFile(resolve(context.cwd, options.json), JSON.stringify(results, null, 2) + "\n");
    }
    const asRun = toRunResults(results);
    if (options.junit) await writeFile(resolve(context.cwd, options.junit), toJunitXml(asRun));
    if (context.env.GITHUB_ACTIONS === "true") {
      for (const line of annotations(asRun)) context.stdout.write(line + "\n");
      if (context.env.GITHUB_STEP_SUMMARY) {
        await writeFile(context.env.GITHUB_STEP_SUMMARY, stepSummary(asRun), { flag: "a" });
      }
    }
    return chaosExitCode(results.summary);
  } finally {
    removeSignals();
  }
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
      throw new FailedError(`Cannot replay ${dir}: ${path}: ${why}`, {
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

/** The options as argv, for the run manifest. */
function rebuildArgv(options: ChaosOptions): string[] {
  const argv: string[] = [options.action];
  if (options.action === "run") {
    argv.push(options.mode, "--rate", String(options.rate), "--arch", options.arch);
  }
  if (options.action === "matrix") {
    argv.push("--modes", options.modes, "--rates", options.rates, "--arch", options.arch);
  }
  if (options.action === "replay") argv.push(options.bundle);
  if (options.action !== "replay") {
    argv.push("--seed", options.seed);
    if (options.ops !== undefined) argv.push("--ops", String(options.ops));
    if (options.delayUs !== undefined) argv.push("--delay-us", String(options.delayUs));
  }
  argv.push("--config", options.config);
  return argv;
}
