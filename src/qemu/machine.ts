/** Launches QEMU paused in its own process group with private sockets, connects serial and QMP, and tears it all down on every path. */
import { copyFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import process from "node:process";
import { join } from "node:path";
import type { Arch } from "../arch.ts";
import { EnvironmentError, FailedError } from "../errors.ts";
import {
  type ExitOutcome,
  exitOutcome,
  type HostForwards,
  type MachineConfig,
  PROFILES,
  qemuArgv,
} from "./profiles.ts";
import { QmpClient } from "./qmp.ts";
import { setupFix } from "../toolchain/checks.ts";
import { AsyncQueue, connectUnixWithRetry } from "./socket.ts";

export interface LaunchOptions {
  arch: Arch;
  config: MachineConfig;
  kernelPath: string;
  /** QEMU binary override (sis.yaml `qemu.<arch>`). */
  qemuBinary?: string;
  /** How long QEMU may take to open its sockets. */
  connectTimeoutMs?: number;
  /** Copy QEMU's own serial logfile here at teardown (run bundles). */
  keepSerialLogAt?: string;
  /** Called with every chunk read from the serial port, before anyone parses it. */
  onSerialBytes?: (chunk: Uint8Array) => void;
  /** Host port for the guest's `/metrics` (`sis metrics serve --listen`); free ports otherwise. */
  metricsPort?: number;
}

/** A TCP port on 127.0.0.1 that the OS reports free right now. */
export function freeLoopbackPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0, transport: "tcp" });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** How QEMU ended. */
export interface MachineExit {
  code: number;
  signal: string | null;
  outcome: ExitOutcome;
  /** The last lines QEMU wrote to stderr (its own errors). */
  stderrTail: string;
}

/** Machines alive in this process, so a signal handler can tear all of them down. */
const liveMachines = new Set<Machine>();

/** The byte stream of the serial console, as the session driver consumes it. */
export interface SerialPort {
  /** Chunks as they arrive; ends when QEMU closes the socket (it exited). */
  readonly chunks: AsyncQueue<Uint8Array>;
  write(bytes: Uint8Array): Promise<void>;
}

const STDERR_TAIL_BYTES = 4096;
const RUN_DIR_PREFIX = "sis-qemu-";
/** QEMU's message when a host forward's port is taken (slirp's hostfwd). */
const HOSTFWD_REFUSED = "Could not set up host forwarding rule";
/** Boots tried with fresh ports before a lost port race is reported. */
const PORT_RACE_ATTEMPTS = 3;

let staleRunDirsChecked = false;

/**
 * Removes run dirs left by an sis that was killed with SIGKILL (its QEMU
 * died with it through pdeathsig, but nothing could remove the folder).
 * Only folders with an `owner.pid` whose process is gone are touched.
 */
export async function removeStaleRunDirs(tempDir = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  try {
    for await (const entry of Deno.readDir(tempDir)) {
      if (!entry.isDirectory || !entry.name.startsWith(RUN_DIR_PREFIX)) continue;
      const dir = join(tempDir, entry.name);
      const owner = Number(await Deno.readTextFile(join(dir, "owner.pid")).catch(() => ""));
      if (!Number.isInteger(owner) || owner <= 0) continue;
      if (!isProcessGone(owner)) continue;
      await rm(dir, { recursive: true, force: true }).catch(() => {});
      removed.push(dir);
    }
  } catch {
    // An unreadable temp dir only means nothing gets cleaned.
  }
  return removed;
}

/**
 * One QEMU process. `Machine.launch` returns it running (after `cont`);
 * `shutdown` is idempotent and safe to call from `finally`, from a signal
 * handler, and after QEMU already exited.
 */
export class Machine implements SerialPort {
  readonly arch: Arch;
  readonly argv: readonly string[];
  readonly runDir: string;
  readonly pid: number;
  /** Host ports on 127.0.0.1 forwarded to the guest's services; undefined without a NIC. */
  readonly forwards: HostForwards | undefined;
  readonly chunks: AsyncQueue<Uint8Array> = new AsyncQueue<Uint8Array>();
  /** Resolves when QEMU has exited (never rejects). */
  readonly exited: Promise<MachineExit>;
  #child: Deno.ChildProcess;
  #serial: Deno.UnixConn | undefined;
  #qmp: QmpClient | undefined;
  #hasExited = false;
  #stderrTail = "";
  #shutdown: Promise<MachineExit> | undefined;
  #options: LaunchOptions;

  private constructor(
    options: LaunchOptions,
    argv: string[],
    runDir: string,
    child: Deno.ChildProcess,
    forwards: HostForwards | undefined,
  ) {
    this.arch = options.arch;
    this.forwards = forwards;
    this.argv = argv;
    this.runDir = runDir;
    this.#child = child;
    this.#options = options;
    this.pid = child.pid;
    const stderrDrained = this.#drainStderr(child.stderr);
    // The exit is reported once stderr is fully read, so its tail is complete.
    this.exited = Promise.all([child.status, stderrDrained]).then(([status]) => {
      this.#hasExited = true;
      liveMachines.delete(this);
      return {
        code: status.code,
        signal: status.signal,
        outcome: exitOutcome(options.arch, { code: status.code, signal: status.signal }),
        stderrTail: this.#stderrTail,
      };
    });
  }

