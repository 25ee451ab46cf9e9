/** `sis matrix`: the arch × config × shard jobs of a CI fan-out, as a table or as GitHub Actions matrix JSON. */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { withDefault } from "@optique/core/modifiers";
import { command, constant, flag, option } from "@optique/core/primitives";
import { integer, string } from "@optique/core/valueparser";
import type { InferValue } from "@optique/core/parser";
import type { CommandContext } from "../context.ts";

export const matrixCommand = command(
  "matrix",
  object({
    command: constant("matrix"),
    github: withDefault(
      flag("--github", {
        description:
          message`Print one line of JSON for ${"fromJSON()"} in a workflow's ${"strategy.matrix"}.`,
      }),
      false,
    ),
    arch: withDefault(
      option("--arch", string({ metavar: "LIST" }), {
        description: message`Archs, comma-separated, or ${"all"}.`,
      }),
      "all",
    ),
    config: withDefault(
      option("--config", string({ metavar: "LIST" }), {
        description: message`Machine configs, comma-separated, or ${"all"} (built-ins and sis.yaml ones).`,
      }),
      "default",
    ),
    suite: withDefault(
      option("--suite", string({ metavar: "SUITE" }), {
        description: message`The ${"--suite"} every job runs: a name, a comma list, or ${"all"}.`,
      }),
      "smoke",
    ),
    shards: withDefault(
      option("--shards", integer({ min: 1, metavar: "N" }), {
        description: message`Split each arch × config run into N jobs by suite.`,
      }),
      1,
    ),
  }),
  {
    description:
      message`Plan a CI fan-out: one job per arch × config × shard with its exact ${"sis test"} arguments (docs/CI.md).`,
  },
);

export type MatrixOptions = InferValue<typeof matrixCommand>;

export async function runMatrix(options: MatrixOptions, context: CommandContext): Promise<number> {
  const { join } = await import("node:path");
  const { ARCHES, isArch } = await import("../arch.ts");
  const { UsageError } = await import("../errors.ts");
  const { systemProbe } = await import("../toolchain/probe.ts");
  const { findProjectRoot } = await import("../toolchain/project.ts");
  const { loadSettings, selectConfigs } = await import("../qemu/config.ts");
  const { loadSuites, selectSuites } = await import("../session/suite.ts");
  const { planMatrix } = await import("../ci/matrix.ts");

  const list = (text: string) => text.split(",").map((item) => item.trim()).filter(Boolean);
  const arches = options.arch === "all" ? [...ARCHES] : list(options.arch);
  for (const arch of arches) {
    if (!isArch(arch)) {
      throw new UsageError(`unknown arch "${arch}" in --arch`, { fix: `use ${ARCHES.join(", ")} or all` });
    }
  }
  const root = await findProjectRoot(context.cwd, context.env, systemProbe);
  const settings = await loadSettings(root);
  const configs = options.config === "all"
    ? Object.keys(settings.configs)
    : list(options.config).map((name) => selectConfigs(settings, name)[0].name);
  const suites = selectSuites(await loadSuites(join(root, "tests/suites")), options.suite);

  const matrix = planMatrix({
    arches: [...new Set(arches)].filter(isArch),
    configs: [...new Set(configs)],
    suite: options.suite,
    suiteCount: suites.length,
    shards: options.shards,
  });
  if (options.github) {
    context.stdout.write(JSON.stringify(matrix) + "\n");
  } else {
    const width = Math.max(...matrix.include.map((entry) => entry.id.length));
    for (const entry of matrix.include) {
      context.stdout.write(`${entry.id.padEnd(width)}  sis ${entry.args}\n`);
    }
  }
  return 0;
}
