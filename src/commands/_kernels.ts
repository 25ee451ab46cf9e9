/** Shared by `sis test` and `sis run`: find build/<arch>/sis-kernel.elf, building it with `sis build` when missing. */
import { readFile, stat } from "node:fs/promises";
import type { Arch } from "../arch.ts";
import type { CommandContext } from "../context.ts";
import { buildPaths, sha256Hex } from "../toolchain/build.ts";
import { runBuild } from "./build.ts";

/** Path and sha256 of each arch's ELF, building the missing ones first (release, like `sis build`). */
export async function ensureKernels(
  root: string,
  arches: readonly Arch[],
  context: CommandContext,
): Promise<Record<string, { path: string; sha256: string }>> {
  const missing: Arch[] = [];
  for (const arch of arches) {
    if (!(await stat(buildPaths(root, arch).elf).catch(() => undefined))) missing.push(arch);
  }
  if (missing.length > 0) {
    context.stderr.write(`sis: no kernel built for ${missing.join(", ")}: building it first\n`);
    // One cargo invocation when all three are missing; per arch otherwise.
    const choices = missing.length === 3 ? ["all" as const] : missing;
    for (const arch of choices) {
      // Build progress goes to stderr so stdout stays the test report.
      const code = await runBuild({ command: "build", arch, features: "", debug: false }, {
        ...context,
        stdout: context.stderr,
      });
      if (code !== 0) return Promise.reject(new Error(`sis build --arch ${arch} exited with ${code}`));
    }
  }
  const kernels: Record<string, { path: string; sha256: string }> = {};
  for (const arch of arches) {
    const path = buildPaths(root, arch).elf;
    kernels[arch] = { path, sha256: await sha256Hex(await readFile(path)) };
  }
  return kernels;
}
