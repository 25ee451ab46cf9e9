/**
 * Nonparametric trend statistics: the Theil–Sen slope (median of pairwise
 * slopes; Sen 1968) and the Mann–Kendall test (Kendall 1975, with the tie
 * correction of the variance). Both are O(n²): callers aggregate long series
 * into a few hundred points first (see verdict.ts).
 */

/** Median of `values` (sorted in place). */
function medianInPlace(values: Float64Array): number {
  if (values.length === 0) return NaN;
  values.sort();
  const middle = values.length >> 1;
  return values.length % 2 === 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

/** Theil–Sen estimate of dy/dx over every pair with distinct x; NaN with fewer than two distinct x. */
export function theilSenSlope(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  const slopes = new Float64Array((n * (n - 1)) / 2);
  let count = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = x[j] - x[i];
      if (dx !== 0) slopes[count++] = (y[j] - y[i]) / dx;
    }
  }
  return medianInPlace(slopes.subarray(0, count));
}

/** The Theil–Sen line's intercept: the median of y - slope·x. */
export function theilSenIntercept(x: ArrayLike<number>, y: ArrayLike<number>, slope: number): number {
  const residuals = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) residuals[i] = y[i] - slope * x[i];
  return medianInPlace(residuals);
}

/**
 * Standard normal cumulative distribution Φ(z), from the complementary
 * error function approximation of Numerical Recipes (erfc, |error| < 1.2e-7).
 */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc = t * Math.exp(
    -x * x - 1.26551223 +
      t * (1.00002368 +
          t * (0.37409196 +
              t * (0.09678418 +
                  t * (-0.18628806 +
                      t *
                        (0.27886807 +
                          t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
  );
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

export interface MannKendall {
  /** Kendall's S: concordant minus discordant pairs. */
  s: number;
  /** Variance of S under no trend, corrected for ties. */
  variance: number;
  /** Continuity-corrected normal score of S. */
  z: number;
  /** One-sided p-value for an increasing trend: P(Z ≥ z). */
  pIncreasing: number;
}

/** Mann–Kendall trend test of `y` in order (equal values are ties). */
export function mannKendall(y: ArrayLike<number>): MannKendall {
  const n = y.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const yi = y[i];
    for (let j = i + 1; j < n; j++) {
      const d = y[j] - yi;
      s += d > 0 ? 1 : d < 0 ? -1 : 0;
    }
  }
  // Tie groups reduce the variance: Σ t(t-1)(2t+5) over groups of equal values.
  const sorted = Float64Array.from({ length: n }, (_, i) => y[i]).sort();
  let tieTerm = 0;
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && sorted[end] === sorted[start]) end++;
    const t = end - start;
    if (t > 1) tieTerm += t * (t - 1) * (2 * t + 5);
    start = end;
  }
  const variance = (n * (n - 1) * (2 * n + 5) - tieTerm) / 18;
  return { s, variance, ...kendallScore(s, variance) };
}

/**
 * The continuity-corrected normal score of Kendall's S with `variance`, and
 * its one-sided p-value for an increasing trend; no variance (every value
 * tied) is no evidence: z 0, p 1.
 */
export function kendallScore(s: number, variance: number): { z: number; pIncreasing: number } {
  if (variance <= 0) return { z: 0, pIncreasing: 1 };
  const z = s > 0 ? (s - 1) / Math.sqrt(variance) : s < 0 ? (s + 1) / Math.sqrt(variance) : 0;
  return { z, pIncreasing: 1 - normalCdf(z) };
}
