/** Engine test doubles for the feature runners' unit tests: a scripted kernel as a booted machine, and a builder that installs a dummy ELF instead of running cargo. */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { BootedMachine } from "../runs/engine.ts";
import type { KernelBuilder, KernelRequest } from "../runs/kernels.ts";
import { buildPaths } from "../toolchain/build.ts";
import type { FakeConsoleKernel } from "./fake_console.ts";

/** `kernel` as the engine sees a QEMU: its console, and an exit that says whether it panicked (101) or powered off. */
export function fakeMachine(kernel: FakeConsoleKernel, argv: readonly string[]): BootedMachine {
  return {
    chunks: kernel.chunks,
    write: (bytes: Uint8Array) => kernel.write(bytes),
    argv,
    pid: 4242,
    shutdown: () =>
      Promise.resolve(
        kernel.hasPanicked
          ? { code: 101, signal: null, outcome: { kind: "panic" } }
          : { code: 0, signal: null, outcome: { kind: "poweroff", code: 0 } },
      ),
  };
}

/**
 * A cargo stand-in: writes an ELF magic where the engine looks for each
 * arch's kernel, and keeps every request in `requests` for the test to check.
 */
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
