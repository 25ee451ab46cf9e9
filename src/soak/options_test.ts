import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { parseChaos, parseDuration } from "./options.ts";

Deno.test("parseDuration() reads 90s, 30m, 8h, 7d, 500ms and combinations", () => {
  assert.equal(parseDuration("90s", "duration"), 90_000);
  assert.equal(parseDuration("30m", "duration"), 1_800_000);
  assert.equal(parseDuration("8h", "duration"), 28_800_000);
  assert.equal(parseDuration("7d", "duration"), 604_800_000);
  assert.equal(parseDuration("500ms", "interval"), 500);
  assert.equal(parseDuration("1h30m", "duration"), 5_400_000);
});

Deno.test("parseDuration() refuses a bare number, an unknown unit, zero and junk", () => {
  for (const bad of ["", "90", "5w", "0s", "1h junk", "-5s", "s"]) {
    assert.throws(() => parseDuration(bad, "duration"), (error: unknown) => {
      assert(error instanceof UsageError);
      assert.match(error.message, /^Invalid duration ".*": expected a number with a unit, such as 90s/);
      return true;
    }, bad);
  }
});

Deno.test("parseChaos() reads MODE:RATE and names the modes on a bad one", () => {
  assert.deepEqual(parseChaos("random_panic:5"), { mode: "random_panic", ratePercent: 5 });
  assert.deepEqual(parseChaos("slow_io:0.5"), { mode: "slow_io", ratePercent: 0.5 });
  for (const bad of ["random_panic", "bogus:5", "random_panic:101", "random_panic:x", "random_panic:5:1"]) {
    assert.throws(
      () => parseChaos(bad),
      /expected MODE:RATE with MODE one of disk_full, .*random_panic/,
      bad,
    );
  }
});
