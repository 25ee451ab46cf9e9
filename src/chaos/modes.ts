/** The chaos modes as data: the kernel point each hits, the errno a failing command returns, and the workload that reaches it. */

import { CHAOS_MODES, type ChaosMode } from "./mode_names.ts";

export { CHAOS_MODES, type ChaosMode };

/** What kind of workload operation reaches a point. */
export type OpKind = "write" | "alloc" | "net";

/** One mode's contract with the kernel. */
export interface ModeSpec {
  readonly name: ChaosMode;
  /** The injection point name the kernel logs (`point` of the record). */
  readonly point: string;
  /** What an injection does. */
  readonly effect: "fail" | "panic" | "delay";
  /** For `fail`: the errno name and number a failing command must return. */
  readonly errno?: { readonly name: string; readonly code: number };
  /** The operations of this mode's workload, cycled in this order. */
  readonly ops: readonly OpKind[];
  /** Printed with the mode's results (what is real and what is a stand-in). */
  readonly note?: string;
}

/** Errno numbers as the kernel's sis-abi defines them (Linux numbering). */
export const ERRNO = {
  EIO: 5,
  ENOMEM: 12,
  ENOSPC: 28,
  ENETDOWN: 100,
} as const;

export const MODE_SPECS: Readonly<Record<ChaosMode, ModeSpec>> = {
  disk_full: {
    name: "disk_full",
    point: "block_write",
    effect: "fail",
    errno: { name: "ENOSPC", code: ERRNO.ENOSPC },
    ops: ["write"],
  },
  disk_fail: {
    name: "disk_fail",
    point: "block_write",
    effect: "fail",
    errno: { name: "EIO", code: ERRNO.EIO },
    ops: ["write"],
  },
  network_fail: {
    name: "network_fail",
    point: "network_send",
    effect: "fail",
    errno: { name: "ENETDOWN", code: ERRNO.ENETDOWN },
    ops: ["net"],
    note:
      "acts on the null network device of `net send` (and drops frames at the virtio-net driver when a NIC is up)",
  },
  memory_pressure: {
    name: "memory_pressure",
    point: "allocation",
    effect: "fail",
    errno: { name: "ENOMEM", code: ERRNO.ENOMEM },
    ops: ["alloc"],
  },
  random_panic: {
    name: "random_panic",
    point: "panic_point",
    effect: "panic",
    ops: ["write", "alloc", "net"],
  },
  slow_io: {
    name: "slow_io",
    point: "io_delay",
    effect: "delay",
    ops: ["write"],
  },
};

export function isChaosMode(value: string): value is ChaosMode {
  return (CHAOS_MODES as readonly string[]).includes(value);
}
