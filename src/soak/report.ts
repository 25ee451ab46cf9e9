/** `sis report soak`: reads a soak bundle (or any samples.ndjson), writes the HTML report, the JSON summary and optionally a CSV, and decides the exit code. */
import { rename } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { CommandContext } from "../context.ts";
import { UsageError } from "../errors.ts";
import {
  analyseArch,
  type AnalysisOptions,
  type ArchReport,
  DEFAULT_WATCHED,
  worstVerdict,
} from "./analysis.ts";
import { writeCsv } from "./csv.ts";
import { formatValue, renderHtml } from "./html.ts";
import { type ArchColumns, readEvents, readSamples, type ReadTally, type SoakEvent } from "./samples.ts";

export const SAMPLES_FILE = "samples.ndjson";
export const EVENTS_FILE = "events.ndjson";
export const REPORT_FILE = "report.html";
export const SUMMARY_FILE = "summary.json";

export type FailOn = "leak" | "inconclusive";

export interface SoakReportOptions extends AnalysisOptions {
  /** A bundle folder holding samples.ndjson, or a samples file itself. */
  source: string;
  /** HTML path; `<bundle>/report.html` by default. */
  out?: string;
  /** JSON summary path; `<bundle>/summary.json` by default. */
  json?: string;
  /** CSV of every sample; none by default (a week at 1 Hz is ~100 MB). */
  csv?: string;
  failOn?: FailOn;
  /** Time stamp for the page (tests pin it). */
  now?: Date;
}

export interface SoakReportResult {
  worst: "leak" | "inconclusive" | "no leak";
  exitCode: 0 | 1;
  html: string;
  json: string;
  csv?: string;
  archs: ArchReport[];
  /** One line per counted reading problem, for stderr. */
  warnings: string[];
}

/** Finds the samples and events files of `source`, or says clearly why not (exit 2). */
async function locate(
  source: string,
): Promise<{ dir: string; samples: string; events: string; name: string }> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(source);
  } catch {
    throw new UsageError(`Cannot read soak bundle "${source}": it does not exist`, {
      fix: "give a runs/<id> folder made by `sis soak`, or a samples.ndjson file",
    });
  }
  if (info.isDirectory) {
    const samples = join(source, SAMPLES_FILE);
    try {
      await Deno.stat(samples);
    } catch {
      throw new UsageError(`Cannot read soak bundle "${source}": it has no ${SAMPLES_FILE}`, {
        fix: "give a runs/<id> folder made by `sis soak`",
      });
    }
    return { dir: source, samples, events: join(source, EVENTS_FILE), name: basename(resolve(source)) };
  }
  const dir = dirname(source);
  return { dir, samples: source, events: join(dir, EVENTS_FILE), name: basename(resolve(source)) };
}

function tallyWarnings(file: string, tally: ReadTally): string[] {
  const warnings: string[] = [];
  if (tally.tornLastLine > 0) warnings.push(`${file}: skipped a torn last line (a killed writer leaves one)`);
  if (tally.invalidLines > 0) {
    warnings.push(`${file}: skipped ${tally.invalidLines} invalid line(s): ${tally.problems.join("; ")}`);
  }
  return warnings;
}

