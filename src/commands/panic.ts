/** `sis panic decode`: read the panic reports in a transcript and print message, location, registers and a symbolized backtrace. */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { optional, withDefault } from "@optique/core/modifiers";
import { argument, command, constant, flag, option } from "@optique/core/primitives";
import { string } from "@optique/core/valueparser";
import type { InferValue } from "@optique/core/parser";
import type { CommandContext } from "../context.ts";

export const panicCommand = command(
  "panic",
  command(
    "decode",
    object({
      command: constant("panic"),
      transcript: argument(string({ metavar: "TRANSCRIPT" }), {
        description: message`Serial transcript (raw bytes or text), or ${"-"} for stdin.`,
      }),
      elf: optional(option("--elf", string({ metavar: "ELF" }), {
        description: message`Kernel ELF for symbols (default: build/<arch>/sis-kernel.elf when it exists).`,
      })),
      json: withDefault(flag("--json", { description: message`Print the decoded reports as JSON.` }), false),
      force: withDefault(
        flag("--force", {
          description: message`Decode with an ELF whose build id differs from the panicking kernel's.`,
        }),
        false,
      ),
    }),
    { description: message`Decode the kernel panic reports in a transcript.` },
  ),
  { description: message`Kernel panic reports.` },
);

export type PanicOptions = InferValue<typeof panicCommand>;

