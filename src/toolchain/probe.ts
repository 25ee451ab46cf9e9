/** The two questions toolchain detection asks the machine, behind an interface so tests can fake them. */
import { access, constants } from "node:fs/promises";
import { delimiter, join } from "node:path";

/** The result of running a short-lived tool to ask it something. */
export interface ProbeResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** What detection may do to the machine: run a tool, look at a path. */
export interface Probe {
  /** Runs `argv` (never through a shell); resolves with code -1 if it cannot start. */
  run(argv: readonly string[], env?: Readonly<Record<string, string>>): Promise<ProbeResult>;
  /** Whether `path` exists (file or directory). */
  exists(path: string): Promise<boolean>;
  /** Whether `path` is an executable file. */
  isExecutable(path: string): Promise<boolean>;
}

/** How long a probe may take: `rustc -vV` is instant, but a wedged tool must not hang `sis doctor`. */
const PROBE_TIMEOUT_MS = 15_000;

/** The real probe, running processes with Deno.Command. */
export const systemProbe: Probe = {
  async run(argv, env) {
    try {
      const child = new Deno.Command(argv[0], {
        args: argv.slice(1),
        env: env ? { ...env } : undefined,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      }, PROBE_TIMEOUT_MS);
      const output = await child.output();
      clearTimeout(timer);
      const decoder = new TextDecoder();
      return {
        code: output.code,
        stdout: decoder.decode(output.stdout),
        stderr: decoder.decode(output.stderr),
      };
    } catch (error) {
      return { code: -1, stdout: "", stderr: error instanceof Error ? error.message : String(error) };
    }
  },
  async exists(path) {
    try {
      await access(path, constants.F_OK);
      return true;
    } catch {
      return false;
    }
  },
  async isExecutable(path) {
    try {
      await access(path, constants.X_OK);
      return (await Deno.stat(path)).isFile;
    } catch {
      return false;
    }
  },
};

/** Finds `name` on `PATH` the way a shell would; undefined when absent. */
export async function which(
  probe: Probe,
  name: string,
  env: Readonly<Record<string, string>>,
): Promise<string | undefined> {
  if (name.includes("/")) return (await probe.isExecutable(name)) ? name : undefined;
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    if (await probe.isExecutable(candidate)) return candidate;
  }
  return undefined;
}
