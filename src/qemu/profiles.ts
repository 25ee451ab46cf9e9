/** Per-arch QEMU machine profiles, the named configs of the CI matrix, and the QEMU argv built from them. */
import type { Arch } from "../arch.ts";
import { PANIC_EXIT_CODE, POWEROFF_MAX } from "../protocol.ts";

/** How a QEMU exit status maps back to what the kernel meant (docs/PROTOCOL.md "Exit codes"). */
export type ExitOutcome =
  /** The kernel ended the machine with `poweroff <code>`. */
  | { kind: "poweroff"; code: number }
  /** The kernel panicked or took an unexpected exception (code 101). */
  | { kind: "panic" }
  /** QEMU itself failed (bad argument, missing file), or a code no kernel sends. */
  | { kind: "qemu-error"; status: number }
  /** QEMU was killed by a signal (our teardown, or someone else). */
  | { kind: "killed"; signal: string };

/** Everything arch-specific about booting the kernel under QEMU. */
export interface MachineProfile {
  readonly arch: Arch;
  /** The QEMU binary name, looked up on PATH. */
  readonly binary: string;
  /** The Debian/Ubuntu package that installs {@link binary} (doctor's fix, CI runners, the action). */
  readonly aptPackage: string;
  /** Machine, CPU, firmware and exit device arguments: the boot contract. */
  readonly machineArgs: readonly string[];
  /** What prints before the kernel (for the `firmware` stage and docs). */
  readonly firmware: string;
  /** The device the kernel's `poweroff` uses. */
  readonly exitDevice: string;
  /** Maps QEMU's exit status back to the kernel's code. */
  readonly exitStatusToCode: (status: number) => number | undefined;
  /** The virtio-net device for this machine: virtio-mmio on `virt`, PCI on q35. */
  readonly nicDevice: "virtio-net-device" | "virtio-net-pci";
}

/** Identity mapping (aarch64 semihosting, riscv64 sifive_test). */
const directCode = (status: number) => status;

/**
 * x86_64: `isa-debug-exit` exits with `(v << 1) | 1`, so an odd status s > 1
 * is code (s - 1) / 2; status 0 comes from the ACPI power-off (code 0);
 * status 1 is QEMU's own error and never a kernel code.
 */
const isaDebugExitCode = (status: number) => {
  if (status === 0) return 0;
  if (status > 1 && status % 2 === 1) return (status - 1) / 2;
  return undefined;
};

/** The boot contract per arch (issue 2 and docs/PROTOCOL.md), as data. */
export const PROFILES: Readonly<Record<Arch, MachineProfile>> = {
  aarch64: {
    arch: "aarch64",
    binary: "qemu-system-aarch64",
    aptPackage: "qemu-system-arm",
    // Semihosting carries the exit code (SYS_EXIT); without it poweroff codes are lost.
    machineArgs: ["-M", "virt", "-cpu", "cortex-a72", "-semihosting-config", "enable=on,target=native"],
    firmware: "none (the ELF is loaded directly)",
    exitDevice: "semihosting SYS_EXIT",
    exitStatusToCode: directCode,
    nicDevice: "virtio-net-device",
  },
  riscv64: {
    arch: "riscv64",
    binary: "qemu-system-riscv64",
    aptPackage: "qemu-system-misc",
    // OpenSBI is QEMU's default firmware; named explicitly so a changed default cannot surprise us.
    machineArgs: ["-M", "virt", "-bios", "default"],
    firmware: "OpenSBI (QEMU's default)",
    exitDevice: "sifive_test at 0x100000",
    exitStatusToCode: directCode,
    nicDevice: "virtio-net-device",
  },
  x86_64: {
    arch: "x86_64",
    binary: "qemu-system-x86_64",
    aptPackage: "qemu-system-x86",
    machineArgs: ["-M", "q35", "-device", "isa-debug-exit,iobase=0xf4,iosize=4"],
    firmware: "SeaBIOS (PVH boot of the ELF)",
    exitDevice: "isa-debug-exit at 0xf4, ACPI PM1a for code 0",
    exitStatusToCode: isaDebugExitCode,
    nicDevice: "virtio-net-pci",
  },
};

/** Maps a finished QEMU's status (or killing signal) to an {@link ExitOutcome}. */
export function exitOutcome(arch: Arch, status: { code: number; signal: string | null }): ExitOutcome {
  if (status.signal) return { kind: "killed", signal: status.signal };
  const code = PROFILES[arch].exitStatusToCode(status.code);
  if (code === PANIC_EXIT_CODE) return { kind: "panic" };
  if (code === undefined || code > POWEROFF_MAX) return { kind: "qemu-error", status: status.code };
  return { kind: "poweroff", code };
}

