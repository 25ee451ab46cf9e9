/** Unit tests of the cargo plan, feature checks and the build manifest. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { UsageError } from "../errors.ts";
import { cargoPlan, parseCargoFeatures, parseFeatureList, sha256Hex, userProgramsPlan } from "./build.ts";
import { parseManifest, shellCommand, shellQuote } from "./manifest.ts";
import type { RustToolchain } from "./rust.ts";

const debian: RustToolchain = {
  kind: "debian",
  cargo: "/usr/bin/cargo",
  rustc: "/usr/bin/rustc",
  rustcVersion: "rustc 1.96.0",
  cargoVersion: "cargo 1.96.0",
  sysroot: "/usr",
  librarySource: "/usr/lib/rustlib/src/rust/library",
  needsBootstrap: true,
};

Deno.test("cargoPlan() builds with build-std, RUSTC and RUSTC_BOOTSTRAP for Debian's toolchain", () => {
  const plan = cargoPlan(debian, { root: "/src", arches: ["riscv64"], features: [], profile: "release" });
  assert.deepEqual(plan.argv, [
    "/usr/bin/cargo",
    "build",
    "-p",
    "sis-kernel",
    "--target",
    "riscv64gc-unknown-none-elf",
    "-Zbuild-std=core,alloc,compiler_builtins",
    "-Zbuild-std-features=compiler-builtins-mem",
    "--release",
  ]);
  assert.deepEqual(plan.env, { RUSTC: "/usr/bin/rustc", RUSTC_BOOTSTRAP: "1" });
  assert.equal(plan.cwd, "/src/kernel");
});

Deno.test("cargoPlan() puts all arches in one invocation, adds features, and a nightly needs no bootstrap", () => {
  const plan = cargoPlan({ ...debian, needsBootstrap: false }, {
    root: "/src",
    arches: ["aarch64", "riscv64", "x86_64"],
    features: ["chaos"],
    profile: "debug",
  });
  const targets = plan.argv.flatMap((word, index) => word === "--target" ? [plan.argv[index + 1]] : []);
  assert.deepEqual(targets, ["aarch64-unknown-none", "riscv64gc-unknown-none-elf", "x86_64-unknown-none"]);
  assert.ok(!plan.argv.includes("--release"));
  assert.deepEqual(plan.argv.slice(-2), ["--features", "chaos"]);
  assert.deepEqual(plan.env, { RUSTC: "/usr/bin/rustc" });
});

Deno.test("userProgramsPlan() builds kernel/user in release for every requested arch, without the kernel's features", () => {
  const plan = userProgramsPlan(debian, {
    root: "/src",
    arches: ["aarch64", "x86_64"],
    features: ["chaos"],
    profile: "debug",
  });
  assert.deepEqual(plan.argv, [
    "/usr/bin/cargo",
    "build",
    "--release",
    "--target",
    "aarch64-unknown-none",
    "--target",
    "x86_64-unknown-none",
    "-Zbuild-std=core,compiler_builtins",
    "-Zbuild-std-features=compiler-builtins-mem",
  ]);
  assert.deepEqual(plan.env, { RUSTC: "/usr/bin/rustc", RUSTC_BOOTSTRAP: "1" });
  assert.equal(plan.cwd, "/src/kernel/user");
});

Deno.test("parseCargoFeatures() reads the [features] table and skips default", () => {
  const toml =
    `[package]\nname = "x"\n\n[features]\ndefault = []\n# why\nchaos = []\n"net-stack" = ["dep:x"]\n\n[dependencies]\nfoo = "1"\n`;
  assert.deepEqual(parseCargoFeatures(toml), ["chaos", "net-stack"]);
  assert.deepEqual(parseCargoFeatures("[package]\nname = 'x'\n"), []);
});

Deno.test("parseFeatureList() trims, dedupes and sorts, and rejects unknown features as usage errors", () => {
  assert.deepEqual(parseFeatureList(" chaos, ,chaos", ["chaos"]), ["chaos"]);
  assert.deepEqual(parseFeatureList("", ["chaos"]), []);
  assert.throws(() => parseFeatureList("chaos,turbo", ["chaos"]), (error) => {
    assert.ok(error instanceof UsageError);
    assert.match(error.message, /Unknown kernel feature "turbo" \(valid: chaos\)/);
    return true;
  });
});

Deno.test("sha256Hex() matches the known digest of 'abc'", async () => {
  assert.equal(
    await sha256Hex(new TextEncoder().encode("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("shellQuote() output is read back by a POSIX shell as the same word", async () => {
  // A property checked against the real /bin/sh: any word survives quoting.
  await fc.assert(
    fc.asyncProperty(
      fc.string({ unit: "binary", maxLength: 40 }).filter((s) => !s.includes("\0")),
      async (word) => {
        const output = await new Deno.Command("/bin/sh", { args: ["-c", `printf %s ${shellQuote(word)}`] })
          .output();
        assert.equal(
          new TextDecoder().decode(output.stdout),
          new TextDecoder().decode(new TextEncoder().encode(word)),
        );
      },
    ),
    { numRuns: 60 },
  );
  assert.equal(
    shellCommand("kernel", { RUSTC: "/usr/bin/rustc" }, ["cargo", "build"]),
    "cd kernel && RUSTC=/usr/bin/rustc cargo build",
  );
});

const validManifest = {
  schema: 1,
  arch: "riscv64",
  target: "riscv64gc-unknown-none-elf",
  profile: "release",
  features: [],
  elf: "build/riscv64/sis-kernel.elf",
  sha256: "a".repeat(64),
  sizeBytes: 10,
  rustc: "rustc 1.96.0",
  cargo: "cargo 1.96.0",
  linker: "LLD 14",
  commit: null,
  dirty: null,
  builtAt: "2026-11-22T02:00:00.000Z",
  buildSeconds: 1.5,
  command: { cwd: "kernel", env: {}, argv: ["cargo"], shell: "cd kernel && cargo" },
};

Deno.test("parseManifest() accepts a valid manifest and names the first bad field otherwise", () => {
  assert.equal(parseManifest(validManifest, "m.json").arch, "riscv64");
  assert.throws(
    () => parseManifest({ ...validManifest, sha256: "xyz" }, "m.json"),
    /m\.json: field "sha256"/,
  );
  assert.throws(() => parseManifest({ ...validManifest, arch: "mips" }, "m.json"), /field "arch"/);
  assert.throws(() => parseManifest(null, "m.json"), /field "\(root\)"/);
});
