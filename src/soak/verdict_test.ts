import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { gaussian, seededRandom, timeline } from "./_synthetic.ts";
import { mannKendall, normalCdf, theilSenSlope } from "./trend.ts";
import { judgeLeak } from "./verdict.ts";

const HOUR = 3600;

Deno.test("normalCdf() matches known quantiles of the standard normal", () => {
  for (const [z, p] of [[0, 0.5], [1.6448536, 0.95], [2.3263479, 0.99], [-1.959964, 0.025]]) {
    assert(Math.abs(normalCdf(z) - p) < 1e-6, `Φ(${z}) = ${normalCdf(z)}, want ${p}`);
  }
});

Deno.test("theilSenSlope() ignores a wild outlier that would tilt least squares", () => {
  const x = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const y = x.map((v) => 2 * v + 1);
  y[9] = 1000;
  assertEquals(theilSenSlope(x, y), 2);
});

Deno.test("mannKendall() counts concordant pairs and corrects the variance for ties", () => {
  const rising = mannKendall([1, 2, 3, 4, 5]);
  assertEquals(rising.s, 10);
  assertEquals(rising.variance, (5 * 4 * 15) / 18);
  const tied = mannKendall([1, 1, 2, 2, 3]);
  // Two tie groups of two: Σ t(t-1)(2t+5) = 2 × 18.
  assertEquals(tied.variance, (5 * 4 * 15 - 36) / 18);
  assertEquals(mannKendall([3, 3, 3]).pIncreasing, 1);
});

Deno.test("judgeLeak() calls a linear leak under noise a leak, with its slope and time to exhaustion", () => {
  const { t, boot } = timeline(HOUR);
  const noise = gaussian(seededRandom(1));
  // 100 bytes per second = 360,000 bytes per hour, under noise of σ = 20,000.
  const y = Float64Array.from(t, (_, i) => 2_000_000 + 100 * i + 20_000 * noise());
  const result = judgeLeak(t, y, boot, { limit: 64 * 1024 * 1024 });
  assertEquals(result.verdict, "leak", result.reason);
  assert(result.pValue < 1e-6);
  assert(Math.abs(result.slopePerHour - 360_000) < 20_000, `slope ${result.slopePerHour}`);
  assert(
    result.hoursToExhaustion !== undefined && result.hoursToExhaustion > 150 &&
      result.hoursToExhaustion < 200,
  );
});

Deno.test("judgeLeak() does not call a sawtooth that rises, then plateaus, a leak", () => {
  const { t, boot } = timeline(HOUR);
  const noise = gaussian(seededRandom(2));
  // Fills for 20 minutes, then a cache grows and is flushed every 5 minutes.
  const y = Float64Array.from(t, (_, i) => {
    const fill = Math.min(i, 1200) * 500;
    const saw = i > 1200 ? ((i - 1200) % 300) * 200 : 0;
    return 1_000_000 + fill + saw + 5_000 * noise();
  });
  const result = judgeLeak(t, y, boot);
  assertEquals(result.verdict, "no leak", result.reason);
});

Deno.test("judgeLeak() does not call a single step up a leak", () => {
  const { t, boot } = timeline(HOUR);
  const noise = gaussian(seededRandom(3));
  const y = Float64Array.from(t, (_, i) => 1_000_000 + (i > 0.4 * HOUR ? 200_000 : 0) + 10_000 * noise());
  const result = judgeLeak(t, y, boot);
  assertEquals(result.verdict, "no leak", result.reason);
});

Deno.test("judgeLeak() gives no leak for pure noise, and a leak only in at most 1 % of 1,000 noise series", () => {
  const random = seededRandom(4);
  const noise = gaussian(random);
  const { t, boot } = timeline(600);
  let leaks = 0;
  let inconclusive = 0;
  for (let series = 0; series < 1000; series++) {
    const y = Float64Array.from(t, () => 5_000_000 + 50_000 * noise());
    const verdict = judgeLeak(t, y, boot).verdict;
    if (verdict === "leak") leaks += 1;
    if (verdict === "inconclusive") inconclusive += 1;
  }
  assert(leaks <= 10, `${leaks} false leaks in 1,000 noise series (${inconclusive} inconclusive)`);
});

Deno.test("judgeLeak() compares only within a boot: a leak that a restart resets is still a leak", () => {
  const { t } = timeline(2 * HOUR);
  const boot = Float64Array.from(t, (_, i) => (i < HOUR ? 1 : 2));
  const noise = gaussian(seededRandom(5));
  const y = Float64Array.from(t, (_, i) => 1_000_000 + 50 * (i % HOUR) + 5_000 * noise());
  const result = judgeLeak(t, y, boot);
  assertEquals(result.verdict, "leak", result.reason);
  assertEquals(result.boots, 2);
  assert(Math.abs(result.slopePerHour - 180_000) < 10_000, `slope ${result.slopePerHour}`);
});

Deno.test("judgeLeak() is inconclusive with too few samples after the warm-up cut", () => {
  const { t, boot } = timeline(8);
  const result = judgeLeak(t, Float64Array.from(t, (_, i) => i), boot);
  assertEquals(result.verdict, "inconclusive");
  assert(result.reason.includes("samples"));
});

Deno.test("judgeLeak() gives no leak for a constant series", () => {
  const { t, boot } = timeline(300);
  assertEquals(judgeLeak(t, new Float64Array(300).fill(42), boot).verdict, "no leak");
});

Deno.test("judgeLeak() cuts at most five minutes of warm-up", () => {
  // Three hours: 10 % would be 18 minutes; the cut stops at 5.
  const { t, boot } = timeline(3 * HOUR, 10_000);
  const y = new Float64Array(t.length).fill(7);
  const result = judgeLeak(t, y, boot);
  assertEquals(result.points, t.length - 30);
});
