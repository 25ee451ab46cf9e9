import assert from "node:assert/strict";
import fc from "fast-check";
import { UsageError } from "../errors.ts";
import { parseShard, selectJobs, shardItems } from "./plan.ts";

Deno.test("parseShard() accepts I/N with 1 <= I <= N and refuses everything else as a usage error", () => {
  assert.deepEqual(parseShard("2/3"), { index: 2, count: 3 });
  assert.deepEqual(parseShard("1/1"), { index: 1, count: 1 });
  for (const bad of ["0/3", "4/3", "x", "1/0", "", "1/", "/2", "-1/2", "1.5/2"]) {
    assert.throws(() => parseShard(bad), UsageError, bad);
  }
});

Deno.test("shardItems(): the N shards partition the plan, keep its order, and differ in size by at most one", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer(), { maxLength: 60 }),
      fc.integer({ min: 1, max: 12 }),
      (items, count) => {
        const shards = Array.from({ length: count }, (_, at) => shardItems(items, { index: at + 1, count }));
        const positions = shards.flatMap((shard, at) => shard.map((_, k) => at + k * count)).sort((a, b) =>
          a - b
        );
        assert.deepEqual(positions, items.map((_, position) => position));
        for (const [at, shard] of shards.entries()) {
          assert.deepEqual(shard, items.filter((_, position) => position % count === at));
        }
        const sizes = shards.map((shard) => shard.length);
        assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
      },
    ),
  );
});

Deno.test("selectJobs() refuses an empty plan naming what was asked, and a shard past the plan naming its size", () => {
  assert.throws(() => selectJobs([], { asked: '--filter "typo"' }), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.match(error.message, /nothing to run: no job matches --filter "typo"/);
    return true;
  });
  assert.throws(() => selectJobs(["a", "b"], { shard: "3/4", asked: "--suite smoke" }), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.match(error.message, /shard 3\/4 of --suite smoke selects none of its 2 job/);
    return true;
  });
  assert.deepEqual(selectJobs(["a", "b", "c"], { shard: "2/2" }), ["b"]);
  assert.deepEqual([1, 2, 3].map((index) => shardItems([0, 1, 2, 3, 4, 5, 6], { index, count: 3 })), [
    [0, 3, 6],
    [1, 4],
    [2, 5],
  ]);
  assert.deepEqual(selectJobs(["a", "b"], {}), ["a", "b"]);
});