  /** QEMU's version from the QMP greeting (`7.2.0`), once connected. */
  qemuVersion: string | undefined;

  /** The QMP client, once connected. */
  get qmp(): QmpClient | undefined {
    return this.#qmp;
  }

  get hasExited(): boolean {
    return this.#hasExited;
  }

  /** What QEMU printed on stderr so far (bounded). */
  get stderrTail(): string {
    return this.#stderrTail;
  }

  /**
   * Starts QEMU paused, connects the serial socket (retrying until QEMU
   * listens), negotiates QMP and continues the machine. On any failure the
   * half-started machine is torn down before the error propagates.
   */
  static async launch(options: LaunchOptions): Promise<Machine> {
    // Ports the OS says are free are bound by QEMU a moment later, a race
    // another process can win (any outgoing connection may take the same
    // ephemeral port). Then QEMU refuses to start with "Could not set up host
    // forwarding rule": pick fresh ports and start again. A port the caller
    // chose (--listen) is not retried: it is taken, and the error says so.
    for (let attempt = 1;; attempt++) {
      try {
        return await Machine.#launchOnce(options);
      } catch (error) {
        const lost = error instanceof FailedError && error.message.includes(HOSTFWD_REFUSED);
        const callersPort = options.metricsPort !== undefined &&
          (error as Error).message.includes(`127.0.0.1:${options.metricsPort}-`);
        if (!lost || callersPort || attempt >= PORT_RACE_ATTEMPTS) throw error;
      }
    }
  }

