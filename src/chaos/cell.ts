/** Runs one chaos cell on a booted kernel: setup, arm, the faulted workload with health checks, stats, disarm, recovery, checksums. */
import { SisError } from "../errors.ts";
import { type ConsolePort, Session, SessionPanicError, type TimedEvent } from "../session/driver.ts";
import { kernelFailureOf } from "../session/runner.ts";
import { type Injection, parseInjection } from "./records.ts";
import { type CellTranscript, type CommandRecord, emptyTranscript, type OpRecord } from "./transcript.ts";
import { echoTransfer } from "./echo.ts";
import { type CellPlan, WORKLOAD_DIR } from "./workload.ts";

export interface CellRunOptions {
  bootTimeoutMs: number;
  commandTimeoutMs: number;
  /** Every serial event (run bundles). */
  onEvent?: (event: TimedEvent) => void;
  /** Called after each command, for progress. */
  onCommand?: (record: CommandRecord) => void;
  /** Clock for command durations (tests); performance.now() by default. */
  now?: () => number;
  /** Host port forwarded to the guest's echo service, when the machine has a NIC. */
  echoPort?: number;
}

/** Longest an echo transfer of the plan may take (TCG, 30 % loss, retransmission backoff). */
const ECHO_TIMEOUT_MS = 120_000;

/**
 * Drives the plan through a framed session and records everything the
 * checker needs. A kernel failure (panic, hang, exit) ends the cell and is
 * recorded, never thrown: under random_panic it is the expected outcome, and
 * otherwise the checker turns it into a failed assertion with its report.
 * Errors that are bugs in sis still propagate.
 */
export async function runCell(
  port: ConsolePort,
  arch: string,
  plan: CellPlan,
  options: CellRunOptions,
): Promise<{ transcript: CellTranscript; bootMs?: number }> {
  const bySeq = new Map<number, Injection[]>();
  const transcript: CellTranscript = emptyTranscript(arch, plan);
  const session = new Session(port, {
    bootTimeoutMs: options.bootTimeoutMs,
    commandTimeoutMs: options.commandTimeoutMs,
    now: options.now,
    onEvent: (event) => {
      options.onEvent?.(event);
      if (event.kind !== "log") return;
      const injection = parseInjection(event.text, event.record);
      if (!injection) return;
      transcript.injections.push(injection);
      if (event.seq !== undefined) {
        const list = bySeq.get(event.seq) ?? [];
        list.push(injection);
        bySeq.set(event.seq, list);
      }
    },
  });
  const exec = async (command: string): Promise<CommandRecord> => {
    const result = await session.run(command);
    const record: CommandRecord = {
      command,
      seq: result.seq,
      status: result.status,
      output: result.output,
      durationMs: result.durationMs,
      injections: bySeq.get(result.seq) ?? [],
      warnings: result.warnings,
    };
    options.onCommand?.(record);
    return record;
  };
  let currentOp: number | undefined;
  const workload = async (into: OpRecord[]) => {
    for (const [index, op] of plan.ops.entries()) {
      currentOp = index;
      const record: OpRecord = { index, op: await exec(op.command) };
      into.push(record);
      record.health = await exec(plan.health.command);
    }
    currentOp = undefined;
  };
  let bootMs: number | undefined;
  try {
    bootMs = (await session.boot()).bootMs;
    await session.enableFraming();
    for (const command of plan.setup) transcript.setup.push(await exec(command));
    for (const file of plan.keep) transcript.keptBefore[file.path] = await exec(`cksum ${file.path}`);
    if (plan.deviceStats) transcript.deviceBefore = await exec(plan.deviceStats);
    const echoPort = plan.echo ? options.echoPort : undefined;
    if (echoPort) transcript.netBefore = await exec("netstat");
    for (const command of plan.arm) transcript.arm.push(await exec(command));
    await workload(transcript.ops);
    if (echoPort && plan.echo) {
      // After the workload, so no frame of the transfer lands in an operation's frame.
      transcript.echo = await echoTransfer(echoPort, plan.echo.bytes, ECHO_TIMEOUT_MS);
      transcript.netAfter = await untilQuiet(exec);
    }
    if (plan.deviceStats) transcript.deviceAfter = await exec(plan.deviceStats);
    transcript.stats = await exec("chaos stats --json");
    transcript.disarm = await exec("chaos mode none");
    // Before the recovery workload rewrites them: what the faulted writes left behind.
    const written = transcript.ops.filter((record) => record.op.status === 0 && plan.ops[record.index].path);
    if (plan.ops.some((op) => op.path)) {
      transcript.listing = await exec(`ls ${WORKLOAD_DIR}`);
      for (const record of written) {
        const path = plan.ops[record.index].path!;
        transcript.readBack[path] = await exec(`cat ${path}`);
      }
    }
    await workload(transcript.recovery);
    if (echoPort && plan.echo) {
      transcript.echoRecovery = await echoTransfer(echoPort, plan.echo.bytes, ECHO_TIMEOUT_MS);
    }
    transcript.statsAfter = await exec("chaos stats --json");
    for (const file of plan.keep) transcript.keptAfter[file.path] = await exec(`cksum ${file.path}`);
  } catch (error) {
    if (!(error instanceof SisError)) throw error;
    transcript.kernelFailure = kernelFailureOf(error);
    if (error instanceof SessionPanicError) {
      const seq = /^command (\d+)$/.exec(error.stage)?.[1];
      transcript.panic = {
        message: error.message,
        stage: error.stage,
        opIndex: currentOp,
        report: error.report,
        record: error.record,
        injections: seq === undefined ? [] : bySeq.get(Number(seq)) ?? [],
      };
    }
  }
  return { transcript, bootMs };
}

/** Longest the echo connection may take to close after the transfer. */
const QUIET_TIMEOUT_MS = 30_000;

/**
 * `netstat` until only listening sockets remain: the echo connection has
 * closed, so no more of its frames (retransmissions, the close handshake)
 * can be dropped after the drop counters are read.
 */
async function untilQuiet(exec: (command: string) => Promise<CommandRecord>): Promise<CommandRecord> {
  const deadline = performance.now() + QUIET_TIMEOUT_MS;
  for (;;) {
    const record = await exec("netstat");
    const isQuiet = record.output.filter((line) => line.startsWith("tcp ")).every((line) =>
      / LISTEN$/.test(line)
    );
    if (isQuiet || record.status !== 0 || performance.now() > deadline) return record;
    // The kernel sleeps, not us: the net task runs meanwhile.
    await exec("sleep 20");
  }
}
