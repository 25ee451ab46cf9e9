/** Chaos kernels: built with the `chaos` feature into build/chaos/<arch>/, apart from the plain kernels `sis test` boots. */
import { readFile, stat } from "node:fs/promises";
import type { Arch } from "../arch.ts";
import type { CommandContext } from "../context.ts";
import { buildKernel, buildPaths, sha256Hex } from "../toolchain/build.ts";
import { readManifest } from "../toolchain/manifest.ts";
import { systemProbe } from "../toolchain/probe.ts";
import { requireLinker, requireRustToolchain } from "../toolchain/rust.ts";

/** Where chaos kernels live, relative to the project root. */
export const CHAOS_BUILD_DIR = "build/chaos";

export interface KernelFile {
  path: string;
  sha256: string;
}

/**
 * Returns a chaos kernel per arch. By default cargo is asked every time: it
 * rebuilds only what changed (about a second when nothing did), so a kernel
 * edited since the last run is never tested stale. With `reuse`, an
 * installed chaos kernel is taken as it is and only missing ones are built.
 */
export async function ensureChaosKernels(
  root: string,
  arches: readonly Arch[],
  context: CommandContext,
  options: { reuse?: boolean } = {},
): Promise<Record<string, KernelFile>> {
  const wanted: Arch[] = [];
  for (const arch of arches) {
    const paths = buildPaths(root, arch, CHAOS_BUILD_DIR);
    const present = await stat(paths.elf).then(() => true, () => false);
    const hasChaos = present &&
      (await readManifest(paths.manifest).then((m) => m.features.includes("chaos"), () => false));
    if (!options.reuse || !hasChaos) wanted.push(arch);
  }
  if (wanted.length > 0) {
    const toolchain = await requireRustToolchain(context.env, systemProbe);
    const linker = await requireLinker(context.env, systemProbe);
    context.stderr.write(`sis: building chaos kernels for ${wanted.join(", ")} (release, features chaos)\n`);
    await buildKernel(
      { root, arches: wanted, features: ["chaos"], profile: "release", outDir: CHAOS_BUILD_DIR },
      {
        toolchain,
        linkerVersion: linker.version,
        probe: systemProbe,
        env: context.env,
        // cargo's lines go to stderr: stdout is the chaos report.
        progress: context.stderr,
        isTerminal: false,
      },
    );
  }
  const kernels: Record<string, KernelFile> = {};
  for (const arch of arches) {
    const path = buildPaths(root, arch, CHAOS_BUILD_DIR).elf;
    kernels[arch] = { path, sha256: await sha256Hex(await readFile(path)) };
  }
  return kernels;
}
