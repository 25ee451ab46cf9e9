/** Runs cargo with build-std for one or more arches and installs each ELF with its manifest under build/<arch>/. */
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { type Arch, TARGET_TRIPLE } from "../arch.ts";
import type { Output } from "../context.ts";
import { diskError } from "../disk_errors.ts";
import { FailedError, InterruptedError, UsageError } from "../errors.ts";
import { type BuildManifest, BuildManifestSchema, shellCommand } from "./manifest.ts";
import type { Probe } from "./probe.ts";
import type { RustToolchain } from "./rust.ts";

export type Profile = "release" | "debug";

/** What to build. */
export interface BuildRequest {
  /** Project root: the folder holding `kernel/` and `build/`. */
  readonly root: string;
  readonly arches: readonly Arch[];
  readonly features: readonly string[];
  readonly profile: Profile;
  /**
   * Install folder under the root, `build` by default. `sis chaos` installs
   * its chaos-feature kernels under `build/chaos` so they never replace the
   * plain kernels `sis test` boots.
   */
  readonly outDir?: string;
}

/** One cargo invocation: argv (never a shell string), the variables it adds, its directory. */
export interface CargoPlan {
  readonly argv: readonly string[];
  /** Variables added to the environment; recorded in the manifest to reproduce the build. */
  readonly env: Readonly<Record<string, string>>;
  /** Absolute path of kernel/. */
  readonly cwd: string;
}

/**
 * The cargo command for `request`. Several arches go into one invocation with
 * one `--target` each: cargo then schedules all three on both cores and takes
 * its build-directory lock once, where separate cargo processes would wait on
 * each other's lock anyway (measured in docs/BUILD.md).
 */
export function cargoPlan(toolchain: RustToolchain, request: BuildRequest): CargoPlan {
  const argv = [toolchain.cargo, "build", "-p", "sis-kernel"];
  for (const arch of request.arches) argv.push("--target", TARGET_TRIPLE[arch]);
  // build-std: no prebuilt core exists for these targets in Debian's packages
  // or without rustup's download server; compiler-builtins-mem provides
  // memcpy and friends, which a kernel without libc lacks.
  argv.push("-Zbuild-std=core,alloc,compiler_builtins", "-Zbuild-std-features=compiler-builtins-mem");
  if (request.profile === "release") argv.push("--release");
  if (request.features.length > 0) argv.push("--features", request.features.join(","));
  const env: Record<string, string> = { RUSTC: toolchain.rustc };
  // Stable rustc accepts -Z flags only with this (see RustToolchain.needsBootstrap).
  if (toolchain.needsBootstrap) env.RUSTC_BOOTSTRAP = "1";
  return { argv, env, cwd: join(request.root, "kernel") };
}

/**
 * The cargo command that builds the user programs of kernel/user (their own
 * workspace and target dir, always release: they are embedded in every
 * kernel profile) for the requested arches. `buildKernel` runs it first; the
 * kernel's build.rs embeds the ELFs from `USER_PROGRAMS_DIR`.
 */
export function userProgramsPlan(toolchain: RustToolchain, request: BuildRequest): CargoPlan {
  const argv = [toolchain.cargo, "build", "--release"];
  for (const arch of request.arches) argv.push("--target", TARGET_TRIPLE[arch]);
  argv.push("-Zbuild-std=core,compiler_builtins", "-Zbuild-std-features=compiler-builtins-mem");
  const env: Record<string, string> = { RUSTC: toolchain.rustc };
  if (toolchain.needsBootstrap) env.RUSTC_BOOTSTRAP = "1";
  return { argv, env, cwd: join(request.root, "kernel/user") };
}

/** Where user programs land (kernel/user's target dir), as the kernel's build.rs reads SIS_USER_PROGRAMS. */
export function userProgramsDir(root: string): string {
  return join(root, "kernel/user/target");
}

/** Where cargo leaves the ELF for `arch` (the workspace target dir; CARGO_TARGET_DIR is cleared). */
export function cargoElfPath(root: string, arch: Arch, profile: Profile): string {
  return join(root, "kernel/target", TARGET_TRIPLE[arch], profile, "sis-kernel");
}

/** Where `sis build` installs the ELF and manifest for `arch`. */
export function buildPaths(root: string, arch: Arch, outDir = "build"): { elf: string; manifest: string } {
  const dir = join(root, outDir, arch);
  return { elf: join(dir, "sis-kernel.elf"), manifest: join(dir, "manifest.json") };
}

