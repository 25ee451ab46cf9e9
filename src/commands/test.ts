/** `sis test`: boot the kernel and run YAML suites against it (placeholder: CLI-harness replaces this file). */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { withDefault } from "@optique/core/modifiers";
import { command, constant, option } from "@optique/core/primitives";
import { choice, string } from "@optique/core/valueparser";
import type { InferValue } from "@optique/core/parser";
import { ARCH_CHOICES } from "../arch.ts";
import type { CommandContext } from "../context.ts";
import { FailedError } from "../errors.ts";

export const testCommand = command(
  "test",
  object({
    command: constant("test"),
    arch: option("--arch", choice(ARCH_CHOICES, { metavar: "ARCH" }), {
      description: message`Architecture(s) to test.`,
    }),
    suite: withDefault(option("--suite", string({ metavar: "SUITE" })), "smoke"),
  }),
  { description: message`Boot the kernel and run test suites against its shell.` },
);

export type TestOptions = InferValue<typeof testCommand>;

export function runTest(_options: TestOptions, _context: CommandContext): Promise<number> {
  return Promise.reject(new FailedError("sis test is not implemented yet"));
}
