/** End-to-end tests of `sis panic decode` on recorded panics of all three archs, symbolized against the built kernels. */
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { ROOT, sis, suitesDir } from "./_harness.ts";

const ARCHES = ["aarch64", "riscv64", "x86_64"];

/** Boots every arch's current kernel through `sis test` with a suite that faults; returns each arch's serial transcript. */
async function freshFaults(): Promise<{ transcripts: Record<string, string>; cleanup: () => Promise<void> }> {
  const dir = await suitesDir({ fault: "steps:\n  - name: fault\n    run: fault\n" });
  const run = await sis(["test", "--arch", "all", "--suites-dir", dir, "--suite", "fault"]);
  assert.equal(run.code, 4, run.stdout + run.stderr);
  const bundle = /bundle (\S+)\n/.exec(run.stderr)![1];
  const transcripts: Record<string, string> = {};
  for (const arch of ARCHES) transcripts[arch] = join(bundle, `${arch}-default-fault`, "serial.raw");
  return { transcripts, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

Deno.test("sis panic decode names the faulting function and its callers on every arch, with the matching ELF", async () => {
  const { transcripts, cleanup } = await freshFaults();
  try {
    for (const arch of ARCHES) {
      const elf = join(ROOT, "build", arch, "sis-kernel.elf");
      const run = await sis(["panic", "decode", transcripts[arch], "--elf", elf]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^panic at line \\d+ \\(${arch}\\)$`, "m"));
      assert.match(run.stdout, /message: {2}unexpected exception/);
      assert.match(run.stdout, /location: <exception>/);
      assert.match(run.stdout, /registers:/);
      assert.match(run.stdout, /build: {4}[0-9a-f]{40} [0-9a-f]{16}/);
      // From the faulting command down to the task entry (inlining may fold frames between).
      assert.match(
        run.stdout,
        /#0 +0x[0-9a-f]+ +sis_kernel::shell::commands::system::fault\+0x[0-9a-f]+/,
        arch,
      );
      assert.match(run.stdout, /sis_kernel::sched::task_entry\+0x[0-9a-f]+/, arch);
      assert.doesNotMatch(run.stdout, /note: warning/, arch);
    }
  } finally {
    await cleanup();
  }
});

Deno.test("sis panic decode refuses an ELF of another build with exit 1, and decodes it with --force and a warning", async () => {
  const { transcripts, cleanup } = await freshFaults();
  try {
    // Another build of the same arch: the chaos kernel (other features, so another build id).
    const chaos = await sis(["chaos", "run", "disk_full", "--rate", "0", "--ops", "1", "--arch", "x86_64"]);
    assert.equal(chaos.code, 0, chaos.stdout + chaos.stderr);
    const other = join(ROOT, "build", "chaos", "x86_64", "sis-kernel.elf");
    const refused = await sis(["panic", "decode", transcripts.x86_64, "--elf", other]);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(
      refused.stderr,
      /^error: wrong ELF: .* is build [0-9a-f]{16}, but the panic at line \d+ is from build/m,
    );
    assert.equal(refused.stdout, "");
    const forced = await sis(["panic", "decode", transcripts.x86_64, "--elf", other, "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /note: warning: --force: .* symbols may be wrong/);
  } finally {
    await cleanup();
  }
});

Deno.test("sis panic decode --json gives the record's fields and the frames", async () => {
  const run = await sis(["panic", "decode", "fixtures/transcripts/x86_64-panic.log", "--json"]);
  assert.equal(run.code, 0, run.stderr);
  const [report] = JSON.parse(run.stdout);
  assert.equal(report.message, "boom");
  assert.equal(report.arch, "x86_64");
  assert.match(report.location, /system\.rs:\d+:\d+$/);
  assert.ok(report.backtrace.length >= 2);
  assert.ok(report.backtrace.every((frame: { address: string }) => /^0x[0-9a-f]+$/.test(frame.address)));
});

Deno.test("sis panic decode exits 1 on a transcript without a panic, 2 on a missing file", async () => {
  const none = await sis(["panic", "decode", "fixtures/transcripts/x86_64-session.log"]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no panic report/);
  assert.equal((await sis(["panic", "decode", "fixtures/transcripts/nope.log"])).code, 2);
});
