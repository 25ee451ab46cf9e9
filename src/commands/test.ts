/** `sis test`: boot the kernel per arch and config, run YAML suites through the framed shell, report as text, JSON, JUnit and GitHub. */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { optional, withDefault } from "@optique/core/modifiers";
import { command, constant, option } from "@optique/core/primitives";
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
  }),
  {
    description:
      message`Boot the kernel and run test suites against its shell. Exit 0 passed, 1 failed, 4 panic or hang.`,
  },
);

export type TestOptions = InferValue<typeof testCommand>;

/** Default per-command and boot timeouts: generous for TCG on a loaded 2-core runner. */
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Runs `sis test`. Heavy modules load here, not at the top, so `sis --help`
 * stays fast. SIGINT/SIGTERM tear every QEMU down, write what finished, and
 * exit 130/143.
 */
export async function runTest(options: TestOptions, context: CommandContext): Promise<number> {
  const { join, resolve } = await import("node:path");
  const { writeFile } = await import("node:fs/promises");
  const { systemProbe } = await import("../toolchain/probe.ts");
  const { findProjectRoot } = await import("../toolchain/project.ts");
  const { loadSettings, selectConfigs } = await import("../qemu/config.ts");
  const { installSignalTeardown } = await import("../qemu/machine.ts");
  const { loadSuites, matchesFilter, parseShard, selectSuites, shardItems } = await import(
    "../session/suite.ts"
  );
  const { planJobs, runJobs } = await import("../session/runner.ts");
  const { RunBundle } = await import("../runs/bundle.ts");
  const { LiveReporter, PlainReporter } = await import("../report/progress.ts");
  const { runExitCode, summarize } = await import("../report/results.ts");
  const { toJunitXml } = await import("../report/junit.ts");
  const { annotations, stepSummary } = await import("../report/github.ts");
  const { ensureKernels } = await import("./_kernels.ts");

  const root = await findProjectRoot(context.cwd, context.env, systemProbe);
  const settings = await loadSettings(root);
  const configs = selectConfigs(settings, options.config);
  const suitesDir = options.suitesDir ? resolve(context.cwd, options.suitesDir) : join(root, "tests/suites");
  const suites = selectSuites(await loadSuites(suitesDir), options.suite);
  const arches: Arch[] = expandArch(options.arch);
  let jobs = planJobs(arches, configs, suites, (suite, step) => matchesFilter(suite, step, options.filter));
  if (options.shard) jobs = shardItems(jobs, parseShard(options.shard));
  if (jobs.length === 0) {
    context.stderr.write(
      `sis: nothing to run (no step matches${options.filter ? ` --filter ${options.filter}` : ""})\n`,
    );
    return 0;
  }

  const bootArches = [...new Set(jobs.filter((job) => !job.suite.pending).map((job) => job.arch))];
  const kernels = await ensureKernels(root, bootArches, context);
  const seed = crypto.getRandomValues(new Uint32Array(1))[0];
  const bundle = await RunBundle.create(join(root, "runs"), {
    sisVersion: "0.1.0",
    deno: Deno.version.deno,
    argv: ["sis", "test", ...rebuildArgv(options)],
    cwd: context.cwd,
    seed,
    arches,
    configs: configs.map((config) => ({ ...config })),
    suites: suites.map((suite) => suite.name),
    kernels,
  });
  const reporter = context.isTerminal
    ? new LiveReporter(context.stdout, context.color)
    : new PlainReporter(context.stdout, context.color);
  context.stderr.write(`sis: run ${bundle.id}: ${jobs.length} boot(s), bundle ${bundle.dir}\n`);

  const removeSignals = installSignalTeardown((signal) => {
    context.stderr.write(`sis: ${signal}: QEMU stopped; partial results in ${bundle.dir}\n`);
    Deno.exit(signal === "SIGINT" ? 130 : 143);
  });
  const started = performance.now();
  try {
    const results = await runJobs(jobs, {
      kernels,
      qemuBinaries: settings.qemuBinaries,
      bootTimeoutMs: options.bootTimeoutMs ?? settings.bootTimeoutMs ?? DEFAULT_TIMEOUT_MS,
      commandTimeoutMs: options.timeoutMs ?? settings.commandTimeoutMs ?? DEFAULT_TIMEOUT_MS,
      bundle,
      reporter,
      parallel: options.jobs ?? navigator.hardwareConcurrency ?? 2,
    });
    const run = {
      schema: 1 as const,
      runId: bundle.id,
      startedAt: bundle.manifest.startedAt,
      durationMs: Math.round(performance.now() - started),
      jobs: results,
      summary: summarize(results),
    };
    await bundle.writeResults(run);
    reporter.runFinished(run);
    if (options.json) {
      await writeFile(resolve(context.cwd, options.json), JSON.stringify(run, null, 2) + "\n");
    }
    if (options.junit) await writeFile(resolve(context.cwd, options.junit), toJunitXml(run));
    if (context.env.GITHUB_ACTIONS === "true") {
      // GitHub resolves annotation paths against the workspace it checked out.
      const workspace = context.env.GITHUB_WORKSPACE ?? root;
      for (const line of annotations(run, { root: workspace })) context.stdout.write(line + "\n");
      if (context.env.GITHUB_STEP_SUMMARY) {
        await writeFile(context.env.GITHUB_STEP_SUMMARY, stepSummary(run), { flag: "a" });
      }
    }
    return runExitCode(run.summary);
  } finally {
    removeSignals();
  }
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
  for (const [flag, value] of optional) if (value !== undefined) argv.push(flag, String(value));
  return argv;
}
