/**
 * The leak verdict of one resource series: `leak`, `no leak` or
 * `inconclusive`, from a Theil–Sen slope and a Mann–Kendall test after a
 * warm-up cut (docs/SOAK.md explains the rule and its error rates).
 *
 * - Each boot is its own block: a restart or a resume resets the kernel's
 *   heap, so only pairs within one boot are compared (the blocked
 *   "seasonal" Kendall test of Hirsch et al. 1982: S and its variance are
 *   summed over blocks), and each boot gets its own warm-up cut.
 * - Long series are averaged into at most {@link MAX_BUCKETS} time buckets
 *   before the O(n²) steps; bucket means also damp the short-range
 *   correlation of 1 Hz scrapes that would inflate the test.
 * - A plateau is tolerated: an increase must still be there in the second
 *   half of every boot (the tail test), otherwise the series rose and
 *   levelled off, which is a cache filling up, not a leak.
 * - An increase smaller than three times the scatter around the trend line
 *   is not called a leak: it cannot be told from noise in this run; a
 *   longer soak makes a real leak grow past it.
 */
import { kendallScore, mannKendall, theilSenIntercept } from "./trend.ts";

export type Verdict = "leak" | "no leak" | "inconclusive";

export interface VerdictOptions {
  /** Fraction of each boot cut as warm-up (default 0.1). */
  warmupFraction?: number;
  /** Longest warm-up cut in ms (default 5 min). */
  warmupMaxMs?: number;
  /** One-sided significance level of the whole-run test (default 0.01). */
  alpha?: number;
  /** Significance level of the tail test (default 0.05). */
  tailAlpha?: number;
  /** The resource's limit in the series' unit (heap size for heap bytes), for the time to exhaustion. */
  limit?: number;
}

export interface TrendVerdict {
  verdict: Verdict;
  /** Why, in one sentence. */
  reason: string;
  /** One-sided Mann–Kendall p-value for an increase over the analysed samples. */
  pValue: number;
  /** Theil–Sen slope in series units per hour. */
  slopePerHour: number;
  tailPValue: number;
  tailSlopePerHour: number;
  /** Samples analysed after the warm-up cut. */
  points: number;
  /** Time buckets the tests ran on. */
  buckets: number;
  /** Boots that contributed. */
  boots: number;
  /** Robust scatter of the bucket means around the trend line (1.4826 × MAD). */
  scatter: number;
  /** Hours until `limit` at this slope, for a leak with a known limit. */
  hoursToExhaustion?: number;
}

/** Averages over at most this many time buckets before the O(n²) tests. */
export const MAX_BUCKETS = 240;
/** Fewer analysed samples than this give `inconclusive`. */
export const MIN_POINTS = 10;

const HOUR_MS = 3_600_000;

interface Block {
  /** Bucket mean times in hours and values. */
  x: number[];
  y: number[];
  points: number;
}

/** Splits rows into runs of one boot, cuts each run's warm-up and averages it into time buckets. */
function blocksOf(
  t: ArrayLike<number>,
  y: ArrayLike<number>,
  boot: ArrayLike<number>,
  warmupFraction: number,
  warmupMaxMs: number,
): Block[] {
  const runs: { start: number; end: number }[] = [];
  for (let start = 0; start < t.length;) {
    let end = start + 1;
    while (end < t.length && boot[end] === boot[start]) end++;
    runs.push({ start, end });
    start = end;
  }
  const kept = runs.map(({ start, end }) => {
    const cut = t[start] + Math.min(warmupFraction * (t[end - 1] - t[start]), warmupMaxMs);
    const rows: number[] = [];
    for (let i = start; i < end; i++) if (t[i] >= cut && !Number.isNaN(y[i])) rows.push(i);
    return rows;
  }).filter((rows) => rows.length >= 3);
  const total = kept.reduce((sum, rows) => sum + rows.length, 0);
  return kept.map((rows) => {
    const bucketCount = Math.max(2, Math.min(rows.length, Math.round((MAX_BUCKETS * rows.length) / total)));
    const first = t[rows[0]];
    const width = (t[rows[rows.length - 1]] - first) / bucketCount || 1;
    const sumX = new Float64Array(bucketCount);
    const sumY = new Float64Array(bucketCount);
    const count = new Float64Array(bucketCount);
    for (const row of rows) {
      const bucket = Math.min(bucketCount - 1, Math.floor((t[row] - first) / width));
      sumX[bucket] += t[row];
      sumY[bucket] += y[row];
      count[bucket] += 1;
    }
    const block: Block = { x: [], y: [], points: rows.length };
    for (let b = 0; b < bucketCount; b++) {
      if (count[b] === 0) continue;
      block.x.push(sumX[b] / count[b] / HOUR_MS);
      block.y.push(sumY[b] / count[b]);
    }
    return block;
  });
}

