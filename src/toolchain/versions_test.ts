import assert from "node:assert/strict";
import fc from "fast-check";
import { isAtLeast, parseVersion } from "./versions.ts";

Deno.test("parseVersion() reads the first version in tool output", () => {
  assert.deepEqual(parseVersion("rustc 1.85.0 (4d91de4e4 2025-02-17) (built from a source tarball)"), [
    1,
    85,
    0,
  ]);
  assert.deepEqual(parseVersion("QEMU emulator version 7.2.15 (Debian 1:7.2+dfsg-7+deb12u16)"), [7, 2, 15]);
  assert.deepEqual(parseVersion("1.96"), [1, 96, 0]);
  assert.equal(parseVersion("no digits"), undefined);
});

Deno.test("isAtLeast() refuses the rustc that failed with E0658 and accepts the one that builds", () => {
  assert.equal(isAtLeast("rustc 1.85.0 (4d91de4e4 2025-02-17)", "1.96"), false);
  assert.equal(isAtLeast("rustc 1.96.0", "1.96"), true);
  assert.equal(isAtLeast("QEMU emulator version 7.1.0", "7.2.0"), false);
  assert.equal(isAtLeast("QEMU emulator version 8.0.0", "7.2.0"), true);
  assert.equal(isAtLeast("garbage", "1.0"), false);
});

Deno.test("isAtLeast() is the lexicographic order on [major, minor, patch]", () => {
  const part = fc.integer({ min: 0, max: 200 });
  fc.assert(fc.property(fc.tuple(part, part, part), fc.tuple(part, part, part), (a, b) => {
    const text = (v: number[]) => v.join(".");
    const order = a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
    assert.equal(isAtLeast(text(a), text(b)), order >= 0);
    // Antisymmetry: both ways only when equal.
    assert.equal(isAtLeast(text(a), text(b)) && isAtLeast(text(b), text(a)), order === 0);
  }));
});
