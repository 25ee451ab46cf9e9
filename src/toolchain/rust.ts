/** Finds a Rust toolchain able to build the kernel with build-std: Debian's rustc-web, a rustup nightly, or one named by SIS_CARGO/SIS_RUSTC. */
import { join } from "node:path";
import { EnvironmentError } from "../errors.ts";
import { type Probe, which } from "./probe.ts";

/** Where a candidate toolchain comes from; decides the fix we print for it. */
export type ToolchainKind = "custom" | "debian" | "rustup-nightly";

/** A pair of cargo and rustc to try, in order of preference. */
export interface RustCandidate {
  readonly kind: ToolchainKind;
  readonly cargo: string;
  readonly rustc: string;
}

/** A toolchain that passed every check and can build the kernel. */
export interface RustToolchain extends RustCandidate {
  /** First line of `rustc -vV`, e.g. `rustc 1.96.0 (ac68faa20 2026-05-25)`. */
  readonly rustcVersion: string;
  /** First line of `cargo --version`. */
  readonly cargoVersion: string;
  readonly sysroot: string;
  /** The standard library's source, which `-Zbuild-std` compiles. */
  readonly librarySource: string;
  /**
   * A stable or beta compiler rejects `-Z` flags unless RUSTC_BOOTSTRAP=1:
   * Debian's rustc-web is stable, so the build sets it; a nightly needs nothing.
   */
  readonly needsBootstrap: boolean;
}

/** What checking one candidate found. */
export type RustInspection =
  | { readonly candidate: RustCandidate; readonly ok: true; readonly toolchain: RustToolchain }
  | { readonly candidate: RustCandidate; readonly ok: false; readonly problem: string };

/** The fix printed whenever no usable toolchain is found. */
export const RUST_FIX = "run './sis setup' (apt packages rustc-web cargo-web rust-web-src)";

/**
 * The candidates, best first. An explicit SIS_CARGO/SIS_RUSTC wins; then
 * Debian's packages in /usr/bin (rustup's shims come first on PATH and would
 * pick a stable toolchain without rust-src, so we never take cargo from PATH
 * blindly); then a rustup nightly, if rustup knows one. A generator, so
 * rustup is only asked when the earlier candidates failed.
 */
export async function* rustCandidates(
  env: Readonly<Record<string, string>>,
  probe: Probe,
): AsyncGenerator<RustCandidate> {
  if (env.SIS_CARGO || env.SIS_RUSTC) {
    yield {
      kind: "custom",
      cargo: env.SIS_CARGO ?? "/usr/bin/cargo",
      rustc: env.SIS_RUSTC ?? "/usr/bin/rustc",
    };
  }
  yield { kind: "debian", cargo: "/usr/bin/cargo", rustc: "/usr/bin/rustc" };
  const rustup = await which(probe, "rustup", env);
  if (rustup) {
    // `rustup which` only resolves; it never downloads (rustup's server is unreachable here).
    const rustc = await probe.run([rustup, "which", "--toolchain", "nightly", "rustc"], env);
    const cargo = await probe.run([rustup, "which", "--toolchain", "nightly", "cargo"], env);
    if (rustc.code === 0 && cargo.code === 0) {
      yield { kind: "rustup-nightly", cargo: cargo.stdout.trim(), rustc: rustc.stdout.trim() };
    }
  }
}

/** Checks one candidate: both binaries run, and the library source build-std needs is there. */
export async function inspectRust(candidate: RustCandidate, probe: Probe): Promise<RustInspection> {
  const fail = (problem: string): RustInspection => ({ candidate, ok: false, problem });
  if (!(await probe.isExecutable(candidate.rustc))) return fail(`${candidate.rustc} not found`);
  if (!(await probe.isExecutable(candidate.cargo))) return fail(`${candidate.cargo} not found`);
  const verbose = await probe.run([candidate.rustc, "-vV"]);
  if (verbose.code !== 0) return fail(`${candidate.rustc} -vV failed: ${firstLine(verbose.stderr)}`);
  const rustcVersion = firstLine(verbose.stdout);
  const release = /^release: (.+)$/m.exec(verbose.stdout)?.[1] ?? "";
  const sysrootResult = await probe.run([candidate.rustc, "--print", "sysroot"]);
  if (sysrootResult.code !== 0) return fail(`${candidate.rustc} --print sysroot failed`);
  const sysroot = sysrootResult.stdout.trim();
  const librarySource = join(sysroot, "lib/rustlib/src/rust/library");
  if (!(await probe.exists(join(librarySource, "core/Cargo.toml")))) {
    return fail(`no standard library source in ${librarySource} (rust-src / rust-web-src missing)`);
  }
  const cargoResult = await probe.run([candidate.cargo, "--version"]);
  if (cargoResult.code !== 0) {
    return fail(`${candidate.cargo} --version failed: ${firstLine(cargoResult.stderr)}`);
  }
  return {
    candidate,
    ok: true,
    toolchain: {
      ...candidate,
      rustcVersion,
      cargoVersion: firstLine(cargoResult.stdout),
      sysroot,
      librarySource,
      needsBootstrap: !release.includes("nightly"),
    },
  };
}

/** Inspects every candidate in order; the first usable one is the toolchain. */
export async function findRustToolchain(
  env: Readonly<Record<string, string>>,
  probe: Probe,
): Promise<{ toolchain?: RustToolchain; inspections: RustInspection[] }> {
  const inspections: RustInspection[] = [];
  for await (const candidate of rustCandidates(env, probe)) {
    const inspection = await inspectRust(candidate, probe);
    inspections.push(inspection);
    if (inspection.ok) return { toolchain: inspection.toolchain, inspections };
  }
  return { inspections };
}

/** Like {@link findRustToolchain}, but a missing toolchain is an {@link EnvironmentError} (exit 3). */
export async function requireRustToolchain(
  env: Readonly<Record<string, string>>,
  probe: Probe,
): Promise<RustToolchain> {
  const { toolchain, inspections } = await findRustToolchain(env, probe);
  if (toolchain) return toolchain;
  const tried = inspections.map((inspection) => inspection.ok ? "" : inspection.problem).join("; ");
  throw new EnvironmentError(`No Rust toolchain can build the kernel with build-std: ${tried}`, {
    fix: RUST_FIX,
  });
}

/** The linker the kernel's .cargo/config.toml names for every target. */
export const LINKER = "ld.lld";

/** Finds ld.lld on PATH and its version line; an {@link EnvironmentError} when absent. */
export async function requireLinker(
  env: Readonly<Record<string, string>>,
  probe: Probe,
): Promise<{ path: string; version: string }> {
  const path = await which(probe, LINKER, env);
  if (!path) {
    throw new EnvironmentError(`${LINKER} not found on PATH (the kernel links with it)`, {
      fix: "run './sis setup' (apt package lld)",
    });
  }
  const result = await probe.run([path, "--version"]);
  return { path, version: firstLine(result.stdout) };
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0].trim();
}
