/** `sis metrics serve`: boot a kernel with its NIC and keep the kernel's own HTTP `/metrics` reachable on a loopback port until Ctrl-C. */
import type { CommandContext } from "../context.ts";
import type { MetricsOptions } from "./metrics.ts";

type ServeOptions = Extract<MetricsOptions, { action: "serve" }>;

/**
 * Boots, waits for the interface's address (`ifconfig --wait`), checks
 * `/healthz` through the forward, prints the URL, then waits for the
 * machine to end or for the engine's signal policy (src/runs/signals.ts,
 * as `sis run`): the first SIGINT/SIGTERM stops QEMU and exits 130/143, a
 * second exits at once. Exit 4 if the kernel panicked, 1 if it ended
 * otherwise.
 */
export async function runMetricsServe(options: ServeOptions, context: CommandContext): Promise<number> {
  const { UsageError, EnvironmentError, FailedError } = await import("../errors.ts");
  const { systemProbe } = await import("../toolchain/probe.ts");
  const { findProjectRoot } = await import("../toolchain/project.ts");
  const { loadSettings, selectConfigs } = await import("../qemu/config.ts");
  const { Machine } = await import("../qemu/machine.ts");
  const { Session } = await import("../session/driver.ts");
  const { ensureKernels } = await import("../runs/kernels.ts");
  const { installRunSignals, RunStop, signalExitCode } = await import("../runs/signals.ts");

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
  const kernels = await ensureKernels(root, [options.arch], context, { noBuild: options.noBuild });
  const machine = await Machine.launch({
    arch: options.arch,
    config,
    kernelPath: kernels[options.arch].path,
    qemuBinary: settings.qemuBinaries[options.arch],
    metricsPort: port,
  });
  const stop = new RunStop();
  stop.signal.addEventListener("abort", () => void machine.shutdown());
  const removeSignals = installRunSignals(stop, { stderr: context.stderr });
  try {
    const session = new Session(machine, { bootTimeoutMs: 30_000, commandTimeoutMs: 30_000 });
    await session.boot();
    await session.enableFraming();
    const address = await session.run("ifconfig --wait");
    if (address.status !== 0) {
      throw new FailedError(`the kernel on "${options.arch}" has no address: ${address.output.join(" | ")}`);
    }
    const url = `http://127.0.0.1:${machine.forwards!.metrics}/metrics`;
    const health = await fetch(url.replace(/metrics$/, "healthz")).then((response) => response.text()).catch(
      () => "",
    );
    if (health !== "ok\n") {
      throw new FailedError(`the kernel on "${options.arch}" does not answer HTTP at ${url}`);
    }
    context.stdout.write(`${url}\n`);
    context.stderr.write(
      `sis: serving ${options.arch} (${config.name}), QEMU pid ${machine.pid}; Ctrl-C stops it\n`,
    );
    const exit = await machine.exited;
    if (stop.interruptedBy) {
      context.stderr.write(`sis: ${stop.interruptedBy}: QEMU stopped\n`);
      return signalExitCode(stop.interruptedBy);
    }
    context.stderr.write(`sis: machine ended: ${JSON.stringify(exit.outcome)}\n`);
    return exit.outcome.kind === "panic" ? 4 : 1;
  } catch (error) {
    // A signal during boot ends the session with an error; report the signal.
    if (stop.interruptedBy) return signalExitCode(stop.interruptedBy);
    throw error;
  } finally {
    removeSignals();
    await machine.shutdown();
  }
}
