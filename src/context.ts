/** The explicit inputs every command receives instead of reading globals. */

/** A synchronous text sink: stdout and stderr in production, a buffer in tests. */
export interface Output {
  write(text: string): void;
}

/**
 * What `src/cli.ts` hands to each `run<Name>(options, context)`. Commands
 * never read `Deno.args`, `Deno.env` or `Deno.cwd()` themselves, so tests can
 * drive them with any environment.
 */
export interface CommandContext {
  /** Working directory the user ran `sis` in. */
  readonly cwd: string;
  /** The environment, as a plain snapshot. */
  readonly env: Readonly<Record<string, string>>;
  readonly stdout: Output;
  readonly stderr: Output;
  /** Whether stdout is a terminal (live progress, questions) or a pipe/file (plain lines). */
  readonly isTerminal: boolean;
  /** Whether stdin is a terminal: `sis setup` may only ask, and `sis run` only attach, if so. */
  readonly stdinIsTerminal: boolean;
  /** Whether to colour output: a terminal, and neither NO_COLOR nor CI says otherwise. */
  readonly color: boolean;
}

/**
 * Decides colour the way https://no-color.org and FORCE_COLOR expect:
 * FORCE_COLOR wins, then a non-empty NO_COLOR disables, then a terminal enables.
 */
export function wantsColor(env: Readonly<Record<string, string>>, isTerminal: boolean): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  if (env.NO_COLOR) return false;
  return isTerminal && env.TERM !== "dumb";
}

/** An {@link Output} that keeps what is written, for tests. */
export class BufferOutput implements Output {
  text = "";
  write(text: string): void {
    this.text += text;
  }
}

/** A context for tests: empty env, no terminal, output kept in buffers. */
export function testContext(
  overrides: Partial<CommandContext> = {},
): CommandContext & { stdout: BufferOutput; stderr: BufferOutput } {
  return {
    cwd: overrides.cwd ?? ".",
    env: overrides.env ?? {},
    isTerminal: overrides.isTerminal ?? false,
    stdinIsTerminal: overrides.stdinIsTerminal ?? false,
    color: overrides.color ?? false,
    stdout: new BufferOutput(),
    stderr: new BufferOutput(),
  };
}
