/** `sis logs`: filter and summarize kernel log records from a file or stdin, in bounded memory, reporting malformed lines. */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { optional, withDefault } from "@optique/core/modifiers";
import { argument, command, constant, flag, option } from "@optique/core/primitives";
import { choice, string } from "@optique/core/valueparser";
import type { InferValue } from "@optique/core/parser";
import type { CommandContext } from "../context.ts";

export const logsCommand = command(
  "logs",
  object({
    command: constant("logs"),
    file: argument(string({ metavar: "FILE" }), { description: message`Log file, or ${"-"} for stdin.` }),
    level: optional(option("--level", string({ metavar: "LEVEL" }), {
      description: message`Minimum level (TRACE DEBUG INFO WARN ERROR FATAL, any case).`,
    })),
    subsystem: optional(option("--subsystem", string({ metavar: "NAME" }), {
      description: message`Only records of this subsystem.`,
    })),
    since: optional(option("--since", string({ metavar: "TIME" }), {
      description:
        message`Only records at or after TIME since boot (${"1500000"} µs, ${"1.5s"}, ${"250ms"}).`,
    })),
    until: optional(option("--until", string({ metavar: "TIME" }), {
      description: message`Only records at or before TIME since boot.`,
    })),
    format: withDefault(
      option("--format", choice(["json", "table", "count"] as const), {
        description: message`Output: one JSON record per line, an aligned table, or only the count.`,
      }),
      "table" as const,
    ),
    stats: withDefault(
      flag("--stats", {
        description: message`Count records by level and subsystem and list malformed lines.`,
      }),
      false,
    ),
  }),
  { description: message`Filter and summarize kernel logs (human and JSON records, framed or not).` },
);

export type LogsOptions = InferValue<typeof logsCommand>;

/** Parses `--since`/`--until`: plain microseconds or a number with ns/us/ms/s. */
export function parseTimeMicros(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s)?$/.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]);
  const scale = { ns: 0.001, us: 1, "µs": 1, ms: 1000, s: 1_000_000 }[match[2] ?? "us"]!;
  return value * scale;
}

const MAX_LISTED_MALFORMED = 50;

