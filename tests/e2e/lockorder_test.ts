/**
 * The lock-order check in a real debug kernel (docs/kernel-smp.md, "Locks
 * and their order"): `lockorder` takes a rank-3 lock and then a rank-1
 * lock, and the debug build panics with the report that names both. The
 * host tests of `sis-lockorder` cover the check itself; this shows it wired
 * into the kernel's locks. One arch: the check is arch-independent code
 * (`sync.rs`, `percpu.rs`), and a debug build is the slow part.
 */
import assert from "node:assert/strict";
import { Machine } from "../../src/qemu/machine.ts";
import { BUILTIN_CONFIGS } from "../../src/qemu/profiles.ts";
import { Session, SessionPanicError } from "../../src/session/driver.ts";
import { buildKernel, buildPaths } from "../../src/toolchain/build.ts";
import { systemProbe } from "../../src/toolchain/probe.ts";
import { requireLinker, requireRustToolchain } from "../../src/toolchain/rust.ts";
import { testContext } from "../../src/context.ts";
import { ROOT } from "./_harness.ts";

/** Debug kernels go beside the release ones, never over them. */
const DEBUG_BUILD_DIR = "build/debug";

Deno.test("a debug kernel panics naming both locks when two are taken out of order", async () => {
  const env = Deno.env.toObject();
  const progress = testContext().stderr;
  const toolchain = await requireRustToolchain(env, systemProbe);
  const linker = await requireLinker(env, systemProbe);
  await buildKernel(
    { root: ROOT, arches: ["aarch64"], features: [], profile: "debug", outDir: DEBUG_BUILD_DIR },
    { toolchain, linkerVersion: linker.version, probe: systemProbe, env, progress, isTerminal: false },
  ).catch((error) => {
    throw new Error(`debug build failed: ${error}\n${progress.text}`);
  });
  const machine = await Machine.launch({
    arch: "aarch64",
    config: BUILTIN_CONFIGS["no-network"],
    kernelPath: buildPaths(ROOT, "aarch64", DEBUG_BUILD_DIR).elf,
  });
  try {
    const session = new Session(machine, { bootTimeoutMs: 60_000, commandTimeoutMs: 60_000 });
    await session.boot();
    await session.enableFraming();
    // The documented order still works in the debug kernel.
    assert.equal((await session.run("ls /")).status, 0);
    const error = await session.run("lockorder").then(() => undefined, (caught) => caught);
    assert.ok(error instanceof SessionPanicError, `expected the lock-order panic, got ${error}`);
    assert.match(
      error.report.join("\n"),
      /lock order violated: taking fs::ROOT \(rank 1\) while holding sched::SCHEDULER \(rank 3\)/,
    );
  } finally {
    await machine.shutdown();
  }
});
