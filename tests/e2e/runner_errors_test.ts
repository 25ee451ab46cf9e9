/** What a CI runner sees when something is wrong: a missing QEMU's one-line fix (doctor's), and `::error` at the suite's YAML line. */
import assert from "node:assert/strict";
import { symlink } from "node:fs/promises";
import { join } from "node:path";
import { sis, suitesDir } from "./_harness.ts";

Deno.test("a runner without QEMU gets doctor's one-line apt-get fix from sis test", async () => {
  // A PATH with setpriv and nothing else: the state of a fresh runner before `apt-get install qemu-*`.
  const bin = await Deno.makeTempDir({ prefix: "sis-e2e-noqemu-" });
  try {
    const setpriv = new TextDecoder().decode(
      (await new Deno.Command("sh", { args: ["-c", "command -v setpriv"] }).output()).stdout,
    ).trim();
    assert.ok(setpriv, "setpriv (util-linux) must be installed for this test");
    await symlink(setpriv, join(bin, "setpriv"));
    // --no-build, as on a runner: it has the kernels and no toolchain.
    const test = await sis(["test", "--arch", "x86_64", "--no-build"], { PATH: bin });
    assert.equal(test.code, 3, test.stdout + test.stderr);
    const fix = "./sis setup (apt-get install qemu-system-x86)";
    assert.equal(
      test.stderr.trim().split("\n").at(-1),
      `error: cannot start QEMU for "x86_64": qemu-system-x86_64 is not installed (fix: ${fix})`,
    );
    const doctor = await sis(["doctor"], { PATH: bin });
    assert.equal(doctor.code, 3);
    assert.match(
      doctor.stdout,
      new RegExp(`^MISSING qemu-system-x86_64 .*\\n\\s+fix: ${fix.replace(/[.()]/g, "\\$&")}$`, "m"),
    );
  } finally {
    await Deno.remove(bin, { recursive: true });
  }
});

Deno.test("under GITHUB_ACTIONS a failing step prints ::error at its line of the suite YAML", async () => {
  const suite = [
    "description: one passing and one failing step",
    "steps:",
    "  - name: echo works",
    "    run: echo fine",
    "    expect:",
    "      contains: [fine]",
    "  - name: echo is expected to say something else",
    "    run: echo actual",
    "    expect:",
    "      contains: [expected text]",
  ].join("\n") + "\n";
  const dir = await suitesDir({ lines: suite });
  const summary = join(dir, "summary.md");
  try {
    const run = await sis(["test", "--arch", "riscv64", "--suites-dir", dir, "--suite", "lines"], {
      GITHUB_ACTIONS: "true",
      GITHUB_WORKSPACE: dir,
      GITHUB_STEP_SUMMARY: summary,
    });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const errors = run.stdout.split("\n").filter((line) => line.startsWith("::error"));
    assert.equal(errors.length, 1, run.stdout);
    assert.match(
      errors[0],
      /^::error file=lines\.yaml,line=7,title=lines\/echo is expected to say something else failed \(riscv64\/default\)::\$ echo actual%0Aoutput does not contain "expected text"/,
    );
    assert.match(await Deno.readTextFile(summary), /^## sis test: failed/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
