/** `sis build`: compile the kernel per arch and leave build/<arch>/sis-kernel.elf plus manifest.json. */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { withDefault } from "@optique/core/modifiers";
import { command, constant, flag, option } from "@optique/core/primitives";
import { choice, string } from "@optique/core/valueparser";
import type { InferValue } from "@optique/core/parser";
import { ARCH_CHOICES } from "../arch.ts";
import type { CommandContext } from "../context.ts";
import { FailedError } from "../errors.ts";

export const buildCommand = command(
  "build",
  object({
    command: constant("build"),
    arch: option("--arch", choice(ARCH_CHOICES, { metavar: "ARCH" }), {
      description: message`Architecture to build, or ${"all"} for the three.`,
    }),
    features: withDefault(
      option("--features", string({ metavar: "LIST" }), {
        description: message`Comma-separated kernel Cargo features (for example ${"chaos"}).`,
      }),
      "",
    ),
    debug: withDefault(
      flag("--debug", { description: message`Build the dev profile instead of release.` }),
      false,
    ),
  }),
  {
    description: message`Build the kernel: build/<arch>/sis-kernel.elf and build/<arch>/manifest.json.`,
  },
);

export type BuildOptions = InferValue<typeof buildCommand>;

export function runBuild(_options: BuildOptions, _context: CommandContext): Promise<number> {
  return Promise.reject(new FailedError("sis build is not implemented yet"));
}