/** Writes text through a temporary file and a rename, so no reader sees half a report. */
async function writeTextAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.${Deno.pid}.tmp`;
  try {
    await Deno.writeTextFile(temp, text);
    await rename(temp, path);
  } catch (error) {
    // A full disk must not keep half a report.
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

function summaryJson(name: string, reports: readonly ArchReport[], warnings: readonly string[]): unknown {
  const finite = (
    value: number | undefined,
  ) => (value === undefined || !Number.isFinite(value) ? null : value);
  return {
    schema: "sis-soak-summary/1",
    bundle: name,
    worst: worstVerdict(reports),
    warnings,
    archs: reports.map((report) => ({
      arch: report.arch,
      samples: report.samples,
      start: new Date(report.firstT).toISOString(),
      end: new Date(report.lastT).toISOString(),
      durationSeconds: (report.lastT - report.firstT) / 1000,
      boots: report.boots.length,
      restarts: report.events.filter((event) => event.kind === "restart").length,
      segments: report.events.filter((event) => event.kind === "start" || event.kind === "resume").length,
      builds: report.builds,
      verdicts: report.verdicts.map((verdict) => ({
        series: verdict.series,
        verdict: verdict.verdict,
        reason: verdict.reason,
        pValue: finite(verdict.pValue),
        slopePerHour: finite(verdict.slopePerHour),
        tailPValue: finite(verdict.tailPValue),
        hoursToExhaustion: finite(verdict.hoursToExhaustion),
        limit: finite(verdict.limit),
        points: verdict.points,
        boots: verdict.boots,
      })),
      series: Object.fromEntries(
        report.series.map((series) => [series.key, {
          kind: series.kind,
          ...Object.fromEntries(Object.entries(series.summary).map(([key, value]) => [key, finite(value)])),
        }]),
      ),
      events: Object.fromEntries(
        [...new Set(report.events.map((event) => event.kind))].map((
          kind,
        ) => [kind, report.events.filter((event) => event.kind === kind).length]),
      ),
    })),
  };
}

/** Reads, judges and writes; throws UsageError (exit 2) for a missing or empty bundle. */
export async function reportSoak(options: SoakReportOptions): Promise<SoakReportResult> {
  const where = await locate(options.source);
  const { archs: columns, tally } = await readSamples(where.samples);
  if (columns.length === 0) {
    throw new UsageError(`Cannot report on "${options.source}": ${SAMPLES_FILE} holds no samples`, {
      fix: "run the soak for at least one scrape interval",
    });
  }
  const { events, tally: eventTally } = await readEvents(where.events);
  const warnings = [...tallyWarnings(SAMPLES_FILE, tally), ...tallyWarnings(EVENTS_FILE, eventTally)];
  const archs = columns.map((arch: ArchColumns) =>
    analyseArch(arch, events as SoakEvent[], { ...options, watched: options.watched ?? DEFAULT_WATCHED })
  );
  const worst = worstVerdict(archs);
  const html = options.out ?? join(where.dir, REPORT_FILE);
  const json = options.json ?? join(where.dir, SUMMARY_FILE);
  await writeTextAtomically(
    html,
    renderHtml({
      title: `SIS soak report: ${archs.map((arch) => arch.arch).join(", ")}`,
      bundle: where.name,
      generatedAt: (options.now ?? new Date()).toISOString(),
      archs,
      warnings,
      // Segments per arch (start plus resumes); the archs of one soak share them.
      segments: Math.max(
        0,
        ...archs.map((arch) => arch.events.filter((e) => e.kind === "start" || e.kind === "resume").length),
      ),
    }),
  );
  await writeTextAtomically(json, JSON.stringify(summaryJson(where.name, archs, warnings), null, 2) + "\n");
  if (options.csv !== undefined) await writeCsv(options.csv, columns);
  const failOn = options.failOn ?? "leak";
  const fails = worst === "leak" || (worst === "inconclusive" && failOn === "inconclusive");
  return { worst, exitCode: fails ? 1 : 0, html, json, csv: options.csv, archs, warnings };
}

/** What `sis report soak` prints: warnings on stderr, one verdict line per arch and watched series, then the files. */
export function printSoakOutcome(result: SoakReportResult, context: CommandContext): void {
  for (const warning of result.warnings) context.stderr.write(`warning: ${warning}\n`);
  for (const arch of result.archs) {
    for (const verdict of arch.verdicts) {
      const slope = Number.isFinite(verdict.slopePerHour)
        ? `, slope ${formatValue(verdict.slopePerHour)}/h`
        : "";
      const p = Number.isFinite(verdict.pValue) ? `, p ${verdict.pValue.toPrecision(3)}` : "";
      context.stdout.write(
        `${arch.arch} ${verdict.series}: ${verdict.verdict}${p}${slope} (${verdict.reason})\n`,
      );
    }
  }
  context.stdout.write(`report: ${result.html}\nsummary: ${result.json}\n`);
  if (result.csv !== undefined) context.stdout.write(`csv: ${result.csv}\n`);
  context.stdout.write(`overall: ${result.worst}\n`);
}
