/** `sis setup`: install missing Debian packages with apt-get, asking first. */
import { object } from "@optique/core/constructs";
import { message } from "@optique/core/message";
import { withDefault } from "@optique/core/modifiers";
import { command, constant, flag } from "@optique/core/primitives";
import type { InferValue } from "@optique/core/parser";
import type { CommandContext } from "../context.ts";
import { EnvironmentError, ExitCode, FailedError, UsageError } from "../errors.ts";
import type { Probe } from "../toolchain/probe.ts";

export const setupCommand = command(
  "setup",
  object({
    command: constant("setup"),
    yes: withDefault(
      flag("--yes", "-y", {
        description: message`Install without asking (required when not on a terminal).`,
      }),
      false,
    ),
    optional: withDefault(
      flag("--optional", { description: message`Also install the optional tools (chromium, prometheus).` }),
      false,
    ),
  }),
  { description: message`Install missing tools (QEMU, Rust toolchain, lld, ...) with apt-get.` },
);

export type SetupOptions = InferValue<typeof setupCommand>;

/** Machine facts setup needs besides the probe, passed in so tests can choose them. */
export interface SetupMachine {
  readonly probe: Probe;
  readonly isRoot: boolean;
  /** Reads one answer line from the terminal; only called when stdin and stdout are terminals. */
  readonly ask: (question: string) => Promise<string | null>;
  /** Runs one command with the terminal (or relayed output); resolves with its exit code. */
  readonly execute: (argv: readonly string[]) => Promise<number>;
}

/**
 * Installs what doctor finds missing. It acts only after a "y" on a terminal
 * or with --yes; without a terminal and without --yes it refuses (exit 2),
 * because a script that silently runs apt-get as root is a surprise.
 */
export async function runSetup(options: SetupOptions, context: CommandContext): Promise<number> {
  const { systemProbe } = await import("../toolchain/probe.ts");
  return await setup(options, context, {
    probe: systemProbe,
    isRoot: Deno.uid() === 0,
    ask: (question) => {
      context.stdout.write(question);
      return Promise.resolve(prompt("") ?? null);
    },
    execute: async (argv) => {
      const child = new Deno.Command(argv[0], {
        args: argv.slice(1),
        // apt must never stop to ask: the question was ours, and it was answered.
        env: { ...context.env, DEBIAN_FRONTEND: "noninteractive" },
        clearEnv: true,
        stdin: "null",
        stdout: context.isTerminal ? "inherit" : "piped",
        stderr: context.isTerminal ? "inherit" : "piped",
      }).spawn();
      if (!context.isTerminal) {
        const relay = async (stream: ReadableStream<Uint8Array>) => {
          for await (const chunk of stream.pipeThrough(new TextDecoderStream())) context.stderr.write(chunk);
        };
        await Promise.all([relay(child.stdout), relay(child.stderr)]);
      }
      return (await child.status).code;
    },
  });
}

/** {@link runSetup} with the machine passed in. */
export async function setup(
  options: SetupOptions,
  context: CommandContext,
  machine: SetupMachine,
): Promise<number> {
  const { missingPackages, planSetup, runChecks } = await import("../toolchain/checks.ts");
  const { which } = await import("../toolchain/probe.ts");
  const inputs = { env: context.env, probe: machine.probe, denoVersion: Deno.version.deno };
  const needs = options.optional
    ? ["required", "recommended", "optional"] as const
    : ["required", "recommended"] as const;
  const packages = missingPackages(await runChecks(inputs), needs);
  if (packages.length === 0) {
    context.stdout.write("sis setup: nothing to install; every tool is present (see 'sis doctor').\n");
    return ExitCode.Ok;
  }
  const aptGet = await which(machine.probe, "apt-get", context.env);
  if (!aptGet) {
    throw new EnvironmentError(
      `apt-get not found; install these Debian packages by hand: ${packages.join(" ")}`,
    );
  }
  const plan = planSetup(packages, machine.isRoot, await which(machine.probe, "sudo", context.env));
  context.stdout.write(
    `sis setup will run:\n${plan.commands.map((argv) => `  ${argv.join(" ")}\n`).join("")}`,
  );
  if (!options.yes) {
    if (!(context.isTerminal && context.stdinIsTerminal)) {
      throw new UsageError("sis setup will not install packages without a terminal to ask on", {
        fix: "rerun as './sis setup --yes'",
      });
    }
    const answer = await machine.ask("Proceed? [y/N] ");
    if (!/^y(es)?$/i.test((answer ?? "").trim())) {
      context.stdout.write("sis setup: nothing installed.\n");
      return ExitCode.Failed;
    }
  }
  for (const argv of plan.commands) {
    const code = await machine.execute(argv);
    if (code !== 0) {
      const asRoot = machine.isRoot || argv[0] !== "apt-get";
      throw new FailedError(`"${argv.join(" ")}" failed with exit code ${code}`, {
        fix: asRoot ? "see apt-get's messages above" : "run it as root (no sudo was found)",
      });
    }
  }
  const stillMissing = missingPackages(await runChecks(inputs), ["required"]);
  if (stillMissing.length > 0) {
    throw new EnvironmentError(`Still missing after installing: ${stillMissing.join(" ")}`, {
      fix: "see 'sis doctor'",
    });
  }
  context.stdout.write(`sis setup: installed ${packages.join(" ")}\n`);
  return ExitCode.Ok;
}
