/** Binomial statistics for chaos runs: the Wilson score interval of an observed rate, and whether a requested rate agrees with it. */

/**
 * Two-sided z for the confidence levels sis uses. 99.9 % is the default for
 * assertions: a matrix of 54 cells at 95 % would fail somewhere by chance in
 * most runs, at 99.9 % about once in 20 (and a fixed seed makes a given run
 * repeatable anyway).
 */
export const Z_FOR_CONFIDENCE: Readonly<Record<string, number>> = {
  "0.9": 1.6448536269514722,
  "0.95": 1.959963984540054,
  "0.99": 2.5758293035489004,
  "0.999": 3.2905267314918945,
};

export const DEFAULT_CONFIDENCE = 0.999;

/** An interval of a proportion, both ends in 0..1. */
export interface Interval {
  low: number;
  high: number;
  confidence: number;
}

/**
 * The Wilson score interval for `successes` out of `trials`.
 *
 * Chosen over the normal ("Wald") interval because that one collapses to a
 * point at 0 and n successes and undercovers for small n and rates near 0 or
 * 1, which is exactly where chaos runs live (rate 10 over 40 checks); and over
 * Clopper-Pearson because it needs no beta quantiles and is less
 * conservative while keeping close to nominal coverage (Brown, Cai and
 * DasGupta, "Interval Estimation for a Binomial Proportion", 2001).
 */
export function wilsonInterval(successes: number, trials: number, confidence = DEFAULT_CONFIDENCE): Interval {
  if (!Number.isInteger(successes) || !Number.isInteger(trials) || trials < 0) {
    throw new RangeError(`wilsonInterval: need whole counts, got ${successes}/${trials}`);
  }
  if (successes < 0 || successes > trials) {
    throw new RangeError(`wilsonInterval: ${successes} successes out of ${trials} trials`);
  }
  if (trials === 0) return { low: 0, high: 1, confidence };
  const z = zFor(confidence);
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const center = (p + z2 / (2 * trials)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  // At 0 and n successes the bound is exactly 0 or 1; rounding must not move it.
  const low = successes === 0 ? 0 : Math.max(0, center - half);
  const high = successes === trials ? 1 : Math.min(1, center + half);
  return { low, high, confidence };
}

/** z for a two-sided confidence level (one of {@link Z_FOR_CONFIDENCE}). */
export function zFor(confidence: number): number {
  const z = Z_FOR_CONFIDENCE[String(confidence)];
  if (z === undefined) {
    throw new RangeError(
      `no z for confidence ${confidence} (known: ${Object.keys(Z_FOR_CONFIDENCE).join(", ")})`,
    );
  }
  return z;
}

/** The verdict on an observed rate against a requested one. */
export interface RateAgreement {
  successes: number;
  trials: number;
  /** The requested rate as a proportion (percent / 100). */
  expected: number;
  observed: number;
  interval: Interval;
  agrees: boolean;
  /** Why it does not agree, or a note on how it was judged. */
  reason: string;
}

/**
 * Whether `successes/trials` agrees with `ratePercent`. Rates 0 and 100 are
 * exact in the kernel's generator (a draw below 0 never happens, below 100
 * always does), so they must match exactly; otherwise the requested rate must
 * lie inside the Wilson interval. No trials cannot show anything: that is a
 * disagreement, since a chaos run that never reached an injection point
 * tested nothing (the mistake of the tests this replaces).
 */
export function rateAgreement(
  successes: number,
  trials: number,
  ratePercent: number,
  confidence = DEFAULT_CONFIDENCE,
): RateAgreement {
  const expected = ratePercent / 100;
  const interval = wilsonInterval(successes, trials, confidence);
  const observed = trials === 0 ? 0 : successes / trials;
  const base = { successes, trials, expected, observed, interval };
  if (trials === 0) {
    return { ...base, agrees: false, reason: "no checks: the injection point was never reached" };
  }
  if (ratePercent === 0 || ratePercent === 100) {
    const exact = ratePercent === 0 ? 0 : trials;
    return successes === exact ? { ...base, agrees: true, reason: `exact at rate ${ratePercent}` } : {
      ...base,
      agrees: false,
      reason: `rate ${ratePercent} must give exactly ${exact}, got ${successes}`,
    };
  }
  const agrees = expected >= interval.low && expected <= interval.high;
  return {
    ...base,
    agrees,
    reason: agrees
      ? `${formatPercent(expected)} inside ${formatInterval(interval)}`
      : `${formatPercent(expected)} outside ${formatInterval(interval)}`,
  };
}

/**
 * For random_panic: the first injection ends the run, so what is observed is
 * the check number `check` (from 1) of the first injection, geometric in the
 * rate. Returns P(first injection at check >= `check`) = (1-p)^(check-1);
 * below 1 - confidence the rate is implausibly low for what happened.
 */
export function geometricTail(check: number, ratePercent: number): number {
  if (!Number.isInteger(check) || check < 1) throw new RangeError(`check must be >= 1, got ${check}`);
  return Math.pow(1 - ratePercent / 100, check - 1);
}

export function formatPercent(proportion: number): string {
  return `${(proportion * 100).toFixed(1)}%`;
}

export function formatInterval(interval: Interval): string {
  return `[${formatPercent(interval.low)}, ${formatPercent(interval.high)}] (${
    (interval.confidence * 100).toFixed(1)
  }% Wilson)`;
}
