/** `sis regress baseline|check`: record the ordered, normalized boot event sequence per arch and diff later boots against it. */
import { object, or } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { optional, withDefault } from "@optique/core/modifiers";
import { command, constant, flag, option } from "@optique/core/primitives";
import { choice, integer, string } from "@optique/core/valueparser";
import type { InferValue } from "@optique/core/parser";
import { ARCH_CHOICES, expandArch } from "../arch.ts";
import type { CommandContext } from "../context.ts";
import type { RegressJobResult } from "../regress/run.ts";

const shared = {
  arch: option("--arch", choice(ARCH_CHOICES, { metavar: "ARCH" }), {
    description: message`Architecture, or ${"all"} for the three one after another.`,
  }),
  config: withDefault(
    option("--config", string({ metavar: "CONFIG" }), { description: message`Machine config (default).` }),
    "default",
  ),
  suite: withDefault(
    option("--suite", string({ metavar: "SUITE" }), {
      description: message`Suite from tests/suites/ whose commands run after boot (default ${"boot"}).`,
    }),
    "boot",
  ),
  suitesDir: optional(option("--suites-dir", string({ metavar: "DIR" }), {
    description: message`Folder of suite YAML files (default: tests/suites).`,
  })),
  baselineDir: optional(option("--baseline-dir", string({ metavar: "DIR" }), {
    description: message`Folder of baseline files (default: baselines/).`,
  })),
  timeoutMs: optional(option("--timeout-ms", integer({ min: 1, metavar: "MS" }), {
    description: message`Boot and per-command timeout (default 20000).`,
  })),
  noBuild: withDefault(
    flag("--no-build", {
      description:
        message`Boot the installed build/<arch> kernels as they are (default: incremental build first).`,
    }),
    false,
  ),
  shard: optional(option("--shard", string({ metavar: "I/N" }), {
    description: message`Run shard I of N of the arches (CI fan-out).`,
  })),
  filter: optional(option("--filter", string({ metavar: "TEXT" }), {
    description:
      message`Run only arches whose job name (for example ${"x86_64-default-regress"}) contains TEXT.`,
  })),
  junit: optional(option("--junit", string({ metavar: "FILE" }), {
    description: message`Write JUnit XML to FILE: one test suite per arch.`,
  })),
};

export const regressCommand = command(
  "regress",
  or(
    command(
      "baseline",
      object({ command: constant("regress"), action: constant("baseline"), ...shared }),
      { description: message`Boot, run the suite, and store the ordered event templates as the baseline.` },
    ),
    command(
      "check",
      object({
        command: constant("regress"),
        action: constant("check"),
        ...shared,
        allowlist: optional(option("--allowlist", string({ metavar: "FILE" }), {
          description: message`Allowlist YAML (default: baselines/allowlist.yaml).`,
        })),
        json: optional(option("--json", string({ metavar: "FILE" }), {
          description: message`Write the findings as JSON to FILE.`,
        })),
        today: optional(option("--today", string({ metavar: "YYYY-MM-DD" }), {
          description: message`Date used for allowlist expiry (default: today, UTC).`,
        })),
      }),
      {
        description:
          message`Boot again and diff against the baseline: missing, unexpected, reordered events, new WARN/ERROR/FATAL, panics. Exit 1 on regression, 4 on a panic or hang.`,
      },
    ),
  ),
  { description: message`Boot-sequence regression checks against committed baselines.` },
);

export type RegressOptions = InferValue<typeof regressCommand>;

