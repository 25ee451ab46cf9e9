/** A scripted kernel with the chaos shell commands (docs/CHAOS.md semantics, simpler generator), for checker and runner tests without QEMU; it can also be built broken on purpose. */
import { FakeConsoleKernel } from "../session/fake_console.ts";
import { chaosDraws } from "./generator.ts";
import { CHAOS_MODES, type ChaosMode, MODE_SPECS } from "./modes.ts";

/** Ways the fake can be broken, each one a bug the checker must catch. */
export type FakeDefect =
  /** The kernel forgets to count injections. */
  | "counter"
  /** disk_full answers EIO instead of ENOSPC. */
  | "errno"
  /** Injections happen but are not logged. */
  | "unlogged"
  /** The point is never called: the mode is armed but nothing fires (the original toolkit's bug). */
  | "dead-point"
  /** Recovery is broken: chaos mode none leaves writes failing. */
  | "sticky"
  /** A kept file's content changes under faults. */
  | "corrupt"
  /** slow_io logs a delay but does not wait. */
  | "no-delay"
  /** slow_io waits five times the delay it was set to. */
  | "over-delay"
  /** A failed write leaves the file behind, cut short. */
  | "partial"
  /** A disk fault panics the kernel. */
  | "panic-on-fault"
  /** network_fail counts a failed send as sent. */
  | "tx-on-failure";

export interface FakeChaosOptions {
  defect?: FakeDefect;
  /** Added to every command's duration (ms), per injection under slow_io: simulated by the clock. */
  clock?: { now: () => number; advance: (ms: number) => void };
}

/** The kernel's human log format: `[WARN] chaos: injected mode=... seq=1`. */
function human(fields: Record<string, unknown>): string {
  const { level, subsystem, status, ts: _ts, ...rest } = fields;
  const pairs = Object.entries(rest).map(([key, value]) => `${key}=${value}`).join(" ");
  return `[${level}] ${subsystem}: ${status} ${pairs}`;
}

export class FakeChaosKernel extends FakeConsoleKernel {
  #isJson = false;
  #mode: ChaosMode | "none" = "none";
  #rate = 10;
  #seed = 0n;
  #delayUs = 1000;
  /** The kernel's own generator, mirrored (a correct fake draws what the real kernel draws). */
  #draw = chaosDraws(0n);
  #checks = 0;
  #injected = 0;
  #stats = new Map<ChaosMode, { checks: number; injections: number }>();
  #files = new Map<string, string>();
  #options: FakeChaosOptions;
  #log: string[] = [];
  #tx = { packets: 0, bytes: 0 };

  constructor(options: FakeChaosOptions = {}) {
    super("SIS kernel 0.1.0 booting on fake-chaos");
    this.#options = options;
    this.#resetStats();
  }

