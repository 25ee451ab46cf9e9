/** One arch's kernel as the fuzzer uses it: booted on demand through the run engine, `run fuzz ...` as a command, a crash turned into a result (never thrown), and a fresh boot after each crash. */
import { EnvironmentError, InterruptedError, SisError } from "../errors.ts";
import type { MachineConfig } from "../qemu/profiles.ts";
import type { KernelFailure } from "../report/results.ts";
import type { JobRecorder } from "../runs/bundle.ts";
import type { BootedMachine, JobContext } from "../runs/engine.ts";
import { type CommandResult, Session } from "../session/driver.ts";
import { kernelFailureOf } from "../session/runner.ts";
import type { Layout } from "./generator.ts";
import {
  findBadArguments,
  findKilled,
  type FuzzDone,
  lastHeartbeatIndex,
  parseDone,
  parseLayout,
  parseSyscallCounts,
  type SyscallCounts,
} from "./transcript.ts";

export interface FuzzKernelOptions {
  config: MachineConfig;
  qemuBinary?: string;
  bootTimeoutMs: number;
  /** Shell commands other than the fuzzer (`syscalls --json`). */
  commandTimeoutMs: number;
  /** No output from `run fuzz` for this long is a hang (the program prints a heartbeat every second). */
  hangTimeoutMs: number;
}

/** What one `run fuzz ...` came to. */
export type FuzzOutcome =
  | { kind: "done"; done: FuzzDone; output: string[] }
  /** The kernel panicked, hung or died; `heartbeat` is the last `fuzz: at` index seen. */
  | { kind: "crash"; failure: KernelFailure; heartbeat?: number }
  /** The fuzzer could not do its job: killed, refused its arguments, or `run` failed. */
  | { kind: "problem"; why: string; output: string[] };

/** A failure that stops the whole run rather than being this job's result. */
function isRunStopper(error: unknown): boolean {
  return error instanceof EnvironmentError || error instanceof InterruptedError;
}

export class FuzzKernel {
  readonly #run: JobContext;
  readonly #recorder: JobRecorder;
  readonly #options: FuzzKernelOptions;
  #machine?: BootedMachine;
  #session?: Session;
  /** The `fuzz: layout` line last seen, parsed (a crash loses the command's output, not the events). */
  layout?: Layout;
  #lines: string[] = [];
  /** Boots so far (the first included). */
  boots = 0;

  constructor(run: JobContext, recorder: JobRecorder, options: FuzzKernelOptions) {
    this.#run = run;
    this.#recorder = recorder;
    this.#options = options;
  }

  /** A booted, framed session, booting when there is none (first use, or after a crash). */
  async #ready(): Promise<Session> {
    if (this.#session) return this.#session;
    this.boots++;
    this.#machine = await this.#run.launch({
      config: this.#options.config,
      qemuBinary: this.#options.qemuBinary,
    });
    const session = new Session(this.#machine, {
      bootTimeoutMs: this.#options.bootTimeoutMs,
      commandTimeoutMs: this.#options.commandTimeoutMs,
      onEvent: (event) => {
        this.#recorder.event(event);
        if (event.kind !== "line") return;
        this.#lines.push(event.text);
        if (this.#lines.length > 64) this.#lines.shift();
        const layout = parseLayout(event.text);
        if (layout) this.layout = layout;
      },
    });
    await session.boot();
    await session.enableFraming();
    this.#session = session;
    return session;
  }

  /**
   * Runs a shell command; a kernel failure (while booting too) comes back
   * as `{ failure }` with the machine shut down, anything that stops the
   * run is thrown.
   */
  async command(
    line: string,
    timeoutMs?: number,
  ): Promise<{ result?: CommandResult; failure?: KernelFailure }> {
    this.#lines = [];
    try {
      const session = await this.#ready();
      return { result: await session.run(line, timeoutMs) };
    } catch (error) {
      if (isRunStopper(error) || !(error instanceof SisError)) throw error;
      await this.shutdown();
      // Stopped by a signal while the command ran: the run's failure, not the kernel's.
      if (this.#run.stop.isStopped) {
        return { failure: { kind: "interrupted", message: this.#run.stop.reason } };
      }
      return { failure: kernelFailureOf(error) };
    }
  }

  /** `run fuzz <args>` and what it came to. */
  async fuzz(args: string): Promise<FuzzOutcome> {
    const { result, failure } = await this.command(`run fuzz ${args}`, this.#options.hangTimeoutMs);
    if (failure) return { kind: "crash", failure, heartbeat: lastHeartbeatIndex(this.#lines) };
    const output = result!.output;
    const done = output.map(parseDone).find((line) => line !== undefined);
    if (done && result!.status === 0) return { kind: "done", done, output };
    const why = findKilled(output) ??
      (findBadArguments(output) ? `fuzz refused its arguments: ${findBadArguments(output)}` : undefined) ??
      `run fuzz ended with status ${result!.status} and no summary line: ${JSON.stringify(output.slice(-3))}`;
    return { kind: "problem", why, output };
  }

  /** The kernel's syscall counts (`syscalls --json`), or the failure that prevented reading them. */
  async syscallCounts(): Promise<{ counts?: SyscallCounts; failure?: KernelFailure; problem?: string }> {
    const { result, failure } = await this.command("syscalls --json");
    if (failure) return { failure };
    if (result!.status !== 0) return { problem: `syscalls --json failed with status ${result!.status}` };
    try {
      return { counts: parseSyscallCounts(result!.output) };
    } catch (error) {
      return { problem: (error as Error).message };
    }
  }

  /** Ends the machine, if one runs; the next command boots a fresh one. */
  async shutdown(): Promise<void> {
    const machine = this.#machine;
    this.#machine = undefined;
    this.#session = undefined;
    if (machine) await machine.shutdown();
  }
}
