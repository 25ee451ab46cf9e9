/** The chaos checker: turns a cell's transcript into assertions (errno, logged injections, counters, rate, health, panic, recovery, data, latency). Pure, so a doctored transcript shows each assertion can fail. */
import {
  DEFAULT_CONFIDENCE,
  formatInterval,
  formatPercent,
  geometricTail,
  type Interval,
  rateAgreement,
} from "./binomial.ts";
import { predictedInjections } from "./generator.ts";
import { generatorProblems } from "./power.ts";
import { CHAOS_MODES, MODE_SPECS } from "./modes.ts";
import { type ChaosStats, cksumValue, type Injection, parseCounters, parseStats } from "./records.ts";
import type { CellTranscript, CommandRecord, OpRecord } from "./transcript.ts";

export type AssertionStatus = "passed" | "failed" | "skipped";

/** One checked property of a cell; its id is stable (JUnit test case names, docs). */
export interface Assertion {
  id: AssertionId;
  name: string;
  status: AssertionStatus;
  messages: string[];
}

export type AssertionId =
  | "setup"
  | "errno"
  | "logged"
  | "sequence"
  | "counters"
  | "rate"
  | "health"
  | "panic"
  | "recovery"
  | "intact"
  | "echo"
  | "files"
  | "latency";

/** The numbers a cell reports (terminal table, JSON). */
export interface CellSummary {
  ops: number;
  /** Operations that failed with the mode's errno. */
  failedOps: number;
  /** Injection records logged during the workload. */
  injections: number;
  /** network_fail with a NIC: frames the driver dropped (each one injection too). */
  droppedFrames?: number;
  /** The kernel's check count for the mode (trials), when stats were read. */
  checks?: number;
  /** Injections per check, as the kernel counted them. */
  observedRate?: number;
  interval?: Interval;
  rateVerdict?: string;
  /** slow_io: median of the recovery run (no delay), ms. */
  baselineMs?: number;
  /** slow_io: measured latency added per injection, ms. */
  addedLatencyMs?: number;
  /** random_panic: whether a panic was expected and happened. */
  expectedPanic?: boolean;
  panicMessage?: string;
  /** `file:line:column` from the decoded panic record. */
  panicLocation?: string;
  note?: string;
  /** The logged injections without timestamps: what determinism and replay compare. */
  sequence: Injection[];
}

export interface CellVerdict {
  /** `error`: the kernel panicked, hung or died when it should not have. */
  status: "passed" | "failed" | "error";
  assertions: Assertion[];
  summary: CellSummary;
}

const verdict = (id: AssertionId, name: string, problems: string[], notes: string[] = []): Assertion => ({
  id,
  name,
  status: problems.length ? "failed" : "passed",
  messages: problems.length ? problems : notes,
});
const skip = (id: AssertionId, name: string, why: string): Assertion => ({
  id,
  name,
  status: "skipped",
  messages: [why],
});

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function describe(record: CommandRecord): string {
  return `"${record.command}" -> status ${record.status}${
    record.output.length ? `: ${record.output.slice(0, 2).join(" | ")}` : ""
  }`;
}

