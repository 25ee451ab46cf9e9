/** `sis metrics serve`: boot a kernel with its NIC and keep the kernel's own HTTP `/metrics` reachable on a loopback port until Ctrl-C; a one-job plan on the run engine. */
import type { CommandContext } from "../context.ts";
import { EnvironmentError, FailedError, UsageError } from "../errors.ts";
import { loadSettings, selectConfigs } from "../qemu/config.ts";
import type { JobResult, KernelFailure } from "../report/results.ts";
import type { JobContext } from "../runs/engine.ts";
import { Session } from "../session/driver.ts";
import {
  failedEarly,
  type MachineJob,
  type MachineJobOutcome,
  runMachineJob,
  verdict,
  type VerdictStep,
} from "../session/machine_job.ts";
import { jobFailureOf } from "../session/runner.ts";
import { systemProbe } from "../toolchain/probe.ts";
import { findProjectRoot } from "../toolchain/project.ts";
import type { MetricsOptions } from "./metrics.ts";

type ServeOptions = Extract<MetricsOptions, { action: "serve" }>;

/** The serve job's result: the shared job result plus where and how long it served. */
export interface ServeResult extends JobResult {
  /** The `/metrics` URL printed on stdout, once the kernel answered on it. */
  url?: string;
  /** From the URL being printed to the end of the machine. */
  servedMs?: number;
}

/** The serve job's one step: what its verdict is about. */
const SERVE_STEP: VerdictStep = { name: "served /metrics until stopped", command: "GET /metrics" };

/**
 * Boots, waits for the interface's address (`ifconfig --wait`), checks
 * `/healthz` through the forward, prints the URL, then reads the console
 * until the machine ends or the engine's signal policy stops it (the first
 * SIGINT/SIGTERM stops QEMU and exits 130/143, a second exits at once).
 *
 * Verdict (docs/ENGINE.md): the job passed when it served until the user
 * stopped it; it failed when the kernel panicked (exit 4) or the machine
 * ended otherwise (exit 1), or when it never got to serve (the error's own
 * code: 4 for a panic or hang on the way up, 1 when HTTP never answered).
 */
export async function runMetricsServe(options: ServeOptions, context: CommandContext): Promise<number> {
  let port: number | undefined;
  if (options.listen !== undefined) {
    const match = /^127\.0\.0\.1:(\d{1,5})$/.exec(options.listen);
    port = match ? Number(match[1]) : NaN;
    if (!match || !(port >= 1 && port <= 65535)) {
      throw new UsageError(`--listen "${options.listen}" is not 127.0.0.1:PORT`, {
        fix: "give a loopback address and a port, e.g. --listen 127.0.0.1:9100",
      });
    }
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
    } catch {
      throw new EnvironmentError(`port ${port} on 127.0.0.1 is in use`, {
        fix: "pick another port with --listen 127.0.0.1:PORT, or leave --listen out for a free one",
      });
    }
  }
  const root = await findProjectRoot(context.cwd, context.env, systemProbe);
  const settings = await loadSettings(root);
  const [config] = selectConfigs(settings, options.config);
  if (!config.network) {
    throw new UsageError(`config "${config.name}" has no network interface: nothing to serve`, {
      fix: "use --config default (or any config with a NIC)",
    });
  }

  return runMachineJob<ServeResult>({
    command: ["metrics", "serve"],
    flags: options.listen === undefined ? [] : ["--listen", options.listen],
    place: { root, context, arch: options.arch, config, noBuild: options.noBuild },
    purpose: "metrics-serve",
    step: SERVE_STEP,
    runJob: (job, run) =>
      serveJob(job, run, {
        port,
        listen: options.listen,
        qemuBinary: settings.qemuBinaries[job.arch],
        context,
      }),
  });
}

export interface ServeJobOptions {
  /** The host port for `/metrics` (`--listen`); a free one when undefined. */
  port?: number;
  listen?: string;
  qemuBinary?: string;
  context: CommandContext;
}

