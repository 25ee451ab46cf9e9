/** buildKernel() end to end against a scripted cargo in a temporary project: relay, install, manifest, failures. */
import assert from "node:assert/strict";
import { BufferOutput } from "../context.ts";
import { ExitCode, FailedError } from "../errors.ts";
import { buildKernel, buildPaths, sha256Hex } from "./build.ts";
import { readManifest } from "./manifest.ts";
import { FakeProbe } from "./fake_probe.ts";
import type { RustToolchain } from "./rust.ts";

/**
 * A cargo stand-in: prints two progress lines (one without a newline at the
 * end, as a killed process may leave), records its argv and environment,
 * and writes a fake ELF for each `--target` unless told to fail.
 */
const FAKE_CARGO = `#!/bin/sh
printf '%s\\n' "$@" > "$PWD/argv.txt"
env > "$PWD/env.txt"
echo "   Compiling core v0.0.0"
[ -n "$FAKE_FAIL" ] && { printf 'error: boom' >&2; exit 101; }
case " $* " in *" --release "*) profile=release ;; *) profile=debug ;; esac
prev=""
for arg in "$@"; do
  if [ "$prev" = "--target" ]; then
    mkdir -p "target/$arg/$profile"
    [ -n "$FAKE_NO_ELF" ] || printf 'ELF for %s' "$arg" > "target/$arg/$profile/sis-kernel"
  fi
  prev="$arg"
done
printf '    Finished'
`;

async function project(): Promise<{ root: string; toolchain: RustToolchain }> {
  const root = await Deno.makeTempDir({ prefix: "sis-build-test-" });
  // kernel/user: the user programs' workspace, built first.
  await Deno.mkdir(`${root}/kernel/user`, { recursive: true });
  await Deno.writeTextFile(`${root}/cargo`, FAKE_CARGO);
  await Deno.chmod(`${root}/cargo`, 0o755);
  const toolchain: RustToolchain = {
    kind: "custom",
    cargo: `${root}/cargo`,
    rustc: "/usr/bin/rustc",
    rustcVersion: "rustc 1.96.0 (fake)",
    cargoVersion: "cargo 1.96.0 (fake)",
    sysroot: "/usr",
    librarySource: "/usr/lib/rustlib/src/rust/library",
    needsBootstrap: true,
  };
  return { root, toolchain };
}

function deps(toolchain: RustToolchain, env: Record<string, string>, progress = new BufferOutput()) {
  // No git here: the manifest records null commit and dirty state.
  return {
    toolchain,
    linkerVersion: "LLD 14 (fake)",
    probe: new FakeProbe({}, {}),
    env: { PATH: "/usr/bin:/bin", ...env },
    progress,
    isTerminal: false,
    now: () => new Date("2026-11-22T03:00:00.000Z"),
  };
}

Deno.test("buildKernel() relays cargo's lines, installs each ELF and writes a manifest with its digest", async () => {
  const { root, toolchain } = await project();
  try {
    const progress = new BufferOutput();
    const manifests = await buildKernel(
      { root, arches: ["riscv64", "x86_64"], features: ["chaos"], profile: "release" },
      deps(toolchain, { CARGO_TARGET_DIR: "/elsewhere" }, progress),
    );
    // The user programs' cargo, then the kernel's.
    assert.equal(progress.text, "   Compiling core v0.0.0\n    Finished\n".repeat(2));
    const userArgv = (await Deno.readTextFile(`${root}/kernel/user/argv.txt`)).trim().split("\n");
    assert.deepEqual(userArgv.filter((_, i) => userArgv[i - 1] === "--target"), [
      "riscv64gc-unknown-none-elf",
      "x86_64-unknown-none",
    ]);
    assert.ok(userArgv.includes("--release") && !userArgv.includes("chaos"));
    const argv = (await Deno.readTextFile(`${root}/kernel/argv.txt`)).trim().split("\n");
    assert.deepEqual(argv.filter((_, i) => argv[i - 1] === "--target"), [
      "riscv64gc-unknown-none-elf",
      "x86_64-unknown-none",
    ]);
    assert.ok(argv.includes("--release") && argv.includes("chaos") && argv.includes("never"));
    const env = await Deno.readTextFile(`${root}/kernel/env.txt`);
    assert.match(env, /^RUSTC_BOOTSTRAP=1$/m);
    assert.match(env, /^RUSTC=\/usr\/bin\/rustc$/m);
    assert.match(env, /^RUST_BACKTRACE=0$/m);
    assert.doesNotMatch(env, /CARGO_TARGET_DIR/, "the ELF must land in kernel/target");
    assert.match(env, new RegExp(`^SIS_USER_PROGRAMS=${root}/kernel/user/target$`, "m"));

    assert.equal(manifests.length, 2);
    for (const manifest of manifests) {
      const paths = buildPaths(root, manifest.arch);
      const elf = await Deno.readFile(paths.elf);
      assert.equal(new TextDecoder().decode(elf), `ELF for ${manifest.target}`);
      assert.equal(manifest.sha256, await sha256Hex(elf));
      assert.equal(manifest.sizeBytes, elf.length);
      assert.deepEqual(await readManifest(paths.manifest), manifest);
      assert.equal(manifest.commit, null);
      assert.equal(manifest.builtAt, "2026-11-22T03:00:00.000Z");
      // Each manifest reproduces its own arch alone.
      assert.equal(manifest.command.argv.filter((word) => word === "--target").length, 1);
      assert.ok(manifest.command.argv.includes(manifest.target));
    }
    const leftovers = [...Deno.readDirSync(`${root}/build/riscv64`)].map((entry) => entry.name).sort();
    assert.deepEqual(leftovers, ["manifest.json", "sis-kernel.elf"], "no temporary files left behind");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("buildKernel() turns a cargo failure into exit 1 and keeps the previous ELF", async () => {
  const { root, toolchain } = await project();
  try {
    await buildKernel({ root, arches: ["riscv64"], features: [], profile: "debug" }, deps(toolchain, {}));
    const before = await Deno.readFile(buildPaths(root, "riscv64").elf);
    const progress = new BufferOutput();
    await assert.rejects(
      buildKernel(
        { root, arches: ["riscv64"], features: [], profile: "debug" },
        deps(toolchain, { FAKE_FAIL: "1" }, progress),
      ),
      (error) => {
        assert.ok(error instanceof FailedError);
        assert.equal(error.exitCode, ExitCode.Failed);
        // The user programs build first, so theirs is the failure reported.
        assert.match(
          error.message,
          /cargo build of the user programs \(kernel\/user\) failed for riscv64 \(exit code 101\)/,
        );
        return true;
      },
    );
    // The last line had no newline; it is still relayed whole.
    assert.match(progress.text, /^error: boom\n/m);
    assert.deepEqual(await Deno.readFile(buildPaths(root, "riscv64").elf), before);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("buildKernel() reports a cargo that succeeds without leaving an ELF", async () => {
  const { root, toolchain } = await project();
  try {
    await assert.rejects(
      buildKernel(
        { root, arches: ["aarch64"], features: [], profile: "release" },
        deps(toolchain, { FAKE_NO_ELF: "1" }),
      ),
      /cargo succeeded but left no ELF at .*aarch64-unknown-none\/release\/sis-kernel/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
