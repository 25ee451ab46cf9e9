/**
 * x86_64 secondaries that check in after boot stopped waiting for them
 * (docs/boot-x86_64.md, "Late secondaries"). On a loaded host a vCPU thread
 * can be starved past the check-in wait; such a CPU used to run into the
 * trampoline page boot had already unmapped and reset the machine with a
 * triple fault. The `late-secondary` build closes the check-in before it
 * sends the SIPIs, so every secondary is late on every boot: each must park
 * with a log line while the kernel runs on with the boot CPU alone.
 */
import assert from "node:assert/strict";
import type { MachineConfig } from "../../src/qemu/profiles.ts";
import { buildPaths } from "../../src/toolchain/build.ts";
import { withFramedKernel } from "./_boot.ts";
import { buildFeatureKernels, ROOT } from "./_harness.ts";

/** Test kernels go beside the plain ones, never over them. */
const LATE_BUILD_DIR = "build/late-secondary";
const SECONDARIES = 3;
const FOUR_CPUS: MachineConfig = {
  name: "late-secondary",
  memoryMiB: 512,
  cpus: 1 + SECONDARIES,
  network: false,
  extraArgs: [],
  description: "512 MiB, 4 CPUs, no NIC",
};
/** `dmesg` round trips to wait for the parked CPUs' lines (each takes real time). */
const DMESG_ATTEMPTS = 200;

Deno.test("x86_64: secondaries that check in late park with a log line and the kernel runs on", async () => {
  await buildFeatureKernels(["x86_64"], "late-secondary", LATE_BUILD_DIR);
  const kernelPath = buildPaths(ROOT, "x86_64", LATE_BUILD_DIR).elf;
  await withFramedKernel(
    { arch: "x86_64", config: FOUR_CPUS, kernelPath },
    60_000,
    async (session, machine) => {
      // Each parked CPU says so once the kernel logs; `dmesg` replays the
      // records, so this waits for the lines themselves, however late.
      let parked: number[] = [];
      for (let attempt = 0; attempt < DMESG_ATTEMPTS && parked.length < SECONDARIES; attempt++) {
        const dmesg = await session.run("dmesg");
        const text = JSON.stringify([dmesg.output, dmesg.logs]);
        parked = [...text.matchAll(/late cpu parked cpu=(\d+)/g)].map((match) => Number(match[1])).sort();
      }
      assert.deepEqual(parked, [1, 2, 3], "every secondary parks with a log line");
      // Only the boot CPU counts and schedules, and the machine still works.
      const cpus = await session.run("cpus");
      assert.equal(cpus.status, 0);
      assert.ok(cpus.output.includes("cpus online: 1"), cpus.output.join("\n"));
      assert.equal((await session.run("ls /")).status, 0);
      assert.equal(machine.hasExited, false);
    },
  );
});