/** A named machine configuration of the CI matrix. */
export interface MachineConfig {
  readonly name: string;
  readonly memoryMiB: number;
  readonly cpus: number;
  /** Whether the virtio-net NIC is attached (user networking, docs/NETWORK.md). */
  readonly network: boolean;
  /** Extra QEMU arguments appended after ours (from sis.yaml). */
  readonly extraArgs: readonly string[];
  readonly description: string;
}

/** The built-in configs. Every one but `no-network` has the NIC. */
export const BUILTIN_CONFIGS: Readonly<Record<string, MachineConfig>> = {
  default: {
    name: "default",
    memoryMiB: 512,
    cpus: 2,
    network: true,
    extraArgs: [],
    description: "512 MiB, 2 CPUs",
  },
  lowmem: {
    name: "lowmem",
    memoryMiB: 128,
    cpus: 2,
    network: true,
    extraArgs: [],
    description: "128 MiB, 2 CPUs",
  },
  "smp-off": {
    name: "smp-off",
    memoryMiB: 512,
    cpus: 1,
    network: true,
    extraArgs: [],
    description: "512 MiB, 1 CPU",
  },
  smp: { name: "smp", memoryMiB: 512, cpus: 4, network: true, extraArgs: [], description: "512 MiB, 4 CPUs" },
  "no-network": {
    name: "no-network",
    memoryMiB: 512,
    cpus: 2,
    network: false,
    extraArgs: [],
    description: "512 MiB, 2 CPUs, no network interface",
  },
};

/** Where QEMU's sockets and logfile live for one machine. */
export interface RunDirPaths {
  readonly serialSocket: string;
  readonly qmpSocket: string;
  readonly serialLog: string;
}

/** The kernel's TCP services: `/metrics` (HTTP) and echo. */
export const GUEST_PORTS = { metrics: 9100, echo: 7 } as const;

/** Host ports on 127.0.0.1 forwarded to the guest's services. */
export interface HostForwards {
  readonly metrics: number;
  readonly echo: number;
}

/**
 * The NIC's arguments: QEMU's user network with `restrict=on` (the guest
 * reaches nothing outside; only the forwards come in), each forward bound
 * to 127.0.0.1 only.
 */
export function networkArgs(profile: MachineProfile, forwards: HostForwards): string[] {
  const hostfwd = (Object.keys(GUEST_PORTS) as (keyof HostForwards)[])
    .map((service) => `hostfwd=tcp:127.0.0.1:${forwards[service]}-:${GUEST_PORTS[service]}`);
  // romfile= (empty): no iPXE option ROM for SeaBIOS to run on x86_64;
  // the kernel drives the device itself, and the ROM cost ~40 ms of boot.
  const romless = profile.nicDevice === "virtio-net-pci" ? ",romfile=" : "";
  return [
    "-netdev",
    ["user", "id=n0", "restrict=on", ...hostfwd].join(","),
    "-device",
    `${profile.nicDevice},netdev=n0${romless}`,
  ];
}

/**
 * The full QEMU argv (binary first) for one boot. Built as an array and never
 * joined into a shell string: paths with spaces or quotes cannot break it.
 */
export function qemuArgv(
  profile: MachineProfile,
  config: MachineConfig,
  kernelPath: string,
  paths: RunDirPaths,
  binary: string = profile.binary,
  forwards?: HostForwards,
): string[] {
  if (config.network && !forwards) {
    throw new Error(`config "${config.name}" has a NIC: host forwards are required`);
  }
  return [
    binary,
    ...profile.machineArgs,
    // No default devices (VGA, NIC with user networking, CD-ROM, floppy):
    // the kernel uses none of them, and on x86_64 SeaBIOS would spend ~50 ms
    // initialising them and their option ROMs on every boot.
    "-nodefaults",
    "-m",
    `${config.memoryMiB}M`,
    "-smp",
    String(config.cpus),
    "-kernel",
    kernelPath,
    // No window and no monitor on stdio: the serial port is ours alone.
    "-display",
    "none",
    "-monitor",
    "none",
    "-serial",
    "chardev:ser0",
    "-chardev",
    `socket,id=ser0,path=${paths.serialSocket},server=on,wait=off,logfile=${paths.serialLog}`,
    "-qmp",
    `unix:${paths.qmpSocket},server=on,wait=off`,
    // Start paused: we connect to the serial socket first, then `cont`, so no byte is lost.
    "-S",
    // A reset (triple fault) ends QEMU instead of looping through the firmware forever.
    "-no-reboot",
    ...(config.network && forwards ? networkArgs(profile, forwards) : []),
    ...config.extraArgs,
  ];
}
