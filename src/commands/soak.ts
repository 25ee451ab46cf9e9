/** `sis soak`: a long run of the stress workload on the real kernel, sampled every interval, ending in the soak report. */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { optional, withDefault } from "@optique/core/modifiers";
import { command, constant, flag, option } from "@optique/core/primitives";
import { choice, integer, string } from "@optique/core/valueparser";
import type { InferValue } from "@optique/core/parser";
import { ARCH_CHOICES } from "../arch.ts";
import type { CommandContext } from "../context.ts";

export const soakCommand = command(
  "soak",
  object({
    command: constant("soak"),
    arch: optional(option("--arch", choice(ARCH_CHOICES, { metavar: "ARCH" }), {
      description: message`Arch to soak, or ${"all"} (in parallel). Required unless --resume.`,
    })),
    config: withDefault(
      option("--config", string({ metavar: "CONFIG" }), { description: message`Machine config (default).` }),
      "default",
    ),
    duration: optional(option("--duration", string({ metavar: "TIME" }), {
      description: message`How long: 90s, 30m, 8h, 7d. Required unless --resume.`,
    })),
    interval: withDefault(
      option("--interval", string({ metavar: "TIME" }), { description: message`Time between scrapes (1s).` }),
      "1s",
    ),
    workload: withDefault(
      option(
        "--workload",
        choice(["mixed", "fs", "heap", "tasks", "idle"] as const, { metavar: "WORKLOAD" }),
        {
          description: message`What the kernel's stress task churns (mixed).`,
        },
      ),
      "mixed" as const,
    ),
    intensity: withDefault(
      option("--intensity", integer({ min: 1, max: 100, metavar: "N" }), {
        description: message`Workload iterations per 10 ms tick (10).`,
      }),
      10,
    ),
    leak: withDefault(
      option("--leak", integer({ min: 0, max: 262_144, metavar: "BYTES" }), {
        description: message`Leak BYTES of heap per iteration on purpose (the positive control).`,
      }),
      0,
    ),
    chaos: optional(option("--chaos", string({ metavar: "MODE:RATE" }), {
      description:
        message`Arm chaos MODE in an interval with RATE % chance (random_panic:5); the kernel restarts.`,
    })),
    scrape: withDefault(
      option("--scrape", choice(["serial", "http"] as const, { metavar: "HOW" }), {
        description:
          message`Read the metrics with ${"metricsctl"} on the serial console (${"serial"}, the default) or from the kernel's ${"/metrics"} over HTTP through the host port forward (${"http"}).`,
      }),
      "serial" as const,
    ),
    seed: optional(option("--seed", integer({ min: 0, metavar: "N" }), {
      description: message`Seed of the chaos schedule (random by default; kept in the manifest).`,
    })),
    resume: optional(option("--resume", string({ metavar: "RUN" }), {
      description: message`Continue the killed soak in runs/<id>, in the same bundle.`,
    })),
    json: optional(option("--json", string({ metavar: "FILE" }), {
      description: message`Write the run results as JSON to FILE.`,
    })),
    noBuild: withDefault(
      flag("--no-build", { description: message`Boot the soak kernels in build/soak as they are.` }),
      false,
    ),
  }),
  {
    description:
      message`Soak the kernel: stress workload, a metrics sample every interval, restarts after panics, HTML report with leak verdicts. Exit 1 on a leak, 4 on an unexpected panic or hang.`,
  },
);

export type SoakOptions = InferValue<typeof soakCommand>;

export async function runSoak(options: SoakOptions, context: CommandContext): Promise<number> {
  const { resolve } = await import("node:path");
  const { expandArch } = await import("../arch.ts");
  const { UsageError } = await import("../errors.ts");
  const { systemProbe } = await import("../toolchain/probe.ts");
  const { findProjectRoot } = await import("../toolchain/project.ts");
  const { loadSettings, selectConfigs } = await import("../qemu/config.ts");
  const { parseChaos, parseDuration } = await import("../soak/options.ts");
  const soak = await import("../soak/run.ts");

  const intervalMs = parseDuration(options.interval, "interval");
  const resume = options.resume === undefined ? undefined : resolve(context.cwd, options.resume);
  if (resume === undefined && (options.arch === undefined || options.duration === undefined)) {
    throw new UsageError("sis soak needs --arch and --duration (or --resume runs/<id>)", {
      fix: "for example: sis soak --arch all --duration 30m",
    });
  }
  const durationMs = options.duration === undefined ? 0 : parseDuration(options.duration, "duration");
  if (resume === undefined && intervalMs > durationMs) {
    throw new UsageError(`--interval ${options.interval} is longer than --duration ${options.duration}`);
  }
  const chaos = options.chaos === undefined ? undefined : parseChaos(options.chaos);
  if (options.scrape === "http" && chaos?.mode === "network_fail") {
    throw new UsageError(
      "--scrape http with --chaos network_fail: an armed interval drops every frame, so no HTTP scrape could get through",
      { fix: "use --scrape serial with network_fail" },
    );
  }
  const root = await findProjectRoot(context.cwd, context.env, systemProbe);
  const settings = await loadSettings(root);
  const [machineConfig] = selectConfigs(settings, options.config);
  if (resume === undefined && options.scrape === "http" && !machineConfig.network) {
    throw new UsageError(`--scrape http needs a NIC, and config "${machineConfig.name}" has none`, {
      fix: "use --scrape serial, or a config with the network (every config but no-network)",
    });
  }
  const argv = ["sis", "soak"];
  for (const [flagName, value] of Object.entries(options)) {
    if (flagName === "command" || value === undefined || value === false) continue;
    argv.push(`--${flagName.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    if (value !== true) argv.push(String(value));
  }
  return soak.runSoak({
    plan: {
      arches: options.arch === undefined ? [] : expandArch(options.arch),
      config: machineConfig.name,
      durationMs,
      intervalMs,
      workload: options.workload,
      intensity: options.intensity,
      leakBytes: options.leak,
      chaos,
      seed: options.seed ?? crypto.getRandomValues(new Uint32Array(1))[0],
      scrape: options.scrape,
    },
    machineConfig,
    root,
    context,
    argv,
    qemuBinaries: settings.qemuBinaries,
    resume,
    noBuild: options.noBuild,
    json: options.json === undefined ? undefined : resolve(context.cwd, options.json),
  });
}
