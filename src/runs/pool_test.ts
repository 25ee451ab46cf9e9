import assert from "node:assert/strict";
import { runPool } from "./pool.ts";

Deno.test("runPool() never runs more than `parallel` at once and returns results in plan order", async () => {
  let running = 0;
  let most = 0;
  const results = await runPool([5, 1, 4, 2, 3], {
    parallel: 2,
    run: async (item) => {
      running++;
      most = Math.max(most, running);
      // Yield `item` times so jobs end out of order.
      for (let turn = 0; turn < item; turn++) await Promise.resolve();
      running--;
      return item * 10;
    },
    notStarted: () => -1,
  });
  assert.deepEqual(results, [50, 10, 40, 20, 30]);
  assert.equal(most, 2);
});

Deno.test("runPool() starts nothing new after a stop and gives every unstarted item its not-started result", async () => {
  const stop = new AbortController();
  const started: number[] = [];
  const results = await runPool([0, 1, 2, 3, 4], {
    parallel: 1,
    stop: stop.signal,
    run: (item) => {
      started.push(item);
      if (item === 1) stop.abort();
      return Promise.resolve(`ran ${item}`);
    },
    notStarted: (item) => `not run ${item}`,
  });
  assert.deepEqual(started, [0, 1]);
  assert.deepEqual(results, ["ran 0", "ran 1", "not run 2", "not run 3", "not run 4"]);
});
