/** `sis run`: boot a kernel and attach this terminal to its serial console (raw mode; Ctrl-] leaves, like telnet). */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { optional, withDefault } from "@optique/core/modifiers";
import { command, constant, flag, option } from "@optique/core/primitives";
import { choice, integer, string } from "@optique/core/valueparser";
import type { InferValue } from "@optique/core/parser";
import { ARCHES } from "../arch.ts";
import type { CommandContext, Output } from "../context.ts";
import type { ExitOutcome } from "../qemu/profiles.ts";
import type { JobResult, KernelFailure } from "../report/results.ts";
import type { SerialEvent } from "../session/framing.ts";

export const runCommand = command(
  "run",
  object({
    command: constant("run"),
    arch: option("--arch", choice(ARCHES, { metavar: "ARCH" }), {
      description: message`Architecture to boot.`,
    }),
    config: withDefault(
      option("--config", string({ metavar: "CONFIG" }), {
        description:
          message`Machine config (default, lowmem, smp-off, smp, no-network, or one from sis.yaml).`,
      }),
      "default",
    ),
    memory: optional(option("--memory-mib", integer({ min: 16, metavar: "MIB" }), {
      description: message`Override the config's memory size.`,
    })),
    noBuild: withDefault(
      flag("--no-build", {
        description:
          message`Boot the installed build/<arch> kernel as it is (default: incremental build first).`,
      }),
      false,
    ),
  }),
  {
    description:
      message`Boot the kernel and attach this terminal to its serial console. Press Ctrl-] to leave; QEMU is stopped.`,
  },
);

export type RunOptions = InferValue<typeof runCommand>;

/** Ctrl-] (GS, 0x1d): telnet's escape key; no shell editing key uses it. */
export const ESCAPE_BYTE = 0x1d;

/** How a console session ended. */
export type ConsoleEnd = { kind: "escape" } | { kind: "machine-exit" };

/**
 * Copies `input` to the machine and the machine's output to `output` until
 * the escape byte is typed or QEMU exits. Separate from `runRun` so tests
 * can drive it with a stream instead of a terminal.
 */
export async function attachConsole(
  machine: { chunks: AsyncIterable<Uint8Array>; write(bytes: Uint8Array): Promise<void> },
  input: ReadableStream<Uint8Array>,
  output: Output,
): Promise<ConsoleEnd> {
  const decoder = new TextDecoder();
  // Typed-ahead input is held until the first prompt: bytes sent while the
  // firmware runs or the kernel resets its UART would be lost.
  let promptSeen!: () => void;
  const shellReady = new Promise<void>((resolve) => (promptSeen = resolve));
  const machineDone = (async (): Promise<ConsoleEnd> => {
    let recent = "";
    for await (const chunk of machine.chunks) {
      const text = decoder.decode(chunk, { stream: true });
      output.write(text);
      // Look for the prompt before trimming: a chunk may carry the prompt and
      // a log line after it (the DHCP record lands right after `sis> `), and
      // trimming first would drop the prompt and hold typed input forever.
      const seen = recent + text;
      if (seen.includes("sis> ")) promptSeen();
      recent = seen.slice(-16);
    }
    promptSeen();
    return { kind: "machine-exit" };
  })();
  const reader = input.getReader();
  const inputDone = (async (): Promise<ConsoleEnd | undefined> => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return undefined; // End of input (a pipe): keep showing output until QEMU exits.
      await shellReady;
      const escape = value.indexOf(ESCAPE_BYTE);
      const bytes = escape >= 0 ? value.subarray(0, escape) : value;
      // A write fails only once QEMU's serial socket has closed, i.e. the
      // machine is ending: `machineDone` reports that end, so the bytes the
      // user typed into a dying machine are dropped with it.
      if (bytes.length > 0) await machine.write(bytes).catch(() => {});
      if (escape >= 0) return { kind: "escape" };
    }
  })();
  const end = await Promise.race([
    machineDone,
    inputDone.then((result) => result ?? machineDone),
  ]);
  reader.releaseLock();
  return end;
}

/** How a `sis run` session ended (results.json `end`): the verdict's input (docs/ENGINE.md). */
export type SessionEnd = "left" | "poweroff" | "panic" | "exited" | "interrupted" | "not-started";

