/**
 * The sis library: what a script may import to read SIS kernel output and
 * drive SIS kernels in QEMU. Named exports only, in four groups: the parsers,
 * the results types, the QMP client and the machine launcher (with the
 * session that speaks the kernel's framed shell). The CLI's commands, the
 * run engine and the build are the `sis` program's internals, not API.
 *
 * @module
 */

export { VERSION } from "./src/version.ts";
export { ARCHES } from "./src/arch.ts";
export type { Arch } from "./src/arch.ts";
export {
  EnvironmentError,
  ExitCode,
  FailedError,
  KernelHangError,
  KernelPanicError,
  SisError,
  UsageError,
} from "./src/errors.ts";

// Parsers (docs/PARSERS.md): log records, Prometheus expositions, panic reports, ELF symbols, serial framing.
export { classifyLine, levelRank, LEVELS, parseLevel } from "./src/parse/log.ts";
export type { Level, LogLine, LogRecord } from "./src/parse/log.ts";
export { scanLog, scanText } from "./src/parse/stream.ts";
export type { ScannedLine, ScanTotals } from "./src/parse/stream.ts";
export { checkExposition, formatPrometheus, parsePrometheus } from "./src/parse/prometheus.ts";
export type { Exposition, MetricFamily, MetricProblem, Sample } from "./src/parse/prometheus.ts";
export { compareScrapes } from "./src/parse/scrapes.ts";
export type { ScrapeFinding } from "./src/parse/scrapes.ts";
export { findPanicReports } from "./src/parse/panic.ts";
export type { BacktraceFrame, PanicReport } from "./src/parse/panic.ts";
export { ElfError, findBuildId, readElf, symbolize } from "./src/parse/elf.ts";
export type { ElfInfo, ElfSymbol, Symbolized } from "./src/parse/elf.ts";
export { demangle } from "./src/parse/demangle.ts";
export { parseTranscript } from "./src/session/framing.ts";
export type { SerialEvent } from "./src/session/framing.ts";
export { parseInjection, parseStats } from "./src/chaos/records.ts";
export type { ChaosStats, Injection } from "./src/chaos/records.ts";

// Results (docs/ENGINE.md "Results JSON"): the stable JSON of `sis test` and `sis chaos`, and its JUnit form.
export type {
  JobResult,
  KernelFailure,
  RunResults,
  RunSummary,
  StepResult,
  StepStatus,
} from "./src/report/results.ts";
export { runExitCode, summarize } from "./src/report/results.ts";
export type { CellResult, ChaosResults, ChaosSummary } from "./src/chaos/results.ts";
export type { FuzzArchResult, FuzzCrash, FuzzResults, ReplayArchResult } from "./src/fuzz/results.ts";
export type { Reproducer, ReproFile } from "./src/fuzz/repro.ts";
export { toJunitXml } from "./src/report/junit.ts";

// The QMP client (start, stop, status, events of a QEMU).
export { QmpClient, QmpError } from "./src/qemu/qmp.ts";
export type { QmpConnectOptions, QmpEvent, QmpStatus } from "./src/qemu/qmp.ts";

// The machine launcher and the framed shell session (docs/HARNESS.md).
export { Machine, shutdownAllMachines } from "./src/qemu/machine.ts";
export type { LaunchOptions, MachineExit } from "./src/qemu/machine.ts";
export { BUILTIN_CONFIGS } from "./src/qemu/profiles.ts";
export type { ExitOutcome, MachineConfig } from "./src/qemu/profiles.ts";
export { KernelExitedError, Session, SessionPanicError } from "./src/session/driver.ts";
export type { BootResult, CommandResult, SessionOptions } from "./src/session/driver.ts";
