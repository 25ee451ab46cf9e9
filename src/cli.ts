/** Entry point of `sis`: parse arguments with Optique, dispatch to one command, map errors to exit codes. */
import { or } from "@optique/core/constructs";
import { runParser } from "@optique/core/facade";
import { formatMessage, message } from "@optique/core/message";
import { match } from "ts-pattern";
// Command modules import only Optique and small local files at top level,
// and load their heavy dependencies inside run<Name>(): `sis --help` has to
// start in under 150 ms, so nothing a command needs only when it runs may be
// loaded here.
import { buildCommand, runBuild } from "./commands/build.ts";
import { chaosCommand, runChaos } from "./commands/chaos.ts";
import { doctorCommand, runDoctor } from "./commands/doctor.ts";
import { fuzzCommand, runFuzzCommand } from "./commands/fuzz.ts";
import { logsCommand, runLogs } from "./commands/logs.ts";
import { matrixCommand, runMatrix } from "./commands/matrix.ts";
import { metricsCommand, runMetrics } from "./commands/metrics.ts";
import { panicCommand, runPanic } from "./commands/panic.ts";
import { regressCommand, runRegress } from "./commands/regress.ts";
import { reportCommand, runReport } from "./commands/report.ts";
import { runCommand, runRun } from "./commands/run.ts";
import { runSetup, setupCommand } from "./commands/setup.ts";
import { runSoak, soakCommand } from "./commands/soak.ts";
import { runTest, testCommand } from "./commands/test.ts";
import { type CommandContext, wantsColor } from "./context.ts";
import { ExitCode, exitCodeOf, formatError } from "./errors.ts";
import { VERSION } from "./version.ts";

/** The CLI's version; the release workflow checks that tags match it. */
export { VERSION } from "./version.ts";

const COMMANDS = [
  "build",
  "doctor",
  "setup",
  "run",
  "test",
  "chaos",
  "logs",
  "panic",
  "metrics",
  "regress",
  "report",
  "soak",
  "fuzz",
  "matrix",
  "completions",
];

const parser = or(
  buildCommand,
  doctorCommand,
  setupCommand,
  runCommand,
  testCommand,
  chaosCommand,
  logsCommand,
  panicCommand,
  metricsCommand,
  regressCommand,
  reportCommand,
  soakCommand,
  fuzzCommand,
  matrixCommand,
);

/** What parsing produced when it did not produce options to run with. */
interface Early {
  readonly early: true;
  readonly code: number;
  readonly error?: string;
}

/**
 * Runs `sis` with explicit inputs and returns the exit code. Everything that
 * touches the process (args, env, exit) stays in the `import.meta.main` block.
 */
export async function main(args: readonly string[], context: CommandContext): Promise<number> {
  const held: string[] = [];
  const parsed = runParser(parser, "sis", args, {
    brief: message`Build, boot and test the SIS kernel on aarch64, riscv64 and x86_64.`,
    footer:
      message`Exit codes: 0 passed, 1 failed, 2 usage error, 3 environment problem, 4 kernel panic or hang, 130/143 interrupted.`,
    help: { command: true, option: true, onShow: (code: number): Early => ({ early: true, code }) },
    version: { value: VERSION, option: true, onShow: (): Early => ({ early: true, code: 0 }) },
    completion: {
      command: { names: ["completions", "completion"] },
      onShow: (): Early => ({ early: true, code: 0 }),
    },
    aboveError: "none",
    onError: (_code: number, error): Early => ({
      early: true,
      code: ExitCode.Usage,
      error: formatMessage(error, { colors: false, quotes: true }),
    }),
    colors: context.color,
    stdout: (text) => context.stdout.write(`${text}\n`),
    // Optique prints its own multi-line error; sis prints one line instead.
    stderr: (text) => held.push(text),
  });
  if (isEarly(parsed)) {
    if (parsed.error !== undefined) {
      const hint = COMMANDS.includes(args[0]) ? `sis ${args[0]} --help` : "sis --help";
      context.stderr.write(`error: ${oneLine(parsed.error)} (see '${hint}')\n`);
    } else {
      for (const text of held) context.stderr.write(`${text}\n`);
    }
    return parsed.code;
  }
  try {
    return await match(parsed)
      .with({ command: "build" }, (options) => runBuild(options, context))
      .with({ command: "doctor" }, (options) => runDoctor(options, context))
      .with({ command: "setup" }, (options) => runSetup(options, context))
      .with({ command: "run" }, (options) => runRun(options, context))
      .with({ command: "test" }, (options) => runTest(options, context))
      .with({ command: "chaos" }, (options) => runChaos(options, context))
      .with({ command: "logs" }, (options) => runLogs(options, context))
      .with({ command: "panic" }, (options) => runPanic(options, context))
      .with({ command: "metrics" }, (options) => runMetrics(options, context))
      .with({ command: "regress" }, (options) => runRegress(options, context))
      .with({ command: "report" }, (options) => runReport(options, context))
      .with({ command: "soak" }, (options) => runSoak(options, context))
      .with({ command: "fuzz" }, (options) => runFuzzCommand(options, context))
      .with({ command: "matrix" }, (options) => runMatrix(options, context))
      .exhaustive();
  } catch (error) {
    context.stderr.write(formatError(error));
    return exitCodeOf(error);
  }
}

function isEarly(value: unknown): value is Early {
  return typeof value === "object" && value !== null && "early" in value;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/**
 * A writer that sends all of `text` synchronously, so output is complete
 * before Deno.exit. When the reader has gone (`sis logs big.log | head`), the
 * rest of the output is dropped instead of throwing BrokenPipe out of the
 * command: the command still finishes its work (bundles, machines stopped)
 * and exits with its own code, as `grep` and `rg` do.
 */
function syncWriter(file: { writeSync(bytes: Uint8Array): number }): { write(text: string): void } {
  let readerGone = false;
  return {
    write(text: string): void {
      if (readerGone) return;
      let bytes = new TextEncoder().encode(text);
      try {
        while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
      } catch (error) {
        if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
        readerGone = true;
      }
    },
  };
}

if (import.meta.main) {
  const isTerminal = Deno.stdout.isTerminal();
  const env = Deno.env.toObject();
  const code = await main(Deno.args, {
    cwd: Deno.cwd(),
    env,
    stdout: syncWriter(Deno.stdout),
    stderr: syncWriter(Deno.stderr),
    isTerminal,
    stdinIsTerminal: Deno.stdin.isTerminal(),
    color: wantsColor(env, isTerminal),
  });
  Deno.exit(code);
}
