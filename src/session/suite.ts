/** Test suites as YAML data (`tests/suites/*.yaml`): zod schema, loading, filtering and checking a step's expectations. */
import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { isSeq, LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { UsageError } from "../errors.ts";
import type { CommandResult } from "./driver.ts";

/**
 * A step's expectations. Every check reads only the step's own framed
 * output, never the whole transcript. `status` defaults to 0: a failing
 * command must be expected explicitly, so a broken command cannot pass by
 * accident.
 */
const expectSchema = z.strictObject({
  status: z.number().int().min(0).max(255).default(0),
  contains: z.array(z.string()).default([]),
  regex: z.array(
    z.string().refine((source) => {
      try {
        new RegExp(source, "m");
        return true;
      } catch {
        return false;
      }
    }, "not a valid regular expression"),
  ).default([]),
  absent: z.array(z.string()).default([]),
  json: z.boolean().default(false),
  lines: z.number().int().min(0).optional(),
});

const stepSchema = z.strictObject({
  name: z.string().min(1),
  run: z.string().refine((line) => !/[\r\n]/.test(line), "a command is one line"),
  expect: expectSchema.default(() => expectSchema.parse({})),
  /** Expectations that replace `expect` on the named machine configs (e.g. `no-network`). */
  expect_on: z.record(z.string().min(1), expectSchema).optional(),
  timeout_ms: z.number().int().positive().optional(),
});

export const suiteSchema = z.strictObject({
  description: z.string().optional(),
  /** A reason: the whole suite is reported pending and its machine is not booted. */
  pending: z.string().min(1).optional(),
  timeout_ms: z.number().int().positive().optional(),
  steps: z.array(stepSchema).min(1),
}).superRefine((suite, context) => {
  const seen = new Set<string>();
  suite.steps.forEach((step, index) => {
    if (seen.has(step.name)) {
      context.addIssue({
        code: "custom",
        path: ["steps", index, "name"],
        message: `duplicate step name "${step.name}"`,
      });
    }
    seen.add(step.name);
  });
});

export type Expectation = z.infer<typeof expectSchema>;
export type Step = z.infer<typeof stepSchema>;
/**
 * A loaded suite. `stepLines[i]` is the 1-based line of step i in `source`,
 * so a failing step can point at its YAML (GitHub `::error file=,line=`).
 */
export type Suite = z.infer<typeof suiteSchema> & { name: string; source: string; stepLines?: number[] };

/** The expectation of `step` on the machine config named `config`. */
export function expectationFor(step: Step, config: string): Expectation {
  return step.expect_on?.[config] ?? step.expect;
}

/** Validates one parsed suite file; a bad file is one usage error naming the file and field. */
export function parseSuite(data: unknown, name: string, source: string, stepLines?: number[]): Suite {
  const result = suiteSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue.path.length ? issue.path.map(String).join(".") : "(top level)";
    throw new UsageError(`${source}: ${path}: ${issue.message}`, {
      fix: "see docs/HARNESS.md for the suite format",
    });
  }
  return { ...result.data, name, source, ...(stepLines ? { stepLines } : {}) };
}

/** Parses a suite file's text, keeping the line each step starts on. */
export function parseSuiteText(text: string, name: string, source: string): Suite {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  if (document.errors.length > 0) {
    throw new UsageError(`${source}: not valid YAML: ${document.errors[0].message.split("\n")[0]}`);
  }
  const steps = document.get("steps");
  const stepLines = isSeq(steps)
    ? steps.items.map((item) => {
      const offset = (item as { range?: [number, number, number] }).range?.[0];
      return offset === undefined ? 0 : lineCounter.linePos(offset).line;
    })
    : undefined;
  return parseSuite(document.toJS(), name, source, stepLines);
}

/** Loads every `*.yaml` in `dir`, sorted by name. */
export async function loadSuites(dir: string): Promise<Suite[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((file) => file.endsWith(".yaml")).sort();
  } catch (error) {
    throw new UsageError(`cannot read the suites folder ${dir}: ${(error as Error).message}`);
  }
  const suites: Suite[] = [];
  for (const file of files) {
    const source = join(dir, file);
    suites.push(parseSuiteText(await readFile(source, "utf8"), basename(file, ".yaml"), source));
  }
  return suites;
}

/** Picks suites by `--suite` (a name, a comma list, or `all`). */
export function selectSuites(suites: Suite[], choice: string): Suite[] {
  if (choice === "all") return suites;
  const names = choice.split(",").map((name) => name.trim()).filter(Boolean);
  return names.map((name) => {
    const suite = suites.find((candidate) => candidate.name === name);
    if (!suite) {
      throw new UsageError(`unknown suite "${name}"`, {
        fix: `use one of: ${suites.map((s) => s.name).join(", ")}, all`,
      });
    }
    return suite;
  });
}

/** Whether `--filter` selects a step: a substring of `suite/step`. */
export function matchesFilter(suite: string, step: string, filter: string | undefined): boolean {
  return filter === undefined || filter === "" || `${suite}/${step}`.includes(filter);
}

/** Checks a command's result against a step's expectations; returns the failures (empty = pass). */
export function checkExpectations(expectation: Expectation, result: CommandResult): string[] {
  const failures: string[] = [];
  const text = result.output.join("\n");
  if (result.status !== expectation.status) {
    failures.push(`status ${result.status}, expected ${expectation.status}`);
  }
  for (const needle of expectation.contains) {
    if (!text.includes(needle)) failures.push(`output does not contain ${JSON.stringify(needle)}`);
  }
  for (const source of expectation.regex) {
    if (!new RegExp(source, "m").test(text)) failures.push(`output does not match /${source}/`);
  }
  for (const needle of expectation.absent) {
    if (text.includes(needle)) {
      failures.push(`output contains ${JSON.stringify(needle)}, which must be absent`);
    }
  }
  if (expectation.json) {
    try {
      JSON.parse(text);
    } catch (error) {
      failures.push(`output is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (expectation.lines !== undefined && result.output.length !== expectation.lines) {
    failures.push(`${result.output.length} output lines, expected ${expectation.lines}`);
  }
  return failures;
}
