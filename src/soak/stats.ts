/** Summary statistics of one series (NaN values are gaps and are skipped): min, max, mean, stddev, percentiles, first and last. */

export interface SeriesSummary {
  /** Values counted (gaps excluded). */
  count: number;
  min: number;
  max: number;
  mean: number;
  /** Sample standard deviation (n - 1); 0 for a single value. */
  stddev: number;
  p50: number;
  p95: number;
  p99: number;
  first: number;
  last: number;
}

/** Percentile of sorted values by linear interpolation between closest ranks (numpy's default). */
export function percentileOfSorted(sorted: Float64Array, percent: number): number {
  if (sorted.length === 0) return NaN;
  const rank = (percent / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

/** Summarises `values`; undefined when every value is a gap. */
export function summarize(values: ArrayLike<number>): SeriesSummary | undefined {
  const kept = new Float64Array(values.length);
  let count = 0;
  let first = NaN;
  let last = NaN;
  // Welford's running mean and variance: stable for large, nearly equal values.
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (Number.isNaN(value)) continue;
    if (count === 0) first = value;
    last = value;
    kept[count++] = value;
    const delta = value - mean;
    mean += delta / count;
    m2 += delta * (value - mean);
  }
  if (count === 0) return undefined;
  const sorted = kept.subarray(0, count).sort();
  return {
    count,
    min: sorted[0],
    max: sorted[count - 1],
    mean,
    stddev: count > 1 ? Math.sqrt(m2 / (count - 1)) : 0,
    p50: percentileOfSorted(sorted, 50),
    p95: percentileOfSorted(sorted, 95),
    p99: percentileOfSorted(sorted, 99),
    first,
    last,
  };
}
