/** Chaos workloads as data: the exact commands a cell sends (setup, faulted operations, health checks), so a run bundle can replay them. */
import { type ChaosMode, MODE_SPECS, type OpKind } from "./modes.ts";

/** One workload operation: a shell command that reaches the mode's injection point. */
export interface Op {
  kind: OpKind;
  command: string;
  /** For writes: the file written, so the checker can tell which files a fault touched. */
  path?: string;
}

/** A file written before any fault, checksummed before and after: the "data intact" check. */
export interface KeptFile {
  path: string;
  text: string;
}

/** Everything one chaos cell sends, in order; stored in the run bundle as `plan.json`. */
export interface CellPlan {
  schema: 1;
  mode: ChaosMode;
  ratePercent: number;
  /** Decimal u64, kept as text: seeds above 2^53 must survive JSON. */
  seed: string;
  /** slow_io's delay per injection, µs. */
  delayUs: number;
  /** Commands before the faults (mode none); each must succeed. */
  setup: string[];
  keep: KeptFile[];
  /** Commands that arm the faults: seed, rate, delay, mode. */
  arm: string[];
  /** The faulted workload; run again after `chaos mode none` for the recovery check. */
  ops: Op[];
  /** Sent after every operation: the kernel must keep answering. */
  health: { command: string; expect: string };
  /**
   * Read before and after the faulted workload when the mode has device
   * counters (`net stats` for network_fail): a send that failed must not be
   * counted as sent.
   */
  deviceStats?: string;
  /**
   * network_fail with a NIC: bytes sent through the guest's TCP echo
   * service while armed (after the workload) and again after recovery;
   * `netstat` before and after gives the frames dropped at the driver.
   */
  echo?: { bytes: number };
}

/**
 * network_fail's echo payload. Small on purpose: at 30 % loss each way,
 * QEMU's slirp (1 s minimum retransmission timeout, no SACK) and smoltcp
 * move about 0.3 KiB/s (measured: 42 KiB in 120 s), and every dropped frame
 * is a log record on the serial console (docs/NETWORK.md).
 */
export const DEFAULT_ECHO_BYTES = 16 * 1024;

export interface PlanOptions {
  mode: ChaosMode;
  ratePercent: number;
  seed: string;
  ops: number;
  delayUs?: number;
  /** Files written before the faults. */
  keepFiles?: number;
}

/** Default delay for slow_io: large enough to stand out of TCG's noise, small enough for CI. */
export const DEFAULT_DELAY_US = 20_000;
/** The folder the workload writes its files in (and the kept files live in). */
export const WORKLOAD_DIR = "/chaos";
export const DEFAULT_OPS = 40;
export const MAX_OPS = 10_000;
const U64_MAX = (1n << 64n) - 1n;

/** Checks a seed argument: decimal or 0x hex u64, as `chaos seed` accepts; returned as decimal text. */
export function parseSeed(text: string): string | undefined {
  if (!/^(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})$/.test(text)) return undefined;
  const value = BigInt(text);
  return value <= U64_MAX ? value.toString() : undefined;
}

/** A short deterministic text for operation `index`, one word (the shell splits on spaces). */
function opText(index: number): string {
  return `chaos-${String(index).padStart(4, "0")}-${((index * 2654435761) >>> 0).toString(16)}`;
}

/** The operation of `kind` number `index`; sizes vary so a fault is not tied to one size. */
export function makeOp(kind: OpKind, index: number): Op {
  switch (kind) {
    case "write": {
      const path = `${WORKLOAD_DIR}/op${index}`;
      return { kind, command: `write ${path} ${opText(index)}`, path };
    }
    case "alloc":
      return { kind, command: `alloc ${1024 * (1 + (index % 16))}` };
    case "net":
      return { kind, command: `net send ${64 + ((index * 97) % 1437)}` };
  }
}

/** The whole plan of one cell. Pure: the same options give the same commands. */
export function planCell(options: PlanOptions): CellPlan {
  const spec = MODE_SPECS[options.mode];
  if (!Number.isInteger(options.ratePercent) || options.ratePercent < 0 || options.ratePercent > 100) {
    throw new RangeError(`rate must be 0-100, got ${options.ratePercent}`);
  }
  if (!Number.isInteger(options.ops) || options.ops < 1 || options.ops > MAX_OPS) {
    throw new RangeError(`ops must be 1-${MAX_OPS}, got ${options.ops}`);
  }
  const keep = Array.from({ length: options.keepFiles ?? 4 }, (_, index) => ({
    path: `/chaos/keep${index}`,
    text: `kept-${index}-${opText(1000 + index)}`,
  }));
  const delayUs = options.delayUs ?? DEFAULT_DELAY_US;
  const arm = [`chaos seed ${options.seed}`, `chaos rate ${options.ratePercent}`];
  if (options.mode === "slow_io") arm.push(`chaos delay ${delayUs}`);
  arm.push(`chaos mode ${options.mode}`);
  return {
    schema: 1,
    mode: options.mode,
    ratePercent: options.ratePercent,
    seed: options.seed,
    delayUs,
    // JSON logs: each injection record parses without guessing at the human format.
    setup: [
      "logctl json",
      "chaos reset",
      "mkdir /chaos",
      ...keep.map((file) => `write ${file.path} ${file.text}`),
    ],
    keep,
    arm,
    ops: Array.from({ length: options.ops }, (_, index) => makeOp(spec.ops[index % spec.ops.length], index)),
    health: { command: "echo alive", expect: "alive" },
    ...(options.mode === "network_fail" ? { deviceStats: "net stats" } : {}),
    // At 100 % no TCP handshake can complete: the echo runs at every lower rate.
    ...(options.mode === "network_fail" && options.ratePercent < 100
      ? { echo: { bytes: DEFAULT_ECHO_BYTES } }
      : {}),
  };
}
