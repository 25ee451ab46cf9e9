/** `sis report merge`: reads the results of shards, archs and configs (results.json files or run bundles) and merges them into one run. */
import { readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { CommandContext } from "../context.ts";
import { z } from "zod";
import { ARCHES } from "../arch.ts";
import { UsageError } from "../errors.ts";
import { annotations, escapeData, stepSummary } from "./github.ts";
import { toJunitXml } from "./junit.ts";
import { type JobResult, runExitCode, type RunResults, summarize } from "./results.ts";

const stepSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  command: z.string(),
  status: z.enum(["passed", "failed", "skipped", "pending"]),
  durationMs: z.number(),
  messages: z.array(z.string()),
  output: z.array(z.string()),
  exitStatus: z.number().optional(),
  location: z.object({ file: z.string(), line: z.number().int().positive() }).optional(),
});

const jobSchema = z.looseObject({
  name: z.string().min(1),
  arch: z.string(),
  config: z.string(),
  suite: z.string(),
  status: z.enum(["passed", "failed", "pending", "error", "interrupted"]),
  bootMs: z.number().optional(),
  durationMs: z.number(),
  steps: z.array(stepSchema),
  kernel: z.looseObject({
    kind: z.enum(["panic", "hang", "exited", "boot", "interrupted"]),
    message: z.string(),
  }).optional(),
});

/**
 * What `sis test --json` and a bundle's results.json hold (src/report/results.ts).
 * Loose objects: fields added later pass through a merge untouched.
 */
export const runResultsSchema = z.looseObject({
  schema: z.literal(1),
  runId: z.string().min(1),
  startedAt: z.iso.datetime(),
  durationMs: z.number().nonnegative(),
  jobs: z.array(jobSchema),
  shard: z.string().regex(/^\d+\/\d+$/).optional(),
});

/** One results file as read, with where it came from. */
export interface ResultsInput {
  readonly source: string;
  readonly results: RunResults;
}

/** The merged run: a normal {@link RunResults} plus the runs it came from and why it is incomplete, if it is. */
export interface MergedResults extends RunResults {
  merged: {
    runs: { runId: string; source: string; jobs: number; shard?: string }[];
    /** Reasons the merge is not the whole run: a missing shard, an interrupted run. Each fails the merge. */
    incomplete: string[];
  };
}

/**
 * Why a set of runs cannot be a whole: shards come in sets (each arch ×
 * config of a matrix has shards 1..N), so every index of a count N must
 * appear equally often; and an interrupted run did not finish its jobs.
 */
function incompleteness(runs: readonly RunResults[]): string[] {
  const reasons: string[] = [];
  const seen = new Map<number, Map<number, number>>();
  for (const run of runs) {
    if (!run.shard) continue;
    const [index, count] = run.shard.split("/").map(Number);
    const counts = seen.get(count) ?? new Map<number, number>();
    counts.set(index, (counts.get(index) ?? 0) + 1);
    seen.set(count, counts);
  }
  for (const [count, counts] of seen) {
    const most = Math.max(...counts.values());
    for (let index = 1; index <= count; index++) {
      const found = counts.get(index) ?? 0;
      if (found < most) {
        reasons.push(`shard ${index}/${count}: ${found} result(s), other shards have ${most}`);
      }
    }
  }
  for (const run of runs) {
    if (run.interrupted) reasons.push(`run ${run.runId} was stopped by ${run.interrupted}`);
  }
  return reasons;
}

