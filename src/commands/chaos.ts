/** `sis chaos run|replay|matrix`: fault injection against the real kernel, with assertions on errnos, counters, rates, health, panics, recovery and data. */
import { object, or } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { optional, withDefault } from "@optique/core/modifiers";
import { argument, command, constant, flag, option } from "@optique/core/primitives";
import { choice, integer, string } from "@optique/core/valueparser";
import type { InferValue } from "@optique/core/parser";
import { ARCH_CHOICES, expandArch } from "../arch.ts";
import type { CommandContext } from "../context.ts";
import { bootTimeoutOption, configOption, jobsOption, loadOneConfig, seedOption } from "./_boot_options.ts";
import { CHAOS_MODES } from "../chaos/mode_names.ts";

/** Options every chaos subcommand shares: where to boot, how long to wait, where to write results. */
function shared() {
  return {
    config: configOption(),
    jobs: jobsOption(),
    json: optional(option("--json", string({ metavar: "FILE" }), {
      description: message`Write the chaos results as JSON to FILE.`,
    })),
    junit: optional(option("--junit", string({ metavar: "FILE" }), {
      description: message`Write JUnit XML to FILE: one test suite per cell, one test case per assertion.`,
    })),
    timeoutMs: optional(option("--timeout-ms", integer({ min: 1, metavar: "MS" }), {
      description: message`Per-command timeout; no end marker within it is a hang (default 10000).`,
    })),
    bootTimeoutMs: bootTimeoutOption(),
    noBuild: withDefault(
      flag("--no-build", {
        description: message`Use the chaos kernels in build/chaos as they are; build only missing ones.`,
      }),
      false,
    ),
    shard: optional(option("--shard", string({ metavar: "I/N" }), {
      description: message`Run shard I of N of the cells (CI fan-out).`,
    })),
    filter: optional(option("--filter", string({ metavar: "TEXT" }), {
      description: message`Run only cells whose name (for example ${"x86_64-disk_full-r30"}) contains TEXT.`,
    })),
  };
}

function workloadOptions() {
  return {
    seed: seedOption(),
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
    mode: argument(choice(CHAOS_MODES, { metavar: "MODE" }), {
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

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Runs `sis chaos ...` on the run engine: plans the cells (or loads a
 * recorded run's), and prints the cell lines and the table. Heavy modules
 * load only now to keep `--help` fast.
 */
export async function runChaos(options: ChaosOptions, context: CommandContext): Promise<number> {
  const { resolve } = await import("node:path");
  const pc = (await import("picocolors")).default;
  const { DEFAULT_CONFIDENCE } = await import("../chaos/binomial.ts");
  const { loadRecordedRun, parseModes, parseRates, planCells, resolveSeed } = await import(
    "../chaos/request.ts"
  );
  const { runChaosCells } = await import("../chaos/run.ts");
  const { cellLine, chaosTable, PLAIN } = await import("../chaos/table.ts");

  const { root, settings, config } = await loadOneConfig(context, options.config, "chaos");
  const recording = options.action === "replay"
    ? await loadRecordedRun(resolve(context.cwd, options.bundle), options.cell)
    : undefined;
  const specs = options.action === "replay" ? recording!.specs : planCells(
    expandArch(options.arch),
    options.action === "run" ? [options.mode] : parseModes(options.modes),
    options.action === "run" ? [options.rate] : parseRates(options.rates),
    { seed: resolveSeed(options.seed), ops: options.ops, delayUs: options.delayUs },
  );
  const palette = context.color ? { green: pc.green, red: pc.red, yellow: pc.yellow, dim: pc.dim } : PLAIN;
  const { code, results } = await runChaosCells(specs, {
    root,
    context,
    argv: ["sis", "chaos", ...rebuildArgv(options)],
    config,
    qemuBinaries: settings.qemuBinaries,
    bootTimeoutMs: options.bootTimeoutMs ?? settings.bootTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    commandTimeoutMs: options.timeoutMs ?? settings.commandTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    parallel: options.jobs ?? navigator.hardwareConcurrency ?? 2,
    confidence: DEFAULT_CONFIDENCE,
    noBuild: options.noBuild,
    shard: options.shard,
    filter: options.filter,
    outputs: { json: options.json, junit: options.junit },
    manifest: recording ? { replayOf: recording.runId } : undefined,
    recorded: recording?.recorded,
    onCell: (cell) => context.stdout.write(cellLine(cell, palette) + "\n"),
    text: (results) => {
      let text = "\n" + chaosTable(results, palette);
      if (recording) {
        const matched = results.cells.filter((cell) => cell.replay?.matched).length;
        text += `replay of ${recording.runId}: ${matched} of ${results.cells.length} cell(s) ` +
          `replayed the recorded injection sequence\n`;
      }
      return text;
    },
  });
  if (recording && results) {
    for (const [arch, sha256] of Object.entries(recording.kernels)) {
      const now = (results.kernels?.[arch] as { sha256?: string } | undefined)?.sha256;
      if (now && now !== sha256) {
        context.stderr.write(
          `sis: note: the ${arch} chaos kernel differs from the recorded run's (sha256 ${
            sha256.slice(0, 12)
          } ` +
            `then, ${now.slice(0, 12)} now): a different sequence may come from the kernel change\n`,
        );
      }
    }
  }
  return code;
}

/** The options as argv, for the run manifest. */
function rebuildArgv(options: ChaosOptions): string[] {
  const argv: string[] = [options.action];
  if (options.action === "run") {
    argv.push(options.mode, "--rate", String(options.rate), "--arch", options.arch);
  }
  if (options.action === "matrix") {
    argv.push("--modes", options.modes, "--rates", options.rates, "--arch", options.arch);
  }
  if (options.action === "replay") argv.push(options.bundle);
  if (options.action !== "replay") {
    argv.push("--seed", options.seed);
    if (options.ops !== undefined) argv.push("--ops", String(options.ops));
    if (options.delayUs !== undefined) argv.push("--delay-us", String(options.delayUs));
  }
  argv.push("--config", options.config);
  if (options.shard !== undefined) argv.push("--shard", options.shard);
  if (options.filter !== undefined) argv.push("--filter", options.filter);
  if (options.noBuild) argv.push("--no-build");
  return argv;
}