/** The console job's result: the shared job result plus how the session ended. */
export interface ConsoleResult extends JobResult {
  end: SessionEnd;
}

/** Most panic report lines kept for results.json (the whole report is in serial.raw). */
const PANIC_REPORT_LINES = 200;

/**
 * The machine's console as {@link attachConsole} sees it, with every parsed
 * event recorded in the job's events.ndjson and a panic's report kept for
 * the verdict. The bytes pass through untouched.
 */
function recordedConsole(
  machine: { chunks: AsyncIterable<Uint8Array>; write(bytes: Uint8Array): Promise<void> },
  onEvent: (event: Record<string, unknown>) => void,
  parser: { feed(chunk: Uint8Array): SerialEvent[]; finish(): SerialEvent[] },
) {
  const started = performance.now();
  const panicReport: string[] = [];
  let hasPanicked = false;
  const accept = (events: SerialEvent[]) => {
    const atMs = Math.round((performance.now() - started) * 1000) / 1000;
    for (const event of events) {
      onEvent({ ...event, atMs });
      if (event.kind === "panic") hasPanicked = true;
      else if (
        hasPanicked && panicReport.length < PANIC_REPORT_LINES &&
        (event.kind === "line" || event.kind === "log" || event.kind === "kernel-entry")
      ) {
        panicReport.push(event.text);
      }
    }
  };
  return {
    panicReport,
    console: {
      chunks: (async function* () {
        for await (const chunk of machine.chunks) {
          accept(parser.feed(chunk));
          yield chunk;
        }
        accept(parser.finish());
      })(),
      write: (bytes: Uint8Array) => machine.write(bytes),
    },
  };
}

/** What a session's end makes of the job: status, `end`, exit code, and the line sis prints. */
export interface SessionVerdict {
  end: SessionEnd;
  status: ConsoleResult["status"];
  kernel?: KernelFailure;
  messages?: string[];
  exitCode: number;
  /** Printed as `sis: <line>` (none when the run was stopped: the engine says why). */
  line?: string;
}

/**
 * Judges a finished console session (the table in docs/ENGINE.md): a stop
 * is `interrupted`; Ctrl-] or `poweroff 0` passed; another poweroff code
 * failed with that code as the exit code (as virtme-ng passes a guest's code
 * through); a panic is a kernel failure (4); any other end of QEMU an error (1).
 */
export function judgeSession(session: {
  stoppedBecause?: string;
  consoleEnd: ConsoleEnd;
  outcome: ExitOutcome;
  panic: { report: string[]; record?: Record<string, unknown>; message: string };
}): SessionVerdict {
  const { outcome, panic } = session;
  if (session.stoppedBecause !== undefined) {
    const kernel: KernelFailure = { kind: "interrupted", message: session.stoppedBecause };
    return { end: "interrupted", status: "interrupted", kernel, exitCode: 0 };
  }
  if (session.consoleEnd.kind === "escape") {
    const messages = ["left the console with Ctrl-]"];
    return { end: "left", status: "passed", messages, exitCode: 0, line: "left the console; QEMU stopped" };
  }
  const line = `machine ended: ${JSON.stringify(outcome)}`;
  if (outcome.kind === "panic") {
    const { report, record, message } = panic;
    const kernel: KernelFailure = { kind: "panic", message: `kernel panicked: ${message}`, report, record };
    return { end: "panic", status: "error", kernel, exitCode: 4, line };
  }
  if (outcome.kind === "poweroff") {
    const messages = [`the kernel powered off with code ${outcome.code}`];
    const status = outcome.code === 0 ? "passed" : "failed";
    return { end: "poweroff", status, messages, exitCode: outcome.code, line };
  }
  const kernel: KernelFailure = {
    kind: "exited",
    message: `the machine ended without a poweroff: ${JSON.stringify(outcome)}`,
  };
  return { end: "exited", status: "error", kernel, exitCode: 1, line };
}