/** Parses one results.json text; a bad file is a usage error naming it and the field. */
export function parseResults(text: string, source: string): RunResults {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${source}: not JSON: ${(error as Error).message}`);
  }
  const parsed = runResultsSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path.length ? issue.path.map(String).join(".") : "(top level)";
    throw new UsageError(`${source}: not sis results: ${path}: ${issue.message}`, {
      fix: "pass the results.json of `sis test --json` or a run bundle folder (runs/<id>/)",
    });
  }
  return { ...(parsed.data as unknown as RunResults), summary: summarize(parsed.data.jobs as JobResult[]) };
}

/**
 * Reads the results a path names: a results file; a run bundle (a folder
 * holding results.json); or a folder of those, searched recursively, as
 * `actions/download-artifact` lays them out. A folder with none is an error.
 */
export async function readResults(path: string): Promise<ResultsInput[]> {
  const info = await stat(path).catch((error: Error) => {
    throw new UsageError(`cannot read ${path}: ${error.message}`);
  });
  const read = async (file: string): Promise<ResultsInput> => {
    const text = await readFile(file, "utf8").catch((error: Error) => {
      throw new UsageError(`cannot read ${file}: ${error.message}`);
    });
    return { source: file, results: parseResults(text, file) };
  };
  if (!info.isDirectory()) return [await read(path)];
  const bundleFile = join(path, "results.json");
  if (await stat(bundleFile).then((found) => found.isFile(), () => false)) return [await read(bundleFile)];
  const entries = await readdir(path, { recursive: true });
  const files = entries.filter((entry) => entry.endsWith(".json")).map((entry) => join(path, entry)).sort();
  const inputs: ResultsInput[] = [];
  for (const file of files) {
    // Other JSON files (a bundle's manifest.json, events) are not results: skip them by shape.
    const text = await readFile(file, "utf8").catch(() => "");
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      continue;
    }
    if (typeof data === "object" && data !== null && "schema" in data && "jobs" in data) {
      inputs.push({ source: file, results: parseResults(text, file) });
    }
  }
  if (inputs.length === 0) {
    throw new UsageError(`${path} holds no sis results (no results.json and no --json output inside)`);
  }
  return inputs;
}

/** Orders jobs as `sis test` plans them: arch (aarch64, riscv64, x86_64), then config, then suite. */
function jobOrder(a: JobResult, b: JobResult): number {
  const arch = ARCHES.indexOf(a.arch as typeof ARCHES[number]) -
    ARCHES.indexOf(b.arch as typeof ARCHES[number]);
  return arch || a.config.localeCompare(b.config) || a.suite.localeCompare(b.suite) ||
    a.name.localeCompare(b.name);
}

/**
 * Merges runs into one. The same run read twice (its bundle and its --json
 * copy) counts once; the same job in two different runs is an error, since
 * shards of one run never overlap and a merged report must not count a job
 * twice. The merged run spans the earliest start to the latest end.
 */
export function mergeResults(inputs: readonly ResultsInput[]): MergedResults {
  if (inputs.length === 0) throw new UsageError("nothing to merge: give results.json files or run bundles");
  const runs = new Map<string, ResultsInput>();
  for (const input of inputs) {
    if (!runs.has(input.results.runId)) runs.set(input.results.runId, input);
  }
  const owner = new Map<string, string>();
  const jobs: JobResult[] = [];
  let start = Infinity;
  let end = -Infinity;
  for (const { source, results } of runs.values()) {
    for (const job of results.jobs) {
      const earlier = owner.get(job.name);
      if (earlier !== undefined) {
        throw new UsageError(`job ${job.name} is in both ${earlier} and ${source}`, {
          fix: "merge the shards of one run (each job once), not overlapping runs",
        });
      }
      owner.set(job.name, source);
      jobs.push(job);
    }
    const started = Date.parse(results.startedAt);
    start = Math.min(start, started);
    end = Math.max(end, started + results.durationMs);
  }
  jobs.sort(jobOrder);
  const runIds = [...runs.keys()].sort();
  const all = [...runs.values()].map((input) => input.results);
  const kinds = new Set(all.map((results) => results.kind ?? "test"));
  const kernels = Object.assign({}, ...all.map((results) => results.kernels ?? {}));
  return {
    schema: 1,
    ...(kinds.size === 1 ? { kind: [...kinds][0] } : {}),
    runId: runIds.length === 1 ? runIds[0] : `merged-${runIds.length}-runs`,
    startedAt: new Date(start).toISOString(),
    durationMs: Math.max(0, Math.round(end - start)),
    jobs,
    summary: summarize(jobs),
    kernels,
    merged: {
      runs: [...runs.values()].map(({ source, results }) => ({
        runId: results.runId,
        source,
        jobs: results.jobs.length,
        ...(results.shard ? { shard: results.shard } : {}),
      })),
      incomplete: incompleteness(all),
    },
  };
}

/** What `sis report merge` was asked for. */
export interface MergeRequest {
  readonly inputs: readonly string[];
  readonly junit?: string;
  readonly json?: string;
  readonly summary?: string;
}

/** Writes through a temporary file and a rename: a reader never sees half a report. */
async function writeWhole(path: string, text: string): Promise<void> {
  const temporary = `${path}.${Deno.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}

/**
 * `sis report merge`: reads every input before writing anything, writes the
 * asked files, and under GitHub Actions the annotations (stdout) and the step
 * summary. Returns the exit code `sis test` would give for the merged run.
 */
export async function mergeReport(request: MergeRequest, context: CommandContext): Promise<number> {
  const inputs: ResultsInput[] = [];
  for (const path of request.inputs) inputs.push(...await readResults(resolve(context.cwd, path)));
  const merged = mergeResults(inputs);
  const { summary } = merged;
  // The heading says what was merged: `## sis test (3 runs merged): passed`.
  const count = merged.merged.runs.length;
  const heading = `## sis ${merged.kind ?? "test"} (${count} run${count === 1 ? "" : "s"} merged): `;
  const markdown = stepSummary(merged).replace(/^## sis test: /, heading) +
    merged.merged.incomplete.map((reason) => `\n**Incomplete:** ${reason}\n`).join("");
  if (request.json) {
    await writeWhole(resolve(context.cwd, request.json), JSON.stringify(merged, null, 2) + "\n");
  }
  if (request.junit) await writeWhole(resolve(context.cwd, request.junit), toJunitXml(merged));
  if (request.summary) await writeWhole(resolve(context.cwd, request.summary), markdown);
  context.stdout.write(
    `sis report merge: ${merged.merged.runs.length} run(s), ${merged.jobs.length} job(s): ` +
      `${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped, ${summary.pending} pending, ` +
      `${summary.kernelFailures} kernel failure(s)\n`,
  );
  for (const reason of merged.merged.incomplete) {
    context.stderr.write(`sis report merge: incomplete: ${reason}\n`);
  }
  if (context.env.GITHUB_ACTIONS === "true") {
    const root = context.env.GITHUB_WORKSPACE ?? context.cwd;
    for (const line of annotations(merged, { root })) context.stdout.write(line + "\n");
    for (const reason of merged.merged.incomplete) {
      context.stdout.write(`::error title=sis report merge%3A incomplete::${escapeData(reason)}\n`);
    }
    if (context.env.GITHUB_STEP_SUMMARY) {
      await writeFile(context.env.GITHUB_STEP_SUMMARY, markdown, { flag: "a" });
    }
  }
  // An incomplete merge never passes: a lost shard must not read as green.
  const code = runExitCode(summary);
  return code === 0 && merged.merged.incomplete.length > 0 ? 1 : code;
}
