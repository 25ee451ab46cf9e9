/** Unit tests for the per-arch exit-status mapping and the QEMU argv. */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { BUILTIN_CONFIGS, exitOutcome, PROFILES, qemuArgv } from "./profiles.ts";

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
  const argv = qemuArgv(PROFILES.riscv64, BUILTIN_CONFIGS.lowmem, "/k/sis kernel.elf", {
    serialSocket: "/r/serial.sock",
    qmpSocket: "/r/qmp.sock",
    serialLog: "/r/serial.log",
  });
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
