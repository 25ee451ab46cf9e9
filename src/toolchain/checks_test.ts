/** Unit tests of doctor's checks, the table and setup's plan and refusal rules. */
import assert from "node:assert/strict";
import { formatDoctorTable } from "../commands/doctor.ts";
import { setup, type SetupMachine } from "../commands/setup.ts";
import { testContext } from "../context.ts";
import { UsageError } from "../errors.ts";
import { missingPackages, planSetup, runChecks } from "./checks.ts";
import { FakeProbe } from "./fake_probe.ts";

/** A machine with everything required; `without` removes executables from it. */
function machineFiles(without: string[] = []): Record<string, boolean> {
  const files: Record<string, boolean> = {
    "/usr/bin/cargo": true,
    "/usr/bin/rustc": true,
    "/usr/lib/rustlib/src/rust/library/core/Cargo.toml": false,
    "/usr/bin/ld.lld": true,
    "/usr/bin/qemu-system-aarch64": true,
    "/usr/bin/qemu-system-riscv64": true,
    "/usr/bin/qemu-system-x86_64": true,
    "/usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.bin": false,
    "/usr/share/seabios/bios-256k.bin": false,
    "/usr/bin/setpriv": true,
    "/usr/bin/git": true,
    "/usr/bin/jq": true,
    "/usr/bin/apt-get": true,
  };
  for (const path of without) delete files[path];
  return files;
}

const answers = {
  "/usr/bin/rustc -vV": { stdout: "rustc 1.96.0 (x)\nrelease: 1.96.0\n" },
  "/usr/bin/rustc --print sysroot": { stdout: "/usr\n" },
  "/usr/bin/cargo --version": { stdout: "cargo 1.96.0\n" },
  "/usr/bin/qemu-system-aarch64 --version": { stdout: "QEMU emulator version 7.2.22\n" },
  "/usr/bin/qemu-system-riscv64 --version": { stdout: "QEMU emulator version 7.2.22\n" },
  "/usr/bin/qemu-system-x86_64 --version": { stdout: "QEMU emulator version 7.2.22\n" },
};

const env = { PATH: "/usr/bin" };

Deno.test("runChecks() finds a complete machine and misses only the optional tools", async () => {
  const results = await runChecks({
    env,
    probe: new FakeProbe(machineFiles(), answers),
    denoVersion: "2.9.6",
  });
  const missing = results.filter((result) => !result.found).map((result) => result.name);
  assert.deepEqual(missing, ["chromium", "promtool"]);
  assert.equal(
    results.find((result) => result.name === "qemu-system-riscv64")?.detail,
    "/usr/bin/qemu-system-riscv64 (QEMU emulator version 7.2.22)",
  );
  assert.deepEqual(missingPackages(results, ["required", "recommended"]), []);
  assert.deepEqual(missingPackages(results, ["optional"]), ["chromium", "prometheus"]);
});

Deno.test("runChecks() maps each missing tool to its Debian package", async () => {
  const probe = new FakeProbe(
    machineFiles([
      "/usr/bin/qemu-system-riscv64",
      "/usr/lib/rustlib/src/rust/library/core/Cargo.toml",
      "/usr/bin/jq",
    ]),
    answers,
  );
  const results = await runChecks({ env, probe, denoVersion: "2.9.6" });
  assert.deepEqual(missingPackages(results, ["required"]).sort(), [
    "cargo-web",
    "qemu-system-misc",
    "rust-web-src",
    "rustc-web",
  ]);
  assert.deepEqual(missingPackages(results, ["recommended"]), ["jq"]);
  const table = formatDoctorTable(results, {
    green: (t) => t,
    red: (t) => t,
    yellow: (t) => t,
    dim: (t) => t,
  });
  assert.match(
    table,
    /^MISSING qemu-system-riscv64 +not on PATH\n +fix: \.\/sis setup \(apt-get install qemu-system-misc\)$/m,
  );
  assert.match(table, /^ok +ld\.lld /m);
  // The old note that no-network booted the same devices as default is gone: every other config has the NIC now.
  assert.doesNotMatch(table, /no-network/);
});

Deno.test("planSetup() updates first, installs once, and uses sudo only when not root", () => {
  assert.deepEqual(planSetup([], false, "/usr/bin/sudo").commands, []);
  assert.deepEqual(planSetup(["lld", "jq"], true, "/usr/bin/sudo").commands, [
    ["apt-get", "update"],
    ["apt-get", "install", "-y", "--no-install-recommends", "lld", "jq"],
  ]);
  assert.deepEqual(planSetup(["lld"], false, "/usr/bin/sudo").commands[0], [
    "/usr/bin/sudo",
    "apt-get",
    "update",
  ]);
});