/**
 * The `[features]` of kernel/sis-kernel/Cargo.toml, so an unknown feature is a
 * usage error naming the valid ones rather than a cargo error deep in a log.
 * Only the simple `name = [...]` lines a features table holds are read.
 */
export function parseCargoFeatures(cargoToml: string): string[] {
  const features: string[] = [];
  let inFeatures = false;
  for (const rawLine of cargoToml.split("\n")) {
    const line = rawLine.trim();
    if (line.startsWith("[")) {
      inFeatures = line === "[features]";
      continue;
    }
    if (!inFeatures) continue;
    const name = /^"?([A-Za-z0-9_-]+)"?\s*=/.exec(line)?.[1];
    if (name && name !== "default") features.push(name);
  }
  return features;
}

/** Splits and checks `--features a,b`: each must be a feature of the kernel crate. */
export function parseFeatureList(list: string, known: readonly string[]): string[] {
  const features = list.split(",").map((feature) => feature.trim()).filter((feature) => feature !== "");
  for (const feature of features) {
    if (!known.includes(feature)) {
      const valid = known.length > 0 ? known.join(", ") : "none";
      throw new UsageError(`Unknown kernel feature "${feature}" (valid: ${valid})`);
    }
  }
  return [...new Set(features)].sort();
}

/** What the build needs from outside: the toolchain, a probe for git, where to write progress. */
export interface BuildDependencies {
  readonly toolchain: RustToolchain;
  readonly linkerVersion: string;
  readonly probe: Probe;
  /** The caller's environment; the cargo child gets it plus the plan's variables. */
  readonly env: Readonly<Record<string, string>>;
  /** Cargo's lines go here when not on a terminal. */
  readonly progress: Output;
  /** On a terminal cargo writes straight to it, so its own progress bar shows. */
  readonly isTerminal: boolean;
  readonly now?: () => Date;
}

/** Builds every requested arch and returns the manifests written. */
export async function buildKernel(request: BuildRequest, deps: BuildDependencies): Promise<BuildManifest[]> {
  const plan = cargoPlan(deps.toolchain, request);
  const started = performance.now();
  const userCode = await runCargo(userProgramsPlan(deps.toolchain, request), deps);
  if (userCode !== 0) {
    throw new FailedError(
      `cargo build of the user programs (kernel/user) failed for ${
        request.arches.join(", ")
      } (exit code ${userCode})`,
      {
        fix: "see cargo's messages above",
      },
    );
  }
  const code = await runCargo({
    ...plan,
    env: { ...plan.env, SIS_USER_PROGRAMS: userProgramsDir(request.root) },
  }, deps);
  if (code !== 0) {
    throw new FailedError(`cargo build failed for ${request.arches.join(", ")} (exit code ${code})`, {
      fix: "see cargo's messages above",
    });
  }
  const buildSeconds = (performance.now() - started) / 1000;
  const [commit, dirty] = await gitState(deps.probe, request.root);
  const manifests: BuildManifest[] = [];
  for (const arch of request.arches) {
    const single = cargoPlan(deps.toolchain, { ...request, arches: [arch] });
    const paths = buildPaths(request.root, arch, request.outDir);
    // A full or read-only build/ is the machine's problem (exit 3), named with its path and errno.
    const { sha256, sizeBytes } = await installFile(
      cargoElfPath(request.root, arch, request.profile),
      paths.elf,
    ).catch((error) => Promise.reject(diskError(error, paths.elf)));
    const manifest = BuildManifestSchema.parse({
      schema: 1,
      arch,
      target: TARGET_TRIPLE[arch],
      profile: request.profile,
      features: [...request.features],
      elf: relative(request.root, paths.elf),
      sha256,
      sizeBytes,
      rustc: deps.toolchain.rustcVersion,
      cargo: deps.toolchain.cargoVersion,
      linker: deps.linkerVersion,
      commit,
      dirty,
      builtAt: (deps.now?.() ?? new Date()).toISOString(),
      buildSeconds: Math.round(buildSeconds * 1000) / 1000,
      command: {
        cwd: "kernel",
        env: { ...single.env },
        argv: [...single.argv],
        shell: shellCommand("kernel", single.env, single.argv),
      },
    });
    await writeAtomically(paths.manifest, `${JSON.stringify(manifest, null, 2)}\n`)
      .catch((error) => Promise.reject(diskError(error, paths.manifest)));
    manifests.push(manifest);
  }
  return manifests;
}

