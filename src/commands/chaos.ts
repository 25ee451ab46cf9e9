/** `sis chaos run|replay|matrix`: fault injection against the real kernel, with assertions on errnos, counters, rates, health, panics, recovery and data. */
import { object, or } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { optional, withDefault } from "@optique/core/modifiers";
import { argument, command, constant, flag, option } from "@optique/core/primitives";
import { choice, integer, string } from "@optique/core/valueparser";
import type { InferValue } from "@optique/core/parser";
import { ARCH_CHOICES } from "../arch.ts";
import type { CommandContext } from "../context.ts";

// The mode list is repeated here rather than imported from src/chaos/modes.ts
// so that `sis --help` loads nothing but Optique; a unit test keeps the two equal.
export const MODE_CHOICES = [
  "disk_full",
  "disk_fail",
  "network_fail",
  "memory_pressure",
  "random_panic",
  "slow_io",
] as const;

/** Options every chaos subcommand shares: where to boot, how long to wait, where to write results. */
function shared() {
  return {
    config: withDefault(
      option("--config", string({ metavar: "CONFIG" }), {
        description:
          message`Machine config to boot (default, lowmem, smp-off, smp, no-network, sis.yaml ones).`,
      }),
      "default",
    ),
    jobs: optional(option("--jobs", integer({ min: 1, metavar: "N" }), {
      description: message`Boots at once (default: the number of CPU cores).`,
    })),
    json: optional(option("--json", string({ metavar: "FILE" }), {
      description: message`Write the chaos results as JSON to FILE.`,
    })),
    junit: optional(option("--junit", string({ metavar: "FILE" }), {
      description: message`Write JUnit XML to FILE: one test suite per cell, one test case per assertion.`,
    })),
    timeoutMs: optional(option("--timeout-ms", integer({ min: 1, metavar: "MS" }), {
      description: message`Per-command timeout; no end marker within it is a hang (default 10000).`,
    })),
    bootTimeoutMs: optional(option("--boot-timeout-ms", integer({ min: 1, metavar: "MS" }), {
      description: message`Time to reach the shell prompt (default 10000).`,
    })),
    noBuild: withDefault(
      flag("--no-build", {
        description: message`Use the chaos kernels in build/chaos as they are; build only missing ones.`,
      }),
      false,
    ),
  };
}

function workloadOptions() {
  return {
    seed: withDefault(
      option("--seed", string({ metavar: "SEED" }), {
        description:
          message`Generator seed (u64, decimal or 0x hex), or ${"random"}; default 42, so CI repeats.`,
      }),
      "42",
    ),
    ops: optional(option("--ops", integer({ min: 1, max: 10_000, metavar: "N" }), {
      description: message`Operations in the faulted workload (default 40).`,
    })),
    delayUs: optional(option("--delay-us", integer({ min: 1, max: 1_000_000, metavar: "US" }), {
      description: message`slow_io's delay per injection (default 20000).`,
    })),
  };
}

const runSubcommand = command(
  "run",
  object({
    command: constant("chaos"),
    action: constant("run"),
    mode: argument(choice(MODE_CHOICES, { metavar: "MODE" }), {
      description:
        message`Fault mode: disk_full, disk_fail, network_fail, memory_pressure, random_panic or slow_io.`,
    }),
    rate: option("--rate", integer({ min: 0, max: 100, metavar: "N" }), {
      description: message`Injection rate in percent of the checks at the mode's point.`,
    }),
    arch: withDefault(
      option("--arch", choice(ARCH_CHOICES, { metavar: "ARCH" }), {
        description: message`Architecture, or ${"all"} (default) for the three in parallel.`,
      }),
      "all" as const,
    ),
    ...workloadOptions(),
    ...shared(),
  }),
  {
    description:
      message`Boot, arm one fault mode at a rate, run a workload that reaches its injection point, and assert.`,
  },
);

const matrixSubcommand = command(
  "matrix",
  object({
    command: constant("chaos"),
    action: constant("matrix"),
    modes: withDefault(
      option("--modes", string({ metavar: "LIST" }), {
        description: message`Comma list of modes, or ${"all"} (default).`,
      }),
      "all",
    ),
    rates: withDefault(
      option("--rates", string({ metavar: "LIST" }), {
        description: message`Comma list of rates in percent (default 10,30,100).`,
      }),
      "10,30,100",
    ),
    arch: withDefault(
      option("--arch", choice(ARCH_CHOICES, { metavar: "ARCH" }), {
        description: message`Architecture, or ${"all"} (default).`,
      }),
      "all" as const,
    ),
    ...workloadOptions(),
    ...shared(),
  }),
  { description: message`Every mode × rate × arch, one boot per cell, in parallel; a summary table.` },
);

const replaySubcommand = command(
  "replay",
  object({
    command: constant("chaos"),
    action: constant("replay"),
    bundle: argument(string({ metavar: "RUN-BUNDLE" }), {
      description: message`A run bundle folder of an earlier ${"sis chaos"} run (runs/<id>).`,
    }),
    cell: optional(option("--cell", string({ metavar: "NAME" }), {
      description: message`Replay only this cell (for example ${"riscv64-disk_full-r30"}).`,
    })),
    ...shared(),
  }),
  {
    description:
      message`Rerun a recorded chaos run with its seeds and workloads; say whether the injections matched.`,
  },
);

export const chaosCommand = command("chaos", or(runSubcommand, matrixSubcommand, replaySubcommand), {
  description: message`Fault injection against the real kernel (built with the ${"chaos"} feature).`,
});

export type ChaosOptions = InferValue<typeof chaosCommand>;

/** Runs `sis chaos ...`; the work is in src/chaos/command.ts, loaded only now to keep `--help` fast. */
export async function runChaos(options: ChaosOptions, context: CommandContext): Promise<number> {
  const { runChaosCommand } = await import("../chaos/command.ts");
  return runChaosCommand(options, context);
}
