/**
 * `sis soak` on the run engine: one job per arch that boots the stress
 * kernel, starts the workload, scrapes `metricsctl` every interval into
 * samples.ndjson, records events, restarts the kernel after a panic or hang
 * and goes on until the duration is covered; then the report.
 */
import { join } from "node:path";
import type { Arch } from "../arch.ts";
import type { CommandContext } from "../context.ts";
import { EnvironmentError, UsageError } from "../errors.ts";
import { classifyLine } from "../parse/log.ts";
import { parseNumber } from "../parse/prometheus.ts";
import type { MachineConfig } from "../qemu/profiles.ts";
import { summarize as summarizeJobs } from "../report/results.ts";
import type { KernelFailure, RunResults } from "../report/results.ts";
import { diskError } from "../runs/disk.ts";
import {
  type BootedMachine,
  type EngineJob,
  type JobContext,
  type Launcher,
  runEngine,
} from "../runs/engine.ts";
import type { KernelBuilder } from "../runs/kernels.ts";
import type { RunStop } from "../runs/signals.ts";
import { Session } from "../session/driver.ts";
import { kernelFailureOf } from "../session/runner.ts";
import { seededRandom } from "./random.ts";
import type { SoakChaos, SoakWorkload } from "./options.ts";
import { EVENTS_FILE, reportSoak, SAMPLES_FILE, type SoakReportResult } from "./report.ts";
import { readEvents, readSamples, type SoakEvent } from "./samples.ts";
import { formatDuration } from "./html.ts";
import { cutTornTail, SoakWriter } from "./writer.ts";

/** Kernels for soaks: the stress workload and chaos compiled in, apart from the plain kernels. */
export const SOAK_BUILD_DIR = "build/soak";
export const SOAK_FEATURES = ["chaos", "stress"];

/** What a soak is asked to do; stored in the manifest so `--resume` can continue it. */
export interface SoakPlan {
  arches: Arch[];
  config: string;
  durationMs: number;
  intervalMs: number;
  workload: SoakWorkload;
  intensity: number;
  leakBytes: number;
  chaos?: SoakChaos;
  seed: number;
}

export interface SoakRunOptions {
  plan: SoakPlan;
  machineConfig: MachineConfig;
  root: string;
  context: CommandContext;
  argv: readonly string[];
  qemuBinaries: Partial<Record<Arch, string>>;
  /** Continue this bundle (its plan comes from its manifest). */
  resume?: string;
  noBuild?: boolean;
  json?: string;
  bootTimeoutMs?: number;
  commandTimeoutMs?: number;
  launch?: Launcher;
  build?: KernelBuilder;
  runsDir?: string;
  stop?: RunStop;
}

interface SoakJob extends EngineJob {
  arch: Arch;
  /** Soak time still to cover (less than the duration when resuming). */
  remainingMs: number;
  /** Boot number of the first boot of this segment. */
  firstBoot: number;
}

export interface SoakArchResult {
  name: string;
  arch: Arch;
  status: "completed" | "interrupted" | "error";
  samples: number;
  boots: number;
  restarts: number;
  /** Panics and hangs that chaos did not ask for. */
  unexpectedFailures: KernelFailure[];
  panics: number;
  hangs: number;
  chaosInjections: number;
  durationMs: number;
  message?: string;
}

/** Boots in a row that may fail before their first sample before the soak of that arch gives up. */
const MAX_FAILURES_IN_A_ROW = 3;

/** What the live line shows, per arch. */
interface ArchProgress {
  samples: number;
  heapBytes?: number;
  restarts: number;
  startedAt: number;
  remainingMs: number;
}

/**
 * Turns `metricsctl --format simple` output into the sample's metrics: the
 * key is the series exactly as the exposition writes it (labels included).
 */
export function parseScrape(lines: readonly string[]): Record<string, number> {
  const metrics: Record<string, number> = {};
  for (const line of lines) {
    const text = line.trimEnd();
    const space = text.lastIndexOf(" ");
    if (space <= 0 || text.startsWith("#")) continue;
    const value = parseNumber(text.slice(space + 1));
    if (value !== undefined) metrics[text.slice(0, space)] = value;
  }
  return metrics;
}