  static async #launchOnce(options: LaunchOptions): Promise<Machine> {
    const profile = PROFILES[options.arch];
    // Once per process: a run with many boots need not rescan /tmp for each.
    if (!staleRunDirsChecked) {
      staleRunDirsChecked = true;
      await removeStaleRunDirs();
    }
    // mkdtemp makes the directory 0700: nobody else can reach our sockets.
    const runDir = await Deno.makeTempDir({ prefix: RUN_DIR_PREFIX });
    // Who owns it, so a later sis can remove it if this one is killed with SIGKILL.
    await Deno.writeTextFile(join(runDir, "owner.pid"), String(Deno.pid));
    const paths = {
      serialSocket: join(runDir, "serial.sock"),
      qmpSocket: join(runDir, "qmp.sock"),
      serialLog: join(runDir, "serial.log"),
    };
    // Ports the OS says are free; QEMU binds them a moment later (`launch`
    // retries when another process won that race).
    const forwards = options.config.network
      ? { metrics: options.metricsPort ?? freeLoopbackPort(), echo: freeLoopbackPort() }
      : undefined;
    const argv = qemuArgv(profile, options.config, options.kernelPath, paths, options.qemuBinary, forwards);
    let child: Deno.ChildProcess;
    try {
      // setpriv --pdeathsig KILL: if sis dies (even by SIGKILL) the kernel sends QEMU SIGKILL.
      // detached: QEMU gets its own process group, so a terminal's Ctrl-C reaches only sis
      // (which tears QEMU down in order) and we can kill the whole group at the end.
      child = new Deno.Command("setpriv", {
        args: ["--pdeathsig", "KILL", "--", ...argv],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
        detached: true,
      }).spawn();
    } catch (error) {
      await rm(runDir, { recursive: true, force: true });
      if (error instanceof Deno.errors.NotFound) {
        throw new EnvironmentError("cannot start QEMU: setpriv (util-linux) is not installed", {
          fix: "apt-get install util-linux, or run `sis setup`",
        });
      }
      throw error;
    }
    const machine = new Machine(options, argv, runDir, child, forwards);
    liveMachines.add(machine);
    try {
      const deadline = Date.now() + (options.connectTimeoutMs ?? 5000);
      const isAlive = () => !machine.#hasExited;
      const serial = await connectUnixWithRetry(paths.serialSocket, deadline, isAlive);
      machine.#serial = serial;
      machine.#pumpSerial(serial);
      machine.#qmp = await QmpClient.connect(paths.qmpSocket, {
        timeoutMs: Math.max(1, deadline - Date.now()),
        isAlive,
      });
      const version = (await machine.#qmp.greeting).version as { qemu?: Record<string, number> } | undefined;
      if (version?.qemu) {
        machine.qemuVersion = `${version.qemu.major}.${version.qemu.minor}.${version.qemu.micro}`;
      }
      await machine.#qmp.cont();
      return machine;
    } catch (error) {
      const exit = await machine.shutdown();
      const stderr = exit.stderrTail.trim();
      // setpriv reports a missing binary as "setpriv: failed to execute <name>: No such file or directory".
      if (stderr.includes("failed to execute")) {
        throw new EnvironmentError(`cannot start QEMU for "${options.arch}": ${argv[0]} is not installed`, {
          fix: setupFix([PROFILES[options.arch].aptPackage]),
        });
      }
      const reason = stderr !== "" ? `QEMU failed: ${stderr.split("\n").at(-1)}` : (error as Error).message;
      throw new FailedError(`cannot boot kernel for "${options.arch}": ${reason}`, { cause: error });
    }
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (!this.#serial) throw new Error("serial port not connected");
    let written = 0;
    try {
      while (written < bytes.length) written += await this.#serial.write(bytes.subarray(written));
    } catch (error) {
      // QEMU gone (it exited, or was shut down by a signal): the kernel's failure, typed, not a bug in sis.
      if (
        error instanceof Deno.errors.BrokenPipe || error instanceof Deno.errors.ConnectionReset ||
        error instanceof Deno.errors.NotConnected || error instanceof Deno.errors.BadResource
      ) {
        throw new FailedError(`cannot write to the serial port of "${this.arch}": QEMU has exited`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  /**
   * Ends QEMU: QMP `quit` (bounded), then SIGKILL to its process group,
   * await its exit, copy the serial log out if asked, remove the run dir.
   * Every step tolerates the previous one having failed.
   */
  shutdown(quitTimeoutMs = 500): Promise<MachineExit> {
    this.#shutdown ??= this.#doShutdown(quitTimeoutMs);
    return this.#shutdown;
  }

  async #doShutdown(quitTimeoutMs: number): Promise<MachineExit> {
    if (!this.#hasExited && this.#qmp) {
      await Promise.race([
        this.#qmp.quit(quitTimeoutMs).catch(() => {}),
        this.exited,
      ]);
    }
    this.#qmp?.close();
    if (!this.#hasExited) {
      const quitDeadline = new Promise((resolve) => setTimeout(resolve, quitTimeoutMs));
      await Promise.race([this.exited, quitDeadline]);
    }
    this.#killGroup();
    const exit = await this.exited;
    try {
      this.#serial?.close();
    } catch {
      // Already closed.
    }
    if (this.#options.keepSerialLogAt) {
      await copyFile(join(this.runDir, "serial.log"), this.#options.keepSerialLogAt).catch(() => {});
    }
    await rm(this.runDir, { recursive: true, force: true });
    return exit;
  }

  /** SIGKILL to the whole group (setpriv exec'd into QEMU, so the group is QEMU's). */
  #killGroup(): void {
    for (const target of [-this.pid, this.pid]) {
      try {
        Deno.kill(target, "SIGKILL");
      } catch {
        // Already gone: that is the goal.
      }
    }
  }

  async #pumpSerial(serial: Deno.UnixConn): Promise<void> {
    try {
      for await (const chunk of serial.readable) {
        this.#options.onSerialBytes?.(chunk);
        this.chunks.push(chunk);
      }
    } catch {
      // Connection reset when QEMU dies: the stream simply ends.
    }
    this.chunks.close();
  }

  async #drainStderr(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) {
        this.#stderrTail = (this.#stderrTail + decoder.decode(chunk, { stream: true })).slice(
          -STDERR_TAIL_BYTES,
        );
      }
    } catch {
      // QEMU gone.
    }
  }
}

/**
 * Whether `pid` certainly no longer exists: `kill(pid, 0)` failing with
 * ESRCH. Anything else (alive, EPERM, a permission sis lacks) counts as
 * alive, so a folder is only ever removed when its owner is known dead.
 * (Not a stat of /proc/<pid>: Deno refuses /proc paths without
 * --allow-all, which made every owner look dead.)
 */
function isProcessGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as { code?: string }).code === "ESRCH";
  }
}

/** Tears down every machine this process started (signal handlers, fatal errors). */
export async function shutdownAllMachines(): Promise<void> {
  await Promise.all([...liveMachines].map((machine) => machine.shutdown(200)));
}

/** Pids of QEMU processes this process still has running (for tests and `--verbose`). */
export function liveMachinePids(): number[] {
  return [...liveMachines].map((machine) => machine.pid);
}

/**
 * Installs SIGINT/SIGTERM handlers that tear down all machines, then call
 * `onSignal` (which decides the exit). Returns a function removing them.
 * Kept out of `Machine` so library users decide their own signal policy.
 */
export function installSignalTeardown(onSignal: (signal: Deno.Signal) => void): () => void {
  const handlers: [Deno.Signal, () => void][] = (["SIGINT", "SIGTERM"] as const).map((signal) => [
    signal,
    () => {
      shutdownAllMachines().finally(() => onSignal(signal));
    },
  ]);
  for (const [signal, handler] of handlers) Deno.addSignalListener(signal, handler);
  return () => {
    for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
  };
}
