import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { testContext } from "../context.ts";
import { EnvironmentError } from "../errors.ts";
import { ensureKernels, type KernelBuilder } from "./kernels.ts";

/** A root like the Docker image's: the checkout marker and prebuilt kernels, no kernel sources. */
async function prebuiltRoot(withSources: boolean): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "sis-kernels-" });
  await mkdir(join(root, "kernel/sis-kernel"), { recursive: true });
  await writeFile(join(root, "kernel/sis-kernel/Cargo.toml"), '[package]\nname = "sis-kernel"\n');
  if (withSources) await mkdir(join(root, "kernel/sis-kernel/src"));
  await mkdir(join(root, "build/x86_64"), { recursive: true });
  await writeFile(join(root, "build/x86_64/sis-kernel.elf"), "prebuilt");
  return root;
}

Deno.test("ensureKernels() boots the installed kernel of a root without kernel sources, and builds where there are sources", async () => {
  const calls: string[][] = [];
  const builder: KernelBuilder = (arches) => {
    calls.push([...arches]);
    return Promise.resolve();
  };
  const prebuilt = await prebuiltRoot(false);
  const checkout = await prebuiltRoot(true);
  try {
    const kernels = await ensureKernels(prebuilt, ["x86_64"], testContext(), {}, builder);
    assert.equal(kernels.x86_64.path, join(prebuilt, "build/x86_64/sis-kernel.elf"));
    assert.equal(kernels.x86_64.built, false);
    assert.deepEqual(calls, []);
    await assert.rejects(
      ensureKernels(prebuilt, ["riscv64"], testContext(), {}, builder),
      (error: Error) =>
        error instanceof EnvironmentError &&
        /no kernel at \S+riscv64\S+ and \S+ has no kernel sources/.test(error.message),
    );
    await ensureKernels(checkout, ["x86_64"], testContext(), {}, builder);
    assert.deepEqual(calls, [["x86_64"]]);
  } finally {
    await Deno.remove(prebuilt, { recursive: true });
    await Deno.remove(checkout, { recursive: true });
  }
});
