/** The session driver: boot to the prompt, `frame on`, run commands one at a time with timeouts, live panic and hang detection. */
import {
  type BootStage,
  ExitCode,
  KernelHangError,
  KernelPanicError,
  SisError,
  UsageError,
} from "../errors.ts";
import type { AsyncQueue } from "../qemu/socket.ts";
import { FramingParser, type SerialEvent } from "./framing.ts";

/**
 * Every wait here is for an event from the serial stream, the end of that
 * stream, or a deadline: there is no sleep anywhere. A command's result is
 * built only from the lines between its own `begin` and `end` markers, so it
 * can never pass on the echo of its input or on an earlier command's output
 * (the mistake of the scripts this replaces).
 */

/** A byte stream to the kernel's console: QEMU's serial socket, or a fake in tests. */
export interface ConsolePort {
  readonly chunks: AsyncQueue<Uint8Array>;
  write(bytes: Uint8Array): Promise<void>;
}

/** A log record line seen during a command. */
export interface LogLine {
  text: string;
  record?: unknown;
}

/** What one framed command produced. */
export interface CommandResult {
  /** The frame's sequence number (lines sent since `frame on`, from 1). */
  seq: number;
  command: string;
  /** The command's output lines, markers and log records excluded. */
  output: string[];
  /** Log records printed while it ran. */
  logs: LogLine[];
  /** Exit status from the end marker: 0 ok, an errno (EINVAL 22 for usage), 127 unknown. */
  status: number;
  durationMs: number;
  /** Protocol oddities seen while it ran (malformed markers, unexpected seq). */
  warnings: string[];
}

/** What booting saw. */
export interface BootResult {
  /** Time from session start to the first prompt. */
  bootMs: number;
  /** Lines printed before the kernel's first line (firmware banners). */
  firmwareLines: number;
  /** The kernel's first line (`SIS kernel ...`), if it printed one. */
  kernelLine?: string;
}

/** An event with its time since the session started, for the run bundle. */
export type TimedEvent = SerialEvent & { atMs: number };

export interface SessionOptions {
  /** Boot to the first prompt within this many ms. */
  bootTimeoutMs?: number;
  /** Default per-command timeout: the end marker must arrive within it. */
  commandTimeoutMs?: number;
  /** After a panic marker, keep reading the report this long at most (QEMU normally exits first). */
  panicGraceMs?: number;
  /** Observer for every parsed event (run bundles, progress). */
  onEvent?: (event: TimedEvent) => void;
  /** Clock, for tests. */
  now?: () => number;
}

/** The kernel ended the machine (QEMU exited) while the driver still expected output. */
export class KernelExitedError extends SisError {
  readonly exitCode = ExitCode.Kernel;
  constructor(message: string, readonly stage: BootStage, options: { serialTail?: string } = {}) {
    super(message, options);
  }
}

/** A panic, with its report lines and the parsed FATAL record when present. */
export class SessionPanicError extends KernelPanicError {
  constructor(
    message: string,
    readonly stage: BootStage,
    readonly report: string[],
    readonly record: Record<string, unknown> | undefined,
    serialTail: string,
  ) {
    super(message, { serialTail });
  }
}

const TAIL_LINES = 40;
/** A command that keeps printing may run this many timeouts at most. */
export const PROGRESS_CAP_FACTOR = 10;
const encoder = new TextEncoder();

export class Session {
  readonly #port: ConsolePort;
  readonly #parser = new FramingParser();
  readonly #pending: SerialEvent[] = [];
  readonly #options: Required<Omit<SessionOptions, "onEvent">> & Pick<SessionOptions, "onEvent">;
  readonly #startedAt: number;
  readonly #tail: string[] = [];
  #stage: BootStage = "firmware";
  #isFramed = false;
  #sent = 0;
  #isEnded = false;

