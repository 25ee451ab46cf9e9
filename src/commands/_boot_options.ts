/** The options and the config lookup that the seeded boot commands (chaos, fuzz) share, so their help and errors read the same. */
import { message } from "@optique/core/message";
import { optional, withDefault } from "@optique/core/modifiers";
import { option } from "@optique/core/primitives";
import { integer, string } from "@optique/core/valueparser";
import type { CommandContext } from "../context.ts";
import type { MachineConfig } from "../qemu/profiles.ts";

/** `--config`: one machine config, `default` unless given. */
export function configOption() {
  return withDefault(
    option("--config", string({ metavar: "CONFIG" }), {
      description:
        message`Machine config to boot (default, lowmem, smp-off, smp, no-network, sis.yaml ones).`,
    }),
    "default",
  );
}

/** `--jobs`: kernels booted at once. */
export function jobsOption() {
  return optional(option("--jobs", integer({ min: 1, metavar: "N" }), {
    description: message`Kernels booted at once (default: the number of CPU cores).`,
  }));
}

/** `--boot-timeout-ms`: time to the shell prompt. */
export function bootTimeoutOption() {
  return optional(option("--boot-timeout-ms", integer({ min: 1, metavar: "MS" }), {
    description: message`Time to reach the shell prompt (default 10000).`,
  }));
}

/** `--seed`: the generator seed, 42 unless given so CI repeats. */
export function seedOption() {
  return withDefault(
    option("--seed", string({ metavar: "SEED" }), {
      description:
        message`Generator seed (u64, decimal or 0x hex), or ${"random"}; default 42, so CI repeats.`,
    }),
    "42",
  );
}

/**
 * The project root, its settings and the one machine config `--config`
 * names; a name that selects several (`all`) is a usage error. Modules
 * load only now to keep `--help` fast.
 */
export async function loadOneConfig(context: CommandContext, name: string, command: string) {
  const { systemProbe } = await import("../toolchain/probe.ts");
  const { findProjectRoot } = await import("../toolchain/project.ts");
  const { loadSettings, selectConfigs } = await import("../qemu/config.ts");
  const { UsageError } = await import("../errors.ts");
  const root = await findProjectRoot(context.cwd, context.env, systemProbe);
  const settings = await loadSettings(root);
  const configs: MachineConfig[] = selectConfigs(settings, name);
  if (configs.length !== 1) {
    throw new UsageError(`--config must name one config for sis ${command}, not "${name}"`);
  }
  return { root, settings, config: configs[0] };
}
