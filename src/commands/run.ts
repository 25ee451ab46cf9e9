/** `sis run`: boot a kernel and attach the terminal to its serial console (placeholder: CLI-harness replaces this file). */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { withDefault } from "@optique/core/modifiers";
import { command, constant, option } from "@optique/core/primitives";
import { choice, string } from "@optique/core/valueparser";
import type { InferValue } from "@optique/core/parser";
import { ARCHES } from "../arch.ts";
import type { CommandContext } from "../context.ts";
import { FailedError } from "../errors.ts";

export const runCommand = command(
  "run",
  object({
    command: constant("run"),
    arch: option("--arch", choice(ARCHES, { metavar: "ARCH" }), {
      description: message`Architecture to boot.`,
    }),
    config: withDefault(option("--config", string({ metavar: "CONFIG" })), "default"),
  }),
  { description: message`Boot the kernel and attach this terminal to its serial console.` },
);

export type RunOptions = InferValue<typeof runCommand>;

export function runRun(_options: RunOptions, _context: CommandContext): Promise<number> {
  return Promise.reject(new FailedError("sis run is not implemented yet"));
}