/** Blocked Mann–Kendall and pooled within-block Theil–Sen over `blocks`. */
function trendOf(blocks: readonly Block[]): { p: number; slope: number } {
  let s = 0;
  let variance = 0;
  const slopes: number[] = [];
  for (const block of blocks) {
    const test = mannKendall(block.y);
    s += test.s;
    variance += test.variance;
    for (let i = 0; i < block.x.length; i++) {
      for (let j = i + 1; j < block.x.length; j++) {
        const dx = block.x[j] - block.x[i];
        if (dx !== 0) slopes.push((block.y[j] - block.y[i]) / dx);
      }
    }
  }
  const p = kendallScore(s, variance).pIncreasing;
  const sorted = Float64Array.from(slopes).sort();
  const middle = sorted.length >> 1;
  const slope = sorted.length === 0
    ? 0
    : sorted.length % 2 === 1
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
  return { p, slope };
}

/** The second half (by bucket) of every block with at least four buckets. */
function tailsOf(blocks: readonly Block[]): Block[] {
  return blocks.filter((block) => block.x.length >= 4).map((block) => {
    const half = Math.floor(block.x.length / 2);
    return { x: block.x.slice(half), y: block.y.slice(half), points: block.points };
  });
}

/** Robust scatter of the bucket means around each block's Theil–Sen line with the pooled slope. */
function scatterOf(blocks: readonly Block[], slope: number): number {
  const residuals: number[] = [];
  for (const block of blocks) {
    const intercept = theilSenIntercept(block.x, block.y, slope);
    for (let i = 0; i < block.x.length; i++) residuals.push(block.y[i] - (intercept + slope * block.x[i]));
  }
  const sorted = Float64Array.from(residuals).sort();
  const median = sorted[sorted.length >> 1] ?? 0;
  const deviations = Float64Array.from(residuals, (r) => Math.abs(r - median)).sort();
  return 1.4826 * (deviations[deviations.length >> 1] ?? 0);
}

/** Judges whether the series `y` over times `t` (unix ms) and boots `boot` leaks. */
export function judgeLeak(
  t: ArrayLike<number>,
  y: ArrayLike<number>,
  boot: ArrayLike<number>,
  options: VerdictOptions = {},
): TrendVerdict {
  const alpha = options.alpha ?? 0.01;
  const tailAlpha = options.tailAlpha ?? 0.05;
  const blocks = blocksOf(t, y, boot, options.warmupFraction ?? 0.1, options.warmupMaxMs ?? 5 * 60_000);
  const points = blocks.reduce((sum, block) => sum + block.points, 0);
  const buckets = blocks.reduce((sum, block) => sum + block.x.length, 0);
  const base = { points, buckets, boots: blocks.length };
  if (points < MIN_POINTS) {
    return {
      ...base,
      verdict: "inconclusive",
      reason: `only ${points} samples after the warm-up cut (at least ${MIN_POINTS} needed)`,
      pValue: NaN,
      slopePerHour: NaN,
      tailPValue: NaN,
      tailSlopePerHour: NaN,
      scatter: NaN,
    };
  }
  const full = trendOf(blocks);
  const tail = trendOf(tailsOf(blocks));
  const scatter = scatterOf(blocks, full.slope);
  const hours = blocks.reduce((sum, block) => sum + (block.x[block.x.length - 1] - block.x[0]), 0);
  const rise = full.slope * hours;
  const figures = {
    ...base,
    pValue: full.p,
    slopePerHour: full.slope,
    tailPValue: tail.p,
    tailSlopePerHour: tail.slope,
    scatter,
  };
  const isRising = full.p < alpha && full.slope > 0;
  if (!isRising) {
    return { ...figures, verdict: "no leak", reason: `no significant increase (p = ${formatP(full.p)})` };
  }
  if (rise <= 3 * scatter) {
    return {
      ...figures,
      verdict: "no leak",
      reason: `the increase over the run (${formatFigure(rise)}) is within 3× the scatter (${
        formatFigure(scatter)
      })`,
    };
  }
  if (tail.p < tailAlpha && tail.slope > 0) {
    const last = blocks[blocks.length - 1];
    const lastValue = last.y[last.y.length - 1];
    const hoursToExhaustion = options.limit !== undefined && full.slope > 0
      ? Math.max(0, (options.limit - lastValue) / full.slope)
      : undefined;
    return {
      ...figures,
      verdict: "leak",
      reason: `rises steadily (p = ${formatP(full.p)}), still rising in the second half (p = ${
        formatP(tail.p)
      })`,
      hoursToExhaustion,
    };
  }
  if (tail.slope <= 0.25 * full.slope) {
    return {
      ...figures,
      verdict: "no leak",
      reason: "rose, then levelled off (plateau in the second half)",
    };
  }
  return {
    ...figures,
    verdict: "inconclusive",
    reason: `rises overall (p = ${formatP(full.p)}) but not clearly in the second half (p = ${
      formatP(tail.p)
    }); run longer`,
  };
}

function formatP(p: number): string {
  return p < 0.0001 ? "<0.0001" : p.toFixed(4);
}

function formatFigure(value: number): string {
  return Math.abs(value) >= 1000 ? value.toFixed(0) : value.toPrecision(3);
}