  constructor(port: ConsolePort, options: SessionOptions = {}) {
    this.#port = port;
    this.#options = {
      bootTimeoutMs: options.bootTimeoutMs ?? 10_000,
      commandTimeoutMs: options.commandTimeoutMs ?? 10_000,
      panicGraceMs: options.panicGraceMs ?? 2_000,
      now: options.now ?? (() => performance.now()),
      onEvent: options.onEvent,
    };
    this.#startedAt = this.#options.now();
  }

  /** The stage reached, as docs/PROTOCOL.md defines it. */
  get stage(): BootStage {
    return this.#stage;
  }

  /** The last lines seen, for error reports. */
  get serialTail(): string {
    return this.#tail.join("\n");
  }

  /** Waits for the first prompt, tracking firmware → kernel → shell. */
  async boot(timeoutMs: number = this.#options.bootTimeoutMs): Promise<BootResult> {
    const deadline = this.#options.now() + timeoutMs;
    let firmwareLines = 0;
    let kernelLine: string | undefined;
    for (;;) {
      const event = await this.#next(
        deadline,
        () => `kernel did not reach the shell prompt within ${timeoutMs} ms`,
      );
      if (event.kind === "kernel-entry") kernelLine ??= event.text;
      else if (event.kind === "line" && kernelLine === undefined) firmwareLines++;
      else if (event.kind === "prompt") {
        return { bootMs: Math.round(this.#options.now() - this.#startedAt), firmwareLines, kernelLine };
      }
    }
  }

  /** Sends `frame on` and waits for `sis:ready` and the prompt after it. */
  async enableFraming(timeoutMs: number = this.#options.commandTimeoutMs): Promise<void> {
    await this.#port.write(encoder.encode("frame on\r"));
    const deadline = this.#options.now() + timeoutMs;
    const why = () => `kernel did not answer "frame on" with the ready marker within ${timeoutMs} ms`;
    while ((await this.#next(deadline, why)).kind !== "ready");
    while ((await this.#next(deadline, why)).kind !== "prompt");
    this.#isFramed = true;
  }

  /** Runs one command and returns its framed result; throws on panic, hang or exit. */
  async run(command: string, timeoutMs: number = this.#options.commandTimeoutMs): Promise<CommandResult> {
    if (/[\r\n]/.test(command)) {
      throw new UsageError(`a command must be one line: ${JSON.stringify(command)}`);
    }
    return await this.#runLine(command, encoder.encode(command + "\r"), timeoutMs);
  }

  /**
   * Sends one line as raw bytes (any bytes, invalid UTF-8 included), ended
   * by its own CR, LF or CR LF, and returns its frame: how the fuzz tests
   * type hostile input while still checking that every line gets its frame.
   */
  async runBytes(
    line: Uint8Array,
    timeoutMs: number = this.#options.commandTimeoutMs,
  ): Promise<CommandResult> {
    const terminator = line.at(-1) === 0x0a && line.at(-2) === 0x0d ? 2 : 1;
    const body = line.subarray(0, line.length - terminator);
    const last = line.at(-1);
    // Ctrl-C would cancel the line without a frame; inner line ends would make two frames.
    if (
      (last !== 0x0d && last !== 0x0a) || body.some((byte) => byte === 0x0d || byte === 0x0a || byte === 0x03)
    ) {
      throw new UsageError("runBytes() takes one line ended by CR, LF or CR LF, with no Ctrl-C in it");
    }
    return await this.#runLine(new TextDecoder().decode(body), line, timeoutMs);
  }

  async #runLine(command: string, bytes: Uint8Array, timeoutMs: number): Promise<CommandResult> {
    if (!this.#isFramed) throw new Error("Session.run() needs enableFraming() first");
    // A panic (or exit) that arrived between commands is reported before
    // anything is sent, with the stage of the command it followed.
    this.#drainReady();
    while (this.#pending.some((event) => event.kind === "panic")) {
      await this.#next(this.#options.now(), () => "waiting for the panic report");
    }
    if (this.#isEnded && this.#pending.length === 0) await this.#next(this.#options.now(), () => "");
    const seq = ++this.#sent;
    this.#stage = `command ${seq}`;
    const started = this.#options.now();
    // "No progress within the timeout" is a hang: each output line of the
    // command moves the deadline, up to a hard cap, so a command that keeps
    // printing is not cut off but one that prints forever still ends.
    // Log records do not count: background tasks log while a command hangs.
    const hardDeadline = started + timeoutMs * PROGRESS_CAP_FACTOR;
    let deadline = started + timeoutMs;
    let hasOutput = false;
    const why = () =>
      hasOutput
        ? `command ${seq} (${
          JSON.stringify(command)
        }) stopped making progress: no output for ${timeoutMs} ms` +
          (deadline >= hardDeadline ? ` or ran past ${timeoutMs * PROGRESS_CAP_FACTOR} ms` : "")
        : `command ${seq} (${JSON.stringify(command)}) did not finish within ${timeoutMs} ms`;
    await this.#port.write(bytes);
    const warnings: string[] = [];
    let frame: number | undefined;
    for (;;) {
      const event = await this.#next(deadline, why);
      if (event.kind === "begin") {
        if (event.seq !== seq) warnings.push(`expected frame ${seq}, kernel opened ${event.seq}`);
        frame = event.seq;
        break;
      }
      if (event.kind === "garbage") warnings.push(`${event.reason}: ${JSON.stringify(event.text)}`);
    }
    const output: string[] = [];
    const logs: LogLine[] = [];
    for (;;) {
      const event = await this.#next(deadline, why);
      switch (event.kind) {
        case "line":
          if (event.lossy) warnings.push(`output line ${output.length + 1} was not valid UTF-8`);
          if (event.truncated) warnings.push(`output line ${output.length + 1} was cut (too long)`);
          output.push(event.text);
          hasOutput = true;
          deadline = Math.min(hardDeadline, this.#options.now() + timeoutMs);
          break;
        case "log":
          logs.push({ text: event.text, record: event.record });
          break;
        case "garbage":
          warnings.push(`${event.reason}: ${JSON.stringify(event.text)}`);
          break;
        case "end":
          if (event.seq !== frame) {
            warnings.push(`frame ${frame} closed by an end marker for ${event.seq}`);
          }
          return {
            seq,
            command,
            output,
            logs,
            status: event.status,
            durationMs: Math.round((this.#options.now() - started) * 1000) / 1000,
            warnings,
          };
        default:
          // A prompt or ready inside a frame cannot happen (the parser does not emit prompts there).
          break;
      }
    }
  }

  /**
   * Reads the console until the machine ends, for a job that keeps a kernel
   * up for as long as its user wants (`sis metrics serve`). It never returns:
   * a panic throws {@link SessionPanicError} with its report, the end of the
   * machine {@link KernelExitedError}, as in every other wait. No deadline: a
   * quiet kernel is not hung here, it is serving.
   */
  async untilEnd(): Promise<never> {
    for (;;) await this.#next(Infinity, () => "");
  }

  /** Sends raw text (for the interactive console or fuzzing); no framing expectations. */
  async send(text: string): Promise<void> {
    await this.#port.write(encoder.encode(text));
  }

  /**
   * The next event before `deadline`. Panics, hangs and the end of the
   * stream become typed errors here, so every caller gets them for free.
   */
  async #next(deadline: number, whyHang: () => string): Promise<SerialEvent> {
    for (;;) {
      const event = this.#pending.shift();
      if (event) {
        if (event.kind === "panic") await this.#panic();
        return event;
      }
      if (this.#isEnded) {
        throw new KernelExitedError(
          `the kernel ended the machine at stage "${this.#stage}" without a panic marker`,
          this.#stage,
          {
            serialTail: this.serialTail,
          },
        );
      }
      const remaining = deadline - this.#options.now();
      if (remaining <= 0) {
        throw new KernelHangError(`${whyHang()} (stage: ${this.#stage})`, this.#stage, {
          serialTail: this.serialTail,
        });
      }
      // No deadline (untilEnd) waits without a timer: setTimeout(Infinity) would fire at once.
      const result = await this.#port.chunks.next(Number.isFinite(remaining) ? remaining : undefined);
      if (result === undefined) continue; // Timed out: the loop throws the hang.
      if (result.done) {
        this.#isEnded = true;
        this.#accept(this.#parser.finish());
      } else {
        this.#accept(this.#parser.feed(result.value));
      }
    }
  }

  /** Parses the chunks that already arrived, without waiting for more. */
  #drainReady(): void {
    for (let chunk = this.#port.chunks.take(); chunk; chunk = this.#port.chunks.take()) {
      this.#accept(this.#parser.feed(chunk));
    }
    if (this.#port.chunks.isClosed && !this.#isEnded && this.#port.chunks.size === 0) {
      this.#isEnded = true;
      this.#accept(this.#parser.finish());
    }
  }

  #accept(events: SerialEvent[]): void {
    const atMs = Math.round((this.#options.now() - this.#startedAt) * 1000) / 1000;
    for (const event of events) {
      this.#options.onEvent?.({ ...event, atMs });
      if (event.kind === "kernel-entry" && this.#stage === "firmware") this.#stage = "kernel";
      if (event.kind === "prompt" && (this.#stage === "firmware" || this.#stage === "kernel")) {
        this.#stage = "shell";
      }
      this.#remember(event);
      this.#pending.push(event);
    }
  }

  #remember(event: SerialEvent): void {
    let line: string | undefined;
    switch (event.kind) {
      case "line":
      case "kernel-entry":
        line = event.text;
        break;
      case "log":
        line = `[log] ${event.text}`;
        break;
      case "begin":
        line = `[begin ${event.seq}] ${event.line}`;
        break;
      case "end":
        line = `[end ${event.seq} status ${event.status}]`;
        break;
      case "panic":
        line = "[panic]";
        break;
      case "garbage":
        line = `[garbage] ${JSON.stringify(event.text)}`;
        break;
      default:
        return;
    }
    this.#tail.push(line);
    if (this.#tail.length > TAIL_LINES) this.#tail.shift();
  }

  /** Collects the panic report until QEMU exits or the grace time ends, then throws. */
  async #panic(): Promise<never> {
    const stage = this.#stage;
    const report: string[] = [];
    const deadline = this.#options.now() + this.#options.panicGraceMs;
    for (;;) {
      for (let event = this.#pending.shift(); event; event = this.#pending.shift()) {
        if (event.kind === "line" || event.kind === "kernel-entry") report.push(event.text);
        else if (event.kind === "log") report.push(event.text);
      }
      const remaining = deadline - this.#options.now();
      if (this.#isEnded || remaining <= 0) break;
      const result = await this.#port.chunks.next(remaining);
      if (result === undefined) break;
      if (result.done) {
        this.#isEnded = true;
        this.#accept(this.#parser.finish());
      } else {
        this.#accept(this.#parser.feed(result.value));
      }
    }
    const { record, message } = describePanic(report);
    throw new SessionPanicError(
      `kernel panicked at stage "${stage}": ${message}`,
      stage,
      report,
      record,
      this.serialTail,
    );
  }
}

/** The panic path's JSON record: `{"level":"FATAL","subsystem":"panic",...}`. */
export function findFatalRecord(lines: string[]): Record<string, unknown> | undefined {
  for (const line of lines) {
    const start = line.indexOf("{");
    if (start < 0) continue;
    try {
      const value = JSON.parse(line.slice(start));
      if (value && typeof value === "object" && value.level === "FATAL") return value;
    } catch {
      // Not the record.
    }
  }
  return undefined;
}

/** A panic report's FATAL record and its one-line message (the record's, else the report's first line). */
export function describePanic(report: string[]): { record?: Record<string, unknown>; message: string } {
  const record = findFatalRecord(report);
  const message = typeof record?.message === "string"
    ? record.message
    : typeof record?.msg === "string"
    ? record.msg
    : report.find((line) => line.trim() !== "") ?? "no report";
  return { record, message };
}
