/** `sis run`: boot a kernel and attach this terminal to its serial console (raw mode; Ctrl-] leaves, like telnet). */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { optional, withDefault } from "@optique/core/modifiers";
import { command, constant, flag, option } from "@optique/core/primitives";
import { choice, integer, string } from "@optique/core/valueparser";
import type { InferValue } from "@optique/core/parser";
import { ARCHES } from "../arch.ts";
import type { CommandContext, Output } from "../context.ts";

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

/**
 * Boots and attaches. Exit code: 0 when left with Ctrl-] or powered off
 * with code 0, the poweroff code's verdict otherwise (4 after a panic).
 */
export async function runRun(options: RunOptions, context: CommandContext): Promise<number> {
  const { systemProbe } = await import("../toolchain/probe.ts");
  const { findProjectRoot } = await import("../toolchain/project.ts");
  const { loadSettings, selectConfigs } = await import("../qemu/config.ts");
  const { Machine } = await import("../qemu/machine.ts");
  const { ensureKernels } = await import("../runs/kernels.ts");
  const { installRunSignals, RunStop, signalExitCode } = await import("../runs/signals.ts");

  const root = await findProjectRoot(context.cwd, context.env, systemProbe);
  const settings = await loadSettings(root);
  let [config] = selectConfigs(settings, options.config);
  if (options.memory !== undefined) config = { ...config, memoryMiB: options.memory };
  const kernels = await ensureKernels(root, [options.arch], context, { noBuild: options.noBuild });
  const machine = await Machine.launch({
    arch: options.arch,
    config,
    kernelPath: kernels[options.arch].path,
    qemuBinary: settings.qemuBinaries[options.arch],
  });
  // Raw mode: keys go to the kernel as typed (Ctrl-C cancels its line, not sis).
  const isRaw = context.stdinIsTerminal;
  const restoreTerminal = () => {
    if (isRaw) Deno.stdin.setRaw(false);
  };
  // The engine's signal policy: the first SIGTERM (or SIGINT from another
  // terminal) stops QEMU, the console sees it end, the terminal is restored
  // on the way out; a second exits at once, restoring the terminal first.
  const stop = new RunStop();
  stop.signal.addEventListener("abort", () => void machine.shutdown());
  const removeSignals = installRunSignals(stop, { stderr: context.stderr, beforeExit: restoreTerminal });
  context.stderr.write(
    `sis: ${options.arch} (${config.name}: ${config.description}), QEMU pid ${machine.pid}. Press Ctrl-] to leave.\n`,
  );
  if (isRaw) Deno.stdin.setRaw(true);
  try {
    const end = await attachConsole(machine, Deno.stdin.readable, context.stdout);
    const exit = await machine.shutdown();
    restoreTerminal();
    if (stop.interruptedBy) {
      context.stderr.write(`\r\nsis: ${stop.interruptedBy}: QEMU stopped\n`);
      return signalExitCode(stop.interruptedBy);
    }
    if (end.kind === "escape") {
      context.stderr.write(`\r\nsis: left the console; QEMU stopped\n`);
      return 0;
    }
    context.stderr.write(`\r\nsis: machine ended: ${JSON.stringify(exit.outcome)}\n`);
    if (exit.outcome.kind === "panic") return 4;
    // The kernel's own poweroff code is passed through (0 passed, 3 environment, ...).
    return exit.outcome.kind === "poweroff" ? exit.outcome.code : 1;
  } finally {
    restoreTerminal();
    removeSignals();
    await machine.shutdown();
  }
}
