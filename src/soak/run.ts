/**
 * `sis soak` on the run engine: plans one job per arch (src/soak/job.ts),
 * opens the sample and event files once the bundle exists, shows the live
 * line, and at the end writes the report and decides the exit code.
 */
import { join } from "node:path";
import type { CommandContext } from "../context.ts";
import { EnvironmentError, UsageError } from "../errors.ts";
import { summarize as summarizeJobs } from "../report/results.ts";
import type { RunResults } from "../report/results.ts";
import { diskError } from "../disk_errors.ts";
import { runEngine } from "../runs/engine.ts";
import { formatDuration } from "./html.ts";
import { emptyArchResult, soakArch } from "./job.ts";
import {
  type ArchProgress,
  SOAK_BUILD_DIR,
  SOAK_FEATURES,
  type SoakArchResult,
  type SoakJob,
  type SoakPlan,
  type SoakRunOptions,
} from "./plan.ts";
import { EVENTS_FILE, reportSoak, SAMPLES_FILE, type SoakReportResult } from "./report.ts";
import { resumeState } from "./resume.ts";
import { SoakWriter } from "./writer.ts";

/** Runs (or resumes) a soak and returns the exit code. */
export async function runSoak(options: SoakRunOptions): Promise<number> {
  const { context } = options;
  let plan = options.plan;
  let jobs: SoakJob[];
  if (options.resume !== undefined) {
    const state = await resumeState(options.resume);
    plan = state.plan;
    jobs = plan.arches.map((arch) => ({
      name: `${arch}-soak`,
      arch,
      remainingMs: Math.max(0, plan.durationMs - (state.covered.get(arch) ?? 0)),
      firstBoot: (state.boots.get(arch) ?? 0) + 1,
    }));
  } else {
    jobs = plan.arches.map((arch) => ({
      name: `${arch}-soak`,
      arch,
      remainingMs: plan.durationMs,
      firstBoot: 1,
    }));
  }
  let writer: SoakWriter | undefined;
  let bundleDir = "";
  const progress = new Map<string, ArchProgress>();
  let live: ReturnType<typeof setInterval> | undefined;
  let report: SoakReportResult | undefined;
  let reportError: unknown;
  try {
    return await runEngine<SoakJob, SoakArchResult>({
      kind: "soak",
      root: options.root,
      context,
      argv: options.argv,
      jobs,
      asked: `--arch ${plan.arches.join(",")}`,
      kernels: { features: SOAK_FEATURES, outDir: SOAK_BUILD_DIR, noBuild: options.noBuild },
      parallel: jobs.length,
      outputs: { json: options.json },
      manifest: { soak: plan },
      resumeBundle: options.resume,
      runsDir: options.runsDir,
      started: (info) => {
        bundleDir = info.bundleDir;
        writer = new SoakWriter(join(info.bundleDir, SAMPLES_FILE), join(info.bundleDir, EVENTS_FILE));
        live = startLiveLine(context, progress, plan);
        const verb = options.resume === undefined ? "soak" : "soak resumed";
        return `sis: ${verb} ${info.runId}: ${plan.arches.join(", ")} for ${
          formatDuration(plan.durationMs)
        } ` +
          `every ${formatDuration(plan.intervalMs)}, bundle ${info.bundleDir}\n`;
      },
      runJob: (job, run) => soakArch(job, run, { ...options, plan }, writer!, progress),
      notRun: (job, why) => emptyArchResult(job, "interrupted", why),
      onJobDone: (result) =>
        context.stderr.write(
          `sis: ${result.arch}: ${result.status}, ${result.samples} samples, ${result.restarts} restart(s)\n`,
        ),
      finish: async (results, info) => {
        if (live !== undefined) clearInterval(live);
        if (context.isTerminal) context.stderr.write("\n");
        try {
          writer?.close();
        } catch (error) {
          reportError = diskError(error, join(info.bundleDir, SAMPLES_FILE));
        }
        writer = undefined;
        if (reportError === undefined) {
          try {
            report = await reportSoak({ source: info.bundleDir });
          } catch (error) {
            reportError = diskError(error, info.bundleDir);
          }
        }
        return finishSoak(results, info, report, reportError, plan);
      },
      launch: options.launch,
      build: options.build,
      stop: options.stop,
    });
  } finally {
    if (live !== undefined) clearInterval(live);
    try {
      writer?.close();
    } catch {
      // The engine already reported the disk failure.
    }
    if (report) printReport(report, context);
    else if (reportError instanceof UsageError && bundleDir) {
      context.stderr.write(`sis: no report: ${reportError.message}\n`);
    }
  }
}

