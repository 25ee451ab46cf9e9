/** A cargo stand-in for engine unit tests: it installs a dummy ELF where the engine looks for each arch's kernel. */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { KernelBuilder, KernelRequest } from "../runs/kernels.ts";
import { buildPaths } from "../toolchain/build.ts";

/** Writes an ELF magic as each asked arch's installed kernel, and keeps every request in `requests` for the test to check. */
export function fakeKernelBuilder(root: string, requests: KernelRequest[] = []): KernelBuilder {
  return async (arches, request) => {
    requests.push(request);
    for (const arch of arches) {
      const { elf } = buildPaths(root, arch, request.outDir);
      await mkdir(dirname(elf), { recursive: true });
      await writeFile(elf, new Uint8Array([0x7f, 0x45, 0x4c, 0x46]));
    }
  };
}
