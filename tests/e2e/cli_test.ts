/** End-to-end tests of the CLI itself: help, usage errors, environment errors and a real kernel build. */
import assert from "node:assert/strict";

import { CLI, PERMISSIONS, ROOT } from "./_harness.ts";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/** Runs `sis <args>` as a user would (a new Deno process on src/cli.ts). */
async function sis(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<Run> {
  const started = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...PERMISSIONS, CLI, ...args],
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0", ...options.env },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    elapsedMs: performance.now() - started,
  };
}

Deno.test("sis --help lists every command and the exit codes", async () => {
  const run = await sis(["--help"]);
  assert.equal(run.code, 0, run.stderr);
  for (const command of ["build", "doctor", "setup", "run", "test", "completions"]) {
    assert.match(run.stdout, new RegExp(`^\\s+${command}\\s`, "m"), `help lacks ${command}`);
  }
  assert.match(
    run.stdout,
    /Exit codes: 0 passed, 1 failed, 2 usage error, 3 environment problem, 4 kernel panic/,
  );
  assert.equal(run.stderr, "");
});

Deno.test("sis build --help documents its own options", async () => {
  const run = await sis(["build", "--help"]);
  assert.equal(run.code, 0);
  for (const option of ["--arch", "--features", "--debug"]) assert.ok(run.stdout.includes(option), option);
});

Deno.test("sis completions bash prints a completion script", async () => {
  const run = await sis(["completions", "bash"]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /complete .*sis/);
});

for (
  const [args, pattern] of [
    [[], /no matching option,? (or )?command/i],
    [["bogus"], /bogus/],
    [["build"], /--arch/],
    [["build", "--arch", "mips"], /mips/],
    [["build", "--arch", "riscv64", "--bogus"], /--bogus/],
    [
      ["build", "--arch", "riscv64", "--features", "turbo"],
      /Unknown kernel feature "turbo" \(valid: chaos, stress, fuzz-break, lock-order-check, late-secondary\)/,
    ],
  ] as const
) {
  Deno.test(`sis ${args.join(" ") || "(no arguments)"} is a usage error: exit 2, one line on stderr`, async () => {
    const run = await sis([...args]);
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stdout, "");
    const lines = run.stderr.split("\n").filter((line) => line !== "");
    assert.equal(lines.length, 1, `expected one line, got:\n${run.stderr}`);
    assert.match(lines[0], /^error: /);
    assert.match(lines[0], pattern);
    assert.ok(!run.stderr.includes("    at "), "no stack trace");
  });
}

Deno.test("sis build outside a checkout is a usage error naming SIS_ROOT", async () => {
  const run = await sis(["build", "--arch", "riscv64"], { cwd: "/" });
  assert.equal(run.code, 2);
  assert.match(run.stderr, /^error: Not inside a sis checkout.*SIS_ROOT/);
});

Deno.test("sis build without ld.lld on PATH is an environment problem: exit 3 with the fix", async () => {
  const run = await sis(["build", "--arch", "riscv64"], { env: { PATH: "/nonexistent" } });
  assert.equal(run.code, 3, run.stderr);
  assert.match(
    run.stderr,
    /^error: ld\.lld not found on PATH.*\(fix: run '\.\/sis setup' \(apt package lld\)\)$/m,
  );
});

Deno.test("sis doctor without tools on PATH exits 3 and names each fix", async () => {
  const run = await sis(["doctor"], { env: { PATH: "/nonexistent" } });
  assert.equal(run.code, 3);
  assert.match(run.stdout, /^MISSING qemu-system-riscv64 +not on PATH$/m);
  assert.match(run.stdout, /fix: \.\/sis setup \(apt-get install qemu-system-misc\)/);
  assert.match(run.stderr, /^error: \d+ required tool\(s\) missing: .*qemu-system-x86_64/);
});