export async function runLogs(options: LogsOptions, context: CommandContext): Promise<number> {
  const { UsageError } = await import("../errors.ts");
  const { requireTextFile } = await import("./_input.ts");
  const { LEVELS, levelRank, parseLevel, formatJsonRecord, formatHumanRecord } = await import(
    "../parse/log.ts"
  );
  const { scanLog } = await import("../parse/stream.ts");
  const { resolve } = await import("node:path");

  const level = options.level === undefined ? undefined : parseLevel(options.level);
  if (options.level !== undefined && level === undefined) {
    throw new UsageError(`unknown level "${options.level}"`, { fix: `use one of ${LEVELS.join(", ")}` });
  }
  const since = options.since === undefined ? undefined : parseTimeMicros(options.since);
  const until = options.until === undefined ? undefined : parseTimeMicros(options.until);
  if (options.since !== undefined && since === undefined) {
    throw new UsageError(`bad --since "${options.since}"`);
  }
  if (options.until !== undefined && until === undefined) {
    throw new UsageError(`bad --until "${options.until}"`);
  }
  const minRank = level === undefined ? 0 : levelRank(level);

  // Without --stats, a line can only pass a level filter if it names an
  // accepted level; the pre-filter skips the rest unparsed (same result).
  const needles = !options.stats && level !== undefined && minRank > 0
    ? LEVELS.slice(minRank).flatMap((name) => [`"${name}"`, `[${name}]`])
    : undefined;

  let file: Deno.FsFile | undefined;
  let source: AsyncIterable<Uint8Array>;
  if (options.file === "-") {
    source = Deno.stdin.readable;
  } else {
    const path = resolve(context.cwd, options.file);
    await requireTextFile(path, options.file, "log file");
    try {
      file = await Deno.open(path);
    } catch (error) {
      throw new UsageError(`cannot open ${options.file}: ${(error as Error).message}`);
    }
    source = readChunks(file);
  }

  let matched = 0;
  let records = 0;
  let malformed = 0;
  const byLevel = new Map<string, number>();
  const bySubsystem = new Map<string, number>();
  const malformedList: string[] = [];
  let out = "";
  const flush = () => {
    if (out) context.stdout.write(out);
    out = "";
  };
  const totals = await scanLog(source, ({ lineNo, line }) => {
    if (line.kind === "malformed") {
      malformed++;
      if (malformedList.length < MAX_LISTED_MALFORMED) {
        malformedList.push(`line ${lineNo}: ${line.reason}: ${JSON.stringify(line.text.slice(0, 120))}`);
      }
      return;
    }
    if (line.kind !== "record") return;
    const record = line.record;
    records++;
    if (options.stats) {
      byLevel.set(record.level, (byLevel.get(record.level) ?? 0) + 1);
      bySubsystem.set(record.subsystem, (bySubsystem.get(record.subsystem) ?? 0) + 1);
    }
    if (levelRank(record.level) < minRank) return;
    if (options.subsystem !== undefined && record.subsystem !== options.subsystem) return;
    if (since !== undefined && (record.ts === undefined || record.ts < since)) return;
    if (until !== undefined && (record.ts === undefined || record.ts > until)) return;
    matched++;
    if (options.stats || options.format === "count") return;
    out += options.format === "json"
      ? formatJsonRecord(record) + "\n"
      : tableRow(record, formatHumanRecord) + "\n";
    if (out.length > 1 << 16) flush();
  }, { needles, countLines: needles === undefined });
  file?.close();
  flush();
  if (options.format === "count" && !options.stats) context.stdout.write(`${matched}\n`);
  if (options.stats) {
    context.stdout.write(
      `lines ${totals.lines}, records ${records}, matched ${matched}, malformed ${malformed}\n`,
    );
    context.stdout.write("by level:\n");
    for (const name of LEVELS) {
      if (byLevel.has(name)) context.stdout.write(`  ${name.padEnd(6)} ${byLevel.get(name)}\n`);
    }
    context.stdout.write("by subsystem:\n");
    for (const [name, count] of [...bySubsystem].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
      context.stdout.write(`  ${name.padEnd(12)} ${count}\n`);
    }
    if (malformed > 0) {
      context.stdout.write(
        `malformed lines (${malformed}${
          malformed > malformedList.length ? `, first ${malformedList.length} listed` : ""
        }):\n`,
      );
      for (const entry of malformedList) context.stdout.write(`  ${entry}\n`);
    }
  } else if (malformed > 0) {
    context.stderr.write(
      `sis: ${malformed} malformed line(s) skipped${
        needles ? " among the lines examined" : ""
      } (--stats lists them)\n`,
    );
  }
  return 0;
}

function tableRow(
  record: import("../parse/log.ts").LogRecord,
  human: (record: import("../parse/log.ts").LogRecord) => string,
): string {
  const ts = record.ts === undefined ? "-" : (record.ts / 1_000_000).toFixed(6);
  return `${ts.padStart(12)}  ${human(record)}`;
}

/**
 * Reads a file in 4 MiB chunks, two buffers in turn: the next read runs (on
 * Deno's I/O thread) while the caller scans the chunk just read. scanLog
 * copies what it keeps, so a buffer is free again once the caller asks for
 * the next chunk.
 */
async function* readChunks(file: Deno.FsFile): AsyncGenerator<Uint8Array> {
  const buffers = [new Uint8Array(4 * 1024 * 1024), new Uint8Array(4 * 1024 * 1024)];
  let which = 0;
  let pending = file.read(buffers[which]);
  for (;;) {
    const count = await pending;
    if (count === null) return;
    const current = buffers[which];
    which ^= 1;
    pending = file.read(buffers[which]);
    yield current.subarray(0, count);
  }
}
