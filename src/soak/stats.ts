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

/**
 * Moves the k-th smallest of values[low..high] to index k, smaller ones
 * before it and larger ones after (Hoare's quickselect, median-of-three
 * pivot): O(n) on average, where a full sort of a week at 1 Hz is not.
 */
export function selectInPlace(values: Float64Array, k: number, low = 0, high = values.length - 1): number {
  while (high > low) {
    const middle = (low + high) >> 1;
    // Median of three as the pivot: sorted input, common in counters, stays linear.
    if (values[middle] < values[low]) swap(values, middle, low);
    if (values[high] < values[low]) swap(values, high, low);
    if (values[high] < values[middle]) swap(values, high, middle);
    const pivot = values[middle];
    let i = low;
    let j = high;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        swap(values, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) high = j;
    else if (k >= i) low = i;
    else break;
  }
  return values[k];
}

function swap(values: Float64Array, a: number, b: number): void {
  const held = values[a];
  values[a] = values[b];
  values[b] = held;
}

/** The smallest of values[from..] (the (k+1)-th smallest once k was selected). */
function minimumFrom(values: Float64Array, from: number): number {
  let smallest = values[from];
  for (let i = from + 1; i < values.length; i++) if (values[i] < smallest) smallest = values[i];
  return smallest;
}

/**
 * Percentile by linear interpolation between closest ranks (numpy's
 * default), selecting in place: call with ascending percents, since each
 * selection only reorders the part above the previous rank.
 */
function percentileBySelection(
  values: Float64Array,
  percent: number,
  from: number,
): { value: number; rank: number } {
  const rank = (percent / 100) * (values.length - 1);
  const low = Math.floor(rank);
  const lowValue = selectInPlace(values, low, from);
  const highValue = low + 1 < values.length ? minimumFrom(values, low + 1) : lowValue;
  return { value: lowValue + (highValue - lowValue) * (rank - low), rank: low };
}

/** Summarises `values`; undefined when every value is a gap. */
export function summarize(input: ArrayLike<number>): SeriesSummary | undefined {
  const kept = new Float64Array(input.length);
  let count = 0;
  let first = NaN;
  let last = NaN;
  // Welford's running mean and variance: stable for large, nearly equal values.
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < input.length; i++) {
    const value = input[i];
    if (Number.isNaN(value)) continue;
    if (count === 0) first = value;
    last = value;
    kept[count++] = value;
    const delta = value - mean;
    mean += delta / count;
    m2 += delta * (value - mean);
  }
  if (count === 0) return undefined;
  const values = kept.subarray(0, count);
  let min = values[0];
  let max = values[0];
  for (let i = 1; i < count; i++) {
    if (values[i] < min) min = values[i];
    if (values[i] > max) max = values[i];
  }
  const p50 = percentileBySelection(values, 50, 0);
  const p95 = percentileBySelection(values, 95, p50.rank);
  const p99 = percentileBySelection(values, 99, p95.rank);
  return {
    count,
    min,
    max,
    mean,
    stddev: count > 1 ? Math.sqrt(m2 / (count - 1)) : 0,
    p50: p50.value,
    p95: p95.value,
    p99: p99.value,
    first,
    last,
  };
}
