/** `sis test`: boot the kernel per arch and config, run YAML suites through the framed shell, report as text, JSON, JUnit and GitHub. */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { optional, withDefault } from "@optique/core/modifiers";
import { command, constant, flag, option } from "@optique/core/primitives";
import { choice, integer, string } from "@optique/core/valueparser";
import type { InferValue } from "@optique/core/parser";
import { type Arch, ARCH_CHOICES, expandArch } from "../arch.ts";
import type { CommandContext } from "../context.ts";

export const testCommand = command(
  "test",
  object({
    command: constant("test"),
    arch: option("--arch", choice(ARCH_CHOICES, { metavar: "ARCH" }), {
      description: message`Architecture to test, or ${"all"} for the three in parallel.`,
    }),
    config: withDefault(
      option("--config", string({ metavar: "CONFIG" }), {
        description:
          message`Machine config (default, lowmem, smp-off, smp, no-network, sis.yaml ones) or ${"all"}.`,
      }),
      "default",
    ),
    suite: withDefault(
      option("--suite", string({ metavar: "SUITE" }), {
        description: message`Suite name from tests/suites/, a comma list, or ${"all"}.`,
      }),
      "smoke",
    ),
    suitesDir: optional(option("--suites-dir", string({ metavar: "DIR" }), {
      description: message`Folder of suite YAML files (default: tests/suites of the checkout).`,
    })),
    filter: optional(option("--filter", string({ metavar: "TEXT" }), {
      description: message`Run only steps whose ${"suite/step"} name contains TEXT.`,
    })),
    shard: optional(option("--shard", string({ metavar: "I/N" }), {
      description: message`Run shard I of N of the boots (CI fan-out).`,
    })),
    junit: optional(option("--junit", string({ metavar: "FILE" }), {
      description: message`Write JUnit XML results to FILE.`,
    })),
    json: optional(option("--json", string({ metavar: "FILE" }), {
      description: message`Write JSON results to FILE.`,
    })),
    timeoutMs: optional(option("--timeout-ms", integer({ min: 1, metavar: "MS" }), {
      description: message`Per-command timeout; no end marker within it is a hang (default 10000).`,
    })),
    bootTimeoutMs: optional(option("--boot-timeout-ms", integer({ min: 1, metavar: "MS" }), {
      description: message`Time to reach the shell prompt (default 10000).`,
    })),
    jobs: optional(option("--jobs", integer({ min: 1, metavar: "N" }), {
      description: message`Boots at once (default: the number of CPU cores).`,
    })),
    noBuild: withDefault(
      flag("--no-build", {
        description:
          message`Boot the installed build/<arch> kernels as they are (default: incremental build first).`,
      }),
      false,
    ),
  }),
  {
    description:
      message`Boot the kernel and run test suites against its shell. Exit 0 passed, 1 failed, 2 nothing selected, 4 panic or hang, 130/143 interrupted.`,
  },
);

export type TestOptions = InferValue<typeof testCommand>;

/** Default per-command and boot timeouts: generous for TCG on a loaded 2-core runner. */
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Runs `sis test` on the run engine (docs/ENGINE.md): this file plans the
 * jobs and judges them; the engine builds, boots, stops on signals, writes
 * the bundle and reports, and picks the exit code. Heavy modules load here,
 * not at the top, so `sis --help` stays fast.
 */
export async function runTest(options: TestOptions, context: CommandContext): Promise<number> {
  const { join, resolve } = await import("node:path");
  const { systemProbe } = await import("../toolchain/probe.ts");
  const { findProjectRoot } = await import("../toolchain/project.ts");
  const { loadSettings, selectConfigs } = await import("../qemu/config.ts");
  const { loadSuites, matchesFilter, selectSuites } = await import("../session/suite.ts");
  const { notRunJob, planJobs, runSuiteJob } = await import("../session/runner.ts");
  const { jobRunResults, runEngine } = await import("../runs/engine.ts");
  const { LiveReporter, PlainReporter } = await import("../report/progress.ts");
  const { runExitCode } = await import("../report/results.ts");

  const root = await findProjectRoot(context.cwd, context.env, systemProbe);
  const settings = await loadSettings(root);
  const configs = selectConfigs(settings, options.config);
  const suitesDir = options.suitesDir ? resolve(context.cwd, options.suitesDir) : join(root, "tests/suites");
  const suites = selectSuites(await loadSuites(suitesDir), options.suite);
  const arches: Arch[] = expandArch(options.arch);
  const jobs = planJobs(arches, configs, suites, (suite, step) => matchesFilter(suite, step, options.filter));
  const reporter = context.isTerminal
    ? new LiveReporter(context.stdout, context.color)
    : new PlainReporter(context.stdout, context.color);
  const asked = [
    `--suite ${options.suite}`,
    options.filter !== undefined ? `--filter ${JSON.stringify(options.filter)}` : "",
    options.config !== "default" ? `--config ${options.config}` : "",
  ].filter(Boolean).join(" ");
  const jobOptions = {
    qemuBinaries: settings.qemuBinaries,
    bootTimeoutMs: options.bootTimeoutMs ?? settings.bootTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    commandTimeoutMs: options.timeoutMs ?? settings.commandTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    reporter,
  };
  return runEngine({
    kind: "test",
    root,
    context,
    argv: ["sis", "test", ...rebuildArgv(options)],
    jobs,
    asked,
    shard: options.shard,
    kernels: { noBuild: options.noBuild },
    parallel: options.jobs ?? navigator.hardwareConcurrency ?? 2,
    outputs: { json: options.json, junit: options.junit },
    manifest: {
      arches,
      configs: configs.map((config) => ({ ...config })),
      suites: suites.map((suite) => suite.name),
    },
    started: ({ runId, bundleDir, jobs }) => `sis: run ${runId}: ${jobs} boot(s), bundle ${bundleDir}\n`,
    runJob: (job, run) => runSuiteJob(job, run, jobOptions),
    notRun: notRunJob,
    onJobDone: (result) => {
      // Jobs that ran told the reporter themselves; a job never started tells it here.
      if (result.status === "interrupted" && result.durationMs === 0) reporter.jobFinished(result);
    },
    finish: (results, info) => {
      const run = { ...jobRunResults("test", results, info), shard: options.shard };
      reporter.runFinished(run);
      return { json: run, report: run, exitCode: runExitCode(run.summary) };
    },
  });
}

/** The options as argv, for the run manifest (what reproduces the run). */
function rebuildArgv(options: TestOptions): string[] {
  const argv = ["--arch", options.arch, "--config", options.config, "--suite", options.suite];
  const optional: [string, unknown][] = [
    ["--suites-dir", options.suitesDir],
    ["--filter", options.filter],
    ["--shard", options.shard],
    ["--timeout-ms", options.timeoutMs],
    ["--boot-timeout-ms", options.bootTimeoutMs],
    ["--jobs", options.jobs],
  ];
  if (options.noBuild) argv.push("--no-build");
  for (const [flag, value] of optional) if (value !== undefined) argv.push(flag, String(value));
  return argv;
}
