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
  // Typed, preallocated: a week at 1 Hz is 604,800 indices.
  const all = new Int32Array(y.length);
  let count = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === y[i]) all[count++] = i;
  const valid = all.subarray(0, count);
  if (threshold < 3 || valid.length <= threshold) return Array.from(valid);
  const candidates = valid.length > threshold * 8
    ? minMaxPreselect(y, valid, threshold * 4)
    : Array.from(valid);
  const chosen = lttb(x, y, candidates, threshold);
  return withExtremes(y, valid, chosen);
}

/** The minimum and maximum of each of `buckets` equal slices of `valid` (plus its ends), in index order. */
function minMaxPreselect(y: ArrayLike<number>, valid: Int32Array, buckets: number): number[] {
  const picked: number[] = [valid[0]];
  const inner = valid.length - 2;
  const perBucket = inner / buckets;
  for (let bucket = 0; bucket < buckets; bucket++) {
    const start = 1 + Math.floor(bucket * perBucket);
    const end = Math.min(1 + Math.floor((bucket + 1) * perBucket), valid.length - 1);
    if (start >= end) continue;
    const [low, high] = extremes(y, valid, start, end);
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
function withExtremes(y: ArrayLike<number>, valid: Int32Array, chosen: number[]): number[] {
  const [low, high] = extremes(y, valid, 0, valid.length);
  const set = new Set(chosen);
  for (const index of [low, high]) {
    if (!set.has(index)) {
      set.add(index);
      chosen.push(index);
    }
  }
  return chosen.sort((a, b) => a - b);
}

/** The indices of the lowest and the highest y among `valid[start..end)` (the first of equals), scanned once. */
function extremes(y: ArrayLike<number>, valid: Int32Array, start: number, end: number): [number, number] {
  let low = valid[start];
  let high = valid[start];
  let lowValue = y[low];
  let highValue = y[high];
  for (let k = start + 1; k < end; k++) {
    const value = y[valid[k]];
    if (value < lowValue) {
      lowValue = value;
      low = valid[k];
    }
    if (value > highValue) {
      highValue = value;
      high = valid[k];
    }
  }
  return [low, high];
}
