/** Unit tests for run-dir housekeeping (launch itself is covered by the end-to-end tests with real QEMU). */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { removeStaleRunDirs } from "./machine.ts";

Deno.test("removeStaleRunDirs() removes only sis run dirs whose owner process is gone", async () => {
  const temp = await Deno.makeTempDir();
  try {
    // A pid that certainly existed and is now gone: a child we waited for.
    const child = new Deno.Command("true").spawn();
    await child.status;
    const deadPid = child.pid;
    const make = async (name: string, owner?: number) => {
      await Deno.mkdir(join(temp, name));
      if (owner !== undefined) await Deno.writeTextFile(join(temp, name, "owner.pid"), String(owner));
    };
    await make("sis-qemu-live", Deno.pid);
    await make("sis-qemu-dead", deadPid);
    await make("sis-qemu-no-owner");
    await make("other-dead", deadPid);
    assertEquals(await removeStaleRunDirs(temp), [join(temp, "sis-qemu-dead")]);
    const left = [...Deno.readDirSync(temp)].map((entry) => entry.name).sort();
    assertEquals(left, ["other-dead", "sis-qemu-live", "sis-qemu-no-owner"]);
  } finally {
    await Deno.remove(temp, { recursive: true });
  }
});
