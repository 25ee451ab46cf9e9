/** Boots a kernel through the session layer, runs commands, and turns what it printed into ordered regress events and a raw transcript. */
import type { Arch } from "../arch.ts";
import { SisError } from "../errors.ts";
import { Machine } from "../qemu/machine.ts";
import type { MachineConfig } from "../qemu/profiles.ts";
import type { KernelFailure } from "../report/results.ts";
import type { BootedMachine } from "../runs/engine.ts";
import { Session } from "../session/driver.ts";
import { kernelFailureOf } from "../session/runner.ts";
import type { SerialEvent } from "../session/framing.ts";
import { classifyLine } from "../parse/log.ts";
import { normalizeText, recordTemplate } from "../parse/normalize.ts";
import type { RegressEvent } from "./diff.ts";

export interface CaptureOptions {
  arch: Arch;
  config: MachineConfig;
  kernelPath: string;
  qemuBinary?: string;
  /** Commands run after `frame on`, in order. */
  commands: readonly string[];
  bootTimeoutMs?: number;
  commandTimeoutMs?: number;
}

export interface Capture {
  events: RegressEvent[];
  /** Every byte the serial port gave, for fixtures and post-mortems. */
  transcript: Uint8Array;
  /** Set when the kernel panicked, hung or exited early: the capture stops there. */
  failure?: string;
}

/**
 * Turns serial events into regress events. Lines before the kernel's first
 * line are firmware (SeaBIOS, OpenSBI) and are skipped; log records in
 * either format, framed or not, become record events; each command's end
 * becomes `CMD <command> -> <status>`; a panic becomes `PANIC <message>`.
 */
export class EventCollector {
  readonly events: RegressEvent[] = [];
  #hasKernel = false;
  #isPanicking = false;
  #commands = new Map<number, string>();

  accept(event: SerialEvent): void {
    switch (event.kind) {
      case "kernel-entry":
        this.#hasKernel = true;
        this.events.push({ kind: "kernel", template: "KERNEL entry" });
        return;
      case "line":
      case "log": {
        if (!this.#hasKernel && event.kind === "line") return;
        const line = classifyLine(event.text);
        if (line.kind !== "record") return;
        if (line.panic) {
          this.events.push({
            kind: "panic",
            template: `PANIC ${normalizeText(line.panic.message)}`,
            level: "FATAL",
          });
          return;
        }
        if (this.#isPanicking) return; // The report's copy of recent records.
        this.events.push({ kind: "record", template: recordTemplate(line.record), level: line.record.level });
        return;
      }
      case "begin":
        this.#commands.set(event.seq, event.line);
        return;
      case "end":
        this.events.push({
          kind: "command",
          template: `CMD ${normalizeText(this.#commands.get(event.seq) ?? "?")} -> ${event.status}`,
        });
        return;
      case "panic":
        this.#isPanicking = true;
        return;
      default:
        return;
    }
  }
}

/** What a capture on a booted machine gives: the events, and the kernel failure that ended it early. */
export interface MachineCapture {
  events: RegressEvent[];
  /** Set when the kernel panicked, hung or exited early: the capture stops there. */
  failure?: KernelFailure;
}

/** Runs the boot and the commands on a machine that is already booting (the caller shuts it down). */
export async function captureOn(
  machine: BootedMachine,
  commands: readonly string[],
  options: { bootTimeoutMs: number; commandTimeoutMs: number; onEvent?: (event: SerialEvent) => void },
): Promise<MachineCapture> {
  const collector = new EventCollector();
  try {
    const session = new Session(machine, {
      bootTimeoutMs: options.bootTimeoutMs,
      commandTimeoutMs: options.commandTimeoutMs,
      onEvent: (event) => {
        options.onEvent?.(event);
        collector.accept(event);
      },
    });
    await session.boot();
    await session.enableFraming();
    for (const command of commands) await session.run(command);
  } catch (error) {
    if (!(error instanceof SisError)) throw error;
    return { events: collector.events, failure: kernelFailureOf(error) };
  }
  return { events: collector.events };
}

/** Boots, runs the commands, shuts QEMU down on every path, and returns the events (fixtures, library use). */
export async function captureBoot(options: CaptureOptions): Promise<Capture> {
  const chunks: Uint8Array[] = [];
  const machine = await Machine.launch({
    arch: options.arch,
    config: options.config,
    kernelPath: options.kernelPath,
    qemuBinary: options.qemuBinary,
    onSerialBytes: (chunk) => chunks.push(chunk.slice()),
  });
  let capture: MachineCapture;
  try {
    capture = await captureOn(machine, options.commands, {
      bootTimeoutMs: options.bootTimeoutMs ?? 20_000,
      commandTimeoutMs: options.commandTimeoutMs ?? 20_000,
    });
  } finally {
    await machine.shutdown();
  }
  const length = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const transcript = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    transcript.set(chunk, offset);
    offset += chunk.length;
  }
  return { events: capture.events, transcript, failure: capture.failure?.message };
}
