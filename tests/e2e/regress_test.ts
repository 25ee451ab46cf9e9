/** End-to-end tests of `sis regress`: real boots against the committed baselines, and deliberately changed boot sequences that must be caught. */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, sis } from "./_harness.ts";

/**
 * How a changed boot sequence is produced, honestly: the kernel is not
 * patched for the test; instead a real boot is checked against a baseline
 * that was itself recorded from a real boot and then changed the way a
 * regression would change it (an event dropped, two events swapped, a
 * panic introduced by the command list). The check must name each change
 * and exit 1; the unchanged baseline must pass with exit 0.
 */

/** The engine builds the kernel it boots, so every test runs; x86_64 boots fastest. */
const arch = "x86_64";

Deno.test("sis regress check passes against the committed baseline of every arch", async () => {
  const run = await sis(["regress", "check", "--arch", "all"]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  for (const name of ["aarch64", "riscv64", "x86_64"]) {
    assert.match(run.stdout, new RegExp(`^${name}: \\d+ events vs \\d+ in baseline: ok`, "m"));
  }
});

Deno.test({
  name: "sis regress check catches a dropped, a reordered and an added boot event",
  fn: async () => {
    // Without a NIC: the DHCP lease record arrives at no fixed point of the
    // boot (allowlisted in baselines/allowlist.yaml), and this test's own
    // baselines must hold nothing but the changes it makes.
    const CONFIG = "no-network";
    const dir = await mkdtemp(join(tmpdir(), "sis-regress-"));
    /** `sis regress <action>` on this test's arch, config and baselines, plus `flags`. */
    const regress = (action: "baseline" | "check", ...flags: string[]) =>
      sis(["regress", action, "--arch", arch, "--config", CONFIG, "--baseline-dir", dir, ...flags]);
    try {
      const recorded = await regress("baseline");
      assert.equal(recorded.code, 0, recorded.stderr);
      const path = join(dir, `${arch}-${CONFIG}.json`);
      const baseline = JSON.parse(await readFile(path, "utf8"));
      const templates: string[] = baseline.events.map((event: { template: string }) => event.template);
      const memory = templates.findIndex((template) => template.startsWith("INFO boot: memory"));
      const heap = templates.findIndex((template) => template.startsWith("INFO boot: heap"));
      const mounted = templates.findIndex((template) => template.startsWith("INFO fs: mounted"));
      assert.ok(memory >= 0 && heap === memory + 1 && mounted > heap, templates.join("\n"));

      // Unchanged: passes.
      const same = await regress("check");
      assert.equal(same.code, 0, same.stdout);

      // The baseline expects heap before memory: the real boot is "reordered".
      // It lacks "fs mounted": the real boot has it "unexpected".
      // It expects an extra WARN the boot never prints: "missing".
      const changed = [...baseline.events];
      [changed[memory], changed[heap]] = [changed[heap], changed[memory]];
      changed.splice(mounted, 1);
      changed.splice(1, 0, { kind: "record", template: "WARN boot: slow clock", level: "WARN" });
      await writeFile(path, JSON.stringify({ ...baseline, events: changed }));
      const check = await regress("check", "--json", join(dir, "f.json"));
      assert.equal(check.code, 1, check.stdout);
      assert.match(check.stdout, /REGRESSION/);
      assert.match(check.stdout, /reordered\s+INFO boot: (memory|heap)/);
      assert.match(check.stdout, /unexpected\s+INFO fs: mounted/);
      assert.match(check.stdout, /missing\s+WARN boot: slow clock/);
      const findings = JSON.parse(await readFile(join(dir, "f.json"), "utf8"))[arch!].findings;
      assert.deepEqual(findings.map((finding: { kind: string }) => finding.kind).sort(), [
        "missing",
        "reordered",
        "unexpected",
      ]);

      // An allowlist excuses them until it expires; an expired entry fails by itself.
      const allowlist = join(dir, "allow.yaml");
      await writeFile(
        allowlist,
        `entries:\n  - kind: any\n    template: "/^(INFO|WARN) (boot|fs):/"\n    reason: test of the allowlist\n    expires: "2999-01-01"\n`,
      );
      const allowed = await regress("check", "--allowlist", allowlist);
      assert.equal(allowed.code, 0, allowed.stdout);
      assert.match(allowed.stdout, /allowed: test of the allowlist/);
      const expired = await regress("check", "--allowlist", allowlist, "--today", "3000-01-01");
      assert.equal(expired.code, 1, expired.stdout);
      assert.match(expired.stdout, /expired\s+allowlist entry/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
});

Deno.test({
  name: "sis regress check reports a panic the baseline did not have, with exit 4",
  fn: async () => {
    const dir = await mkdtemp(join(tmpdir(), "sis-regress-"));
    try {
      const baseline = JSON.parse(await readFile(join(ROOT, "baselines", `${arch}.json`), "utf8"));
      // The command list now ends in a panic; the expected events do not.
      await writeFile(
        join(dir, `${arch}.json`),
        JSON.stringify({ ...baseline, commands: [...baseline.commands, "panic regression"] }),
      );
      const check = await sis(["regress", "check", "--arch", arch!, "--baseline-dir", dir, "--no-build"]);
      assert.equal(check.code, 4, check.stdout);
      assert.match(check.stdout, /panic\s+PANIC regression/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
});

Deno.test("sis regress check without a baseline is a usage error before any boot", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sis-regress-"));
  try {
    const run = await sis(["regress", "check", "--arch", "x86_64", "--baseline-dir", dir]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /no baseline at/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