/**
 * Boots and attaches, as a one-job plan on the run engine (bundle, signals,
 * exit code). Verdict and exit code (docs/ENGINE.md): left with Ctrl-] or
 * powered off with code 0 passed (exit 0); powered off with another code
 * failed (exit: that code, as virtme-ng passes a guest's code through); a
 * panic is a kernel failure (exit 4); any other end of QEMU an error (exit
 * 1); a signal interrupted it (130/143).
 */
export async function runRun(options: RunOptions, context: CommandContext): Promise<number> {
  const { systemProbe } = await import("../toolchain/probe.ts");
  const { findProjectRoot } = await import("../toolchain/project.ts");
  const { loadSettings, selectConfigs } = await import("../qemu/config.ts");
  const { FramingParser } = await import("../session/framing.ts");
  const { describePanic } = await import("../session/driver.ts");
  const { failedEarly, runMachineJob, verdict } = await import("../session/machine_job.ts");

  const root = await findProjectRoot(context.cwd, context.env, systemProbe);
  const settings = await loadSettings(root);
  let [config] = selectConfigs(settings, options.config);
  if (options.memory !== undefined) config = { ...config, memoryMiB: options.memory };
  // Raw mode: keys go to the kernel as typed (Ctrl-C cancels its line, not sis).
  const isRaw = context.stdinIsTerminal;
  const restoreTerminal = () => {
    if (isRaw) Deno.stdin.setRaw(false);
  };
  const step = { name: "the session ended cleanly", command: "sis run" };

  return runMachineJob<ConsoleResult>({
    command: ["run"],
    flags: options.memory === undefined ? [] : ["--memory-mib", String(options.memory)],
    place: { root, context, arch: options.arch, config, noBuild: options.noBuild },
    purpose: "console",
    step,
    // The engine's signal policy: the first SIGTERM (or SIGINT from another
    // terminal) stops QEMU, the console sees it end, the terminal is restored
    // on the way out; a second exits at once, restoring the terminal first.
    beforeExit: restoreTerminal,
    runJob: async (job, run) => {
      const started = performance.now();
      const recorder = await run.record({
        config: config.name,
        suite: job.purpose,
        memoryMiB: config.memoryMiB,
      });
      let machine: Awaited<ReturnType<typeof run.launch>>;
      try {
        machine = await run.launch({ config, qemuBinary: settings.qemuBinaries[job.arch] });
      } catch (error) {
        recorder.close();
        const { exitCode, error: printed, ...judged } = failedEarly(error, run.stop);
        const result: ConsoleResult = {
          ...verdict(job, step, { ...judged, durationMs: 0, bundleDir: recorder.dir }),
          end: judged.status === "interrupted" ? "interrupted" : "not-started",
        };
        await recorder.finish(result);
        return { result, exitCode, error: printed };
      }
      context.stderr.write(
        `sis: ${job.arch} (${config.name}: ${config.description}), QEMU pid ${machine.pid}. Press Ctrl-] to leave.\n`,
      );
      const watched = recordedConsole(machine, (event) => recorder.event(event), new FramingParser());
      let consoleEnd: ConsoleEnd;
      let exit: Awaited<ReturnType<typeof machine.shutdown>>;
      if (isRaw) Deno.stdin.setRaw(true);
      try {
        consoleEnd = await attachConsole(watched.console, Deno.stdin.readable, context.stdout);
      } finally {
        exit = await machine.shutdown();
        restoreTerminal();
        recorder.close();
      }
      const outcome = exit.outcome;
      const { end, line, exitCode, ...judged } = judgeSession({
        stoppedBecause: run.stop.isStopped ? run.stop.reason : undefined,
        consoleEnd,
        outcome,
        panic: { report: watched.panicReport, ...describePanic(watched.panicReport) },
      });
      // `\r\n` first: the console's last line may have no end (a prompt). A stop's line is the engine's.
      context.stderr.write(line === undefined ? "\r\n" : `\r\nsis: ${line}\n`);
      const result: ConsoleResult = {
        ...verdict(job, step, {
          ...judged,
          durationMs: Math.round(performance.now() - started),
          qemuExit: { code: exit.code, signal: exit.signal, outcome },
          bundleDir: recorder.dir,
        }),
        end,
      };
      await recorder.finish(result);
      return { result, exitCode };
    },
  });
}
