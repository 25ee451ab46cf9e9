/** Fresh kernels for a run: the incremental cargo build before every boot (or the installed ELF with --no-build), and what the manifest records of each. */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Arch } from "../arch.ts";
import type { CommandContext } from "../context.ts";
import { EnvironmentError } from "../errors.ts";
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

/** The kernel's own sources, relative to the project root. */
const KERNEL_SOURCES = "kernel/sis-kernel/src";

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
  // A root with prebuilt kernels and no kernel sources (the Docker image,
  // SIS_ROOT on a runner given only build/) has nothing to rebuild from:
  // its installed kernels are current by definition, as with --no-build.
  const hasSources = await stat(join(root, KERNEL_SOURCES)).then(() => true, () => false);
  const noBuild = request.noBuild || !hasSources;
  const wanted: Arch[] = [];
  for (const arch of arches) {
    const paths = buildPaths(root, arch, request.outDir);
    const present = await stat(paths.elf).then(() => true, () => false);
    const manifest = present ? await readManifest(paths.manifest).catch(() => undefined) : undefined;
    // An ELF someone brought without a manifest is taken as it is; one whose
    // manifest names other features (a plain kernel where chaos is wanted) is not.
    const matches = present && (manifest === undefined || sameFeatures(manifest.features, features));
    if (!hasSources) {
      // Nothing to build from: a missing kernel, or one built with other
      // features, is said plainly rather than as a cargo error. An ELF with
      // no manifest is taken as it is (someone put it there on purpose).
      if (!present) {
        throw new EnvironmentError(
          `no kernel at ${paths.elf}, and ${root} has no kernel sources to build one`,
          {
            fix: `copy build/ from a machine that ran \`sis build\`, or set SIS_ROOT to a checkout`,
          },
        );
      }
      if (manifest !== undefined && !matches) {
        throw new EnvironmentError(
          `the kernel at ${paths.elf} was built with features [${manifest.features.join(",")}], ` +
            `this run needs [${features.join(",")}], and ${root} has no kernel sources to rebuild it`,
        );
      }
      continue;
    }
    if (!noBuild || !matches) wanted.push(arch);
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