/** Runs `sis regress` on the run engine: loads baselines and allowlist first (usage errors before any boot), prints each arch's verdict. */
export async function runRegress(options: RegressOptions, context: CommandContext): Promise<number> {
  const { join, resolve } = await import("node:path");
  const { systemProbe } = await import("../toolchain/probe.ts");
  const { findProjectRoot } = await import("../toolchain/project.ts");
  const { loadSettings, selectConfigs } = await import("../qemu/config.ts");
  const { loadSuites, selectSuites } = await import("../session/suite.ts");
  const { baselinePath, loadAllowlist, loadBaseline } = await import("../regress/baseline.ts");
  const { runRegressJobs } = await import("../regress/run.ts");
  const { UsageError } = await import("../errors.ts");
  const { requireTextFile } = await import("./_input.ts");

  const root = await findProjectRoot(context.cwd, context.env, systemProbe);
  const settings = await loadSettings(root);
  const [config] = selectConfigs(settings, options.config);
  const suitesDir = options.suitesDir ? resolve(context.cwd, options.suitesDir) : join(root, "tests/suites");
  const suites = selectSuites(await loadSuites(suitesDir), options.suite);
  if (suites.length !== 1) throw new UsageError("sis regress takes exactly one suite");
  const baselineDir = options.baselineDir
    ? resolve(context.cwd, options.baselineDir)
    : join(root, "baselines");
  const arches = expandArch(options.arch);
  // Baselines load before anything boots or builds: a missing one is a usage error at once.
  const baselines = new Map<string, Awaited<ReturnType<typeof loadBaseline>>>();
  if (options.action === "check") {
    for (const arch of arches) {
      baselines.set(arch, await loadBaseline(baselinePath(baselineDir, arch, config.name)));
    }
  }
  // An allowlist the user named must be there; the default one is optional.
  if (options.action === "check" && options.allowlist) {
    await requireTextFile(resolve(context.cwd, options.allowlist), options.allowlist, "allowlist YAML");
  }
  const allowlist = options.action === "check"
    ? await loadAllowlist(
      options.allowlist ? resolve(context.cwd, options.allowlist) : join(baselineDir, "allowlist.yaml"),
    )
    : [];
  return runRegressJobs({
    action: options.action,
    root,
    context,
    argv: ["sis", "regress", options.action, "--arch", options.arch, "--config", options.config],
    arches,
    config,
    suite: suites[0].name,
    commands: suites[0].steps.map((step) => step.run),
    baselineDir,
    baselines,
    allowlist,
    today: options.action === "check" && options.today
      ? options.today
      : new Date().toISOString().slice(0, 10),
    qemuBinaries: settings.qemuBinaries,
    timeoutMs: options.timeoutMs ?? 20_000,
    noBuild: options.noBuild,
    shard: options.shard,
    filter: options.filter,
    json: options.action === "check" ? options.json : undefined,
    junit: options.junit,
    onResult: (result) => context.stdout.write(describe(result)),
  });
}

/** The lines `sis regress` prints for one arch. */
function describe(result: RegressJobResult): string {
  const arch = result.arch;
  if (result.status === "interrupted") return `${arch}: ${result.failure?.message ?? "interrupted"}\n`;
  if (result.status === "stored") return `${arch}: ${result.events} events -> ${result.storedAt}\n`;
  if (!result.diff) {
    return `${arch}: kernel ${result.failure?.kind}: ${result.failure?.message}\n` +
      `${arch}: not storing a baseline of a failed boot\n`;
  }
  const diff = result.diff;
  const unexcused = diff.findings.filter((finding) => !finding.allowedBy);
  let text =
    `${arch}: ${result.events} events vs ${result.baselineEvents} in baseline: ${
      diff.isRegression || result.failure ? "REGRESSION" : "ok"
    } (${unexcused.length} finding(s), ${
      diff.findings.length - unexcused.length
    } allowed, ${diff.expired.length} ` +
    `expired allowlist entr${diff.expired.length === 1 ? "y" : "ies"})\n`;
  for (const finding of diff.findings) {
    const where = finding.kind === "reordered"
      ? ` (baseline #${finding.baselineIndex! + 1}, now #${finding.runIndex! + 1})`
      : finding.runIndex !== undefined
      ? ` (run #${finding.runIndex + 1})`
      : finding.baselineIndex !== undefined
      ? ` (baseline #${finding.baselineIndex + 1})`
      : "";
    const allowed = finding.allowedBy ? `  [allowed: ${finding.allowedBy.reason}]` : "";
    text += `  ${finding.kind.padEnd(10)} ${finding.template}${where}${allowed}\n`;
  }
  for (const entry of diff.expired) {
    text += `  expired    allowlist entry "${entry.template}" (${entry.reason}) expired ${entry.expires}\n`;
  }
  return text;
}