  #resetStats(): void {
    for (const mode of CHAOS_MODES) this.#stats.set(mode, { checks: 0, injections: 0 });
  }

  /** Asks the generator at `point`; logs and counts an injection. */
  #check(point: string): { errno?: string; panic?: boolean; delayMs?: number } | undefined {
    if (this.#mode === "none") return undefined;
    const spec = MODE_SPECS[this.#mode];
    if (spec.point !== point && !(spec.effect === "panic")) return undefined;
    if (this.#options.defect === "dead-point") return undefined;
    const stats = this.#stats.get(this.#mode)!;
    stats.checks++;
    this.#checks++;
    if (this.#draw() >= this.#rate) return undefined;
    if (this.#options.defect !== "counter") stats.injections++;
    this.#injected++;
    let errno = spec.errno?.name;
    if (this.#options.defect === "errno" && errno === "ENOSPC") errno = "EIO";
    const fields: Record<string, unknown> = {
      ts: 1,
      level: "WARN",
      subsystem: "chaos",
      status: "injected",
      mode: this.#mode,
      point: spec.point,
      effect: spec.effect,
    };
    if (errno) fields.errno = errno;
    if (spec.effect === "delay") fields.delay_us = this.#delayUs;
    fields.check = this.#checks;
    fields.seq = this.#injected;
    if (this.#options.defect !== "unlogged") {
      this.#log.push(this.#isJson ? JSON.stringify(fields) : human(fields));
    }
    if (spec.effect === "panic") return { panic: true };
    if (spec.effect === "delay") {
      const factor = this.#options.defect === "no-delay" ? 0 : this.#options.defect === "over-delay" ? 5 : 1;
      return { delayMs: factor * this.#delayUs / 1000 };
    }
    if (this.#options.defect === "panic-on-fault") return { panic: true };
    return { errno };
  }

  protected answer(seq: number, line: string): void {
    this.#log = [];
    const result = this.#run(line.split(" ").filter((word) => word !== ""));
    let text = `\x01sis:begin ${seq} ${line}\r\n`;
    for (const record of this.#log) text += `\x01sis:log ${record}\r\n`;
    if (result === "panic") {
      this.endWithPanic(
        text + `\x01sis:panic\r\n!!! KERNEL PANIC !!!\r\nmessage: chaos: random panic\r\n` +
          `{"level":"FATAL","subsystem":"panic","message":"chaos: random panic","location":"chaos.rs:1:1"}\r\n`,
      );
      return;
    }
    for (const output of result.lines) text += `${output}\r\n`;
    this.emit(`${text}\x01sis:end ${seq} ${result.status}\r\nsis> `);
  }

  #fail(errno: string): { lines: string[]; status: number } {
    const codes: Record<string, number> = {
      EIO: 5,
      ENOMEM: 12,
      ENOSPC: 28,
      ENETDOWN: 100,
      EINVAL: 22,
      ENOENT: 2,
    };
    return { lines: [`error: ${errno}: injected`], status: codes[errno] };
  }

  #point(point: string): { lines: string[]; status: number } | "panic" | undefined {
    const outcome = this.#check(point);
    if (!outcome) return undefined;
    if (outcome.panic) return "panic";
    if (outcome.delayMs) this.#options.clock?.advance(outcome.delayMs);
    return outcome.errno ? this.#fail(outcome.errno) : undefined;
  }

  #run(argv: string[]): { lines: string[]; status: number } | "panic" {
    const [name, ...args] = argv;
    const ok = (lines: string[] = []) => ({ lines, status: 0 });
    this.#options.clock?.advance(1);
    switch (name) {
      case undefined:
        return ok();
      case "echo":
        return ok([args.join(" ")]);
      case "logctl":
        this.#isJson = args[0] === "json";
        return ok();
      case "mkdir":
        return ok();
      case "write": {
        if (this.#options.defect === "sticky" && this.#mode === "none" && this.#injected > 0) {
          return this.#fail("ENOSPC");
        }
        const fault = this.#point("block_write") ?? this.#point("io_delay");
        if (fault && fault !== "panic" && fault.status !== 0 && this.#options.defect === "partial") {
          this.#files.set(args[0], args.slice(1).join(" ").slice(0, 3));
        }
        if (fault) return fault;
        this.#files.set(args[0], args.slice(1).join(" "));
        if (this.#options.defect === "corrupt" && this.#injected > 0) {
          for (const path of this.#files.keys()) this.#files.set(path, "garbage");
        }
        return ok();
      }
      case "cat": {
        const text = this.#files.get(args[0]);
        return text === undefined ? this.#fail("ENOENT") : ok([text]);
      }
      case "ls": {
        const prefix = `${args[0].replace(/\/$/, "")}/`;
        return ok(
          [...this.#files.entries()].filter(([path]) => path.startsWith(prefix)).map(([path, text]) =>
            // Sizes as the kernel's `write` stores them: the words and a newline.
            `-${String(text.length + 1).padStart(9)} ${path.slice(prefix.length)}`
          ),
        );
      }
      case "cksum": {
        const text = this.#files.get(args[0]);
        if (text === undefined) return this.#fail("ENOENT");
        let sum = 0;
        for (const char of text) sum = (sum * 31 + char.charCodeAt(0)) >>> 0;
        return ok([`${sum} ${text.length} ${args[0]}`]);
      }
      case "alloc":
        return this.#point("allocation") ?? ok();
      case "net": {
        if (args[0] === "stats") {
          return ok(["device null mtu 1500", `tx_packets ${this.#tx.packets}`, `tx_bytes ${this.#tx.bytes}`]);
        }
        const fault = this.#point("network_send");
        if (!fault || this.#options.defect === "tx-on-failure") {
          this.#tx.packets++;
          this.#tx.bytes += Number(args[1]);
        }
        return fault ?? ok([`sent ${args[1]} bytes`]);
      }
      case "chaos":
        return this.#chaos(args);
      default:
        return { lines: [`error: unknown command '${name}' (try 'help')`], status: 127 };
    }
  }

  #chaos(args: string[]): { lines: string[]; status: number } {
    const ok = (lines: string[] = []) => ({ lines, status: 0 });
    switch (args[0]) {
      case "mode":
        if (args[1] !== "none" && !(CHAOS_MODES as readonly string[]).includes(args[1])) {
          return this.#fail("EINVAL");
        }
        this.#mode = args[1] as ChaosMode | "none";
        return ok();
      case "rate":
        this.#rate = Number(args[1]);
        return ok();
      case "seed":
        this.#seed = BigInt(args[1]);
        this.#draw = chaosDraws(this.#seed);
        this.#checks = 0;
        this.#injected = 0;
        return ok();
      case "delay":
        this.#delayUs = Number(args[1]);
        return ok();
      case "reset":
        this.#mode = "none";
        this.#rate = 10;
        this.#seed = 0n;
        this.#delayUs = 1000;
        this.#draw = chaosDraws(0n);
        this.#checks = 0;
        this.#injected = 0;
        this.#resetStats();
        return ok();
      case "stats": {
        const modes = CHAOS_MODES.map((mode) => `"${mode}":${JSON.stringify(this.#stats.get(mode))}`).join(
          ",",
        );
        return ok([
          `{"mode":"${this.#mode}","rate":${this.#rate},"seed":${this.#seed},"delay_us":${this.#delayUs},` +
          `"contended":0,"modes":{${modes}}}`,
        ]);
      }
      default:
        return this.#fail("EINVAL");
    }
  }
}
