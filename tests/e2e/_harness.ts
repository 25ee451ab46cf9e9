/** Helpers for the harness end-to-end tests: spawn `sis` as a user would, find its QEMU by pid, poll without sleeping blindly. */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import type { Arch } from "../../src/arch.ts";
import { testContext } from "../../src/context.ts";
import type { RunResults } from "../../src/report/results.ts";
import { buildKernel } from "../../src/toolchain/build.ts";
import { systemProbe } from "../../src/toolchain/probe.ts";
import { requireLinker, requireRustToolchain } from "../../src/toolchain/rust.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CLI = fileURLToPath(new URL("../../src/cli.ts", import.meta.url));
export const PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-env",
  "--allow-net",
  "--allow-sys",
];

export interface Finished {
  code: number;
  signal: string | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/** A running `sis` process with its output collected as it comes. */
export class SisProcess {
  readonly child: Deno.ChildProcess;
  stdout = "";
  stderr = "";
  readonly done: Promise<Finished>;
  readonly #started = performance.now();

  constructor(args: string[], env: Record<string, string> = {}, stdin: "null" | "piped" = "null") {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", ...PERMISSIONS, CLI, ...args],
      cwd: ROOT,
      env: { NO_COLOR: "1", RUST_BACKTRACE: "0", ...env },
      stdin,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const collect = async (stream: ReadableStream<Uint8Array>, into: "stdout" | "stderr") => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) this[into] += decoder.decode(chunk, { stream: true });
    };
    const streams = Promise.all([collect(this.child.stdout, "stdout"), collect(this.child.stderr, "stderr")]);
    this.done = Promise.all([this.child.status, streams]).then(([status]) => ({
      code: status.code,
      signal: status.signal,
      stdout: this.stdout,
      stderr: this.stderr,
      elapsedMs: performance.now() - this.#started,
    }));
  }

  /** The run bundle folder, once sis printed it. */
  bundleDir(): string | undefined {
    return /bundle (\S+)\n/.exec(this.stderr)?.[1];
  }
}

/** Runs `sis` to completion. */
export function sis(args: string[], env: Record<string, string> = {}): Promise<Finished> {
  return new SisProcess(args, env).done;
}

/**
 * Polls `probe` until it returns a value or `timeoutMs` passes. Polling a
 * cheap probe (a file, /proc) is how a test waits for an event in another
 * process; each wait is short and the whole is bounded.
 */
export async function pollFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The QEMU pids sis recorded in its run bundle manifest (it writes them right after launch). */
export function qemuPids(bundleDir: string): number[] {
  try {
    const manifest = JSON.parse(Deno.readTextFileSync(join(bundleDir, "manifest.json")));
    return manifest.jobs.map((job: { qemuPid?: number }) => job.qemuPid).filter((pid: unknown) =>
      typeof pid === "number"
    );
  } catch {
    return [];
  }
}

/**
 * Whether `pid` is a live (not zombie) QEMU process. Checked by pid, never
 * by name; the command name guards against pid reuse. Asks `ps` rather than
 * reading /proc, which Deno refuses without --allow-all.
 */
export function isQemuAlive(pid: number): boolean {
  const output = new Deno.Command("ps", { args: ["-o", "stat=,comm=", "-p", String(pid)], stderr: "null" })
    .outputSync();
  if (!output.success) return false;
  const [state = "", command = ""] = new TextDecoder().decode(output.stdout).trim().split(/\s+/);
  return command.startsWith("qemu-system") && !state.startsWith("Z");
}

/**
 * A suite whose second command never ends: a run of it is always
 * mid-command when signalled, and hangs at that step under a timeout.
 */
export const SLOW_SUITE = `
steps:
  - name: the shell answers
    run: echo before
    expect: { contains: [before] }
  - name: a command that never ends
    run: sleep 100000
  - name: never reached
    run: echo after
`;

/**
 * Ends a spawned sis that a failed assertion left running (a test must not
 * leak processes) with `signal`, and waits for it to exit.
 */
export async function stopSis(process: SisProcess | undefined, signal: Deno.Signal): Promise<void> {
  if (!process) return;
  try {
    process.child.kill(signal);
  } catch {
    // Already exited.
  }
  await process.done;
}

/** Writes suite files into a fresh folder for `--suites-dir`. */
export async function suitesDir(suites: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "sis-e2e-suites-" });
  for (const [name, text] of Object.entries(suites)) {
    await Deno.writeTextFile(join(dir, `${name}.yaml`), text);
  }
  return dir;
}

/**
 * The results.json of the run whose stderr is given (the bundle sis named
 * in its first line), and the bundle folder: what `sis report merge` reads.
 */
export async function bundleResults(stderr: string): Promise<{ dir: string; results: RunResults }> {
  const dir = /bundle (\S+)\n/.exec(stderr)?.[1];
  if (dir === undefined) throw new Error(`sis named no run bundle on stderr:\n${stderr}`);
  return { dir, results: JSON.parse(await Deno.readTextFile(join(dir, "results.json"))) };
}

/**
 * Builds release kernels with a test-only Cargo `feature` into `outDir`
 * (beside build/, never over the plain kernels); a failed build throws
 * with cargo's output.
 */
export async function buildFeatureKernels(
  arches: readonly Arch[],
  feature: string,
  outDir: string,
): Promise<void> {
  const env = Deno.env.toObject();
  const progress = testContext().stderr;
  const toolchain = await requireRustToolchain(env, systemProbe);
  const linker = await requireLinker(env, systemProbe);
  await buildKernel(
    { root: ROOT, arches: [...arches], features: [feature], profile: "release", outDir },
    { toolchain, linkerVersion: linker.version, probe: systemProbe, env, progress, isTerminal: false },
  ).catch((error) => {
    throw new Error(`${feature} build failed: ${error}\n${progress.text}`);
  });
}
