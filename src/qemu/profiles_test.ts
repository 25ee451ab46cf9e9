/** Unit tests for the per-arch exit-status mapping and the QEMU argv. */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { throws } from "node:assert/strict";
import { BUILTIN_CONFIGS, exitOutcome, PROFILES, qemuArgv } from "./profiles.ts";

const PATHS = { serialSocket: "/r/serial.sock", qmpSocket: "/r/qmp.sock", serialLog: "/r/serial.log" };
const FORWARDS = { metrics: 40001, echo: 40002 };

Deno.test("exitOutcome() maps each arch's QEMU status back to the kernel's code", () => {
  assertEquals(exitOutcome("riscv64", { code: 3, signal: null }), { kind: "poweroff", code: 3 });
  assertEquals(exitOutcome("aarch64", { code: 0, signal: null }), { kind: "poweroff", code: 0 });
  assertEquals(exitOutcome("aarch64", { code: 101, signal: null }), { kind: "panic" });
  assertEquals(exitOutcome("x86_64", { code: 7, signal: null }), { kind: "poweroff", code: 3 });
  assertEquals(exitOutcome("x86_64", { code: 0, signal: null }), { kind: "poweroff", code: 0 });
  assertEquals(exitOutcome("x86_64", { code: 203, signal: null }), { kind: "panic" });
  // Status 1 on x86 is QEMU's own failure, never a kernel code.
  assertEquals(exitOutcome("x86_64", { code: 1, signal: null }), { kind: "qemu-error", status: 1 });
  assertEquals(exitOutcome("x86_64", { code: 4, signal: null }), { kind: "qemu-error", status: 4 });
  assertEquals(exitOutcome("riscv64", { code: 137, signal: "SIGKILL" }), {
    kind: "killed",
    signal: "SIGKILL",
  });
});

Deno.test("qemuArgv() starts paused, has no monitor on stdio and applies the config", () => {
  const argv = qemuArgv(
    PROFILES.riscv64,
    BUILTIN_CONFIGS.lowmem,
    "/k/sis kernel.elf",
    PATHS,
    undefined,
    FORWARDS,
  );
  assertEquals(argv[0], "qemu-system-riscv64");
  assertEquals(argv.includes("-S"), true);
  assertEquals(argv[argv.indexOf("-m") + 1], "128M");
  assertEquals(argv[argv.indexOf("-smp") + 1], "2");
  // The path with a space stays one argument.
  assertEquals(argv[argv.indexOf("-kernel") + 1], "/k/sis kernel.elf");
  assertEquals(argv[argv.indexOf("-monitor") + 1], "none");
  assertEquals(argv.includes("-nographic"), false);
  assertEquals(argv[argv.indexOf("-qmp") + 1], "unix:/r/qmp.sock,server=on,wait=off");
});

Deno.test("qemuArgv() attaches the arch's virtio-net NIC with loopback-only forwards, except on no-network", () => {
  for (
    const [arch, device] of [["aarch64", "virtio-net-device"], ["riscv64", "virtio-net-device"], [
      "x86_64",
      "virtio-net-pci",
    ]] as const
  ) {
    const argv = qemuArgv(PROFILES[arch], BUILTIN_CONFIGS.default, "/k", PATHS, undefined, FORWARDS);
    assertEquals(
      argv[argv.indexOf("-netdev") + 1],
      "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:40001-:9100,hostfwd=tcp:127.0.0.1:40002-:7",
    );
    assertEquals(
      argv[argv.indexOf("-device", argv.indexOf("-netdev")) + 1],
      arch === "x86_64" ? `${device},netdev=n0,romfile=` : `${device},netdev=n0`,
    );
    const none = qemuArgv(PROFILES[arch], BUILTIN_CONFIGS["no-network"], "/k", PATHS);
    assertEquals(none.includes("-netdev"), false);
    assertEquals(none.some((arg) => arg.startsWith("virtio-net")), false);
  }
  throws(() => qemuArgv(PROFILES.x86_64, BUILTIN_CONFIGS.default, "/k", PATHS), /host forwards are required/);
});
