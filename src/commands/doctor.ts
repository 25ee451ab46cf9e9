/** `sis doctor`: report which tools are found and how to fix what is missing. */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { command, constant } from "@optique/core/primitives";
import type { InferValue } from "@optique/core/parser";
import type { CommandContext } from "../context.ts";
import { ExitCode } from "../errors.ts";
import type { CheckResult } from "../toolchain/checks.ts";

export const doctorCommand = command(
  "doctor",
  object({ command: constant("doctor") }),
  { description: message`Check the toolchain, QEMU and helper tools; print a fix for each gap.` },
);

export type DoctorOptions = InferValue<typeof doctorCommand>;

/** Prints the table; exits 3 when a required tool is missing, 0 otherwise. */
export async function runDoctor(_options: DoctorOptions, context: CommandContext): Promise<number> {
  const { runChecks } = await import("../toolchain/checks.ts");
  const { systemProbe } = await import("../toolchain/probe.ts");
  const { createColors } = (await import("picocolors")).default;
  const { findProjectRoot } = await import("../toolchain/project.ts");
  const { declaredRustVersion } = await import("../toolchain/versions.ts");
  // Outside a checkout there is no declared rust-version to check against.
  const root = await findProjectRoot(context.cwd, context.env, systemProbe).catch(() => undefined);
  const results = await runChecks({
    env: context.env,
    probe: systemProbe,
    denoVersion: Deno.version.deno,
    rustVersion: root ? await declaredRustVersion(root) : undefined,
  });
  context.stdout.write(formatDoctorTable(results, createColors(context.color)));
  const missing = results.filter((result) => !result.found && result.need === "required");
  if (missing.length > 0) {
    context.stderr.write(
      `error: ${missing.length} required tool(s) missing: ${
        missing.map((result) => result.name).join(", ")
      } ` +
        `(fix: ./sis setup)\n`,
    );
    return ExitCode.Environment;
  }
  return ExitCode.Ok;
}

/** The colour functions the table uses (picocolors' shape, so tests can pass plain ones). */
export interface Paint {
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  dim(text: string): string;
}

/**
 * One row per check: status, name, what was found; a `fix:` line under each
 * missing one. Plain text when colours are off, so CI logs stay readable.
 */
export function formatDoctorTable(results: readonly CheckResult[], paint: Paint): string {
  const width = Math.max(
    ...results.map((result) => result.name.length + (result.need === "required" ? 0 : 14)),
  );
  let text = "";
  for (const result of results) {
    const label = result.need === "required" ? result.name : `${result.name} (${result.need})`;
    const status = result.found
      ? paint.green("ok      ")
      : result.need === "required"
      ? paint.red("MISSING ")
      : paint.yellow("missing ");
    text += `${status}${label.padEnd(width)}  ${result.found ? result.detail : paint.dim(result.detail)}\n`;
    if (!result.found && result.fix) text += `${" ".repeat(8)}fix: ${result.fix}\n`;
  }
  return text;
}
