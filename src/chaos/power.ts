/**
 * The rate test of a chaos cell and the default operation count that gives
 * it power (docs/chaos-cli.md "Rate test and power").
 *
 * The kernel's generator is seeded and deterministic, so the strongest test
 * of "injects at the asked rate" is exact: the injections must fall on the
 * very checks the seed's draws pick at that rate (src/chaos/generator.ts
 * mirrors the kernel's generator). A correct generator passes always. A
 * generator at 2/3 of the rate (the same draws, a lower threshold) differs
 * on a check whose uniform draw u lies in [2p/3, p): probability p/3 per
 * check, so it goes unnoticed over K checks with probability (1 - p/3)^K;
 * at 3/2 of the rate the band is [p, 3p/2) and the miss chance (1 - p/2)^K
 * is smaller still. Any other faulty generator (other draws) is caught
 * sooner. The default K makes the miss chance at most 0.2 %.
 */
import { predictedInjections } from "./generator.ts";
import { DEFAULT_OPS, MAX_OPS } from "./workload.ts";

/** The chance a generator at 2/3 or 3/2 of the rate may slip through, at most: 0.2 %, a margin under the 1 % asked for, so the simulation shows it clearly. */
export const MISS_CHANCE = 0.002;

/**
 * Checks needed so a generator at 2/3 (and so also at 3/2) of `ratePercent`
 * is caught with probability at least 1 - MISS_CHANCE: the smallest K with
 * (1 - p/3)^K <= MISS_CHANCE. Rate 0 and 100 need no more than the floor
 * (at 100 a 2/3-rate generator misses a check with probability 1/3 each).
 */
export function checksForPower(ratePercent: number): number {
  if (ratePercent <= 0) return 0;
  const band = ratePercent / 100 / 3;
  return Math.ceil(Math.log(MISS_CHANCE) / Math.log(1 - band));
}

/**
 * The default number of operations of a cell at `ratePercent`: every
 * operation reaches the mode's point at least once (the checker asserts
 * it), so K operations give at least K checks. Never fewer than the
 * historical 40 (the recovery and data checks want a workload), never more
 * than MAX_OPS.
 */
export function defaultOps(ratePercent: number): number {
  return Math.min(MAX_OPS, Math.max(DEFAULT_OPS, checksForPower(ratePercent)));
}

/**
 * The exact rate test: the checks that injected, among the first `checks`
 * draws of the mode, against the seed's prediction at `ratePercent`.
 * Returns the problems (empty: the generator did exactly what the seed and
 * rate say).
 */
export function generatorProblems(
  seed: string,
  ratePercent: number,
  checks: number,
  injectedChecks: readonly number[],
): string[] {
  const expected = predictedInjections(seed, ratePercent, checks);
  const problems: string[] = [];
  if (expected.length !== injectedChecks.length) {
    problems.push(
      `${injectedChecks.length} injection(s) in ${checks} check(s), the seed's draws at ${ratePercent}% give ${expected.length}`,
    );
  }
  const length = Math.max(expected.length, injectedChecks.length);
  for (let index = 0; index < length; index++) {
    if (expected[index] !== injectedChecks[index]) {
      problems.push(
        `injection ${index + 1} at check ${injectedChecks[index] ?? "none"}, the seed's draws give check ${
          expected[index] ?? "none"
        }`,
      );
      break;
    }
  }
  return problems;
}