/** The values of `metricsctl --format values` under `keys`; undefined when the counts differ. */
export function parseValues(
  lines: readonly string[],
  keys: readonly string[],
): Record<string, number> | undefined {
  const words = lines.join(" ").trim().split(/\s+/).filter((word) => word !== "");
  if (words.length !== keys.length) return undefined;
  const metrics: Record<string, number> = {};
  for (let i = 0; i < keys.length; i++) {
    const value = parseNumber(words[i]);
    if (value === undefined) return undefined;
    metrics[keys[i]] = value;
  }
  return metrics;
}

/**
 * Scrapes one boot's kernel: the series names once with `--format simple`,
 * then only the values (`--format values`, a fifth of the bytes on the
 * UART: docs/observability.md). A value count that does not match the names
 * falls back to a full scrape and learns the names again.
 */
export class Scraper {
  #keys: string[] | undefined;

  async scrape(session: Pick<Session, "run">): Promise<Record<string, number>> {
    if (this.#keys !== undefined) {
      const values = parseValues((await session.run("metricsctl --format values")).output, this.#keys);
      if (values !== undefined) return values;
    }
    const metrics = parseScrape((await session.run("metricsctl --format simple")).output);
    this.#keys = Object.keys(metrics);
    return metrics;
  }
}

/** The command that starts the workload. */
export function stressCommand(plan: Pick<SoakPlan, "workload" | "intensity" | "leakBytes">): string {
  const leak = plan.leakBytes > 0 ? ` --leak ${plan.leakBytes}` : "";
  return `stress start ${plan.workload} --intensity ${plan.intensity}${leak}`;
}

/** The plan and per-arch progress of a bundle to resume; usage errors for a bundle that is not a soak. */
async function resumeState(
  dir: string,
): Promise<{ plan: SoakPlan; covered: Map<string, number>; boots: Map<string, number> }> {
  let manifest: { kind?: string; soak?: SoakPlan };
  try {
    manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
  } catch {
    throw new UsageError(`Cannot resume "${dir}": no readable manifest.json there`, {
      fix: "give the runs/<id> folder of a soak",
    });
  }
  if (manifest.kind !== "soak" || manifest.soak === undefined) {
    throw new UsageError(`Cannot resume "${dir}": it is a ${manifest.kind ?? "unknown"} bundle, not a soak`);
  }
  const plan = manifest.soak;
  // A torn line from the kill is cut, so new lines start cleanly.
  cutTornTail(join(dir, SAMPLES_FILE));
  cutTornTail(join(dir, EVENTS_FILE));
  const covered = new Map<string, number>();
  const boots = new Map<string, number>();
  const { archs } = await readSamples(join(dir, SAMPLES_FILE)).catch(() => ({ archs: [] }));
  for (const columns of archs) {
    covered.set(columns.arch, columns.length * plan.intervalMs);
    boots.set(columns.arch, columns.boot.reduce((highest, boot) => Math.max(highest, boot), 0));
  }
  const { events } = await readEvents(join(dir, EVENTS_FILE));
  for (const event of events) boots.set(event.arch, Math.max(boots.get(event.arch) ?? 0, event.boot));
  return { plan, covered, boots };
}

/** Runs (or resumes) a soak and returns the exit code. */
export async function runSoak(options: SoakRunOptions): Promise<number> {
  const { context } = options;
  let plan = options.plan;
  let jobs: SoakJob[];
  if (options.resume !== undefined) {
    const state = await resumeState(options.resume);
    plan = state.plan;
    jobs = plan.arches.map((arch) => ({
      name: `${arch}-soak`,
      arch,
      remainingMs: Math.max(0, plan.durationMs - (state.covered.get(arch) ?? 0)),
      firstBoot: (state.boots.get(arch) ?? 0) + 1,
    }));
  } else {
    jobs = plan.arches.map((arch) => ({
      name: `${arch}-soak`,
      arch,
      remainingMs: plan.durationMs,
      firstBoot: 1,
    }));
  }
  let writer: SoakWriter | undefined;
  let bundleDir = "";
  const progress = new Map<string, ArchProgress>();
  let live: ReturnType<typeof setInterval> | undefined;
  let report: SoakReportResult | undefined;
  let reportError: unknown;
  try {
    return await runEngine<SoakJob, SoakArchResult>({
      kind: "soak",
      root: options.root,
      context,
      argv: options.argv,
      jobs,
      asked: `--arch ${plan.arches.join(",")}`,
      kernels: { features: SOAK_FEATURES, outDir: SOAK_BUILD_DIR, noBuild: options.noBuild },
      parallel: jobs.length,
      outputs: { json: options.json },
      manifest: { soak: plan },
      resumeBundle: options.resume,
      runsDir: options.runsDir,
      started: (info) => {
        bundleDir = info.bundleDir;
        writer = new SoakWriter(join(info.bundleDir, SAMPLES_FILE), join(info.bundleDir, EVENTS_FILE));
        live = startLiveLine(context, progress, plan);
        const verb = options.resume === undefined ? "soak" : "soak resumed";
        return `sis: ${verb} ${info.runId}: ${plan.arches.join(", ")} for ${
          formatDuration(plan.durationMs)
        } ` +
          `every ${formatDuration(plan.intervalMs)}, bundle ${info.bundleDir}\n`;
      },
      runJob: (job, run) => soakArch(job, run, { ...options, plan }, writer!, progress),
      notRun: (job, why) => ({
        name: job.name,
        arch: job.arch,
        status: "interrupted",
        samples: 0,
        boots: 0,
        restarts: 0,
        unexpectedFailures: [],
        panics: 0,
        hangs: 0,
        chaosInjections: 0,
        durationMs: 0,
        message: why,
      }),
      onJobDone: (result) =>
        context.stderr.write(
          `sis: ${result.arch}: ${result.status}, ${result.samples} samples, ${result.restarts} restart(s)\n`,
        ),
      finish: async (results, info) => {
        if (live !== undefined) clearInterval(live);
        if (context.isTerminal) context.stderr.write("\n");
        try {
          writer?.close();
        } catch (error) {
          reportError = diskError(error, join(info.bundleDir, SAMPLES_FILE));
        }
        writer = undefined;
        if (reportError === undefined) {
          try {
            report = await reportSoak({ source: info.bundleDir });
          } catch (error) {
            reportError = diskError(error, info.bundleDir);
          }
        }
        return finishSoak(results, info, report, reportError, plan);
      },
      launch: options.launch,
      build: options.build,
      stop: options.stop,
    });
  } finally {
    if (live !== undefined) clearInterval(live);
    try {
      writer?.close();
    } catch {
      // The engine already reported the disk failure.
    }
    if (report) printReport(report, context);
    else if (reportError instanceof UsageError && bundleDir) {
      context.stderr.write(`sis: no report: ${reportError.message}\n`);
    }
  }
}

function printReport(report: SoakReportResult, context: CommandContext): void {
  for (const warning of report.warnings) context.stderr.write(`warning: ${warning}\n`);
  for (const arch of report.archs) {
    for (const verdict of arch.verdicts) {
      context.stdout.write(`${arch.arch} ${verdict.series}: ${verdict.verdict} (${verdict.reason})\n`);
    }
  }
  context.stdout.write(`report: ${report.html}\nsummary: ${report.json}\noverall: ${report.worst}\n`);
}

/** Results JSON and exit code: 4 for an unexpected panic or hang, 1 for a leak, else 0. */
function finishSoak(
  results: SoakArchResult[],
  info: { runId: string; startedAt: string; durationMs: number; interrupted?: "SIGINT" | "SIGTERM" },
  report: SoakReportResult | undefined,
  reportError: unknown,
  plan: SoakPlan,
) {
  const unexpected = results.some((result) =>
    result.unexpectedFailures.length > 0 || result.status === "error"
  );
  const exitCode = unexpected ? 4 : report?.exitCode ?? 0;
  const json = {
    schema: 1,
    kind: "soak",
    runId: info.runId,
    plan,
    worst: report?.worst,
    report: report?.html,
    summary: report?.json,
    reportError: reportError instanceof Error ? reportError.message : undefined,
    arches: results,
  };
  const jobs = results.map((result) => ({
    name: result.name,
    arch: result.arch,
    config: plan.config,
    suite: "soak",
    status: result.status === "completed" && !result.unexpectedFailures.length
      ? "passed" as const
      : result.status === "interrupted"
      ? "interrupted" as const
      : "failed" as const,
    durationMs: result.durationMs,
    steps: (report?.archs.find((arch) => arch.arch === result.arch)?.verdicts ?? []).map((verdict) => ({
      id: `soak/${verdict.series}`,
      name: `no leak in ${verdict.series}`,
      command: `sis soak --arch ${result.arch}`,
      status: verdict.verdict === "leak" ? "failed" as const : "passed" as const,
      durationMs: 0,
      messages: [`${verdict.verdict}: ${verdict.reason}`],
      output: [],
    })),
    kernel: result.unexpectedFailures[0],
  }));
  const runResults: RunResults = {
    schema: 1,
    kind: "soak",
    runId: info.runId,
    startedAt: info.startedAt,
    durationMs: info.durationMs,
    interrupted: info.interrupted,
    jobs,
    summary: summarizeJobs(jobs),
  };
  if (reportError instanceof EnvironmentError) throw reportError;
  return { json, report: runResults, exitCode };
}

/** The live line on a terminal (redrawn every second), plain periodic lines otherwise. */
function startLiveLine(
  context: CommandContext,
  progress: Map<string, ArchProgress>,
  plan: SoakPlan,
): ReturnType<typeof setInterval> {
  const everyMs = context.isTerminal ? 1000 : plan.durationMs <= 10 * 60_000 ? 10_000 : 60_000;
  const timer = setInterval(() => {
    const parts = [...progress].map(([arch, state]) => {
      const elapsed = performance.now() - state.startedAt;
      const heap = state.heapBytes === undefined ? "–" : `${(state.heapBytes / 1024).toFixed(0)} KiB`;
      return `${arch} ${formatDuration(elapsed)}/${
        formatDuration(state.remainingMs)
      } ${state.samples} samples ` +
        `heap ${heap} restarts ${state.restarts}`;
    });
    if (parts.length === 0) return;
    const line = `soak: ${parts.join(" | ")}`;
    context.stderr.write(context.isTerminal ? `\r\x1b[K${line}` : `${line}\n`);
  }, everyMs);
  Deno.unrefTimer(Number(timer));
  return timer;
}

/** Waits until `at` (performance.now() ms) or the stop, whichever comes first. */
function until(at: number, stop: AbortSignal): Promise<void> {
  const wait = at - performance.now();
  if (wait <= 0 || stop.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, wait);
    function done() {
      clearTimeout(timer);
      stop.removeEventListener("abort", done);
      resolve();
    }
    stop.addEventListener("abort", done, { once: true });
  });
}

