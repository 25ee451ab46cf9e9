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
import { BUILTIN_CONFIGS } from "../../src/qemu/profiles.ts";
import { SessionPanicError } from "../../src/session/driver.ts";
import { freshKernels, withFramedKernel } from "./_boot.ts";

const kernels = await freshKernels();

/** The command, and what its fault report's message must say. */
const CASES = [
  ["overflow", /stack overflow of task shell, pid \d+: guard page/],
  ["wx", /write to kernel text: W\^X/],
  ["null", /at 0x10\b.*\(null pointer access\)/],
] as const;

for (const arch of ARCHES) {
  for (const [command, expected] of CASES) {
    Deno.test(`kernel on ${arch}: \`${command}\` ends in its own fault report`, async () => {
      const options = { arch, config: BUILTIN_CONFIGS.smp, kernelPath: kernels[arch].path };
      await withFramedKernel(options, 20_000, async (session, machine) => {
        const error = await session.run(command).then(() => undefined, (caught: unknown) => caught);
        assert.ok(error instanceof SessionPanicError, `expected a fault report, got ${error}`);
        assert.ok(error.record, `a JSON record after the report:\n${error.report.join("\n")}`);
        const message = error.record.message as string;
        assert.match(message, /^unexpected exception: /);
        assert.match(message, expected);
        assert.ok(error.report.includes("!!! KERNEL PANIC !!!"));
        const exit = await machine.exited;
        assert.equal(exit.outcome.kind, "panic", JSON.stringify(exit.outcome));
      });
    });
  }
}