function readStats(record: CommandRecord | undefined): { stats?: ChaosStats; error?: string } {
  if (!record) return { error: "not read" };
  if (record.status !== 0) return { error: `chaos stats --json failed: ${describe(record)}` };
  try {
    return { stats: parseStats(record.output) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Checks a transcript; `confidence` is the Wilson interval's level for the rate. */
export function checkCell(transcript: CellTranscript, confidence = DEFAULT_CONFIDENCE): CellVerdict {
  const { plan } = transcript;
  const spec = MODE_SPECS[plan.mode];
  const assertions: Assertion[] = [];
  const failure = transcript.kernelFailure;
  const isPanicMode = spec.effect === "panic";
  const panicked = transcript.panic !== undefined;
  const unexpectedFailure = failure !== undefined && !(isPanicMode && panicked && failure.kind === "panic");
  const notReached = failure
    ? `not reached: kernel ${failure.kind}${failure.stage ? ` at ${failure.stage}` : ""}`
    : "";
  const faultInjections = transcript.ops.flatMap((record) => record.op.injections);
  const summary: CellSummary = {
    ops: plan.ops.length,
    failedOps: 0,
    injections: isPanicMode
      ? transcript.injections.filter((i) => i.mode === plan.mode).length
      : faultInjections.length,
    sequence: transcript.injections,
    note: spec.note,
  };

  // setup: every command before the faults succeeds, or nothing after it means anything.
  {
    const problems: string[] = [];
    for (const record of [...transcript.setup, ...Object.values(transcript.keptBefore), ...transcript.arm]) {
      if (record.status !== 0) problems.push(`setup command failed: ${describe(record)}`);
    }
    for (const [path, record] of Object.entries(transcript.keptBefore)) {
      if (record.status === 0 && cksumValue(record.output) === undefined) {
        problems.push(`cksum ${path} printed nothing`);
      }
    }
    if (transcript.setup.some((record) => record.command.startsWith("chaos") && record.status === 127)) {
      problems.push("the kernel has no 'chaos' command: build it with --features chaos");
    }
    const expected = plan.setup.length + plan.keep.length + plan.arm.length;
    const ran = transcript.setup.length + Object.keys(transcript.keptBefore).length + transcript.arm.length;
    if (ran < expected) {
      problems.push(`${notReached || "not all setup commands ran"} (${ran} of ${expected})`);
    }
    assertions.push(verdict("setup", "setup and arming commands succeed", problems));
  }

  // errno: failures carry the mode's errno, and nothing else fails.
  const errnoName = spec.errno?.name;
  {
    const problems: string[] = [];
    for (const { index, op } of transcript.ops) {
      if (op.status === 0) continue;
      const isExpected = spec.errno !== undefined && op.status === spec.errno.code &&
        op.output.some((line) => line.startsWith(`error: ${spec.errno!.name}: `));
      if (isExpected) summary.failedOps++;
      else problems.push(`operation ${index} failed unexpectedly: ${describe(op)}`);
    }
    const name = errnoName
      ? `injected failures return ${errnoName} (${spec.errno!.code}) and nothing else fails`
      : "no operation fails";
    if (transcript.ops.length === 0 && failure && !(isPanicMode && panicked)) {
      assertions.push(skip("errno", name, notReached));
    } else {
      const before = isPanicMode && panicked ? " before the panic" : "";
      assertions.push(
        verdict("errno", name, problems, [
          `${summary.failedOps} of ${transcript.ops.length} operations failed${before}`,
        ]),
      );
    }
  }

  // logged: each failure is explained by an injection record of this mode, and vice versa.
  {
    const problems: string[] = [];
    for (const { index, op } of transcript.ops) {
      for (const injection of op.injections) {
        if (injection.mode !== plan.mode || injection.point !== spec.point) {
          problems.push(
            `operation ${index}: injection of ${injection.mode} at ${injection.point}, expected ${plan.mode} at ${spec.point}`,
          );
        }
        if (errnoName && injection.errno !== errnoName) {
          problems.push(
            `operation ${index}: injection logged errno ${injection.errno ?? "none"}, expected ${errnoName}`,
          );
        }
        if (
          spec.effect === "delay" && injection.delayUs !== undefined && injection.delayUs !== plan.delayUs
        ) {
          problems.push(`operation ${index}: delay ${injection.delayUs} µs logged, ${plan.delayUs} µs set`);
        }
      }
      if (spec.effect === "fail") {
        const failed = op.status !== 0;
        const logged = op.injections.length > 0;
        if (failed && !logged) {
          problems.push(`operation ${index} failed but no injection was logged: ${describe(op)}`);
        }
        if (!failed && logged) {
          problems.push(
            `operation ${index} succeeded although ${op.injections.length} injection(s) were logged`,
          );
        }
        const loggedErrno = op.injections[0]?.errno;
        if (failed && logged && !op.output.some((line) => line.startsWith(`error: ${loggedErrno}: `))) {
          problems.push(
            `operation ${index}: logged errno ${loggedErrno}, but the command said ${describe(op)}`,
          );
        }
        if (failed && op.injections.length > 1) {
          problems.push(`operation ${index}: ${op.injections.length} injections logged for one failure`);
        }
      }
    }
    for (const record of [...transcript.setup, ...transcript.arm]) {
      if (record.injections.length) {
        problems.push(`injection logged before arming, during "${record.command}"`);
      }
    }
    assertions.push(
      verdict(
        "logged",
        "every injection is logged where it happened, with the right mode, point and errno",
        problems,
        [
          `${transcript.injections.length} injection record(s)`,
        ],
      ),
    );
  }

  // sequence: records numbered 1..n with increasing check numbers: nothing lost or reordered.
  {
    const problems: string[] = [];
    transcript.injections.forEach((injection, index) => {
      if (injection.seq !== index + 1) problems.push(`record ${index + 1} has seq ${injection.seq}`);
      const previous = transcript.injections[index - 1];
      if (previous && injection.check <= previous.check) {
        problems.push(`record ${index + 1}: check ${injection.check} after check ${previous.check}`);
      }
    });
    assertions.push(
      verdict("sequence", "injection records are numbered 1..n in generator order", problems.slice(0, 5)),
    );
  }

  // counters and rate: the kernel's own counts agree with what was observed, and with the rate.
  const statsReading = readStats(transcript.stats);
  const counted = statsReading.stats?.modes[plan.mode];
  if (isPanicMode && panicked) {
    assertions.push(
      skip(
        "counters",
        "kernel counters equal the failures observed",
        "the kernel panicked on purpose: no stats",
      ),
    );
    const injection = transcript.panic!.injections.find((candidate) => candidate.mode === plan.mode) ??
      transcript.injections.at(-1);
    if (injection && plan.ratePercent > 0) {
      const tail = geometricTail(injection.check, plan.ratePercent);
      summary.checks = injection.check;
      summary.rateVerdict =
        `first injection at check ${injection.check}: P(this late | ${plan.ratePercent}%) = ${
          tail.toPrecision(3)
        }`;
      // Exact: the panic must come at the first check the seed's draws inject at this rate.
      const problems = generatorProblems(plan.seed, plan.ratePercent, injection.check, [injection.check]);
      assertions.push(
        verdict(
          "rate",
          `the panic comes at the check the seed's draws pick at ${plan.ratePercent}%`,
          problems,
          [summary.rateVerdict],
        ),
      );
    } else {
      assertions.push(verdict("rate", "the first panic comes when the rate makes plausible", [
        plan.ratePercent === 0 ? "panicked at rate 0" : "no random_panic injection record before the panic",
      ]));
    }
  } else if (!statsReading.stats || !counted) {
    const why = failure ? notReached : statsReading.error ?? "no stats";
    assertions.push(
      failure
        ? skip("counters", "kernel counters equal the failures observed", why)
        : verdict("counters", "kernel counters equal the failures observed", [why]),
    );
    assertions.push(
      failure ? skip("rate", `observed rate agrees with ${plan.ratePercent}%`, why) : verdict(
        "rate",
        `observed rate agrees with ${plan.ratePercent}%`,
        [why],
      ),
    );
  } else {
    const stats = statsReading.stats;
    const problems: string[] = [];
    if (stats.seed !== plan.seed) problems.push(`kernel reports seed ${stats.seed}, ${plan.seed} was set`);
    if (stats.rate !== plan.ratePercent) {
      problems.push(`kernel reports rate ${stats.rate}, ${plan.ratePercent} was set`);
    }
    if (stats.mode !== plan.mode) {
      problems.push(`kernel reports mode ${stats.mode} while armed with ${plan.mode}`);
    }
    const drops = driverDrops(transcript);
    const dropped = drops.counted ?? 0;
    if (drops.counted !== undefined) summary.droppedFrames = drops.counted;
    if (counted.injections !== summary.injections + dropped) {
      problems.push(
        `kernel counted ${counted.injections} injection(s), ${summary.injections} were logged` +
          (dropped ? ` in the operations and ${dropped} frame(s) dropped by the driver` : ""),
      );
    }
    if (spec.effect === "fail" && counted.injections !== summary.failedOps + dropped) {
      problems.push(
        `kernel counted ${counted.injections} injection(s), the CLI saw ${summary.failedOps} failure(s)` +
          (dropped ? ` and the driver ${dropped} dropped frame(s)` : ""),
      );
    }
    problems.push(...drops.problems);
    if (isPanicMode && counted.injections !== 0) {
      problems.push(`kernel counted ${counted.injections} random_panic injection(s) but did not panic`);
    }
    for (const other of CHAOS_MODES) {
      if (other !== plan.mode && stats.modes[other].injections !== 0) {
        problems.push(
          `mode ${other} counted ${stats.modes[other].injections} injection(s) while ${plan.mode} was armed`,
        );
      }
    }
    problems.push(...deviceCounterProblems(transcript));
    if (counted.checks < transcript.ops.length && spec.effect !== "panic") {
      problems.push(
        `only ${counted.checks} check(s) for ${transcript.ops.length} operations: the point is not on the path`,
      );
    }
    assertions.push(
      verdict("counters", "kernel counters equal the failures observed", problems, [
        `${counted.injections} injection(s) in ${counted.checks} check(s); ${summary.failedOps} failure(s) observed`,
      ]),
    );
    const rate = rateAgreement(counted.injections, counted.checks, plan.ratePercent, confidence);
    summary.checks = counted.checks;
    summary.observedRate = rate.observed;
    summary.interval = rate.interval;
    summary.rateVerdict = `${counted.injections}/${counted.checks} = ${formatPercent(rate.observed)}, ${
      formatInterval(rate.interval)
    }`;
    // The test with power (src/chaos/power.ts): the injections fall on exactly the
    // checks the seed's draws pick at this rate; the Wilson interval is shown beside it.
    const injectedChecks = transcript.injections
      .filter((injection) => injection.mode === plan.mode)
      .map((injection) => injection.check);
    assertions.push(
      verdict(
        "rate",
        `injections are the seed's draws at ${plan.ratePercent}%`,
        counted.checks === 0 && plan.ops.length > 0
          ? [`the ${spec.point} point was never reached: 0 checks in ${plan.ops.length} operations`]
          : generatorProblems(plan.seed, plan.ratePercent, counted.checks, injectedChecks),
        [summary.rateVerdict],
      ),
    );
  }

  // health: the kernel answered between every two operations.
  {
    const problems: string[] = [];
    for (const { index, health } of [...transcript.ops, ...transcript.recovery]) {
      if (!health) continue;
      if (health.status !== 0 || !health.output.some((line) => line.includes(plan.health.expect))) {
        problems.push(`health check after operation ${index} failed: ${describe(health)}`);
      }
    }
    // A malformed or out-of-step frame means the console itself misbehaved under the faults.
    const everything = [
      ...transcript.setup,
      ...Object.values(transcript.keptBefore),
      ...transcript.arm,
      ...[...transcript.ops, ...transcript.recovery].flatMap((record) =>
        [record.op, record.health ?? []].flat()
      ),
      ...[transcript.stats, transcript.disarm, transcript.statsAfter].filter((record) =>
        record !== undefined
      ),
      ...Object.values(transcript.keptAfter),
    ];
    for (const record of everything) {
      for (const warning of record.warnings) {
        problems.push(`"${record.command}": protocol warning: ${warning}`);
      }
    }
    assertions.push(verdict("health", "the kernel keeps answering between operations", problems.slice(0, 5)));
  }

  // panic: never, except under random_panic, where it must be detected, kept and decoded.
  if (isPanicMode && plan.ratePercent > 0) {
    const problems: string[] = [];
    const panic = transcript.panic;
    if (!panic) {
      if (failure) problems.push(failure.message);
      else if (counted) {
        // No panic is right only if the seed's draws inject at none of the checks made.
        const due = predictedInjections(plan.seed, plan.ratePercent, counted.checks);
        if (due.length > 0) {
          problems.push(
            `no panic in ${counted.checks} checks at rate ${plan.ratePercent}%, the seed's draws inject at check ${
              due[0]
            }`,
          );
        }
      } else problems.push("no panic and no stats to explain it");
    } else {
      summary.expectedPanic = true;
      summary.panicMessage = panic.message;
      if (typeof panic.record?.location === "string") summary.panicLocation = panic.record.location;
      if (panic.opIndex === undefined) problems.push(`panic outside the workload, at ${panic.stage}`);
      if (!panic.record) problems.push("no JSON panic record in the report");
      else if (panic.record.subsystem !== "panic") {
        problems.push(`panic record of subsystem ${panic.record.subsystem}`);
      }
      if (panic.report.length === 0) problems.push("the panic report is empty");
      if (
        !panic.injections.some((injection) => injection.mode === plan.mode && injection.effect === "panic")
      ) {
        problems.push("no random_panic injection record was logged before the panic");
      }
      if (transcript.qemuExit && transcript.qemuExit.kind !== "panic") {
        problems.push(`QEMU ended with ${JSON.stringify(transcript.qemuExit)}, not the panic exit code 101`);
      }
    }
    assertions.push(
      verdict(
        "panic",
        "the injected panic is detected, its report kept and decoded",
        problems,
        panic ? [`expected panic at operation ${panic.opIndex}: ${panic.message}`] : ["no injection fired"],
      ),
    );
  } else {
    assertions.push(
      verdict(
        "panic",
        "the kernel never panics or hangs",
        failure ? [failure.message, ...(failure.report ?? []).slice(-10)] : [],
      ),
    );
  }

  // recovery and data: chaos mode none brings back full service, and the old files are intact.
  const skipAfterPanic = isPanicMode && panicked
    ? "the kernel panicked on purpose: nothing to recover in this boot"
    : "";
  if (skipAfterPanic || (failure && transcript.statsAfter === undefined)) {
    const why = skipAfterPanic || notReached;
    assertions.push(skip("recovery", "after chaos mode none the workload succeeds completely", why));
    assertions.push(skip("intact", "data written before the faults is intact", why));
  } else {
    const problems: string[] = [];
    if (!transcript.disarm || transcript.disarm.status !== 0) {
      problems.push(`chaos mode none failed: ${transcript.disarm ? describe(transcript.disarm) : "not run"}`);
    }
    if (transcript.recovery.length !== plan.ops.length) {
      problems.push(`${transcript.recovery.length} of ${plan.ops.length} recovery operations ran`);
    }
    for (const { index, op } of transcript.recovery) {
      if (op.status !== 0) problems.push(`recovery operation ${index} failed: ${describe(op)}`);
      if (op.injections.length) {
        problems.push(`recovery operation ${index}: injection logged after chaos mode none`);
      }
    }
    const after = readStats(transcript.statsAfter).stats;
    if (statsReading.stats && after) {
      for (const mode of CHAOS_MODES) {
        const [before, now] = [statsReading.stats.modes[mode], after.modes[mode]];
        if (before.checks !== now.checks || before.injections !== now.injections) {
          problems.push(
            `${mode} counters moved after chaos mode none: ${JSON.stringify(before)} -> ${
              JSON.stringify(now)
            }`,
          );
        }
      }
    }
    assertions.push(
      verdict("recovery", "after chaos mode none the workload succeeds completely", problems.slice(0, 8)),
    );

    const damaged: string[] = [];
    for (const file of plan.keep) {
      const [before, now] = [transcript.keptBefore[file.path], transcript.keptAfter[file.path]];
      if (!before || !now) {
        damaged.push(`${file.path}: not checksummed ${before ? "after" : "before"} the faults`);
      } else if (now.status !== 0) damaged.push(`${file.path}: ${describe(now)}`);
      else if (cksumValue(now.output) !== cksumValue(before.output)) {
        damaged.push(
          `${file.path}: cksum was "${cksumValue(before.output)}", now "${cksumValue(now.output)}"`,
        );
      }
    }
    assertions.push(
      verdict("intact", "data written before the faults is intact", damaged, [
        `${plan.keep.length} file(s) unchanged`,
      ]),
    );
  }

  // files: a failed write leaves no file (not even a partial one), and every
  // file written while the faults were armed reads back exactly.
  if (plan.ops.some((op) => op.path)) {
    const name = "failed writes leave no file; files written under faults read back exactly";
    if (!transcript.listing) {
      assertions.push(skip("files", name, notReached || "no listing taken"));
    } else {
      assertions.push(verdict("files", name, fileProblems(transcript)));
    }
  }

  // latency: slow_io must really slow the operation down by about the delay.
  if (spec.effect === "delay") {
    const name = `each injection adds ${plan.delayUs / 1000} ms to a write: at least half, at most 3x`;
    const baseline = median(transcript.recovery.map((record) => record.op.durationMs));
    const delayed = transcript.ops.filter((record) => record.op.injections.length > 0);
    if (baseline === undefined) {
      assertions.push(skip("latency", name, notReached || "no baseline (recovery) run"));
    } else if (delayed.length === 0) {
      assertions.push(
        plan.ratePercent === 0
          ? skip("latency", name, "rate 0: no injection to measure")
          : verdict("latency", name, ["no operation was delayed"]),
      );
    } else {
      const perInjection = median(
        delayed.map((record: OpRecord) => (record.op.durationMs - baseline) / record.op.injections.length),
      )!;
      summary.baselineMs = baseline;
      summary.addedLatencyMs = Math.round(perInjection * 1000) / 1000;
      const expectedMs = plan.delayUs / 1000;
      const note =
        `added ${summary.addedLatencyMs} ms per injection (set ${expectedMs} ms; baseline ${baseline} ms)`;
      // Both sides, on the median over the delayed operations (a single host
      // stall on a shared runner must not decide it): too little is under half
      // the delay (the kernel did not wait), too much is over 3x the delay
      // beyond the operation's own time (the baseline: undelayed operations of
      // this same cell, so a loaded runner moves both sides together).
      const problems: string[] = [];
      if (perInjection < expectedMs * 0.5) problems.push(`${note}: less than half the delay`);
      if (perInjection > expectedMs * 3) problems.push(`${note}: more than 3x the delay`);
      assertions.push(verdict("latency", name, problems, [note]));
    }
  }

  if (plan.echo) assertions.push(echoAssertion(transcript, notReached));

  const failed = assertions.some((assertion) => assertion.status === "failed");
  return { status: unexpectedFailure ? "error" : failed ? "failed" : "passed", assertions, summary };
}

/**
 * network_fail: the device's tx counters moved by exactly the sends that
 * succeeded (a failed send must not be counted as sent, nor a sent one lost).
 */
function deviceCounterProblems(transcript: CellTranscript): string[] {
  const { deviceBefore: before, deviceAfter: after } = transcript;
  if (!transcript.plan.deviceStats) return [];
  if (!before || !after || before.status !== 0 || after.status !== 0) {
    return [`"${transcript.plan.deviceStats}" did not answer before and after the workload`];
  }
  const [was, now] = [parseCounters(before.output), parseCounters(after.output)];
  if (was.tx_packets === undefined || now.tx_packets === undefined) {
    return [`"${transcript.plan.deviceStats}" printed no tx_packets: ${after.output.join(" | ")}`];
  }
  const sent = transcript.ops.filter((record) => record.op.status === 0);
  const problems: string[] = [];
  if (now.tx_packets - was.tx_packets !== sent.length) {
    problems.push(
      `device counted ${now.tx_packets - was.tx_packets} packet(s) sent, ${sent.length} send(s) succeeded`,
    );
  }
  if (was.tx_bytes !== undefined && now.tx_bytes !== undefined) {
    const bytes = sent.reduce((sum, record) => sum + Number(record.op.command.split(" ")[2] ?? 0), 0);
    if (now.tx_bytes - was.tx_bytes !== bytes) {
      problems.push(
        `device counted ${now.tx_bytes - was.tx_bytes} byte(s) sent, the successful sends had ${bytes}`,
      );
    }
  }
  return problems;
}

/** The text an operation wrote: its command after `write <path> `. */
function writtenText(op: { command: string; path?: string }): string {
  return op.command.slice(`write ${op.path} `.length);
}

/** What is wrong with the workload folder after the faults (see the `files` assertion). */
function fileProblems(transcript: CellTranscript): string[] {
  const { plan } = transcript;
  const problems: string[] = [];
  const listing = transcript.listing!;
  if (listing.status !== 0) return [`${listing.command} failed: ${describe(listing)}`];
  // `ls` lines: kind, size, name (`-        8 op1`).
  const listed = new Map<string, number>();
  for (const line of listing.output) {
    const match = /^\S\s+(\d+)\s+(\S+)$/.exec(line.trim());
    if (match) listed.set(match[2], Number(match[1]));
  }
  const base = (path: string) => path.slice(path.lastIndexOf("/") + 1);
  const expected = new Set(plan.keep.map((file) => base(file.path)));
  for (const record of transcript.ops) {
    const op = plan.ops[record.index];
    if (!op.path) continue;
    const file = base(op.path);
    if (record.op.status !== 0) {
      if (listed.has(file)) {
        problems.push(
          `operation ${record.index} failed but left ${op.path} behind (${listed.get(file)} bytes)`,
        );
      }
      continue;
    }
    expected.add(file);
    const text = writtenText(op);
    // `write` stores its words and a newline (kernel fs.rs).
    const bytes = new TextEncoder().encode(text).length + 1;
    if (!listed.has(file)) problems.push(`operation ${record.index} succeeded but ${op.path} is missing`);
    else if (listed.get(file) !== bytes) {
      problems.push(`${op.path} is ${listed.get(file)} bytes, ${bytes} were written`);
    }
    const read = transcript.readBack[op.path];
    if (!read) problems.push(`${op.path} was not read back`);
    else if (read.status !== 0 || read.output.join("\n") !== text) {
      problems.push(
        `${op.path} reads back ${JSON.stringify(read.output.join("\n").slice(0, 60))}, not the text written`,
      );
    }
  }
  for (const file of listed.keys()) {
    if (!expected.has(file) && !problems.some((problem) => problem.includes(`/${file} `))) {
      problems.push(`unexpected file ${file} in the workload folder`);
    }
  }
  return problems.slice(0, 5);
}

/**
 * network_fail with a NIC: frames the driver dropped (netstat's rx_dropped +
 * tx_dropped moved by exactly the injections logged outside the operations'
 * frames: each drop is one logged, counted injection).
 */
function driverDrops(transcript: CellTranscript): { counted?: number; problems: string[] } {
  if (!transcript.plan.echo || !transcript.netBefore || !transcript.netAfter) return { problems: [] };
  const [was, now] = [parseCounters(transcript.netBefore.output), parseCounters(transcript.netAfter.output)];
  const names = ["rx_dropped", "tx_dropped"] as const;
  if (names.some((name) => was[name] === undefined || now[name] === undefined)) {
    return { problems: [`netstat printed no drop counters: ${transcript.netAfter.output.join(" | ")}`] };
  }
  const counted = names.reduce((sum, name) => sum + now[name] - was[name], 0);
  const inOps = new Set(
    transcript.ops.flatMap((record) => record.op.injections).map((injection) => injection.seq),
  );
  const outside =
    transcript.injections.filter((injection) =>
      injection.mode === transcript.plan.mode && !inOps.has(injection.seq)
    ).length;
  const problems = counted === outside ? [] : [
    `the driver counted ${counted} dropped frame(s), ${outside} injection(s) were logged outside the operations`,
  ];
  return { counted, problems };
}

/** The echo payload came back intact while frames were dropped, and again after `chaos mode none`. */
function echoAssertion(transcript: CellTranscript, notReached: string): Assertion {
  const name = "TCP echo delivers the payload intact through the drops and after recovery";
  if (notReached) return skip("echo", name, notReached);
  if (!transcript.echo) return skip("echo", name, "the machine has no NIC (config no-network)");
  const problems: string[] = [];
  for (
    const [label, transfer] of [["armed", transcript.echo], [
      "after recovery",
      transcript.echoRecovery,
    ]] as const
  ) {
    if (!transfer) {
      problems.push(`${label}: no transfer`);
    } else if (!transfer.isIntact) {
      problems.push(
        `${label}: ${transfer.received} of ${transfer.bytes} bytes came back${
          transfer.error ? ` (${transfer.error})` : ", altered"
        }`,
      );
    }
  }
  const drops = driverDrops(transcript).counted;
  if (drops === 0) {
    problems.push("no frame was dropped during the armed transfer: the point is not on the path");
  }
  const notes = [
    `${transcript.echo.bytes} bytes in ${Math.round(transcript.echo.durationMs)} ms armed, ${
      drops ?? "?"
    } frame(s) dropped`,
  ];
  return verdict("echo", name, problems, notes);
}
