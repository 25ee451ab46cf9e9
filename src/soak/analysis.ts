/** Turns a soak's columns and events into the report model: per arch, charts (counters as rates), summaries and leak verdicts. */
import { downsampleIndices } from "./downsample.ts";
import type { ArchColumns, SoakEvent } from "./samples.ts";
import { type SeriesSummary, summarize } from "./stats.ts";
import { judgeLeak, type TrendVerdict, type VerdictOptions } from "./verdict.ts";

/** Resource series judged for leaks unless the caller lists others (docs/SOAK.md). */
export const DEFAULT_WATCHED = ["sis_heap_current_bytes", "sis_tasks", "sis_vfs_used_bytes"];

/** Where a watched series' limit comes from: the last value of another series of the same scrape. */
const LIMIT_SERIES: Record<string, string> = {
  sis_heap_current_bytes: "sis_heap_size_bytes",
  sis_vfs_used_bytes: "sis_vfs_capacity_bytes",
};

/** Points per chart after downsampling: enough for a 1,000-pixel-wide chart. */
export const CHART_POINTS = 800;

export type SeriesKind = "gauge" | "counter";

/** The metric name of a series key: `name{labels}` → `name`. */
export function nameOf(key: string): string {
  const brace = key.indexOf("{");
  return brace === -1 ? key : key.slice(0, brace);
}

/**
 * Counters by the Prometheus naming rules (`_total`; a histogram's `_sum`
 * and `_count`): the sample contract carries no types, so names decide.
 */
export function kindOf(key: string): SeriesKind {
  const name = nameOf(key);
  return /_(total|sum|count)$/.test(name) ? "counter" : "gauge";
}

/** Histogram buckets and the build-info series are summarised elsewhere, not charted. */
function isCharted(key: string): boolean {
  const name = nameOf(key);
  return !name.endsWith("_bucket") && name !== "sis_build_info";
}

/**
 * Per-second rate of a counter at each row: NaN on the first row of a
 * boot, after a gap, and where the counter went back (a reset).
 */
export function rateOf(
  t: ArrayLike<number>,
  values: ArrayLike<number>,
  boot: ArrayLike<number>,
): Float64Array {
  const rates = new Float64Array(values.length).fill(NaN);
  for (let i = 1; i < values.length; i++) {
    const dt = (t[i] - t[i - 1]) / 1000;
    const dv = values[i] - values[i - 1];
    if (boot[i] === boot[i - 1] && dt > 0 && dv >= 0) rates[i] = dv / dt;
  }
  return rates;
}

export interface Chart {
  key: string;
  kind: SeriesKind;
  /** Downsampled points: time (unix ms), value, and whether a gap or restart precedes it. */
  t: number[];
  v: number[];
  breakBefore: boolean[];
}

export interface SeriesReport {
  key: string;
  kind: SeriesKind;
  /** Of the values for a gauge, of the per-second rates for a counter. */
  summary: SeriesSummary;
}

export interface LeakReport extends TrendVerdict {
  series: string;
  limit?: number;
}

export interface BuildIdentity {
  version: string;
  commit: string;
}

export interface ArchReport {
  arch: string;
  samples: number;
  firstT: number;
  lastT: number;
  boots: number[];
  builds: BuildIdentity[];
  charts: Chart[];
  series: SeriesReport[];
  verdicts: LeakReport[];
  events: SoakEvent[];
}

export interface AnalysisOptions extends VerdictOptions {
  /** Series names or full keys to judge; {@link DEFAULT_WATCHED} by default. */
  watched?: readonly string[];
  chartPoints?: number;
}

function buildsOf(columns: ArchColumns): BuildIdentity[] {
  const builds: BuildIdentity[] = [];
  for (const key of columns.series.keys()) {
    if (nameOf(key) !== "sis_build_info") continue;
    const version = /version="((?:[^"\\]|\\.)*)"/.exec(key)?.[1] ?? "?";
    const commit = /commit="((?:[^"\\]|\\.)*)"/.exec(key)?.[1] ?? "?";
    builds.push({ version, commit });
  }
  return builds;
}

