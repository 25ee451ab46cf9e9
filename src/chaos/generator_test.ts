import assert from "node:assert/strict";
import { chaosDraws, predictedInjections } from "./generator.ts";

Deno.test("predictedInjections() gives the kernel's pinned sequence: seed 42, rate 30, 100 checks -> 30, first at 7, 9, 14", () => {
  // The same numbers as crates/chaos engine.rs `the_sequence_for_a_seed_never_changes`, which the
  // kernel also printed on riscv64 under QEMU.
  const fired = predictedInjections("42", 30, 100);
  assert.equal(fired.length, 30);
  assert.deepEqual(fired.slice(0, 3), [7, 9, 14]);
});

Deno.test("chaosDraws() are uniform on 0..99 over many draws", () => {
  const draw = chaosDraws(12345n);
  const counts = new Array(10).fill(0);
  const n = 100_000;
  for (let index = 0; index < n; index++) counts[Math.floor(draw() / 10)]++;
  // Each decile within 5 sigma of n/10.
  const sigma = Math.sqrt(n * 0.1 * 0.9);
  for (const count of counts) assert.ok(Math.abs(count - n / 10) < 5 * sigma, String(counts));
});
