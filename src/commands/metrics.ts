/** `sis metrics check`: lint Prometheus scrapes and compare them in order: counters going backwards, vanished series, label-set budgets. */
import { object, or } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { multiple, optional, withDefault } from "@optique/core/modifiers";
import { argument, command, constant, flag, option } from "@optique/core/primitives";
import { choice, integer, string } from "@optique/core/valueparser";
import { ARCHES } from "../arch.ts";
import type { InferValue } from "@optique/core/parser";
import type { CommandContext } from "../context.ts";

export const metricsCommand = command(
  "metrics",
  or(
    command(
      "check",
      object({
        command: constant("metrics"),
        action: constant("check"),
        scrapes: multiple(argument(string({ metavar: "SCRAPE" })), { min: 1 }),
        maxSeries: withDefault(
          option("--max-series", integer({ min: 1, metavar: "N" }), {
            description: message`Label sets one family may have before it is flagged (cardinality budget).`,
          }),
          100,
        ),
        strict: withDefault(
          flag("--strict", {
            description:
              message`Also fail on problems promtool 2.42 does not report (duplicate series, split families, histogram buckets).`,
          }),
          false,
        ),
        json: optional(option("--json", string({ metavar: "FILE" }), {
          description: message`Write the findings as JSON to FILE.`,
        })),
      }),
      {
        description:
          message`Lint each scrape (promtool's rules) and compare consecutive scrapes. Exit 1 when anything is flagged.`,
      },
    ),
    command(
      "serve",
      object({
        command: constant("metrics"),
        action: constant("serve"),
        arch: option("--arch", choice(ARCHES, { metavar: "ARCH" }), {
          description: message`Architecture to boot.`,
        }),
        listen: optional(option("--listen", string({ metavar: "127.0.0.1:PORT" }), {
          description: message`Host address for the kernel's /metrics (loopback only; default: a free port).`,
        })),
        config: withDefault(
          option("--config", string({ metavar: "CONFIG" }), {
            description: message`Machine config (any but no-network).`,
          }),
          "default",
        ),
        noBuild: withDefault(
          flag("--no-build", {
            description:
              message`Boot the installed build/<arch> kernel as it is (default: incremental build first).`,
          }),
          false,
        ),
      }),
      {
        description:
          message`Boot the kernel and keep its HTTP /metrics reachable on 127.0.0.1 until Ctrl-C, for any Prometheus to scrape.`,
      },
    ),
  ),
  { description: message`Prometheus expositions of the kernel and other programs.` },
);

export type MetricsOptions = InferValue<typeof metricsCommand>;

export async function runMetrics(options: MetricsOptions, context: CommandContext): Promise<number> {
  if (options.action === "serve") {
    const { runMetricsServe } = await import("./metrics_serve.ts");
    return runMetricsServe(options, context);
  }
  // Deno's own file API, not node:fs/promises: loading Node's fs layer cost
  // ~40 ms of a ~500 ms check of a 100,000-sample scrape (bench/prometheus.ts).
  const { resolve } = await import("node:path");
  const { UsageError } = await import("../errors.ts");
  const { requireTextFile } = await import("./_input.ts");
  const { checkExposition, lintExposition } = await import("../parse/prometheus.ts");
  const { compareScrapes, labelBudget } = await import("../parse/scrapes.ts");
  type ScrapeFinding = import("../parse/scrapes.ts").ScrapeFinding;
  type Exposition = import("../parse/prometheus.ts").Exposition;

  const findings: ScrapeFinding[] = [];
  const scrapes: { name: string; exposition: Exposition }[] = [];
  /** One scrape has nothing to compare with: check it without keeping its samples. */
  const isSingle = options.scrapes.length === 1;
  let samples = 0;
  const budgetFindings: ScrapeFinding[] = [];
  for (const name of options.scrapes) {
    let text: string;
    await requireTextFile(resolve(context.cwd, name), name, "Prometheus scrape");
    try {
      text = await Deno.readTextFile(resolve(context.cwd, name));
    } catch (error) {
      throw new UsageError(`cannot read ${name}: ${(error as Error).message}`);
    }
    let exposition: Exposition;
    if (isSingle) {
      // The same problems as checkExposition's (the same parser and checks);
      // only the label budget, which needs the series keys, is left to do.
      const linted = lintExposition(text);
      exposition = linted.exposition;
      for (const tally of linted.tallies) {
        samples += tally.samples;
        const overBudget = labelBudget(name, tally.family.name, tally.keys, options.maxSeries);
        if (overBudget) budgetFindings.push(overBudget);
      }
    } else {
      exposition = checkExposition(text);
      for (const family of exposition.families) samples += family.samples.length;
    }
    for (const problem of exposition.problems) {
      const kind = problem.severity === "lint" ? "lint" : problem.isPromtool ? "parse" : "strict";
      findings.push({
        scrape: name,
        kind,
        metric: problem.metric,
        text: `${problem.line ? `line ${problem.line}: ` : ""}${problem.text}`,
      });
    }
    scrapes.push({ name, exposition });
  }
  findings.push(...(isSingle ? budgetFindings : compareScrapes(scrapes, options.maxSeries)));
  const failing = findings.filter((finding) => finding.kind !== "strict" || options.strict);
  for (const finding of findings) {
    const mark = finding.kind === "strict" && !options.strict ? " (warning)" : "";
    context.stdout.write(
      `${finding.scrape}: ${finding.kind}${mark}: ${
        finding.metric ? finding.metric + ": " : ""
      }${finding.text}\n`,
    );
  }
  context.stdout.write(`${scrapes.length} scrape(s), ${samples} samples, ${failing.length} problem(s)\n`);
  if (options.json) {
    await Deno.writeTextFile(resolve(context.cwd, options.json), JSON.stringify(findings, null, 2) + "\n");
  }
  return failing.length > 0 ? 1 : 0;
}
