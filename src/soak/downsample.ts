/**
 * Downsampling for display that keeps peaks: MinMax preselection followed by
 * Largest-Triangle-Three-Buckets (Steinarsson 2013; the MinMaxLTTB variant of
 * Van Der Donckt et al. 2023), plus the series' global minimum and maximum.
 *
 * Plain LTTB keeps most spikes already; preselecting each small bucket's
 * minimum and maximum makes it O(n) with a small constant on a week of 1 Hz
 * points, and forcing the global extremes in guarantees that the one spike
 * someone looks for is on the chart.
 */

/**
 * Indices (ascending) of at most `threshold` points of (x, y) to draw, NaN
 * values excluded. Fewer points than the threshold are all kept.
 */
export function downsampleIndices(x: ArrayLike<number>, y: ArrayLike<number>, threshold: number): number[] {
  const valid: number[] = [];
  for (let i = 0; i < y.length; i++) if (!Number.isNaN(y[i])) valid.push(i);
  if (threshold < 3 || valid.length <= threshold) return valid;
  const candidates = valid.length > threshold * 8 ? minMaxPreselect(y, valid, threshold * 4) : valid;
  const chosen = lttb(x, y, candidates, threshold);
  return withExtremes(y, valid, chosen);
}

/** The minimum and maximum of each of `buckets` equal slices of `valid` (plus its ends), in index order. */
function minMaxPreselect(y: ArrayLike<number>, valid: readonly number[], buckets: number): number[] {
  const picked: number[] = [valid[0]];
  const inner = valid.length - 2;
  const perBucket = inner / buckets;
  for (let bucket = 0; bucket < buckets; bucket++) {
    const start = 1 + Math.floor(bucket * perBucket);
    const end = Math.min(1 + Math.floor((bucket + 1) * perBucket), valid.length - 1);
    if (start >= end) continue;
    let low = valid[start];
    let high = valid[start];
    for (let k = start + 1; k < end; k++) {
      const index = valid[k];
      if (y[index] < y[low]) low = index;
      if (y[index] > y[high]) high = index;
    }
    if (low === high) picked.push(low);
    else picked.push(Math.min(low, high), Math.max(low, high));
  }
  picked.push(valid[valid.length - 1]);
  return picked;
}

/** Largest-Triangle-Three-Buckets over the points `candidates` (indices into x and y). */
function lttb(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  candidates: readonly number[],
  threshold: number,
): number[] {
  const chosen: number[] = [candidates[0]];
  const every = (candidates.length - 2) / (threshold - 2);
  let previous = candidates[0];
  for (let bucket = 0; bucket < threshold - 2; bucket++) {
    const start = Math.floor(bucket * every) + 1;
    const end = Math.min(Math.floor((bucket + 1) * every) + 1, candidates.length - 1);
    // The next bucket's average point is the third corner of the triangle.
    const nextStart = end;
    const nextEnd = Math.min(Math.floor((bucket + 2) * every) + 1, candidates.length);
    let averageX = 0;
    let averageY = 0;
    for (let k = nextStart; k < nextEnd; k++) {
      averageX += x[candidates[k]];
      averageY += y[candidates[k]];
    }
    const span = Math.max(1, nextEnd - nextStart);
    averageX /= span;
    averageY /= span;
    let best = candidates[start];
    let bestArea = -1;
    for (let k = start; k < end; k++) {
      const index = candidates[k];
      const area = Math.abs(
        (x[previous] - averageX) * (y[index] - y[previous]) -
          (x[previous] - x[index]) * (averageY - y[previous]),
      );
      if (area > bestArea) {
        bestArea = area;
        best = index;
      }
    }
    chosen.push(best);
    previous = best;
  }
  chosen.push(candidates[candidates.length - 1]);
  return chosen;
}

/** Adds the global minimum and maximum of `valid` to `chosen` if missing, keeping index order. */
function withExtremes(y: ArrayLike<number>, valid: readonly number[], chosen: number[]): number[] {
  let low = valid[0];
  let high = valid[0];
  for (const index of valid) {
    if (y[index] < y[low]) low = index;
    if (y[index] > y[high]) high = index;
  }
  const set = new Set(chosen);
  for (const index of [low, high]) {
    if (!set.has(index)) {
      set.add(index);
      chosen.push(index);
    }
  }
  return chosen.sort((a, b) => a - b);
}