/**
 * The serve job: boot, address, `/healthz`, the URL on stdout, then the
 * console until the machine ends or the run is stopped; judged as
 * {@link runMetricsServe} says.
 */
export async function serveJob(
  job: MachineJob,
  run: JobContext,
  options: ServeJobOptions,
): Promise<MachineJobOutcome<ServeResult>> {
  const { context } = options;
  const started = performance.now();
  const recorder = await run.record({ config: job.config.name, suite: job.purpose, listen: options.listen });
  let machine: Awaited<ReturnType<typeof run.launch>> | undefined;
  let url: string | undefined;
  let servingSince = 0;
  let ended: unknown;
  try {
    machine = await run.launch({
      config: job.config,
      qemuBinary: options.qemuBinary,
      metricsPort: options.port,
    });
    const session = new Session(machine, {
      bootTimeoutMs: 30_000,
      commandTimeoutMs: 30_000,
      onEvent: (event) => recorder.event(event),
    });
    await session.boot();
    await session.enableFraming();
    const address = await session.run("ifconfig --wait");
    if (address.status !== 0) {
      throw new FailedError(`the kernel on "${job.arch}" has no address: ${address.output.join(" | ")}`);
    }
    const metricsUrl = `http://127.0.0.1:${machine.forwards!.metrics}/metrics`;
    const health = await fetch(metricsUrl.replace(/metrics$/, "healthz"))
      .then((response) => response.text())
      .catch(() => "");
    if (health !== "ok\n") {
      throw new FailedError(`the kernel on "${job.arch}" does not answer HTTP at ${metricsUrl}`);
    }
    url = metricsUrl;
    servingSince = performance.now();
    recorder.event({ kind: "serving", url, atMs: Math.round(servingSince - started) });
    context.stdout.write(`${url}\n`);
    context.stderr.write(
      `sis: serving ${job.arch} (${job.config.name}), QEMU pid ${machine.pid}; Ctrl-C stops it\n`,
    );
    // Never returns: the machine's end (a stop's shutdown, a panic, an exit) is thrown.
    await session.untilEnd();
  } catch (error) {
    ended = error;
  } finally {
    recorder.close();
  }
  const exit = machine ? await machine.shutdown() : undefined;
  const exitOutcome = exit?.outcome;
  const servedMs = url === undefined ? undefined : Math.round(performance.now() - servingSince);
  let judged: { status: ServeResult["status"]; kernel?: KernelFailure; messages?: string[] };
  let exitCode: number;
  let error: unknown;
  if (url === undefined) {
    ({ exitCode, error, ...judged } = failedEarly(ended, run.stop));
  } else if (run.stop.interruptedBy) {
    // Served until the user stopped it: the job's purpose, done.
    const seconds = (servedMs! / 1000).toFixed(1);
    judged = {
      status: "passed",
      messages: [`served ${url} for ${seconds} s until ${run.stop.interruptedBy}`],
    };
    exitCode = 0;
  } else {
    // The machine ended by itself (or a full disk stopped the run) while serving.
    const kernel = jobFailureOf(ended, run.stop);
    if (kernel.kind !== "interrupted") {
      context.stderr.write(`sis: machine ended: ${JSON.stringify(exitOutcome)}\n`);
    }
    judged = { status: kernel.kind === "interrupted" ? "interrupted" : "error", kernel };
    exitCode = kernel.kind === "panic" || exitOutcome?.kind === "panic" ? 4 : 1;
  }
  const result: ServeResult = {
    ...verdict(job, SERVE_STEP, {
      ...judged,
      durationMs: Math.round(performance.now() - started),
      qemuExit: exit ? { code: exit.code, signal: exit.signal, outcome: exit.outcome } : undefined,
      bundleDir: recorder.dir,
    }),
    url,
    servedMs,
  };
  await recorder.finish(result);
  return { result, exitCode, error };
}
