/** Fresh kernels for a run: the incremental cargo build before every boot (or the installed ELF with --no-build), and what the manifest records of each. */
import { readFile, stat } from "node:fs/promises";
import type { Arch } from "../arch.ts";
import type { CommandContext } from "../context.ts";
import { buildKernel, buildPaths, sha256Hex } from "../toolchain/build.ts";
import { readManifest } from "../toolchain/manifest.ts";
import { systemProbe } from "../toolchain/probe.ts";
import { requireLinker, requireRustToolchain } from "../toolchain/rust.ts";
import { requireRustVersion } from "../toolchain/versions.ts";

/** Which kernels a run boots. */
export interface KernelRequest {
  /** Cargo features (`["chaos"]` for chaos runs). */
  features?: readonly string[];
  /** Install folder under the root: `build` (default) or `build/chaos`. */
  outDir?: string;
  /** Boot the installed ELF as it is; build only a missing one. */
  noBuild?: boolean;
}

/** The kernel a job boots, as the run manifest records it. */
export interface KernelFile {
  path: string;
  sha256: string;
  /** From the build manifest beside the ELF, when there is one. */
  commit?: string | null;
  dirty?: boolean | null;
  builtAt?: string;
  features?: string[];
  /** Whether this run rebuilt it (false: booted as installed, `--no-build`). */
  built: boolean;
}

/** Builds the given arches (cargo, incremental); injectable for unit tests. */
export type KernelBuilder = (
  arches: readonly Arch[],
  request: KernelRequest,
) => Promise<void>;

/**
 * Returns the kernel of every arch, fresh: cargo is asked each time and
 * rebuilds only what changed (well under a second when nothing did), so a
 * kernel edited since the last run is never booted stale. With `noBuild`
 * the installed ELF is taken as it is, and only a missing one is built.
 */
export async function ensureKernels(
  root: string,
  arches: readonly Arch[],
  context: CommandContext,
  request: KernelRequest = {},
  build: KernelBuilder = cargoBuilder(root, context),
): Promise<Record<string, KernelFile>> {
  const features = [...(request.features ?? [])];
  const wanted: Arch[] = [];
  for (const arch of arches) {
    const paths = buildPaths(root, arch, request.outDir);
    const present = await stat(paths.elf).then(() => true, () => false);
    // An ELF someone brought without a manifest is taken as it is; one whose
    // manifest names other features (a plain kernel where chaos is wanted) is not.
    const matches = present &&
      await readManifest(paths.manifest).then(
        (manifest) => sameFeatures(manifest.features, features),
        () => true,
      );
    if (!request.noBuild || !matches) wanted.push(arch);
  }
  if (wanted.length > 0) await build(wanted, { ...request, features });
  const kernels: Record<string, KernelFile> = {};
  for (const arch of arches) {
    const paths = buildPaths(root, arch, request.outDir);
    const manifest = await readManifest(paths.manifest).catch(() => undefined);
    kernels[arch] = {
      path: paths.elf,
      sha256: await sha256Hex(await readFile(paths.elf)),
      commit: manifest?.commit,
      dirty: manifest?.dirty,
      builtAt: manifest?.builtAt,
      features: manifest?.features,
      built: wanted.includes(arch),
    };
  }
  return kernels;
}

function sameFeatures(a: readonly string[], b: readonly string[]): boolean {
  return [...a].sort().join(",") === [...b].sort().join(",");
}

/** The real builder: `sis build`'s cargo invocation, progress on stderr (stdout is the report). */
export function cargoBuilder(root: string, context: CommandContext): KernelBuilder {
  return async (arches, request) => {
    const toolchain = await requireRustToolchain(context.env, systemProbe);
    await requireRustVersion(toolchain.rustcVersion, root);
    const linker = await requireLinker(context.env, systemProbe);
    const features = request.features ?? [];
    context.stderr.write(
      `sis: building ${arches.join(", ")} (release${
        features.length ? `, features ${features.join(",")}` : ""
      }; ` +
        `incremental, --no-build skips)\n`,
    );
    await buildKernel(
      { root, arches, features, profile: "release", outDir: request.outDir },
      {
        toolchain,
        linkerVersion: linker.version,
        probe: systemProbe,
        env: context.env,
        progress: context.stderr,
        isTerminal: false,
      },
    );
  };
}