/** Exit 0 when a report was decoded, 1 when the transcript holds none. */
export async function runPanic(options: PanicOptions, context: CommandContext): Promise<number> {
  const { readFile, stat } = await import("node:fs/promises");
  const { join, resolve } = await import("node:path");
  const { FailedError, UsageError } = await import("../errors.ts");
  const { requireFile, requireTextFile } = await import("./_input.ts");
  const { findPanicReports } = await import("../parse/panic.ts");
  const { addr2line, findBuildId, formatSymbolized, readElf, symbolize, ElfError } = await import(
    "../parse/elf.ts"
  );

  if (options.transcript !== "-") {
    await requireTextFile(resolve(context.cwd, options.transcript), options.transcript, "serial transcript");
  }
  let bytes: Uint8Array;
  try {
    bytes = options.transcript === "-"
      ? new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer())
      : await readFile(resolve(context.cwd, options.transcript));
  } catch (error) {
    throw new UsageError(`cannot read ${options.transcript}: ${(error as Error).message}`);
  }
  const lines = new TextDecoder().decode(bytes).split("\n");
  const reports = findPanicReports(lines);
  if (reports.length === 0) {
    context.stderr.write(`sis: no panic report in ${options.transcript}\n`);
    return 1;
  }
  // An --elf the user named must be an ELF: a wrong path is a usage error, not a warning.
  const givenElf = options.elf ? resolve(context.cwd, options.elf) : undefined;
  if (givenElf && options.elf) {
    await requireFile(givenElf, options.elf, "kernel ELF");
    try {
      readElf(await readFile(givenElf));
    } catch (error) {
      if (!(error instanceof ElfError)) throw error;
      throw new UsageError(`--elf ${options.elf} is not a kernel ELF: ${error.message}`, {
        fix: "pass build/<arch>/sis-kernel.elf of the kernel that printed the panic",
      });
    }
  }
  const decoded = [];
  for (const report of reports) {
    let elfPath = givenElf;
    if (!elfPath && report.arch) {
      const guess = join(context.cwd, "build", report.arch, "sis-kernel.elf");
      if (await stat(guess).catch(() => undefined)) elfPath = guess;
    }
    let symbols: ReturnType<typeof readElf>["symbols"] | undefined;
    const notes: string[] = [];
    if (elfPath) {
      try {
        const bytes = await readFile(elfPath);
        const elf = readElf(bytes);
        symbols = elf.symbols;
        // Symbols from another build name the wrong functions: refuse, as build-id-checking addr2line wrappers do.
        if (report.build) {
          const elfBuild = findBuildId(bytes);
          if (elfBuild !== report.build.buildId) {
            const what = `${elfPath} is ${
              elfBuild ? `build ${elfBuild}` : "a kernel without a build id"
            }, but the panic at line ${report.line} is from build ${report.build.buildId} (commit ${
              report.build.commit.slice(0, 12)
            })`;
            if (!options.force) {
              throw new FailedError(`wrong ELF: ${what}`, {
                fix: "pass --elf with that build's sis-kernel.elf (the run bundle's manifest names it), " +
                  "or --force to decode anyway",
              });
            }
            notes.push(`warning: --force: ${what}; symbols may be wrong`);
          }
        } else {
          notes.push("warning: the report names no build id (an older kernel): the ELF could not be checked");
        }
        if (report.arch && elf.machineName !== report.arch) {
          notes.push(`warning: ${elfPath} is for ${elf.machineName}, the panic is from ${report.arch}`);
        }
      } catch (error) {
        if (error instanceof FailedError) throw error;
        if (!(error instanceof ElfError) && !(error as { code?: string }).code) throw error;
        notes.push(`warning: cannot read symbols from ${elfPath}: ${(error as Error).message}`);
      }
    }
    // A return address points after the call: look up address - 1 to name the calling line.
    const lookups = report.backtrace.map((frame) =>
      frame.label === "pc" ? frame.address : frame.address - 1n
    );
    const lines = symbols && elfPath ? await addr2line(elfPath, lookups) : undefined;
    const frames = report.backtrace.map((frame, index) => {
      const resolved = symbols ? symbolize(symbols, lookups[index]) : undefined;
      const symbol = resolved?.symbol !== undefined
        ? formatSymbolized({ ...resolved, offset: resolved.offset! + (frame.label === "pc" ? 0n : 1n) })
        : undefined;
      return {
        label: frame.label,
        address: `0x${frame.address.toString(16)}`,
        symbol,
        location: lines?.[index]?.location,
      };
    });
    decoded.push({ report, frames, notes, elfPath });
  }
  if (options.json) {
    context.stdout.write(
      JSON.stringify(
        decoded.map(({ report, frames, notes }) => ({
          line: report.line,
          message: report.message,
          location: report.location,
          arch: report.arch,
          uptime: report.uptime,
          version: report.version,
          build: report.build,
          registers: Object.fromEntries(
            Object.entries(report.registers).map(([k, v]) => [k, `0x${v.toString(16)}`]),
          ),
          backtrace: frames,
          recentRecords: report.recentRecords,
          isRecursive: report.isRecursive,
          problems: [...report.problems, ...notes],
        })),
        null,
        2,
      ) + "\n",
    );
    return 0;
  }
  for (const { report, frames, notes, elfPath } of decoded) {
    let out = `panic at line ${report.line}${report.arch ? ` (${report.arch})` : ""}\n`;
    out += `  message:  ${report.message ?? "?"}\n`;
    out += `  location: ${report.location ?? "?"}\n`;
    if (report.uptime) out += `  uptime:   ${report.uptime}\n`;
    if (report.version) out += `  version:  ${report.version}\n`;
    if (report.build) out += `  build:    ${report.build.commit} ${report.build.buildId}\n`;
    const registers = Object.entries(report.registers);
    if (registers.length > 0) {
      out += "  registers:\n";
      for (let index = 0; index < registers.length; index += 4) {
        out += "   " + registers.slice(index, index + 4).map(([name, value]) =>
          ` ${name.padStart(6)}: ${value.toString(16).padStart(16, "0")}`
        ).join("") + "\n";
      }
    }
    out += `  backtrace${elfPath ? ` (symbols: ${elfPath})` : " (no ELF: addresses only; pass --elf)"}:\n`;
    for (const frame of frames) {
      out += `    #${frame.label.padEnd(3)} ${frame.address.padEnd(18)} ${frame.symbol ?? ""}${
        frame.location ? `  at ${frame.location}` : ""
      }\n`;
    }
    if (report.recentRecords.length > 0) {
      out += "  last log records:\n" + report.recentRecords.map((line) => `    ${line}\n`).join("");
    }
    for (const problem of [...report.problems, ...notes]) out += `  note: ${problem}\n`;
    context.stdout.write(out);
  }
  return 0;
}
