/** How a run stops: the first SIGINT/SIGTERM (or a disk failure) stops new work and the machines, a second signal exits at once. */
import { type EnvironmentError, ExitCode } from "../errors.ts";
import type { Output } from "../context.ts";

export type StopSignal = "SIGINT" | "SIGTERM";

/**
 * The stop state of one run. Workers and sessions watch {@link signal};
 * whoever stops the run says why, so the exit code can follow it.
 */
export class RunStop {
  readonly #controller = new AbortController();
  /** The signal that stopped the run, if one did. */
  interruptedBy?: StopSignal;
  /** The disk failure that stopped the run, if one did (exit 3). */
  diskFailure?: EnvironmentError;

  /** Aborted once the run must stop taking work. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get isStopped(): boolean {
    return this.#controller.signal.aborted;
  }

  interrupt(signal: StopSignal): void {
    this.interruptedBy ??= signal;
    this.#controller.abort(signal);
  }

  /** A write under runs/ failed: stop like a signal, remember the first error. */
  failDisk(error: EnvironmentError): void {
    this.diskFailure ??= error;
    this.#controller.abort(error);
  }

  /** Why the run stopped, for "not run: ..." messages. */
  get reason(): string {
    if (this.interruptedBy) return `interrupted by ${this.interruptedBy}`;
    if (this.diskFailure) return `stopped: ${this.diskFailure.message}`;
    return "stopped";
  }
}

export function signalExitCode(signal: StopSignal): number {
  return signal === "SIGINT" ? ExitCode.Interrupted : ExitCode.Terminated;
}

export interface SignalOptions {
  stderr: Output;
  /** Called on the second signal right before exiting (restore a terminal). */
  beforeExit?: () => void;
  /** `Deno.exit` in production; tests pass a recorder. */
  exit?: (code: number) => void;
  /** Where listeners go: Deno's in production, a fake in tests. */
  listen?: (signal: StopSignal, handler: () => void) => () => void;
}

function denoListen(signal: StopSignal, handler: () => void): () => void {
  Deno.addSignalListener(signal, handler);
  return () => Deno.removeSignalListener(signal, handler);
}

/**
 * Installs the run's SIGINT/SIGTERM policy: the first signal calls
 * `stop.interrupt` (the engine shuts the machines down and writes every
 * report), the second exits at once with 130/143. Returns the remover.
 */
export function installRunSignals(stop: RunStop, options: SignalOptions): () => void {
  const listen = options.listen ?? denoListen;
  const exit = options.exit ?? ((code: number) => Deno.exit(code));
  let count = 0;
  const removers = (["SIGINT", "SIGTERM"] as const).map((signal) =>
    listen(signal, () => {
      count++;
      if (count === 1) {
        options.stderr.write(
          `sis: ${signal}: stopping (machines shut down, results written); ${signal} again exits at once\n`,
        );
        stop.interrupt(signal);
        return;
      }
      options.stderr.write(`sis: ${signal} again: exiting now\n`);
      options.beforeExit?.();
      exit(signalExitCode(stop.interruptedBy ?? signal));
    })
  );
  return () => {
    for (const remove of removers) remove();
  };
}
