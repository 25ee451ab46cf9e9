/** `sis build`: compile the kernel per arch and leave build/<arch>/sis-kernel.elf plus manifest.json. */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { withDefault } from "@optique/core/modifiers";
import { command, constant, flag, option } from "@optique/core/primitives";
import { choice, string } from "@optique/core/valueparser";
import type { InferValue } from "@optique/core/parser";
import { ARCH_CHOICES } from "../arch.ts";
import { expandArch } from "../arch.ts";
import type { CommandContext } from "../context.ts";

export const buildCommand = command(
  "build",
  object({
    command: constant("build"),
    arch: option("--arch", choice(ARCH_CHOICES, { metavar: "ARCH" }), {
      description: message`Architecture to build, or ${"all"} for the three.`,
    }),
    features: withDefault(
      option("--features", string({ metavar: "LIST" }), {
        description: message`Comma-separated kernel Cargo features (for example ${"chaos"}).`,
      }),
      "",
    ),
    debug: withDefault(
      flag("--debug", { description: message`Build the dev profile instead of release.` }),
      false,
    ),
  }),
  {
    description: message`Build the kernel: build/<arch>/sis-kernel.elf and build/<arch>/manifest.json.`,
  },
);

export type BuildOptions = InferValue<typeof buildCommand>;

/**
 * Builds the kernel. Toolchain problems exit 3 with the fix (`sis setup`),
 * an unknown feature exits 2, a cargo failure exits 1.
 */
export async function runBuild(options: BuildOptions, context: CommandContext): Promise<number> {
  // Loaded here, not at the top: `sis --help` must not pay for zod.
  const { systemProbe } = await import("../toolchain/probe.ts");
  const { findProjectRoot } = await import("../toolchain/project.ts");
  const { requireLinker, requireRustToolchain } = await import("../toolchain/rust.ts");
  const { buildKernel, parseCargoFeatures, parseFeatureList } = await import("../toolchain/build.ts");
  const { requireRustVersion } = await import("../toolchain/versions.ts");

  const root = await findProjectRoot(context.cwd, context.env, systemProbe);
  const cargoToml = await Deno.readTextFile(`${root}/kernel/sis-kernel/Cargo.toml`);
  const features = parseFeatureList(options.features, parseCargoFeatures(cargoToml));
  const toolchain = await requireRustToolchain(context.env, systemProbe);
  await requireRustVersion(toolchain.rustcVersion, root);
  const linker = await requireLinker(context.env, systemProbe);
  const arches = expandArch(options.arch);
  const profile = options.debug ? "debug" : "release";
  context.stderr.write(
    `sis: building ${arches.join(", ")} (${profile}${
      features.length ? `, features ${features.join(",")}` : ""
    }) ` +
      `with ${toolchain.rustcVersion}\n`,
  );
  const manifests = await buildKernel({ root, arches, features, profile }, {
    toolchain,
    linkerVersion: linker.version,
    probe: systemProbe,
    env: context.env,
    progress: context.stderr,
    isTerminal: context.isTerminal,
  });
  for (const manifest of manifests) {
    const kib = (manifest.sizeBytes / 1024).toFixed(0);
    context.stdout.write(
      `built ${manifest.arch}: ${manifest.elf} (${kib} KiB, sha256 ${manifest.sha256.slice(0, 12)}, ` +
        `${manifest.buildSeconds.toFixed(1)} s)\n`,
    );
  }
  return 0;
}
