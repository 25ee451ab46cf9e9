/** The power of the chaos rate test, shown by simulation: a correct generator passes, one at 2/3 or 3/2 of the rate fails, at the default number of operations. */
import assert from "node:assert/strict";
import { chaosOutputs } from "./generator.ts";
import { checksForPower, defaultOps, generatorProblems, MISS_CHANCE } from "./power.ts";
import { DEFAULT_OPS } from "./workload.ts";
// A different seeded generator (mulberry32), for a faulty kernel whose draws are not the seed's at all.
import { seededRandom } from "../soak/random.ts";

/** Simulated cells per rate: enough that 99.9 % and 99 % are resolved (a miss of 1 in 1000 shows as 2 of 2000). */
const CELLS = 2000;

for (const ratePercent of [1, 5, 10, 30, 50, 90, 100]) {
  Deno.test(`at rate ${ratePercent}% and its default ops, a correct generator passes >= 99.9 % and one at 2/3 or 3/2 the rate fails >= 99 %`, () => {
    const checks = defaultOps(ratePercent);
    const p = ratePercent / 100;
    let correctPassed = 0;
    let lowCaught = 0;
    let highCaught = 0;
    let otherCaught = 0;
    for (let cell = 0; cell < CELLS; cell++) {
      const seed = BigInt(cell) * 0x9e3779b9n + 7n;
      // One stream of the seed's 64-bit outputs; u = output / 2^64, and the kernel's draw is floor(100 u).
      const next = chaosOutputs(seed);
      const outputs = Array.from({ length: checks }, () => next());
      // The correct kernel: exactly the seed's draws at the rate (the mirror of crates/chaos).
      const correct = outputs.flatMap((output, index) =>
        ((output * 100n) >> 64n) < BigInt(ratePercent) ? [index + 1] : []
      );
      if (generatorProblems(seed.toString(), ratePercent, checks, correct).length === 0) correctPassed++;
      // Faulty kernels with the same draws but a threshold at 2/3 or 3/2 of the rate.
      const u = outputs.map((output) => Number(output) / 2 ** 64);
      const scaledLow = u.flatMap((value, index) => value < p * 2 / 3 ? [index + 1] : []);
      const scaledHigh = u.flatMap((value, index) => value < Math.min(1, p * 3 / 2) ? [index + 1] : []);
      if (generatorProblems(seed.toString(), ratePercent, checks, scaledLow).length > 0) lowCaught++;
      if (generatorProblems(seed.toString(), ratePercent, checks, scaledHigh).length > 0) highCaught++;
      // A faulty kernel with other draws entirely, at 2/3 the rate.
      const other = seededRandom(cell);
      const unrelated = Array.from({ length: checks }, (_, index) => other() < p * 2 / 3 ? [index + 1] : [])
        .flat();
      if (generatorProblems(seed.toString(), ratePercent, checks, unrelated).length > 0) otherCaught++;
    }
    assert.ok(correctPassed / CELLS >= 0.999, `correct generator passed ${correctPassed}/${CELLS}`);
    assert.ok(
      lowCaught / CELLS >= 0.99,
      `2/3-rate generator caught ${lowCaught}/${CELLS} in ${checks} checks`,
    );
    if (ratePercent * 3 / 2 <= 100) {
      assert.ok(
        highCaught / CELLS >= 0.99,
        `3/2-rate generator caught ${highCaught}/${CELLS} in ${checks} checks`,
      );
    }
    assert.ok(otherCaught / CELLS >= 0.99, `other generator caught ${otherCaught}/${CELLS}`);
  });
}

Deno.test("checksForPower() is the smallest K with (1 - p/3)^K <= MISS_CHANCE, and defaultOps() never goes below 40", () => {
  for (const ratePercent of [1, 10, 30, 100]) {
    const k = checksForPower(ratePercent);
    const band = ratePercent / 300;
    assert.ok((1 - band) ** k <= MISS_CHANCE);
    assert.ok((1 - band) ** (k - 1) > MISS_CHANCE);
  }
  assert.equal(checksForPower(0), 0);
  assert.equal(defaultOps(0), DEFAULT_OPS);
  assert.equal(defaultOps(100), DEFAULT_OPS);
  // The figures docs/chaos-cli.md quotes.
  assert.deepEqual([1, 5, 10, 30, 50, 100].map(defaultOps), [1862, 370, 184, 59, 40, 40]);
});
