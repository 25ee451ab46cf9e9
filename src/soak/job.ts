/** One arch's soak as an engine job: boot, start the workload, scrape every interval, record events, restart after a panic or hang until the soak time is covered. */
import { join } from "node:path";
import { EnvironmentError, UsageError } from "../errors.ts";
import { classifyLine } from "../parse/log.ts";
import { diskError } from "../disk_errors.ts";
import type { BootedMachine, JobContext } from "../runs/engine.ts";
import { Session } from "../session/driver.ts";
import { kernelFailureOf } from "../session/runner.ts";
import { formatDuration } from "./html.ts";
import {
  type ArchProgress,
  MAX_FAILURES_IN_A_ROW,
  SOAK_BUILD_DIR,
  type SoakArchResult,
  type SoakJob,
  type SoakPlan,
  type SoakRunOptions,
  stressCommand,
} from "./plan.ts";
import { seededRandom } from "./random.ts";
import { EVENTS_FILE, SAMPLES_FILE } from "./report.ts";
import type { SoakEvent } from "./samples.ts";
import { HttpScraper, type MetricsScraper } from "./http_scrape.ts";
import { Scraper } from "./scrape.ts";
import type { SoakWriter } from "./writer.ts";

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
export async function soakArch(
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
  // Each arch and segment gets its own stream: the seed mixed with a hash of the arch name (FNV-1a) and the boot.
  let archHash = 0x811c9dc5;
  for (const char of job.arch) archHash = Math.imul(archHash ^ char.charCodeAt(0), 0x01000193);
  const random = seededRandom(plan.seed ^ archHash ^ Math.imul(job.firstBoot, 0x9e3779b1));
  const result = emptyArchResult(job, "completed");
  let boot = job.firstBoot;
  /** Boots in a row that failed before giving a sample: a kernel that cannot stay up ends the soak. */
  let failuresInARow = 0;
  const event = (kind: string, message: string, extra: Record<string, unknown> = {}) =>
    append(
      EVENTS_FILE,
      () => writer.event({ t: Date.now(), arch: job.arch, boot, kind, message, ...extra } as SoakEvent),
    );
  const append = (file: string, write: () => void) => {
    try {
      write();
    } catch (error) {
      const mapped = diskError(error, join(run.bundle.dir, file));
      if (mapped instanceof EnvironmentError) run.stop.failDisk(mapped);
      throw mapped;
    }
  };
  // A scrape (a command, or an HTTP request) not answered this long is a hang.
  const scrapeTimeoutMs = options.commandTimeoutMs ?? Math.max(20_000, 5 * plan.intervalMs);
  const recorder = await run.record({ config: plan.config, soak: true });
  event(
    job.firstBoot === 1 ? "start" : "resume",
    `${stressCommand(plan)} for ${formatDuration(job.remainingMs)}`,
  );
  try {
    // A resumed soak that had already covered its time only records that.
    while (job.remainingMs > 0 && performance.now() < endAt && !run.stop.isStopped) {
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
          commandTimeoutMs: scrapeTimeoutMs,
          onEvent: (serial) => {
            recorder.event(serial as unknown as Record<string, unknown>);
            if (serial.kind !== "log" && serial.kind !== "line") return;
            const line = classifyLine(serial.text);
            if (line.kind !== "record" || line.panic) return;
            const level = line.record.level;
            if (level === "WARN" || level === "ERROR" || level === "FATAL") {
              try {
                event("log", serial.text, { level });
              } catch {
                // A full disk: the run is stopping already; the session must not see it.
              }
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
        const scraper = scraperFor(plan.scrape, machine, scrapeTimeoutMs);
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
          append(SAMPLES_FILE, () => writer.sample({ t: Date.now(), arch: job.arch, boot, metrics }));
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

/** The serial scraper, or the HTTP one on the machine's forward of the kernel's port 9100. */
function scraperFor(mode: SoakPlan["scrape"], machine: BootedMachine, timeoutMs: number): MetricsScraper {
  if (mode !== "http") return new Scraper();
  if (!machine.forwards) {
    throw new UsageError(`--scrape http needs a machine with a NIC; this config has none`, {
      fix: "use --scrape serial, or a config with the network (every config but no-network)",
    });
  }
  return new HttpScraper(machine.forwards.metrics, timeoutMs);
}

/** An arch's result before anything ran: the start of a soak job, and a job the run never started. */
export function emptyArchResult(
  job: { name: string; arch: SoakArchResult["arch"] },
  status: SoakArchResult["status"],
  message?: string,
): SoakArchResult {
  return {
    name: job.name,
    arch: job.arch,
    status,
    samples: 0,
    boots: 0,
    restarts: 0,
    unexpectedFailures: [],
    panics: 0,
    hangs: 0,
    chaosInjections: 0,
    durationMs: 0,
    ...(message === undefined ? {} : { message }),
  };
}
