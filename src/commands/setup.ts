/** `sis setup`: install missing Debian packages with apt-get, asking first. */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { withDefault } from "@optique/core/modifiers";
import { command, constant, flag } from "@optique/core/primitives";
import type { InferValue } from "@optique/core/parser";
import type { CommandContext } from "../context.ts";
import { FailedError } from "../errors.ts";

export const setupCommand = command(
  "setup",
  object({
    command: constant("setup"),
    yes: withDefault(
      flag("--yes", "-y", {
        description: message`Install without asking (required when not on a terminal).`,
      }),
      false,
    ),
  }),
  { description: message`Install missing tools (QEMU, Rust toolchain, lld, ...) with apt-get.` },
);

export type SetupOptions = InferValue<typeof setupCommand>;

export function runSetup(_options: SetupOptions, _context: CommandContext): Promise<number> {
  return Promise.reject(new FailedError("sis setup is not implemented yet"));
}
