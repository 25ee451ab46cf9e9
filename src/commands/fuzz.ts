/** `sis fuzz syscalls|replay`: the seeded syscall fuzzer on the real kernels, its coverage table, and crash reproducers that are replayed, minimized and replayed again. */
import { object, or } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { optional, withDefault } from "@optique/core/modifiers";
import { argument, command, constant, flag, option } from "@optique/core/primitives";
import { choice, integer, string } from "@optique/core/valueparser";
import type { InferValue } from "@optique/core/parser";
import { ARCH_CHOICES, expandArch } from "../arch.ts";
import type { CommandContext } from "../context.ts";
import { bootTimeoutOption, configOption, jobsOption, loadOneConfig, seedOption } from "./_boot_options.ts";

/** Options both subcommands share: where to boot, how long to wait, where to write results. */
function shared() {
  return {
    config: configOption(),
    jobs: jobsOption(),
    json: optional(option("--json", string({ metavar: "FILE" }), {
      description: message`Write the fuzz results as JSON to FILE.`,
    })),
    junit: optional(option("--junit", string({ metavar: "FILE" }), {
      description: message`Write JUnit XML to FILE: one test suite per arch.`,
    })),
    hangTimeoutMs: optional(option("--hang-timeout-ms", integer({ min: 1, metavar: "MS" }), {
      description:
        message`No output from the fuzzer for this long is a kernel hang (default 30000; it prints every second).`,
    })),
    bootTimeoutMs: bootTimeoutOption(),
    noBuild: withDefault(
      flag("--no-build", {
        description: message`Boot the installed kernels as they are; build only missing ones.`,
      }),
      false,
    ),
  };
}

const syscallsSubcommand = command(
  "syscalls",
  object({
    command: constant("fuzz"),
    action: constant("syscalls"),
    arch: withDefault(
      option("--arch", choice(ARCH_CHOICES, { metavar: "ARCH" }), {
        description: message`Architecture, or ${"all"} (default) for the three in parallel.`,
      }),
      "all" as const,
    ),
    seed: seedOption(),
    calls: optional(option("--calls", integer({ min: 1, metavar: "N" }), {
      description: message`Calls per arch (default 100000; with --control, --time 60s).`,
    })),
    time: optional(option("--time", string({ metavar: "TIME" }), {
      description: message`Fuzz for this long per arch instead (${"60s"}, ${"5m"}).`,
    })),
    control: withDefault(
      flag("--control", {
        description:
          message`Positive control: boot the ${"fuzz-break"} kernels (build/fuzz-break), whose broken syscall the fuzzer must find, replay and minimize to at most 5 calls.`,
      }),
      false,
    ),
    ...shared(),
  }),
  {
    description:
      message`Run the fuzz program on each arch's kernel; print calls/s and per-syscall errno coverage; turn a crash into a minimized reproducer.`,
  },
);

const replaySubcommand = command(
  "replay",
  object({
    command: constant("fuzz"),
    action: constant("replay"),
    file: argument(string({ metavar: "REPRO.JSON" }), {
      description: message`A reproducer written by ${"sis fuzz syscalls"} (runs/<id>/repro.json).`,
    }),
    ...shared(),
  }),
  {
    description:
      message`Replay a reproducer's calls on a fresh kernel; exit 4 if the kernel still crashes the same way, 0 if not.`,
  },
);

export const fuzzCommand = command("fuzz", or(syscallsSubcommand, replaySubcommand), {
  description:
    message`Seeded syscall fuzzing from user mode, with crash reproducers minimized by delta debugging.`,
});

export type FuzzOptions = InferValue<typeof fuzzCommand>;

const DEFAULT_CALLS = 100_000;
const CONTROL_TIME = "60s";
const DEFAULT_BOOT_TIMEOUT_MS = 10_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;
const DEFAULT_HANG_TIMEOUT_MS = 30_000;

/** Runs `sis fuzz ...` on the run engine. Heavy modules load only now to keep `--help` fast. */
export async function runFuzzCommand(options: FuzzOptions, context: CommandContext): Promise<number> {
  const { resolve, relative } = await import("node:path");
  const { UsageError } = await import("../errors.ts");
  const { resolveSeed } = await import("../chaos/request.ts");
  const { parseDuration } = await import("../soak/options.ts");
  const { runFuzz } = await import("../fuzz/run.ts");
  const { archLine, fuzzReport } = await import("../fuzz/table.ts");

  // Input first: a bad flag or file is exit 2 before anything is built or booted.
  let work: Parameters<typeof runFuzz>[0];
  if (options.action === "replay") {
    const { requireTextFile } = await import("./_input.ts");
    const { parseRepro } = await import("../fuzz/repro.ts");
    const path = resolve(context.cwd, options.file);
    await requireTextFile(path, options.file, "fuzz reproducer (repro.json)");
    work = { repro: parseRepro(await Deno.readTextFile(path), options.file) };
  } else {
    if (options.calls !== undefined && options.time !== undefined) {
      throw new UsageError("give --calls or --time, not both", {
        fix: "for example: --calls 100000 or --time 60s",
      });
    }
    const seed = BigInt(resolveSeed(options.seed));
    // The control's default is its time bound (60 s): a seed that needs more than 100,000 calls still finds it.
    const time = options.time ?? (options.control && options.calls === undefined ? CONTROL_TIME : undefined);
    const timeMs = time === undefined ? undefined : parseDuration(time, "--time");
    const calls = timeMs === undefined ? options.calls ?? DEFAULT_CALLS : undefined;
    work = { specs: expandArch(options.arch).map((arch) => ({ arch, seed, calls, timeMs })) };
  }
  const { root, settings, config } = await loadOneConfig(context, options.config, "fuzz");
  const { code } = await runFuzz(work, {
    root,
    context,
    argv: ["sis", "fuzz", ...rebuildArgv(options)],
    config,
    qemuBinaries: settings.qemuBinaries,
    bootTimeoutMs: options.bootTimeoutMs ?? settings.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS,
    commandTimeoutMs: settings.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    hangTimeoutMs: options.hangTimeoutMs ?? DEFAULT_HANG_TIMEOUT_MS,
    parallel: options.jobs ?? navigator.hardwareConcurrency ?? 2,
    control: options.action === "syscalls" && options.control,
    noBuild: options.noBuild,
    outputs: { json: options.json, junit: options.junit },
    onArch: (result) => context.stdout.write(archLine(result) + "\n"),
    text: (results) =>
      fuzzReport({ ...results, repro: results.repro && relative(context.cwd, results.repro) }),
  });
  return code;
}

/** The options as argv, for the run manifest. */
function rebuildArgv(options: FuzzOptions): string[] {
  const argv: string[] = [options.action];
  if (options.action === "replay") argv.push(options.file);
  else {
    argv.push("--arch", options.arch, "--seed", options.seed);
    if (options.calls !== undefined) argv.push("--calls", String(options.calls));
    if (options.time !== undefined) argv.push("--time", options.time);
    if (options.control) argv.push("--control");
  }
  argv.push("--config", options.config);
  if (options.noBuild) argv.push("--no-build");
  return argv;
}
