/** `sis regress baseline|check`: record the ordered, normalized boot event sequence per arch and diff later boots against it. */
import { object, or } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { optional, withDefault } from "@optique/core/modifiers";
import { command, constant, option } from "@optique/core/primitives";
import { choice, integer, string } from "@optique/core/valueparser";
import type { InferValue } from "@optique/core/parser";
import { ARCH_CHOICES, expandArch } from "../arch.ts";
import type { CommandContext } from "../context.ts";

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
          message`Boot again and diff against the baseline: missing, unexpected, reordered events, new WARN/ERROR/FATAL, panics. Exit 1 on regression.`,
      },
    ),
  ),
  { description: message`Boot-sequence regression checks against committed baselines.` },
);

export type RegressOptions = InferValue<typeof regressCommand>;

export async function runRegress(options: RegressOptions, context: CommandContext): Promise<number> {
  const { join, resolve } = await import("node:path");
  const { writeFile } = await import("node:fs/promises");
  const { systemProbe } = await import("../toolchain/probe.ts");
  const { findProjectRoot } = await import("../toolchain/project.ts");
  const { loadSettings, selectConfigs } = await import("../qemu/config.ts");
  const { loadSuites, selectSuites } = await import("../session/suite.ts");
  const { ensureKernels } = await import("./_kernels.ts");
  const { captureBoot } = await import("../regress/capture.ts");
  const { baselinePath, loadAllowlist, loadBaseline, saveBaseline } = await import("../regress/baseline.ts");
  const { diffEvents } = await import("../regress/diff.ts");
  const { UsageError } = await import("../errors.ts");

  const root = await findProjectRoot(context.cwd, context.env, systemProbe);
  const settings = await loadSettings(root);
  const [config] = selectConfigs(settings, options.config);
  const suitesDir = options.suitesDir ? resolve(context.cwd, options.suitesDir) : join(root, "tests/suites");
  const suites = selectSuites(await loadSuites(suitesDir), options.suite);
  if (suites.length !== 1) throw new UsageError("sis regress takes exactly one suite");
  const commands = suites[0].steps.map((step) => step.run);
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
  const kernels = await ensureKernels(root, arches, context);
  const timeoutMs = options.timeoutMs ?? 20_000;
  const today = options.action === "check" && options.today
    ? options.today
    : new Date().toISOString().slice(0, 10);
  const allowlist = options.action === "check"
    ? await loadAllowlist(
      options.allowlist ? resolve(context.cwd, options.allowlist) : join(baselineDir, "allowlist.yaml"),
    )
    : [];

  let isRegression = false;
  const report: Record<string, unknown> = {};
  for (const arch of arches) {
    const path = baselinePath(baselineDir, arch, config.name);
    const baseline = baselines.get(arch);
    const capture = await captureBoot({
      arch,
      config,
      kernelPath: kernels[arch].path,
      qemuBinary: settings.qemuBinaries[arch],
      commands: baseline ? baseline.commands : commands,
      bootTimeoutMs: timeoutMs,
      commandTimeoutMs: timeoutMs,
    });
    if (options.action === "baseline") {
      if (capture.failure) {
        context.stderr.write(`sis: ${arch}: ${capture.failure}\n`);
        context.stderr.write(`sis: ${arch}: not storing a baseline of a failed boot\n`);
        isRegression = true;
        continue;
      }
      await saveBaseline(path, {
        schema: 1,
        arch,
        config: config.name,
        suite: suites[0].name,
        commands,
        kernel: kernels[arch].sha256,
        recordedAt: new Date().toISOString(),
        events: capture.events,
      });
      context.stdout.write(`${arch}: ${capture.events.length} events -> ${path}\n`);
      continue;
    }
    const result = diffEvents(baseline!.events, capture.events, { arch, allowlist, today });
    if (capture.failure && !capture.events.some((event) => event.kind === "panic")) {
      result.findings.push({ kind: "panic", template: `KERNEL FAILURE ${capture.failure}` });
      result.isRegression = true;
    }
    report[arch] = result;
    isRegression ||= result.isRegression;
    const unexcused = result.findings.filter((finding) => !finding.allowedBy);
    context.stdout.write(
      `${arch}: ${capture.events.length} events vs ${baseline!.events.length} in baseline: ${
        result.isRegression ? "REGRESSION" : "ok"
      } (${unexcused.length} finding(s), ${
        result.findings.length - unexcused.length
      } allowed, ${result.expired.length} expired allowlist entr${
        result.expired.length === 1 ? "y" : "ies"
      })\n`,
    );
    for (const finding of result.findings) {
      const where = finding.kind === "reordered"
        ? ` (baseline #${finding.baselineIndex! + 1}, now #${finding.runIndex! + 1})`
        : finding.runIndex !== undefined
        ? ` (run #${finding.runIndex + 1})`
        : finding.baselineIndex !== undefined
        ? ` (baseline #${finding.baselineIndex + 1})`
        : "";
      const allowed = finding.allowedBy ? `  [allowed: ${finding.allowedBy.reason}]` : "";
      context.stdout.write(`  ${finding.kind.padEnd(10)} ${finding.template}${where}${allowed}\n`);
    }
    for (const entry of result.expired) {
      context.stdout.write(
        `  expired    allowlist entry "${entry.template}" (${entry.reason}) expired ${entry.expires}\n`,
      );
    }
  }
  if (options.action === "check" && options.json) {
    await writeFile(resolve(context.cwd, options.json), JSON.stringify(report, null, 2) + "\n");
  }
  return isRegression ? 1 : 0;
}
