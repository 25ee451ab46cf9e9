/** Checks that src/protocol.ts still mirrors the Rust constants of kernel/crates/abi. */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ERRNO, errnoName, MARKER, PANIC_EXIT_CODE, POWEROFF_MAX } from "./protocol.ts";

const abi = (file: string) =>
  Deno.readTextFile(fileURLToPath(new URL(`../kernel/crates/abi/src/${file}`, import.meta.url)));

Deno.test("ERRNO matches every variant of the kernel's Errno enum", async () => {
  const source = await abi("errno.rs");
  const body = /pub enum Errno \{([^}]*)\}/.exec(source)?.[1];
  assert.ok(body, "Errno enum not found in errno.rs");
  const rust = Object.fromEntries(
    [...body.matchAll(/^\s*([A-Z0-9]+)\s*=\s*(\d+),/gm)].map((match) => [match[1], Number(match[2])]),
  );
  assert.ok(Object.keys(rust).length >= 10, "parsed too few variants: the regex no longer fits errno.rs");
  assert.deepEqual({ ...ERRNO }, rust);
});

Deno.test("exit codes match kernel/crates/abi/src/exit.rs", async () => {
  const source = await abi("exit.rs");
  assert.equal(Number(/POWEROFF_MAX: u8 = (\d+);/.exec(source)?.[1]), POWEROFF_MAX);
  assert.equal(Number(/PANIC: u8 = (\d+);/.exec(source)?.[1]), PANIC_EXIT_CODE);
});

Deno.test("marker names match kernel/crates/abi/src/frame.rs", async () => {
  const source = await abi("frame.rs");
  const rust = [...source.matchAll(/pub const [A-Z]+: &str = "([^"]+)";/g)].map((match) => match[1]).sort();
  assert.deepEqual(Object.values(MARKER).sort(), rust);
});

Deno.test("errnoName() maps statuses back to names and rejects non-errno statuses", () => {
  assert.equal(errnoName(2), "ENOENT");
  assert.equal(errnoName(39), "ENOTEMPTY");
  assert.equal(errnoName(0), undefined);
  assert.equal(errnoName(127), undefined);
});
