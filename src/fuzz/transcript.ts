/** Readers for what the kernel and the `fuzz` program print: the program's `fuzz:` lines, the panic report's `user:` lines, `syscalls --json`, and `killed:` lines. */
import type { Layout } from "./generator.ts";

/** `fuzz: done seed=S calls=N failed=F elapsed_ms=M`: one finished `run fuzz`. */
export interface FuzzDone {
  seed: bigint;
  calls: number;
  failed: number;
  /** Kernel uptime from the first call to the last: the rate's time base. */
  elapsedMs: number;
}

/** A live user process in a panic report: `user: pid=<pid> program=<name> progress=<index> syscall=<number or ->`. */
export interface UserProcessLine {
  pid: number;
  program: string;
  /** The index the process last passed to `progress`; undefined for `-`. */
  progress?: number;
  /** The syscall it was in; undefined for `-`. */
  syscall?: number;
}

/** The kernel's syscall counts since boot, `syscalls --json`: per call, how often it succeeded (`ok`) and each errno. */
export interface SyscallCounts {
  calls: number;
  bySyscall: Record<string, Record<string, number>>;
}

const HEX = "0x[0-9a-f]+";

/** The program's `fuzz: layout ...` line, or undefined. */
export function parseLayout(line: string): Layout | undefined {
  const match = new RegExp(
    `^fuzz: layout buffer=(${HEX}) buffer_len=(${HEX}) text=(${HEX}) kernel=(${HEX}) unmapped=(${HEX})$`,
  ).exec(line.trim());
  if (!match) return undefined;
  const [buffer, bufferLen, text, kernel, unmapped] = match.slice(1).map((value) => BigInt(value));
  return { buffer, bufferLen, text, kernel, unmapped };
}

/** The program's `fuzz: done ...` line, or undefined. */
export function parseDone(line: string): FuzzDone | undefined {
  const match = /^fuzz: done seed=(\d+) calls=(\d+) failed=(\d+) elapsed_ms=(\d+)$/.exec(line.trim());
  if (!match) return undefined;
  return {
    seed: BigInt(match[1]),
    calls: Number(match[2]),
    failed: Number(match[3]),
    elapsedMs: Number(match[4]),
  };
}

/** The last `fuzz: at index=I calls=N` heartbeat's index among `lines`, or undefined. */
export function lastHeartbeatIndex(lines: readonly string[]): number | undefined {
  for (let at = lines.length - 1; at >= 0; at--) {
    const match = /^fuzz: at index=(\d+) calls=\d+$/.exec(lines[at].trim());
    if (match) return Number(match[1]);
  }
  return undefined;
}

/** The program's refusal of its argument text (`fuzz: bad arguments: ...`), or undefined. */
export function findBadArguments(lines: readonly string[]): string | undefined {
  return lines.map((line) => /^fuzz: bad arguments: (.*)$/.exec(line.trim())?.[1]).find((why) => why);
}

/** The kernel's `killed: pid N (program): why` line, or undefined. */
export function findKilled(lines: readonly string[]): string | undefined {
  return lines.find((line) => /^killed: pid \d+ \(\S+\): /.test(line.trim()))?.trim();
}

/** Every `user:` line of a panic report (the report's lines in any order, with or without indentation). */
export function parseUserLines(report: readonly string[]): UserProcessLine[] {
  const found: UserProcessLine[] = [];
  for (const line of report) {
    const match = /\buser: pid=(\d+) program=(\S+) progress=(\d+|-) syscall=(\d+|-)\s*$/.exec(line);
    if (!match) continue;
    found.push({
      pid: Number(match[1]),
      program: match[2],
      progress: match[3] === "-" ? undefined : Number(match[3]),
      syscall: match[4] === "-" ? undefined : Number(match[4]),
    });
  }
  return found;
}

/** `syscalls --json` output (one JSON object, possibly over several lines); throws with what is wrong. */
export function parseSyscallCounts(output: readonly string[]): SyscallCounts {
  const text = output.join("\n").trim();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`syscalls --json did not print JSON: ${JSON.stringify(text.slice(0, 120))}`);
  }
  const object = value as { calls?: unknown; by_syscall?: unknown };
  if (typeof object !== "object" || object === null || typeof object.calls !== "number") {
    throw new Error(`syscalls --json: no "calls" count in ${JSON.stringify(text.slice(0, 120))}`);
  }
  const bySyscall: Record<string, Record<string, number>> = {};
  const table = object.by_syscall;
  if (typeof table !== "object" || table === null) throw new Error(`syscalls --json: no "by_syscall" object`);
  for (const [name, outcomes] of Object.entries(table)) {
    if (typeof outcomes !== "object" || outcomes === null) {
      throw new Error(`syscalls --json: "${name}" is not an object of counts`);
    }
    bySyscall[name] = {};
    for (const [outcome, count] of Object.entries(outcomes)) {
      if (typeof count !== "number" || !Number.isInteger(count) || count < 0) {
        throw new Error(`syscalls --json: ${name}.${outcome} is not a count`);
      }
      bySyscall[name][outcome] = count;
    }
  }
  return { calls: object.calls, bySyscall };
}

/** Counts since `before` (both from `syscalls --json` of one boot): what one run of the fuzzer added. */
export function subtractCounts(after: SyscallCounts, before: SyscallCounts): SyscallCounts {
  const bySyscall: Record<string, Record<string, number>> = {};
  for (const [name, outcomes] of Object.entries(after.bySyscall)) {
    for (const [outcome, count] of Object.entries(outcomes)) {
      const delta = count - (before.bySyscall[name]?.[outcome] ?? 0);
      if (delta > 0) (bySyscall[name] ??= {})[outcome] = delta;
    }
  }
  return { calls: after.calls - before.calls, bySyscall };
}

/** Sums counts of several boots (a run that rebooted after a crash). */
export function addCounts(into: SyscallCounts, more: SyscallCounts): SyscallCounts {
  const bySyscall = structuredClone(into.bySyscall);
  for (const [name, outcomes] of Object.entries(more.bySyscall)) {
    for (const [outcome, count] of Object.entries(outcomes)) {
      (bySyscall[name] ??= {})[outcome] = (bySyscall[name]?.[outcome] ?? 0) + count;
    }
  }
  return { calls: into.calls + more.calls, bySyscall };
}
