/** The minimum tool versions the project declares (Rust: kernel/Cargo.toml `rust-version`; QEMU and Deno: here) and the comparison doctor and the build make. */
import { join } from "node:path";
import { EnvironmentError } from "../errors.ts";

/** QEMU: Debian bookworm's 7.2, the version every boot path here was checked with (docs/BOOT.md). */
export const MIN_QEMU_VERSION = "7.2.0";

/** Deno: the launcher's pinned 2.9.6 (older ones lack APIs sis uses, such as `using` on files). */
export const MIN_DENO_VERSION = "2.9.6";

/** The numeric parts of the first `x.y[.z]` in `text` (`rustc 1.85.0 (…)` gives [1, 85, 0]). */
export function parseVersion(text: string): number[] | undefined {
  const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)] : undefined;
}

/** Whether the version in `found` is at least `minimum` (false when `found` names no version). */
export function isAtLeast(found: string, minimum: string): boolean {
  const have = parseVersion(found);
  const need = parseVersion(minimum)!;
  if (!have) return false;
  for (let index = 0; index < 3; index++) {
    if (have[index] !== need[index]) return have[index] > need[index];
  }
  return true;
}

/** `rust-version` of the kernel workspace (`[workspace.package]` in kernel/Cargo.toml), if declared. */
export async function declaredRustVersion(root: string): Promise<string | undefined> {
  const text = await Deno.readTextFile(join(root, "kernel", "Cargo.toml")).catch(() => "");
  return /^rust-version\s*=\s*"([^"]+)"/m.exec(text)?.[1];
}

/** What to install for a too-old Rust, in the same words as doctor and the build. */
export const RUST_UPGRADE_FIX =
  "install rustc-web, cargo-web and rust-web-src from Debian's bookworm-updates or bookworm-security " +
  "(1.96 there; bookworm main has 1.85), or point SIS_RUSTC/SIS_CARGO at a newer toolchain";

/** Refuses (exit 3) a rustc older than the kernel's declared `rust-version`, before cargo fails with E0658. */
export async function requireRustVersion(rustcVersion: string, root: string): Promise<void> {
  const minimum = await declaredRustVersion(root);
  if (minimum && !isAtLeast(rustcVersion, minimum)) {
    throw new EnvironmentError(
      `${rustcVersion} is older than the kernel's rust-version ${minimum} (kernel/Cargo.toml)`,
      { fix: RUST_UPGRADE_FIX },
    );
  }
}
