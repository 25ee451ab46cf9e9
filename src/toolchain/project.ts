/** Finds the project root (the checkout holding kernel/) from where sis was started. */
import { dirname, join, resolve } from "node:path";
import { UsageError } from "../errors.ts";
import type { Probe } from "./probe.ts";

/** The file that marks a sis checkout. */
const MARKER = "kernel/sis-kernel/Cargo.toml";

/**
 * Walks up from `cwd` to the first folder holding kernel/sis-kernel; SIS_ROOT
 * overrides the walk (the launcher does not set it: sis works from any
 * subfolder, like git).
 */
export async function findProjectRoot(
  cwd: string,
  env: Readonly<Record<string, string>>,
  probe: Probe,
): Promise<string> {
  if (env.SIS_ROOT) {
    const root = resolve(cwd, env.SIS_ROOT);
    if (await probe.exists(join(root, MARKER))) return root;
    throw new UsageError(`SIS_ROOT=${env.SIS_ROOT} is not a sis checkout (no ${MARKER})`);
  }
  let dir = resolve(cwd);
  for (;;) {
    if (await probe.exists(join(dir, MARKER))) return dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new UsageError(`Not inside a sis checkout: no ${MARKER} in ${resolve(cwd)} or above`, {
    fix: "cd into the repository, or set SIS_ROOT",
  });
}
