import assert from "node:assert/strict";
import { ARG_MAX, listArguments, runArguments, toRanges } from "./plan.ts";

Deno.test("runArguments() writes the plan.rs run form", () => {
  assert.equal(runArguments(42n, 0, 100_000), "seed=42 calls=100000 start=0");
  assert.equal(
    runArguments(18446744073709551615n, 200_000, 0, 5000.4),
    "seed=18446744073709551615 calls=0 start=200000 ms=5000",
  );
});

Deno.test("toRanges() merges consecutive indices and keeps the order", () => {
  assert.deepEqual(toRanges([1, 2, 3, 7, 9, 10, 4]), [[1, 3], [7, 7], [9, 10], [4, 4]]);
  assert.deepEqual(toRanges([]), []);
});

Deno.test("listArguments() writes ranges and refuses a text over ARG_MAX", () => {
  assert.equal(listArguments(7n, [5, 6, 7, 44021]), "seed=7 list=5-7,44021");
  assert.equal(listArguments(7n, []), undefined);
  const scattered = Array.from({ length: 400 }, (_, at) => at * 2);
  assert.equal(listArguments(7n, scattered), undefined);
  const fits = listArguments(7n, scattered.slice(0, 100))!;
  assert.ok(fits.length + "fuzz ".length <= ARG_MAX);
});
