/**
 * End-to-end tests of memory protection (issue 11) on every arch in the
 * real QEMU: a task stack overflow stops at its guard page, a write into
 * kernel text faults (W^X), and a null pointer read faults; each ends in
 * its own fault report, never in silent corruption. Run with -smp 4, so
 * the shell may be on any CPU (x86_64 secondaries need their own TSS for
 * the double fault an overflow becomes).
 */
import assert from "node:assert/strict";
import { ARCHES } from "../../src/arch.ts";
import { Machine } from "../../src/qemu/machine.ts";
import { BUILTIN_CONFIGS } from "../../src/qemu/profiles.ts";
import { Session, SessionPanicError } from "../../src/session/driver.ts";
import { ensureKernels } from "../../src/runs/kernels.ts";
import { testContext } from "../../src/context.ts";
import { ROOT } from "./_harness.ts";

/** Fresh kernels: the engine's incremental build first, as kernel_test does. */
const kernels = await ensureKernels(ROOT, [...ARCHES], testContext({ cwd: ROOT, env: Deno.env.toObject() }));

/** The command, and what its fault report's message must say. */
const CASES = [
  ["overflow", /stack overflow of task shell, pid \d+: guard page/],
  ["wx", /write to kernel text: W\^X/],
  ["null", /at 0x10\b.*\(null pointer access\)/],
] as const;

for (const arch of ARCHES) {
  for (const [command, expected] of CASES) {
    Deno.test(`kernel on ${arch}: \`${command}\` ends in its own fault report`, async () => {
      const machine = await Machine.launch({
        arch,
        config: BUILTIN_CONFIGS.smp,
        kernelPath: kernels[arch].path,
      });
      try {
        const session = new Session(machine, { bootTimeoutMs: 20_000, commandTimeoutMs: 20_000 });
        await session.boot();
        await session.enableFraming();
        const error = await session.run(command).then(() => undefined, (caught: unknown) => caught);
        assert.ok(error instanceof SessionPanicError, `expected a fault report, got ${error}`);
        assert.ok(error.record, `a JSON record after the report:\n${error.report.join("\n")}`);
        const message = error.record.message as string;
        assert.match(message, /^unexpected exception: /);
        assert.match(message, expected);
        assert.ok(error.report.includes("!!! KERNEL PANIC !!!"));
        const exit = await machine.exited;
        assert.equal(exit.outcome.kind, "panic", JSON.stringify(exit.outcome));
      } finally {
        await machine.shutdown();
      }
    });
  }
}
