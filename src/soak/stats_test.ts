import assert from "node:assert/strict";
import { downsampleIndices } from "./downsample.ts";
import { gaussian, seededRandom } from "./_synthetic.ts";
import { summarize } from "./stats.ts";

Deno.test("summarize() gives min, max, mean, sample stddev, percentiles, first and last, skipping gaps", () => {
  const summary = summarize([NaN, 4, 1, 3, NaN, 2, 5]);
  assert.deepEqual(summary, {
    count: 5,
    min: 1,
    max: 5,
    mean: 3,
    stddev: Math.sqrt(2.5),
    p50: 3,
    p95: 4.8,
    p99: 4.96,
    first: 4,
    last: 5,
  });
  assert.equal(summarize([NaN, NaN]), undefined);
  assert.equal(summarize([7])?.stddev, 0);
});

Deno.test("summarize() keeps precision on large, nearly equal values (heap bytes)", () => {
  const values = [1e12 + 1, 1e12 + 2, 1e12 + 3];
  const summary = summarize(values)!;
  assert.equal(summary.mean, 1e12 + 2);
  assert.equal(summary.stddev, 1);
});

Deno.test("downsampleIndices() keeps every point of a short series and skips gaps", () => {
  assert.deepEqual(downsampleIndices([0, 1, 2, 3], [1, NaN, 3, 4], 100), [0, 2, 3]);
});

Deno.test("downsampleIndices() brings a week at 1 Hz to the threshold and keeps a single spike and dip", () => {
  const count = 604_800;
  const noise = gaussian(seededRandom(9));
  const x = Float64Array.from({ length: count }, (_, i) => i);
  const y = Float64Array.from(x, () => 1000 + noise());
  y[123_457] = 5000;
  y[400_001] = -3000;
  const kept = downsampleIndices(x, y, 1000);
  assert(kept.length <= 1002, `${kept.length} points`);
  assert(kept.includes(123_457) && kept.includes(400_001));
  assert.equal(kept[0], 0);
  assert.equal(kept[kept.length - 1], count - 1);
  for (let i = 1; i < kept.length; i++) assert(kept[i] > kept[i - 1], "indices ascend");
});

Deno.test("downsampleIndices() follows the shape of a ramp: kept points span the whole range evenly", () => {
  const x = Float64Array.from({ length: 100_000 }, (_, i) => i);
  const kept = downsampleIndices(x, x, 200);
  const gaps = kept.slice(1).map((index, i) => index - kept[i]);
  assert(Math.max(...gaps) < 2 * (100_000 / 200), `largest gap ${Math.max(...gaps)}`);
});

Deno.test("summarize() percentiles by selection equal those of a full sort on random data", () => {
  const random = seededRandom(11);
  for (const length of [1, 2, 3, 10, 101, 5000]) {
    const values = Float64Array.from({ length }, () => Math.round(random() * 100));
    const sorted = Float64Array.from(values).sort();
    const at = (percent: number) => {
      const rank = (percent / 100) * (length - 1);
      const low = Math.floor(rank);
      const high = Math.min(low + 1, length - 1);
      return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    };
    const summary = summarize(values)!;
    assert.deepEqual([summary.p50, summary.p95, summary.p99], [at(50), at(95), at(99)], `length ${length}`);
  }
});