Deno.test("sis build --arch riscv64 leaves the ELF and a manifest with its sha256; a rebuild takes under 2 s", async () => {
  const first = await sis(["build", "--arch", "riscv64"]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^built riscv64: build\/riscv64\/sis-kernel\.elf /m);

  const elf = await Deno.readFile(`${ROOT}/build/riscv64/sis-kernel.elf`);
  // ELF magic, 64-bit, machine 0xf3 (RISC-V).
  assert.deepEqual([...elf.subarray(0, 5)], [0x7f, 0x45, 0x4c, 0x46, 2]);
  assert.equal(new DataView(elf.buffer).getUint16(18, true), 0xf3);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", elf));
  const sha256 = Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");

  const manifest = JSON.parse(await Deno.readTextFile(`${ROOT}/build/riscv64/manifest.json`));
  assert.equal(manifest.sha256, sha256);
  assert.equal(manifest.sizeBytes, elf.length);
  assert.equal(manifest.arch, "riscv64");
  assert.equal(manifest.target, "riscv64gc-unknown-none-elf");
  assert.equal(manifest.profile, "release");
  assert.match(manifest.rustc, /^rustc \d+\.\d+/);
  assert.match(
    manifest.command.shell,
    /^cd kernel && .*cargo build -p sis-kernel --target riscv64gc-unknown-none-elf/,
  );
  assert.ok(!Number.isNaN(Date.parse(manifest.builtAt)));

  // Nothing changed: the ELF installed again is the same one (its time is in bench/startup.ts).
  const second = await sis(["build", "--arch", "riscv64"]);
  assert.equal(second.code, 0, second.stderr);
  const again = JSON.parse(await Deno.readTextFile(`${ROOT}/build/riscv64/manifest.json`));
  assert.equal(again.sha256, sha256);
});

Deno.test("SIGTERM to sis build stops cargo too and exits 143", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sis-fake-cargo-" });
  try {
    // A cargo that answers --version like a real one and otherwise waits, recording its pid.
    const fakeCargo = `${dir}/cargo`;
    await Deno.writeTextFile(
      fakeCargo,
      `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "cargo 0.0.0-fake"; exit 0; fi\necho $$ > "${dir}/pid.tmp" && mv "${dir}/pid.tmp" "${dir}/pid"\nexec sleep 60\n`,
    );
    await Deno.chmod(fakeCargo, 0o755);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", ...PERMISSIONS, CLI, "build", "--arch", "riscv64"],
      cwd: ROOT,
      env: { NO_COLOR: "1", SIS_CARGO: fakeCargo, SIS_RUSTC: "/usr/bin/rustc" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const pid = await waitForFile(`${dir}/pid`, 10_000);
    assert.equal(await processExists(Number(pid)), true, "the liveness check itself must see the fake cargo");
    const signalled = performance.now();
    child.kill("SIGTERM");
    const output = await child.output();
    // The fake cargo would wait 60 s on its own: sis must end it, not outwait it.
    assert.ok(performance.now() - signalled < 5000, "sis waited for cargo instead of stopping it");
    const transcript = `stdout:\n${new TextDecoder().decode(output.stdout)}\nstderr:\n${
      new TextDecoder().decode(output.stderr)
    }`;
    assert.equal(output.code, 143, transcript);
    assert.match(transcript, /^error: cargo build stopped by SIGTERM$/m);
    assert.equal(await processExists(Number(pid)), false, "the fake cargo outlived sis");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Resolves with a file's text once it exists (renamed into place, so never half-written). */
async function waitForFile(path: string, timeoutMs: number): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return await Deno.readTextFile(path);
    } catch {
      if (performance.now() > deadline) throw new Error(`${path} did not appear within ${timeoutMs} ms`);
      // Polling a condition, not sleeping for an answer: the loop ends as soon as the file exists.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/**
 * Whether a process is alive, asked of `ps`: Deno refuses /proc reads without
 * --allow-all, and the test task grants explicit permissions. A zombie counts
 * as gone.
 */
async function processExists(pid: number): Promise<boolean> {
  const output = await new Deno.Command("ps", { args: ["-o", "stat=", "-p", String(pid)], stdin: "null" })
    .output();
  const state = new TextDecoder().decode(output.stdout).trim();
  return output.code === 0 && state !== "" && !state.startsWith("Z");
}