/** Runs cargo: inherited stdio on a terminal, otherwise its lines relayed to `progress`. */
async function runCargo(plan: CargoPlan, deps: BuildDependencies): Promise<number> {
  const env: Record<string, string> = { ...deps.env, ...plan.env, RUST_BACKTRACE: "0" };
  // The ELF must land in kernel/target (user programs: kernel/user/target),
  // where cargoElfPath and the kernel's build.rs look for it.
  delete env.CARGO_TARGET_DIR;
  delete env.CARGO_BUILD_TARGET_DIR;
  const args = plan.argv.slice(1);
  if (!deps.isTerminal) args.push("--color", "never");

  // SIGINT or SIGTERM to sis must not leave cargo running on its own: pass
  // the signal on, wait for cargo to stop, then report the interruption.
  // The listeners go in before cargo starts: on a busy machine cargo can run
  // (and someone can signal sis) before the statement after spawn() does.
  // A signal's callback runs from the event loop, so `child` is set by then.
  let child: Deno.ChildProcess | undefined;
  let stoppedBy: "SIGINT" | "SIGTERM" | undefined;
  const forward = (signal: "SIGINT" | "SIGTERM") => () => {
    stoppedBy ??= signal;
    try {
      child?.kill(signal);
    } catch { /* already exited */ }
  };
  const listeners = [["SIGINT", forward("SIGINT")], ["SIGTERM", forward("SIGTERM")]] as const;
  for (const [signal, listener] of listeners) Deno.addSignalListener(signal, listener);
  try {
    try {
      child = new Deno.Command(plan.argv[0], {
        args,
        cwd: plan.cwd,
        env,
        clearEnv: true,
        stdin: "null",
        stdout: deps.isTerminal ? "inherit" : "piped",
        stderr: deps.isTerminal ? "inherit" : "piped",
      }).spawn();
    } catch (error) {
      throw new FailedError(
        `Cannot start ${plan.argv[0]}: ${error instanceof Error ? error.message : error}`,
        {
          fix: "run 'sis doctor'",
        },
      );
    }
    if (!deps.isTerminal) {
      await Promise.all([relayLines(child.stdout, deps.progress), relayLines(child.stderr, deps.progress)]);
    }
    const { code } = await child.status;
    if (stoppedBy) throw new InterruptedError(stoppedBy, "cargo build");
    return code;
  } finally {
    for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
  }
}

/** Copies whole lines from a stream to an output as they arrive. */
async function relayLines(stream: ReadableStream<Uint8Array>, output: Output): Promise<void> {
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    const end = pending.lastIndexOf("\n");
    if (end >= 0) {
      output.write(pending.slice(0, end + 1));
      pending = pending.slice(end + 1);
    }
  }
  if (pending !== "") output.write(`${pending}\n`);
}

/** The commit and whether kernel/ is dirty; nulls outside a git checkout or without git. */
async function gitState(probe: Probe, root: string): Promise<[string | null, boolean | null]> {
  const head = await probe.run(["git", "-C", root, "rev-parse", "HEAD"]);
  if (head.code !== 0) return [null, null];
  const status = await probe.run(["git", "-C", root, "status", "--porcelain", "--", "kernel"]);
  return [head.stdout.trim(), status.code === 0 ? status.stdout.trim() !== "" : null];
}

/**
 * Copies `source` to `destination` through a temporary file and a rename, so
 * a reader (or a concurrent `sis test`) never sees a half-written ELF.
 */
async function installFile(
  source: string,
  destination: string,
): Promise<{ sha256: string; sizeBytes: number }> {
  try {
    await stat(source);
  } catch {
    throw new FailedError(`cargo succeeded but left no ELF at ${source}`);
  }
  await mkdir(dirname(destination), { recursive: true });
  const temporary = `${destination}.${Deno.pid}.tmp`;
  try {
    await copyFile(source, temporary);
    // Hash the copy itself, so the manifest describes exactly the installed bytes.
    const bytes = await readFile(temporary);
    await rename(temporary, destination);
    return { sha256: await sha256Hex(bytes), sizeBytes: bytes.length };
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Writes text through a temporary file and a rename (same reason as installFile). */
export async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${Deno.pid}.tmp`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Hex SHA-256, as `sha256sum` prints it. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
