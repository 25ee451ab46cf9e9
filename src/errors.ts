/** Typed errors of the sis CLI and the exit codes they map to. */

/**
 * Exit codes of every `sis` command (documented in docs/CLI.md). A CI job
 * branches on them, so they never change meaning.
 */
export const ExitCode = {
  /** Everything asked for succeeded (all tests passed, the build finished). */
  Ok: 0,
  /** The command ran but its work failed: tests failed, cargo failed. */
  Failed: 1,
  /** The command line or a config file is wrong; help says how. */
  Usage: 2,
  /** A tool or toolchain is missing or unusable; `sis doctor` says which. */
  Environment: 3,
  /** The kernel panicked or stopped answering (a hang, with its stage). */
  Kernel: 4,
  /** Stopped by SIGINT (128 + 2, the shell convention). */
  Interrupted: 130,
  /** Stopped by SIGTERM (128 + 15). */
  Terminated: 143,
} as const;

export type ExitCode = typeof ExitCode[keyof typeof ExitCode];

/** Options every {@link SisError} accepts. */
export interface SisErrorOptions {
  /** How to fix it, when known: printed after the message. */
  fix?: string;
  /** Last lines of the serial transcript, when a kernel was involved. */
  serialTail?: string;
  cause?: unknown;
}

/**
 * An expected error: printed as one `error: ...` line (plus the fix and the
 * serial tail), never with a stack trace, and mapped to {@link exitCode}.
 */
export abstract class SisError extends Error {
  abstract readonly exitCode: ExitCode;
  readonly fix?: string;
  readonly serialTail?: string;

  constructor(message: string, options: SisErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.fix = options.fix;
    this.serialTail = options.serialTail;
  }
}

/** Bad arguments or a bad config file: exit 2. */
export class UsageError extends SisError {
  readonly exitCode = ExitCode.Usage;
}

/** A missing or unusable tool (cargo, lld, qemu-system-*): exit 3. */
export class EnvironmentError extends SisError {
  readonly exitCode = ExitCode.Environment;
}

/** The command's own work failed (a build, a test run): exit 1. */
export class FailedError extends SisError {
  readonly exitCode = ExitCode.Failed;
}

/** The kernel panicked: exit 4. */
export class KernelPanicError extends SisError {
  readonly exitCode = ExitCode.Kernel;
}

/** Stopped by a signal after cleaning up (children killed, partial output kept): exit 130 or 143. */
export class InterruptedError extends SisError {
  readonly exitCode: ExitCode;

  constructor(signal: "SIGINT" | "SIGTERM", what: string) {
    super(`${what} stopped by ${signal}`);
    this.exitCode = signal === "SIGINT" ? ExitCode.Interrupted : ExitCode.Terminated;
  }
}

/** Boot stages of docs/PROTOCOL.md, used to class a hang. */
export type BootStage = "firmware" | "kernel" | "shell" | `command ${number}`;

/** The kernel stopped answering within its timeout: exit 4. */
export class KernelHangError extends SisError {
  readonly exitCode = ExitCode.Kernel;
  readonly stage: BootStage;

  constructor(message: string, stage: BootStage, options: SisErrorOptions = {}) {
    super(message, options);
    this.stage = stage;
  }
}

/** How many serial lines an error report shows at most. */
export const SERIAL_TAIL_LINES = 20;

/**
 * Renders an error for the terminal. A {@link SisError} gets one line
 * `error: <message>` (with `(fix: ...)` appended when known), then the serial
 * tail indented; anything else is a bug in sis and keeps its stack.
 */
export function formatError(error: unknown): string {
  if (error instanceof SisError) {
    const fix = error.fix ? ` (fix: ${error.fix})` : "";
    let text = `error: ${oneLine(error.message)}${fix}\n`;
    if (error.serialTail) {
      const lines = error.serialTail.replace(/\r/g, "").replace(/\n+$/, "").split("\n");
      const tail = lines.slice(-SERIAL_TAIL_LINES);
      text += `serial tail (last ${tail.length} lines):\n`;
      text += tail.map((line) => `  | ${line}\n`).join("");
    }
    return text;
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `error: internal error in sis (please report): ${stack}\n`;
}

/** The exit code an error maps to: its own for a {@link SisError}, else 1. */
export function exitCodeOf(error: unknown): ExitCode {
  return error instanceof SisError ? error.exitCode : ExitCode.Failed;
}

/** Collapses a message to one line so `error:` output stays one line. */
function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, " ").trim();
}
