/** Writes a run's reports (results.json in the bundle, --json, --junit, GitHub annotations and step summary), each file whole or not at all. */
import { resolve } from "node:path";
import type { CommandContext } from "../context.ts";
import type { EnvironmentError } from "../errors.ts";
import { annotations, stepSummary } from "../report/github.ts";
import { toJunitXml } from "../report/junit.ts";
import type { RunResults } from "../report/results.ts";
import { writeAtomically } from "../toolchain/build.ts";
import type { RunBundle } from "./bundle.ts";
import { diskError } from "../disk_errors.ts";

export interface ReportFiles {
  /** `--json FILE`: the command's own JSON. */
  json?: string;
  /** `--junit FILE`. */
  junit?: string;
}

/**
 * Writes every report. The user's files come first: when the bundle's disk
 * is full, `--json` and `--junit` elsewhere still get written. A disk failure
 * does not stop the other writes; the first one is returned (exit 3).
 */
export async function writeReports(
  context: CommandContext,
  bundle: RunBundle,
  json: unknown,
  report: RunResults,
  files: ReportFiles,
): Promise<EnvironmentError | undefined> {
  let failure: EnvironmentError | undefined;
  const attempt = async (path: string, write: () => Promise<void>) => {
    try {
      await write();
    } catch (error) {
      const mapped = diskError(error, path);
      if (mapped === error) throw error;
      failure ??= mapped as EnvironmentError;
    }
  };
  const text = JSON.stringify(json, null, 2) + "\n";
  if (files.json) {
    const path = resolve(context.cwd, files.json);
    await attempt(path, () => writeAtomically(path, text));
  }
  if (files.junit) {
    const path = resolve(context.cwd, files.junit);
    await attempt(path, () => writeAtomically(path, toJunitXml(report)));
  }
  if (context.env.GITHUB_ACTIONS === "true") {
    // GitHub resolves annotation paths against the workspace it checked out.
    const root = context.env.GITHUB_WORKSPACE ?? context.cwd;
    for (const line of annotations(report, { root })) context.stdout.write(line + "\n");
    const summaryPath = context.env.GITHUB_STEP_SUMMARY;
    if (summaryPath) {
      await attempt(
        summaryPath,
        () => Deno.writeTextFile(summaryPath, stepSummary(report), { append: true }),
      );
    }
  }
  await attempt(`${bundle.dir}/results.json`, () => bundle.writeResults(json));
  return failure;
}
