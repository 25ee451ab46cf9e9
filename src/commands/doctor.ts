/** `sis doctor`: report which tools are found and how to fix what is missing. */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { command, constant } from "@optique/core/primitives";
import type { InferValue } from "@optique/core/parser";
import type { CommandContext } from "../context.ts";
import { FailedError } from "../errors.ts";

export const doctorCommand = command(
  "doctor",
  object({ command: constant("doctor") }),
  { description: message`Check the toolchain, QEMU and helper tools; print a fix for each gap.` },
);

export type DoctorOptions = InferValue<typeof doctorCommand>;

export function runDoctor(_options: DoctorOptions, _context: CommandContext): Promise<number> {
  return Promise.reject(new FailedError("sis doctor is not implemented yet"));
}
