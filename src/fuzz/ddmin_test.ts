import assert from "node:assert/strict";
import { ddmin, split } from "./ddmin.ts";

const range = (count: number) => Array.from({ length: count }, (_, at) => at);

/** A pure predicate as a test: fails when every one of `needed` is present. */
function needs(...needed: number[]) {
  return (candidate: readonly number[]) => Promise.resolve(needed.every((item) => candidate.includes(item)));
}

Deno.test("split() cuts into contiguous chunks whose sizes differ by at most one", () => {
  assert.deepEqual(split(range(7), 3), [[0, 1], [2, 3], [4, 5, 6]]);
  assert.deepEqual(split(range(4), 4), [[0], [1], [2], [3]]);
  for (let length = 1; length < 40; length++) {
    for (let parts = 1; parts <= length; parts++) {
      const chunks = split(range(length), parts);
      assert.deepEqual(chunks.flat(), range(length));
      const sizes = chunks.map((chunk) => chunk.length);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
    }
  }
});

Deno.test("ddmin() finds the one failing item of 100,000 in a few dozen tests", async () => {
  const result = await ddmin(range(100_000), needs(73_421));
  assert.deepEqual(result.items, [73_421]);
  assert.ok(result.isMinimal);
  assert.ok(result.tests <= 2 * 17 + 2, `${result.tests} tests`);
});

Deno.test("ddmin() keeps every item a failure needs, in order, and nothing else", async () => {
  const result = await ddmin(range(1000), needs(999, 3, 500));
  assert.deepEqual(result.items, [3, 500, 999]);
  assert.ok(result.isMinimal);
});

Deno.test("ddmin() gives a 1-minimal result for an order-dependent failure", async () => {
  // Fails when some 7 comes after some 2 (a call that needs an earlier one).
  const test = (candidate: readonly number[]) =>
    Promise.resolve(candidate.indexOf(2) !== -1 && candidate.lastIndexOf(7) > candidate.indexOf(2));
  const failing = [5, 2, 9, 2, 7, 1, 7, 3];
  const result = await ddmin(failing, test);
  assert.ok(await test(result.items));
  for (let at = 0; at < result.items.length; at++) {
    assert.equal(await test(result.items.filter((_, other) => other !== at)), false);
  }
  assert.deepEqual(result.items, [2, 7]);
});

Deno.test("ddmin() never tests the same candidate twice and stops at maxTests with a failing result", async () => {
  const tried = new Set<string>();
  const predicate = needs(10, 20, 30, 40);
  const counting = (candidate: readonly number[]) => {
    const key = candidate.join(",");
    assert.ok(!tried.has(key), `tested twice: ${key}`);
    tried.add(key);
    return predicate(candidate);
  };
  const full = await ddmin(range(64), counting);
  assert.deepEqual(full.items, [10, 20, 30, 40]);
  const cut = await ddmin(range(64), predicate, { maxTests: 3 });
  assert.equal(cut.tests, 3);
  assert.equal(cut.isMinimal, false);
  assert.ok(await predicate(cut.items));
});

Deno.test("ddmin() of a single failing item is that item, untested", async () => {
  const result = await ddmin([42], () => Promise.reject(new Error("must not test")));
  assert.deepEqual(result, { items: [42], tests: 0, isMinimal: true });
});
