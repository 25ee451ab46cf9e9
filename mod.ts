/** The sis library surface: everything a script or test may import, re-exported from one place. */
export { main, VERSION } from "./src/cli.ts";
export * from "./src/arch.ts";
export * from "./src/context.ts";
export * from "./src/errors.ts";
export * from "./src/protocol.ts";

// Building (docs/BUILD.md): toolchain detection, cargo, the build manifest, doctor's checks.
export { findRustToolchain, requireLinker, requireRustToolchain } from "./src/toolchain/rust.ts";
export type { RustInspection, RustToolchain } from "./src/toolchain/rust.ts";
export { buildKernel, buildPaths, cargoPlan } from "./src/toolchain/build.ts";
export type { BuildRequest, CargoPlan, Profile } from "./src/toolchain/build.ts";
export { BuildManifestSchema, parseManifest, readManifest } from "./src/toolchain/manifest.ts";
export type { BuildManifest } from "./src/toolchain/manifest.ts";
export { systemProbe } from "./src/toolchain/probe.ts";
export type { Probe, ProbeResult } from "./src/toolchain/probe.ts";
export { missingPackages, planSetup, runChecks } from "./src/toolchain/checks.ts";
export type { CheckResult } from "./src/toolchain/checks.ts";

// The harness (docs/HARNESS.md): QEMU layer, serial session, suites, reports, run bundles.
export { BUILTIN_CONFIGS, exitOutcome, PROFILES, qemuArgv } from "./src/qemu/profiles.ts";
export type { ExitOutcome, MachineConfig, MachineProfile } from "./src/qemu/profiles.ts";
export { loadSettings, selectConfigs, settingsFromYaml } from "./src/qemu/config.ts";
export type { HarnessSettings } from "./src/qemu/config.ts";
export { installSignalTeardown, Machine, shutdownAllMachines } from "./src/qemu/machine.ts";
export type { LaunchOptions, MachineExit } from "./src/qemu/machine.ts";
export { QmpClient, QmpError } from "./src/qemu/qmp.ts";
export type { QmpEvent, QmpStatus } from "./src/qemu/qmp.ts";
export { FramingParser, parseMarker, parseTranscript } from "./src/session/framing.ts";
export type { SerialEvent } from "./src/session/framing.ts";
export { findFatalRecord, KernelExitedError, Session, SessionPanicError } from "./src/session/driver.ts";
export type {
  BootResult,
  CommandResult,
  ConsolePort,
  SessionOptions,
  TimedEvent,
} from "./src/session/driver.ts";
export { checkExpectations, loadSuites, parseSuite, selectSuites } from "./src/session/suite.ts";
export type { Step, Suite } from "./src/session/suite.ts";
export { planJobs, runSuiteJob } from "./src/session/runner.ts";
export { runEngine } from "./src/runs/engine.ts";
export type { EngineJob, EngineSpec, JobContext } from "./src/runs/engine.ts";
export { parseShard, selectJobs, shardItems } from "./src/runs/plan.ts";
export { toJunitXml } from "./src/report/junit.ts";
export { annotations, stepSummary } from "./src/report/github.ts";
export { runExitCode, summarize } from "./src/report/results.ts";
export type { JobResult, RunResults, StepResult } from "./src/report/results.ts";
export { RunBundle } from "./src/runs/bundle.ts";

// Chaos (docs/chaos-cli.md): workloads as data, the cell runner and checker, statistics, reports.
export { CHAOS_MODES, MODE_SPECS } from "./src/chaos/modes.ts";
export type { ChaosMode, ModeSpec } from "./src/chaos/modes.ts";
export { planCell } from "./src/chaos/workload.ts";
export type { CellPlan, Op } from "./src/chaos/workload.ts";
export { geometricTail, rateAgreement, wilsonInterval } from "./src/chaos/binomial.ts";
export { parseInjection, parseStats } from "./src/chaos/records.ts";
export type { ChaosStats, Injection } from "./src/chaos/records.ts";
export { runCell } from "./src/chaos/cell.ts";
export { checkCell } from "./src/chaos/check.ts";
export type { Assertion, CellVerdict } from "./src/chaos/check.ts";
export { compareSequences, runChaosCells } from "./src/chaos/run.ts";
export { chaosExitCode, toRunResults } from "./src/chaos/results.ts";
export type { CellResult, ChaosResults } from "./src/chaos/results.ts";
export { chaosTable } from "./src/chaos/table.ts";

// Parsers (docs/PARSERS.md): log records, log streams, Prometheus, panic reports, ELF symbols, templates; regress.
export * from "./src/parse/log.ts";
export { scanLog, scanText } from "./src/parse/stream.ts";
export type { ScannedLine, ScanOptions, ScanTotals } from "./src/parse/stream.ts";
export * from "./src/parse/prometheus.ts";
export { compareScrapes } from "./src/parse/scrapes.ts";
export type { ScrapeFinding } from "./src/parse/scrapes.ts";
export { findPanicReports } from "./src/parse/panic.ts";
export type { BacktraceFrame, PanicReport } from "./src/parse/panic.ts";
export { addr2line, ElfError, formatSymbolized, readElf, symbolize } from "./src/parse/elf.ts";
export { demangle, demangleLegacy, demangleV0 } from "./src/parse/demangle.ts";
export type { ElfInfo, ElfSymbol, SourceLine, Symbolized } from "./src/parse/elf.ts";
export { normalizeText, normalizeValue, recordTemplate } from "./src/parse/normalize.ts";
export { alignSequences, diffEvents } from "./src/regress/diff.ts";
export type { AllowEntry, DiffResult, Finding, RegressEvent } from "./src/regress/diff.ts";
export { captureBoot, EventCollector } from "./src/regress/capture.ts";
