/** Minimal guest images (a few hand-encoded instructions that end QEMU at once): the reference for boot benchmarks. */
import type { Arch } from "../src/arch.ts";

/**
 * Each image does the least a guest can do: end the machine through the
 * same exit device the kernel uses. Timing QEMU from spawn to exit on it
 * measures QEMU's own start-up (plus firmware) on this machine, in the same
 * run as the kernel's figures, so the ratio is fair on any host.
 */

const words32 = (...words: number[]) => {
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  words.forEach((word, index) => view.setUint32(index * 4, word >>> 0, true));
  return bytes;
};

/**
 * riscv64, raw binary at 0x80200000 (OpenSBI jumps there in S-mode):
 * store 0x5555 (FINISHER_PASS) to the sifive_test device at 0x100000.
 */
const riscv64 = words32(
  0x001002b7, // lui  t0, 0x100        t0 = 0x100000
  0x00005337, // lui  t1, 0x5          t1 = 0x5000
  0x55530313, // addi t1, t1, 0x555    t1 = 0x5555
  0x0062a023, // sw   t1, 0(t0)        sifive_test: exit 0
  0x0000006f, // j    .
);

/**
 * aarch64, raw position-independent binary: semihosting SYS_EXIT (x0 =
 * 0x18, x1 -> [ADP_Stopped_ApplicationExit, 0]) via `hlt #0xf000`.
 */
const aarch64 = (() => {
  const code = words32(
    0xd2800300, // mov  x0, #0x18        SYS_EXIT
    0x10000061, // adr  x1, .+12         the parameter block below
    0xd45e0000, // hlt  #0xf000          semihosting call
    0xd503201f, // nop                   (aligns the block to 8 bytes)
  );
  const block = new Uint8Array(16);
  new DataView(block.buffer).setBigUint64(0, 0x20026n, true); // ADP_Stopped_ApplicationExit
  return new Uint8Array([...code, ...block]);
})();

/**
 * x86_64, a Multiboot v1 image with the a.out kludge (flags bit 16), which
 * QEMU's -kernel loads at 0x100000 and enters in 32-bit protected mode:
 * a 16-bit write of 0x2000 to port 0x604 (ACPI PM1a control, SLP_EN) powers
 * the q35 machine off with status 0.
 */
const x86_64 = (() => {
  const magic = 0x1badb002;
  const flags = 0x00010000;
  const base = 0x100000;
  const header = words32(magic, flags, -(magic + flags), base, base, 0, 0, base + 32);
  const code = [
    0x66,
    0xba,
    0x04,
    0x06, // mov dx, 0x604
    0x66,
    0xb8,
    0x00,
    0x20, // mov ax, 0x2000
    0x66,
    0xef, //             out dx, ax
    0xf4, //                   hlt
    0xeb,
    0xfd, //             jmp hlt
  ];
  return new Uint8Array([...header, ...code]);
})();

export const MINIMAL_IMAGES: Readonly<Record<Arch, Uint8Array>> = { aarch64, riscv64, x86_64 };
