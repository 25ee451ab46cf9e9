/** `sis report`: reports built from run bundles (`merge`: shards, archs and configs into one result). */
import { object, or } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { multiple, optional } from "@optique/core/modifiers";
import { argument, command, constant, option } from "@optique/core/primitives";
import { string } from "@optique/core/valueparser";
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

export const reportCommand = command("report", or(mergeSubcommand), {
  description: message`Reports built from run bundles.`,
});

export type ReportOptions = InferValue<typeof reportCommand>;

export async function runReport(options: ReportOptions, context: CommandContext): Promise<number> {
  switch (options.action) {
    case "merge": {
      const { mergeReport } = await import("../report/merge.ts");
      return mergeReport(options, context);
    }
  }
}