function printReport(report: SoakReportResult, context: CommandContext): void {
  for (const warning of report.warnings) context.stderr.write(`warning: ${warning}\n`);
  for (const arch of report.archs) {
    for (const verdict of arch.verdicts) {
      context.stdout.write(`${arch.arch} ${verdict.series}: ${verdict.verdict} (${verdict.reason})\n`);
    }
  }
  context.stdout.write(`report: ${report.html}\nsummary: ${report.json}\noverall: ${report.worst}\n`);
}

/** Results JSON and exit code: 4 for an unexpected panic or hang, 1 for a leak, else 0. */
function finishSoak(
  results: SoakArchResult[],
  info: { runId: string; startedAt: string; durationMs: number; interrupted?: "SIGINT" | "SIGTERM" },
  report: SoakReportResult | undefined,
  reportError: unknown,
  plan: SoakPlan,
) {
  const unexpected = results.some((result) =>
    result.unexpectedFailures.length > 0 || result.status === "error"
  );
  const exitCode = unexpected ? 4 : report?.exitCode ?? 0;
  const json = {
    schema: 1,
    kind: "soak",
    runId: info.runId,
    plan,
    worst: report?.worst,
    report: report?.html,
    summary: report?.json,
    reportError: reportError instanceof Error ? reportError.message : undefined,
    arches: results,
  };
  const jobs = results.map((result) => ({
    name: result.name,
    arch: result.arch,
    config: plan.config,
    suite: "soak",
    status: result.status === "completed" && !result.unexpectedFailures.length
      ? "passed" as const
      : result.status === "interrupted"
      ? "interrupted" as const
      : "failed" as const,
    durationMs: result.durationMs,
    steps: (report?.archs.find((arch) => arch.arch === result.arch)?.verdicts ?? []).map((verdict) => ({
      id: `soak/${verdict.series}`,
      name: `no leak in ${verdict.series}`,
      command: `sis soak --arch ${result.arch}`,
      status: verdict.verdict === "leak" ? "failed" as const : "passed" as const,
      durationMs: 0,
      messages: [`${verdict.verdict}: ${verdict.reason}`],
      output: [],
    })),
    kernel: result.unexpectedFailures[0],
  }));
  const runResults: RunResults = {
    schema: 1,
    kind: "soak",
    runId: info.runId,
    startedAt: info.startedAt,
    durationMs: info.durationMs,
    interrupted: info.interrupted,
    jobs,
    summary: summarizeJobs(jobs),
  };
  if (reportError instanceof EnvironmentError) throw reportError;
  return { json, report: runResults, exitCode };
}

/** The live line on a terminal (redrawn every second), plain periodic lines otherwise. */
function startLiveLine(
  context: CommandContext,
  progress: Map<string, ArchProgress>,
  plan: SoakPlan,
): ReturnType<typeof setInterval> {
  const everyMs = context.isTerminal ? 1000 : plan.durationMs <= 10 * 60_000 ? 10_000 : 60_000;
  const timer = setInterval(() => {
    const parts = [...progress].map(([arch, state]) => {
      const elapsed = performance.now() - state.startedAt;
      const heap = state.heapBytes === undefined ? "–" : `${(state.heapBytes / 1024).toFixed(0)} KiB`;
      return `${arch} ${formatDuration(elapsed)}/${
        formatDuration(state.remainingMs)
      } ${state.samples} samples ` +
        `heap ${heap} restarts ${state.restarts}`;
    });
    if (parts.length === 0) return;
    const line = `soak: ${parts.join(" | ")}`;
    context.stderr.write(context.isTerminal ? `\r\x1b[K${line}` : `${line}\n`);
  }, everyMs);
  Deno.unrefTimer(Number(timer));
  return timer;
}
