/** `sis report`: reports built from run bundles (`merge`: shards, archs and configs into one result; `soak`: the soak report and its leak verdict). */
import { object, or } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { multiple, optional } from "@optique/core/modifiers";
import { argument, command, constant, option } from "@optique/core/primitives";
import { choice, string } from "@optique/core/valueparser";
import type { InferValue } from "@optique/core/parser";
import type { CommandContext } from "../context.ts";

const mergeSubcommand = command(
  "merge",
  object({
    command: constant("report"),
    action: constant("merge"),
    inputs: multiple(
      argument(string({ metavar: "RESULTS" }), {
        description: message`A results.json (${"sis test --json"}), a run bundle, or a folder holding them.`,
      }),
      { min: 1 },
    ),
    junit: optional(option("--junit", string({ metavar: "FILE" }), {
      description: message`Write the merged JUnit XML to FILE.`,
    })),
    json: optional(option("--json", string({ metavar: "FILE" }), {
      description: message`Write the merged JSON results to FILE.`,
    })),
    summary: optional(option("--summary", string({ metavar: "FILE" }), {
      description: message`Write the markdown summary to FILE.`,
    })),
  }),
  {
    description:
      message`Merge results.json files or run bundles (folders are searched) into one report. Exit as sis test would.`,
  },
);

const soakSubcommand = command(
  "soak",
  object({
    command: constant("report"),
    action: constant("soak"),
    bundle: argument(string({ metavar: "RUN" }), {
      description:
        message`A soak bundle (runs/<id>) or a samples.ndjson file in the sample format (docs/SOAK.md).`,
    }),
    out: optional(option("--out", string({ metavar: "FILE.html" }), {
      description: message`Where to write the HTML report (default: report.html in the bundle).`,
    })),
    json: optional(option("--json", string({ metavar: "FILE" }), {
      description: message`Where to write the JSON summary (default: summary.json in the bundle).`,
    })),
    csv: optional(option("--csv", string({ metavar: "FILE" }), {
      description: message`Also write every sample as CSV to FILE.`,
    })),
    failOn: optional(option("--fail-on", choice(["leak", "inconclusive"] as const, { metavar: "VERDICT" }), {
      description: message`Exit 1 on this verdict or worse (default leak).`,
    })),
    series: multiple(option("--series", string({ metavar: "NAME" }), {
      description:
        message`A series to judge for leaks (name or full key; repeat). Default: heap bytes, tasks, VFS bytes.`,
    })),
  }),
  {
    description:
      message`Charts, summary table and leak verdicts of a soak in one self-contained HTML file. Exit 1 on a leak.`,
  },
);

export const reportCommand = command("report", or(mergeSubcommand, soakSubcommand), {
  description: message`Reports built from run bundles.`,
});

export type ReportOptions = InferValue<typeof reportCommand>;

export async function runReport(options: ReportOptions, context: CommandContext): Promise<number> {
  switch (options.action) {
    case "merge": {
      const { mergeReport } = await import("../report/merge.ts");
      return mergeReport(options, context);
    }
    case "soak": {
      const { resolve } = await import("node:path");
      const { printSoakOutcome, reportSoak } = await import("../soak/report.ts");
      const at = (path: string | undefined) => (path === undefined ? undefined : resolve(context.cwd, path));
      const result = await reportSoak({
        source: resolve(context.cwd, options.bundle),
        out: at(options.out),
        json: at(options.json),
        csv: at(options.csv),
        failOn: options.failOn,
        watched: options.series.length > 0 ? options.series : undefined,
      });
      printSoakOutcome(result, context);
      return result.exitCode;
    }
  }
}
