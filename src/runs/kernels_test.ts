import assert from "node:assert/strict";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Arch } from "../arch.ts";
import { testContext } from "../context.ts";
import { EnvironmentError } from "../errors.ts";
import { buildPaths } from "../toolchain/build.ts";
import { ensureKernels, type KernelBuilder, type KernelRequest } from "./kernels.ts";

/** A root with a fake cargo that installs an ELF whose bytes say which build made it. */
async function fakeRoot() {
  const root = await Deno.makeTempDir({ prefix: "sis-kernels-test-" });
  // A checkout: kernel sources present, so the engine asks the build.
  await mkdir(join(root, "kernel/sis-kernel/src"), { recursive: true });
  const builds: Arch[][] = [];
  const build = async (arches: readonly Arch[], request: KernelRequest) => {
    builds.push([...arches]);
    for (const arch of arches) {
      const { elf } = buildPaths(root, arch, request.outDir);
      await mkdir(dirname(elf), { recursive: true });
      await writeFile(elf, `build ${builds.length} of ${arch}`);
    }
  };
  return { root, builds, build, cleanup: () => rm(root, { recursive: true, force: true }) };
}

async function manifest(root: string, arch: Arch, features: string[]): Promise<void> {
  const { manifest } = buildPaths(root, arch);
  await writeFile(
    manifest,
    JSON.stringify({
      schema: 1,
      arch,
      target: "t",
      profile: "release",
      features,
      elf: `build/${arch}/sis-kernel.elf`,
      sha256: "0".repeat(64),
      sizeBytes: 1,
      rustc: "r",
      cargo: "c",
      linker: "l",
      commit: null,
      dirty: null,
      builtAt: new Date(0).toISOString(),
      buildSeconds: 0,
      command: { cwd: "kernel", env: {}, argv: ["cargo"], shell: "cargo" },
    }),
  );
}

Deno.test("ensureKernels() asks the (incremental) build every time, so an edited kernel is never booted stale", async () => {
  const { root, builds, build, cleanup } = await fakeRoot();
  try {
    const first = await ensureKernels(root, ["x86_64"], testContext(), {}, build);
    const second = await ensureKernels(root, ["x86_64"], testContext(), {}, build);
    assert.deepEqual(builds, [["x86_64"], ["x86_64"]]);
    assert.equal(second.x86_64.built, true);
    // The build's output is what is booted: the second build's bytes, another sha256.
    assert.notEqual(first.x86_64.sha256, second.x86_64.sha256);
  } finally {
    await cleanup();
  }
});

Deno.test("ensureKernels() with noBuild boots installed ELFs, building only missing ones and ones built with other features", async () => {
  const { root, builds, build, cleanup } = await fakeRoot();
  try {
    await ensureKernels(root, ["aarch64", "x86_64"], testContext(), {}, build);
    builds.length = 0;
    const kept = await ensureKernels(
      root,
      ["aarch64", "x86_64", "riscv64"],
      testContext(),
      { noBuild: true },
      build,
    );
    assert.deepEqual(builds, [["riscv64"]]);
    assert.equal(kept.aarch64.built, false);
    assert.equal(kept.riscv64.built, true);
    // A manifest that says the installed ELF is a chaos build: a plain run rebuilds it.
    await manifest(root, "x86_64", ["chaos"]);
    builds.length = 0;
    await ensureKernels(root, ["x86_64"], testContext(), { noBuild: true }, build);
    assert.deepEqual(builds, [["x86_64"]]);
    await manifest(root, "aarch64", []);
    builds.length = 0;
    const plain = await ensureKernels(root, ["aarch64"], testContext(), { noBuild: true }, build);
    assert.deepEqual(builds, []);
    assert.equal(plain.aarch64.path, join(root, "build", "aarch64", "sis-kernel.elf"));
  } finally {
    await cleanup();
  }
});

/** A root like the Docker image's: the checkout marker and prebuilt kernels, no kernel sources. */
async function prebuiltRoot(withSources: boolean): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "sis-kernels-" });
  await mkdir(join(root, "kernel/sis-kernel"), { recursive: true });
  await writeFile(join(root, "kernel/sis-kernel/Cargo.toml"), '[package]\nname = "sis-kernel"\n');
  if (withSources) await mkdir(join(root, "kernel/sis-kernel/src"));
  await mkdir(join(root, "build/x86_64"), { recursive: true });
  await writeFile(join(root, "build/x86_64/sis-kernel.elf"), "prebuilt");
  return root;
}

Deno.test("ensureKernels() boots the installed kernel of a root without kernel sources, and builds where there are sources", async () => {
  const calls: string[][] = [];
  const builder: KernelBuilder = (arches) => {
    calls.push([...arches]);
    return Promise.resolve();
  };
  const prebuilt = await prebuiltRoot(false);
  const checkout = await prebuiltRoot(true);
  try {
    const kernels = await ensureKernels(prebuilt, ["x86_64"], testContext(), {}, builder);
    assert.equal(kernels.x86_64.path, join(prebuilt, "build/x86_64/sis-kernel.elf"));
    assert.equal(kernels.x86_64.built, false);
    assert.deepEqual(calls, []);
    await assert.rejects(
      ensureKernels(prebuilt, ["riscv64"], testContext(), {}, builder),
      (error: Error) =>
        error instanceof EnvironmentError &&
        /no kernel at \S+riscv64\S+ and \S+ has no kernel sources/.test(error.message),
    );
    await ensureKernels(checkout, ["x86_64"], testContext(), {}, builder);
    assert.deepEqual(calls, [["x86_64"]]);
  } finally {
    await Deno.remove(prebuilt, { recursive: true });
    await Deno.remove(checkout, { recursive: true });
  }
});