/** A setup machine that records what it would run. */
function fakeMachine(files: Record<string, boolean>, answer: string | null = null) {
  const executed: string[][] = [];
  const asked: string[] = [];
  const machine: SetupMachine = {
    probe: new FakeProbe(files, answers),
    isRoot: true,
    ask: (question) => {
      asked.push(question);
      return Promise.resolve(answer);
    },
    execute: (argv) => {
      executed.push([...argv]);
      return Promise.resolve(0);
    },
  };
  return { machine, executed, asked };
}

const noQemu = () => machineFiles(["/usr/bin/qemu-system-x86_64"]);

Deno.test("setup() without a terminal and without --yes refuses and runs nothing", async () => {
  const { machine, executed } = fakeMachine(noQemu());
  const context = testContext({ env });
  await assert.rejects(
    setup({ command: "setup", yes: false, optional: false }, context, machine),
    (error) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.fix ?? "", /--yes/);
      return true;
    },
  );
  assert.deepEqual(executed, []);
  assert.match(context.stdout.text, /apt-get install -y --no-install-recommends qemu-system-x86/);
});

Deno.test("setup() on a terminal asks, and a 'no' installs nothing", async () => {
  const { machine, executed, asked } = fakeMachine(noQemu(), "n");
  const context = testContext({ env, isTerminal: true, stdinIsTerminal: true });
  assert.equal(await setup({ command: "setup", yes: false, optional: false }, context, machine), 1);
  assert.equal(asked.length, 1);
  assert.deepEqual(executed, []);
});

Deno.test("setup() with --yes runs apt-get update then install, then checks again", async () => {
  const { machine, executed, asked } = fakeMachine(noQemu());
  const context = testContext({ env });
  // The fake install does not add the binary, so the re-check still misses it.
  await assert.rejects(
    setup({ command: "setup", yes: true, optional: false }, context, machine),
    /Still missing/,
  );
  assert.deepEqual(asked, []);
  assert.deepEqual(executed, [
    ["apt-get", "update"],
    ["apt-get", "install", "-y", "--no-install-recommends", "qemu-system-x86"],
  ]);
});

Deno.test("setup() with nothing missing does nothing", async () => {
  const { machine, executed } = fakeMachine(machineFiles());
  const context = testContext({ env });
  assert.equal(await setup({ command: "setup", yes: false, optional: false }, context, machine), 0);
  assert.deepEqual(executed, []);
  assert.match(context.stdout.text, /nothing to install/);
});

Deno.test("setup() as a user without sudo runs apt-get directly and says to run as root when it fails", async () => {
  const { machine } = fakeMachine(noQemu());
  const failing: SetupMachine = { ...machine, isRoot: false, execute: () => Promise.resolve(100) };
  const context = testContext({ env });
  await assert.rejects(setup({ command: "setup", yes: true, optional: false }, context, failing), (error) => {
    assert.ok(error instanceof Error);
    assert.match(error.message, /"apt-get update" failed with exit code 100/);
    assert.match((error as { fix?: string }).fix ?? "", /run it as root/);
    return true;
  });
});

Deno.test("runChecks() refuses a rustc older than the kernel's rust-version, an old QEMU and an old Deno, saying what to install", async () => {
  const old = {
    ...answers,
    "/usr/bin/rustc -vV": { stdout: "rustc 1.85.0 (4d91de4e4 2025-02-17)\nrelease: 1.85.0\n" },
    "/usr/bin/qemu-system-x86_64 --version": { stdout: "QEMU emulator version 6.2.0\n" },
  };
  const results = await runChecks({
    env,
    probe: new FakeProbe(machineFiles(), old),
    denoVersion: "2.1.0",
    rustVersion: "1.96",
  });
  const byName = new Map(results.map((result) => [result.name, result]));
  const rust = byName.get("rustc + cargo (build-std)")!;
  assert.equal(rust.found, false);
  assert.match(rust.detail, /rustc 1\.85\.0 .*older than the kernel's rust-version 1\.96/);
  assert.match(rust.fix, /bookworm-updates/);
  assert.equal(byName.get("qemu-system-x86_64")!.found, false);
  assert.match(byName.get("qemu-system-x86_64")!.detail, /older than 7\.2\.0/);
  assert.equal(byName.get("qemu-system-aarch64")!.found, true);
  assert.equal(byName.get("deno")!.found, false);
  // The same machine with a new enough Rust and Deno passes those rows.
  const fine = await runChecks({
    env,
    probe: new FakeProbe(machineFiles(), answers),
    denoVersion: "2.9.6",
    rustVersion: "1.96",
  });
  assert.equal(fine.find((result) => result.name === "rustc + cargo (build-std)")!.found, true);
  assert.equal(fine.find((result) => result.name === "deno")!.found, true);
});