function chartOf(
  key: string,
  kind: SeriesKind,
  columns: ArchColumns,
  values: ArrayLike<number>,
  points: number,
): Chart {
  const kept = downsampleIndices(columns.t, values, points);
  // A break wherever a gap (NaN) or another boot lies between two kept points.
  const gapsBefore = new Int32Array(values.length + 1);
  for (let i = 0; i < values.length; i++) {
    gapsBefore[i + 1] = gapsBefore[i] + (Number.isNaN(values[i]) ? 1 : 0);
  }
  const chart: Chart = { key, kind, t: [], v: [], breakBefore: [] };
  let previous = -1;
  for (const index of kept) {
    const isBreak = previous !== -1 &&
      (gapsBefore[index] - gapsBefore[previous + 1] > 0 || columns.boot[index] !== columns.boot[previous]);
    chart.t.push(columns.t[index]);
    chart.v.push(values[index]);
    chart.breakBefore.push(isBreak);
    previous = index;
  }
  return chart;
}

function isWatched(key: string, watched: readonly string[]): boolean {
  return watched.includes(key) || watched.includes(nameOf(key));
}

/** The report of one arch. */
export function analyseArch(
  columns: ArchColumns,
  events: readonly SoakEvent[],
  options: AnalysisOptions = {},
): ArchReport {
  const watched = options.watched ?? DEFAULT_WATCHED;
  const points = options.chartPoints ?? CHART_POINTS;
  const keys = [...columns.series.keys()].filter(isCharted);
  // Watched series first, then the rest by name: the page opens on what matters.
  keys.sort((a, b) =>
    Number(isWatched(b, watched)) - Number(isWatched(a, watched)) || (a < b ? -1 : a > b ? 1 : 0)
  );
  const charts: Chart[] = [];
  const series: SeriesReport[] = [];
  const verdicts: LeakReport[] = [];
  for (const key of keys) {
    const raw = columns.series.get(key)!;
    const kind = kindOf(key);
    const values = kind === "counter" ? rateOf(columns.t, raw, columns.boot) : raw;
    const summary = summarize(values);
    if (summary === undefined) continue;
    series.push({ key, kind, summary });
    charts.push(chartOf(key, kind, columns, values, points));
    if (isWatched(key, watched)) {
      const limitKey = LIMIT_SERIES[nameOf(key)];
      const limitColumn = limitKey === undefined ? undefined : columns.series.get(limitKey);
      const limit = limitColumn === undefined ? undefined : summarize(limitColumn)?.last;
      verdicts.push({
        series: key,
        limit,
        ...judgeLeak(columns.t, raw, columns.boot, { ...options, limit }),
      });
    }
  }
  for (const name of watched) {
    if (!keys.some((key) => key === name || nameOf(key) === name)) {
      verdicts.push({
        series: name,
        verdict: "inconclusive",
        reason: "this series is not in the samples",
        pValue: NaN,
        slopePerHour: NaN,
        tailPValue: NaN,
        tailSlopePerHour: NaN,
        points: 0,
        buckets: 0,
        boots: 0,
        scatter: NaN,
      });
    }
  }
  return {
    arch: columns.arch,
    samples: columns.length,
    firstT: columns.t[0],
    lastT: columns.t[columns.length - 1],
    boots: [...new Set(columns.boot)],
    builds: buildsOf(columns),
    charts,
    series,
    verdicts,
    events: events.filter((event) => event.arch === columns.arch || event.arch === ""),
  };
}

/** The worst verdict of a report: leak over inconclusive over no leak. */
export function worstVerdict(reports: readonly ArchReport[]): "leak" | "inconclusive" | "no leak" {
  const all = reports.flatMap((report) => report.verdicts.map((verdict) => verdict.verdict));
  return all.includes("leak") ? "leak" : all.includes("inconclusive") ? "inconclusive" : "no leak";
}
