/**
 * The kernel's own drivers on every arch in the real QEMU (issue 11,
 * docs/kernel-devices.md): the device bases, and on aarch64 and riscv64 the
 * console's and the timer's interrupt numbers, come from the firmware (no
 * fallback is logged on the stock machines), and the virtio-rng driver, a
 * `sis_hal::Rng`, answers `random` when the device is attached and ENODEV
 * when it is not.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Arch, ARCHES } from "../../src/arch.ts";
import { BUILTIN_CONFIGS, type MachineConfig, PROFILES } from "../../src/qemu/profiles.ts";
import type { Session } from "../../src/session/driver.ts";
import { freshKernels, withFramedKernel } from "./_boot.ts";

const kernels = await freshKernels();

/** The virtio-rng device for the arch's bus: virtio-mmio on `virt`, PCI on q35. */
function withEntropyDevice(arch: Arch): MachineConfig {
  const device = PROFILES[arch].nicDevice === "virtio-net-pci" ? "virtio-rng-pci" : "virtio-rng-device";
  return { ...BUILTIN_CONFIGS["no-network"], name: "rng", extraArgs: ["-device", device] };
}

function withKernel(
  arch: Arch,
  config: MachineConfig,
  body: (session: Session, transcript: () => Promise<string>) => Promise<void>,
): Promise<void> {
  return withFramedKernel(
    { arch, config, kernelPath: kernels[arch].path },
    20_000,
    (session, machine) => body(session, () => Deno.readTextFile(join(machine.runDir, "serial.log"))),
  );
}

/**
 * A `devices` warning: a base or interrupt number the firmware did not
 * give, or gave outside the mapped window or the controller's range.
 */
const FALLBACK_WARNING =
  /devices.*(not described by firmware|outside the device window|disagrees|out of range)/;

for (const arch of ARCHES) {
  Deno.test(`kernel on ${arch}: device bases come from the firmware and random reads the virtio-rng device`, async () => {
    await withKernel(arch, withEntropyDevice(arch), async (session, transcript) => {
      const first = await session.run("random 32");
      assert.equal(first.status, 0, first.output.join("\n"));
      const second = await session.run("random 32");
      assert.equal(second.status, 0, second.output.join("\n"));
      for (const result of [first, second]) {
        assert.equal(result.output.length, 1);
        assert.match(result.output[0], /^[0-9a-f]{64}$/);
      }
      assert.notEqual(first.output[0], second.output[0], "two reads of 32 random bytes differ");
      const refused = await session.run("random 257");
      assert.equal(refused.status, 22);
      assert.match(refused.output.join("\n"), /^error: EINVAL: byte count must be 1-256$/m);
      const log = await transcript();
      assert.match(log, /rng.*device up/);
      assert.doesNotMatch(log, FALLBACK_WARNING);
    });
  });

  Deno.test(`kernel on ${arch}: without an entropy device random answers ENODEV`, async () => {
    await withKernel(arch, BUILTIN_CONFIGS.default, async (session, transcript) => {
      const result = await session.run("random");
      assert.equal(result.status, 19);
      assert.match(result.output.join("\n"), /^error: ENODEV: no entropy device/m);
      const log = await transcript();
      assert.match(log, /rng.*no device/);
      assert.doesNotMatch(log, FALLBACK_WARNING);
    });
  });
}
