/** Baseline files (`baselines/<arch>[-<config>].json`) and the allowlist (`baselines/allowlist.yaml`): schemas, load, save. */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { UsageError } from "../errors.ts";
import { LEVELS } from "../parse/log.ts";
import { type AllowEntry, allowlistSchema, type RegressEvent } from "./diff.ts";

export const baselineSchema = z.strictObject({
  schema: z.literal(1),
  arch: z.string(),
  config: z.string(),
  suite: z.string(),
  /** The commands that were run after boot, in order. */
  commands: z.array(z.string()),
  /** Kernel the baseline was recorded from (informational: a baseline outlives builds). */
  kernel: z.string().optional(),
  recordedAt: z.string(),
  events: z.array(z.strictObject({
    kind: z.enum(["record", "command", "panic", "kernel"]),
    template: z.string(),
    level: z.enum(LEVELS).optional(),
  })),
});
export type Baseline = z.infer<typeof baselineSchema>;

/** Where the baseline of an arch and config lives. */
export function baselinePath(dir: string, arch: string, config: string): string {
  return join(dir, config === "default" ? `${arch}.json` : `${arch}-${config}.json`);
}

export async function loadBaseline(path: string): Promise<Baseline> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new UsageError(`no baseline at ${path}`, { fix: "record one with 'sis regress baseline'" });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path}: not JSON: ${(error as Error).message}`);
  }
  const result = baselineSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new UsageError(`${path}: ${issue.path.map(String).join(".") || "(top level)"}: ${issue.message}`);
  }
  return result.data;
}

export async function saveBaseline(path: string, baseline: Baseline): Promise<void> {
  // One event per line: a baseline change reads as a line diff in review.
  // In the spacing `deno fmt` gives, so the committed files pass `deno fmt --check`.
  const events = baseline.events.map((event) =>
    "    { " + Object.entries(event).map(([key, value]) => `"${key}": ${JSON.stringify(value)}`).join(", ") +
    " }"
  ).join(",\n");
  const head = JSON.stringify({ ...baseline, events: [] }, null, 2).replace(/"events": \[\]\n}$/, "");
  await writeFile(path, `${head}"events": [\n${events}\n  ]\n}\n`);
}

/** Reads the allowlist YAML; a missing file is an empty list. */
export async function loadAllowlist(path: string): Promise<AllowEntry[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return [];
  }
  let data: unknown;
  try {
    data = parseYaml(text) ?? { entries: [] };
  } catch (error) {
    throw new UsageError(`${path}: not valid YAML: ${(error as Error).message}`);
  }
  const result = allowlistSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new UsageError(`${path}: ${issue.path.map(String).join(".") || "(top level)"}: ${issue.message}`, {
      fix: "each entry needs kind, template, reason and expires (docs/REGRESS.md)",
    });
  }
  return result.data.entries;
}

export type { RegressEvent };
