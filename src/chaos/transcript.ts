/** What one chaos cell saw, command by command: the input of the checker and the content of `transcript.json` in a run bundle. */
import type { KernelFailure } from "../report/results.ts";
import type { ChaosStats, Injection } from "./records.ts";
import type { EchoTransfer } from "./echo.ts";
import type { CellPlan } from "./workload.ts";

/** One framed command as the checker needs it. */
export interface CommandRecord {
  command: string;
  /** Frame sequence number (lines sent since `frame on`). */
  seq: number;
  status: number;
  output: string[];
  durationMs: number;
  /** Injection records logged inside this command's frame. */
  injections: Injection[];
  warnings: string[];
}

/** An operation of the workload and the health check after it. */
export interface OpRecord {
  index: number;
  op: CommandRecord;
  health?: CommandRecord;
}

/** The panic a random_panic run (or a broken kernel) produced. */
export interface PanicRecord {
  message: string;
  stage: string;
  /** The operation being run, when the panic came during the workload. */
  opIndex?: number;
  /** The report lines (human report, last log records, JSON record). */
  report: string[];
  /** The decoded `{"level":"FATAL","subsystem":"panic",...}` record. */
  record?: Record<string, unknown>;
  /** Injection records logged in the panicking command's frame before the marker. */
  injections: Injection[];
}

export interface CellTranscript {
  plan: CellPlan;
  arch: string;
  setup: CommandRecord[];
  /** `cksum` of each kept file before the faults: command output, keyed by path. */
  keptBefore: Record<string, CommandRecord>;
  arm: CommandRecord[];
  ops: OpRecord[];
  /** The plan's `deviceStats` command before arming and after the faulted workload. */
  deviceBefore?: CommandRecord;
  deviceAfter?: CommandRecord;
  /** network_fail with a NIC: `netstat` before arming, the echo while armed, `netstat` once its connection closed. */
  netBefore?: CommandRecord;
  echo?: EchoTransfer;
  netAfter?: CommandRecord;
  /** The echo again after `chaos mode none`. */
  echoRecovery?: EchoTransfer;
  /** `chaos stats --json` right after the workload, still armed. */
  stats?: CommandRecord;
  /** `chaos mode none`. */
  disarm?: CommandRecord;
  /** After `chaos mode none`, before the recovery workload: `ls` of the workload's folder (write modes). */
  listing?: CommandRecord;
  /** After `chaos mode none`: `cat` of each file the faulted workload wrote successfully, keyed by path. */
  readBack: Record<string, CommandRecord>;
  recovery: OpRecord[];
  /** `chaos stats --json` after the recovery workload: no counter may have moved. */
  statsAfter?: CommandRecord;
  keptAfter: Record<string, CommandRecord>;
  /** Every injection record seen, in order, wherever it was logged. */
  injections: Injection[];
  panic?: PanicRecord;
  /** A panic, hang or exit that ended the session (a panic also fills `panic`). */
  kernelFailure?: KernelFailure;
  /** How QEMU ended, as mapped per arch (`{kind:"panic"}` for code 101). */
  qemuExit?: { kind: string; [key: string]: unknown };
}

/** A parsed stats record, or why it could not be read. */
export type StatsReading = { stats: ChaosStats } | { error: string };

/** A transcript with nothing recorded yet: where a cell starts, and what a cell that never booted keeps. */
export function emptyTranscript(arch: string, plan: CellPlan): CellTranscript {
  return {
    plan,
    arch,
    setup: [],
    keptBefore: {},
    arm: [],
    ops: [],
    readBack: {},
    recovery: [],
    keptAfter: {},
    injections: [],
  };
}