/** One arch's soak: boot, workload, scrape loop; restart after a panic or hang until the time is covered. */
async function soakArch(
  job: SoakJob,
  run: JobContext,
  options: SoakRunOptions,
  writer: SoakWriter,
  progress: Map<string, ArchProgress>,
): Promise<SoakArchResult> {
  const { plan } = options;
  const started = performance.now();
  // The soak's clock starts with the workload: boot time is not soak time,
  // but time lost to restarts is.
  let endAt = Infinity;
  const state: ArchProgress = { samples: 0, restarts: 0, startedAt: started, remainingMs: job.remainingMs };
  progress.set(job.arch, state);
  // Chaos decisions come from the plan's seed: the same soak arms chaos at the same intervals.
  const random = seededRandom(plan.seed ^ job.arch.length * 7919 ^ job.firstBoot);
  const result: SoakArchResult = {
    name: job.name,
    arch: job.arch,
    status: "completed",
    samples: 0,
    boots: 0,
    restarts: 0,
    unexpectedFailures: [],
    panics: 0,
    hangs: 0,
    chaosInjections: 0,
    durationMs: 0,
  };
  let boot = job.firstBoot;
  /** Boots in a row that failed before giving a sample: a kernel that cannot stay up ends the soak. */
  let failuresInARow = 0;
  const event = (kind: string, message: string, extra: Record<string, unknown> = {}) =>
    append(() => writer.event({ t: Date.now(), arch: job.arch, boot, kind, message, ...extra } as SoakEvent));
  const append = (write: () => void) => {
    try {
      write();
    } catch (error) {
      const mapped = diskError(error, run.bundle.dir);
      if (mapped instanceof EnvironmentError) run.stop.failDisk(mapped);
      throw mapped;
    }
  };
  const recorder = await run.record({ config: plan.config, soak: true });
  event(
    job.firstBoot === 1 ? "start" : "resume",
    `${stressCommand(plan)} for ${formatDuration(job.remainingMs)}`,
  );
  try {
    while (performance.now() < endAt && !run.stop.isStopped) {
      let machine: BootedMachine | undefined;
      let expectPanic = false;
      try {
        machine = await run.launch({
          config: options.machineConfig,
          qemuBinary: options.qemuBinaries[job.arch],
        });
        result.boots += 1;
        const session = new Session(machine, {
          bootTimeoutMs: options.bootTimeoutMs ?? 30_000,
          commandTimeoutMs: options.commandTimeoutMs ?? Math.max(20_000, 5 * plan.intervalMs),
          onEvent: (serial) => {
            recorder.event(serial as unknown as Record<string, unknown>);
            if (serial.kind !== "log" && serial.kind !== "line") return;
            const line = classifyLine(serial.text);
            if (line.kind !== "record" || line.panic) return;
            const level = line.record.level;
            if (level === "WARN" || level === "ERROR" || level === "FATAL") {
              event("log", serial.text, { level });
            }
          },
        });
        const booted = await session.boot();
        event("boot", booted.kernelLine ?? "booted");
        await session.enableFraming();
        const started = await session.run(stressCommand(plan));
        if (started.status !== 0) {
          throw new UsageError(
            `Cannot start the workload on ${job.arch}: ${
              started.output.join(" ")
            } (status ${started.status})`,
            {
              fix:
                `the soak kernel in ${SOAK_BUILD_DIR} needs the stress feature: rebuild without --no-build`,
            },
          );
        }
        if (endAt === Infinity) {
          endAt = performance.now() + job.remainingMs;
          state.startedAt = performance.now();
        }
        const scraper = new Scraper();
        let tick = performance.now();
        while (!run.stop.isStopped) {
          tick += plan.intervalMs;
          // A scrape that overran its interval skips the ticks it missed.
          while (tick < performance.now()) tick += plan.intervalMs;
          if (tick > endAt) {
            await until(endAt, run.stop.signal);
            break;
          }
          await until(tick, run.stop.signal);
          if (run.stop.isStopped) break;
          let armed = false;
          if (plan.chaos && random() * 100 < plan.chaos.ratePercent) {
            armed = true;
            result.chaosInjections += 1;
            event("chaos", `armed ${plan.chaos.mode} for one interval`, { mode: plan.chaos.mode });
            // From here a panic is the one asked for: the workload's own block
            // writes may reach the panic point before the commands below end.
            expectPanic = plan.chaos.mode === "random_panic";
            await session.run(`chaos mode ${plan.chaos.mode}`);
            await session.run("chaos rate 100");
            if (expectPanic) {
              // The alloc command passes the panic point at once, whatever the workload.
              await session.run("alloc 64");
            }
          }
          const metrics = await scraper.scrape(session);
          append(() => writer.sample({ t: Date.now(), arch: job.arch, boot, metrics }));
          result.samples += 1;
          state.samples += 1;
          failuresInARow = 0;
          state.heapBytes = metrics.sis_heap_current_bytes;
          if (armed) await session.run("chaos mode none");
        }
        if (run.stop.isStopped && run.stop.interruptedBy) result.status = "interrupted";
      } catch (error) {
        if (run.stop.isStopped) {
          if (run.stop.diskFailure) throw run.stop.diskFailure;
          result.status = "interrupted";
          break;
        }
        if (error instanceof UsageError || error instanceof EnvironmentError) throw error;
        const failure = kernelFailureOf(error);
        if (failure.kind === "panic") result.panics += 1;
        else result.hangs += 1;
        // Expected: armed by this soak, and the kernel says chaos did it.
        const isExpected = expectPanic && failure.kind === "panic" && failure.message.includes("chaos");
        if (!isExpected) result.unexpectedFailures.push(failure);
        event(failure.kind === "panic" ? "panic" : "hang", failure.message, {
          expected: isExpected,
          report: failure.report?.slice(0, 40),
        });
        if (!isExpected) failuresInARow += 1;
        if (failuresInARow >= MAX_FAILURES_IN_A_ROW) {
          result.status = "error";
          result.message = `${failuresInARow} boots in a row failed before a sample; giving up`;
          event("error", result.message);
          break;
        }
      } finally {
        await machine?.shutdown();
      }
      if (performance.now() < endAt && !run.stop.isStopped) {
        boot += 1;
        result.restarts += 1;
        state.restarts += 1;
        event("restart", `boot ${boot} after a kernel failure`);
      }
    }
  } finally {
    result.durationMs = Math.round(performance.now() - started);
    try {
      event("stop", `${result.samples} samples in this segment`);
    } catch {
      // A full disk: the failure is already recorded.
    }
    await recorder.finish(result);
  }
  return result;
}
