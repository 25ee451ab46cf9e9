/** End-to-end tests of `sis panic decode` on recorded panics of all three archs, symbolized against the built kernels. */
import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { ROOT, sis } from "./_harness.ts";

const ARCHES = ["aarch64", "riscv64", "x86_64"];

Deno.test("sis panic decode prints message, location, registers and a symbolized backtrace for every arch", async () => {
  for (const arch of ARCHES) {
    const elf = join(ROOT, "build", arch, "sis-kernel.elf");
    const hasElf = !!(await stat(elf).catch(() => undefined));
    const run = await sis([
      "panic",
      "decode",
      `fixtures/transcripts/${arch}-fault.log`,
      ...(hasElf ? ["--elf", elf] : []),
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^panic at line \\d+ \\(${arch}\\)$`, "m"));
    assert.match(run.stdout, /message: {2}unexpected exception/);
    assert.match(run.stdout, /location: <exception>/);
    assert.match(run.stdout, /registers:/);
    if (!hasElf) {
      console.log(`NOTICE: no ${elf}: symbols not checked for ${arch}`);
      continue;
    }
    // The transcripts were recorded from these builds: the frames name the fault path.
    // (A rebuilt kernel may move addresses; then only the shape is checked.)
    const frames = run.stdout.split("\n").filter((line) => /^\s+#(pc|\d+)\s+0x/.test(line));
    assert.ok(frames.length >= 3, run.stdout);
    if (run.stdout.includes("system::fault")) {
      // From the faulting command down to the task entry (inlining varies by arch).
      assert.match(run.stdout, /#0 +0x[0-9a-f]+ +sis_kernel::shell::commands::system::fault\+0x[0-9a-f]+/);
      assert.match(run.stdout, /sis_kernel::sched::task_entry\+0x[0-9a-f]+/);
    }
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
