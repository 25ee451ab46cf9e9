/** A scripted kernel with `run fuzz` and `syscalls --json` (the real program's output lines, the generator mirrored), for orchestration tests without QEMU; it can crash on a chosen call, optionally only after other chosen calls ran in the same process. */
import { FakeConsoleKernel } from "../session/fake_console.ts";
import { callName, generateCall, type Layout } from "./generator.ts";

export interface FakeFuzzOptions {
  /** Panic when this index runs... */
  crashAt?: number;
  /** ...and every one of these ran before it in the same process. */
  needs?: number[];
  /** The panic message (`fuzz-break: ...` for the positive control). */
  message?: string;
  /** Stop answering (a hang) when this index runs. */
  hangAt?: number;
  /** Panic on the command after a run that made this call (a bug in the process's cleanup): no call in flight. */
  crashAfterExitOf?: number;
}

const LAYOUT: Layout = {
  buffer: 0x2000004000n,
  bufferLen: 0x2000n,
  text: 0x2000000040n,
  kernel: 0x100000n,
  unmapped: 0x2f00000000n,
};

/** The indices a plan.rs argument text selects, or undefined when it is not one. */
function selectedIndices(args: string): { seed: bigint; indices: number[] } | undefined {
  const fields = Object.fromEntries(args.split(" ").filter(Boolean).map((word) => word.split("=")));
  if (fields.seed === undefined) return undefined;
  const seed = BigInt(fields.seed);
  if (fields.list !== undefined) {
    const indices = (fields.list as string).split(",").flatMap((item) => {
      const [first, last = first] = item.split("-").map(Number);
      return Array.from({ length: last - first + 1 }, (_, at) => first + at);
    });
    return { seed, indices };
  }
  const start = Number(fields.start ?? 0);
  return { seed, indices: Array.from({ length: Number(fields.calls) }, (_, at) => start + at) };
}

export class FakeFuzzKernel extends FakeConsoleKernel {
  #options: FakeFuzzOptions;
  #counts: Record<string, Record<string, number>> = {};
  #calls = 0;
  #cleanupPanic = false;
  /** Every `run fuzz` argument text, in order (the tests check what was replayed). */
  readonly runs: string[] = [];

  constructor(options: FakeFuzzOptions = {}) {
    super("SIS kernel 0.1.0 booting on fake-fuzz");
    this.#options = options;
  }

  /** The panic marker, report (with `userLine`, if any) and FATAL record; then the "QEMU" exits. */
  #panic(before: string, message: string, userLine: string): void {
    this.endWithPanic(
      before + `\x01sis:panic\r\n!!! KERNEL PANIC !!!\r\nmessage:  ${message}\r\n${userLine}` +
        `{"level":"FATAL","subsystem":"panic","message":${JSON.stringify(message)}}\r\n`,
    );
  }

  #count(name: string, outcome: string): void {
    const row = this.#counts[name] ??= {};
    row[outcome] = (row[outcome] ?? 0) + 1;
    this.#calls++;
  }

  protected answer(seq: number, line: string): void {
    const head = `\x01sis:begin ${seq} ${line}\r\n`;
    if (this.#cleanupPanic) {
      this.#panic(head, "fake: freed twice", "");
      return;
    }
    if (line === "syscalls --json") {
      const json = JSON.stringify({ calls: this.#calls, by_syscall: this.#counts });
      this.emit(`${head}${json}\r\n\x01sis:end ${seq} 0\r\nsis> `);
      return;
    }
    if (!line.startsWith("run fuzz ")) {
      this.emit(`${head}unknown command\r\n\x01sis:end ${seq} 127\r\nsis> `);
      return;
    }
    this.runs.push(line.slice("run fuzz ".length));
    const plan = selectedIndices(line.slice("run fuzz ".length));
    if (!plan) {
      this.emit(`${head}fuzz: bad arguments: missing seed=S\r\n\x01sis:end ${seq} 2\r\nsis> `);
      return;
    }
    let text = head +
      `fuzz: layout buffer=0x${
        LAYOUT.buffer.toString(16)
      } buffer_len=0x2000 text=0x2000000040 kernel=0x100000 unmapped=0x2f00000000\r\n`;
    const ran = new Set<number>();
    let failed = 0;
    for (const index of plan.indices) {
      const call = generateCall(plan.seed, BigInt(index), LAYOUT);
      this.#count("progress", "ok");
      if (index === this.#options.hangAt) {
        // The kernel stops answering: the heartbeat so far, then nothing.
        this.emit(text);
        return;
      }
      const needs = this.#options.needs ?? [];
      if (index === this.#options.crashAt && needs.every((needed) => ran.has(needed))) {
        this.#panic(
          text,
          this.#options.message ?? "fake: broken",
          `user: pid=5 program=fuzz progress=${index} syscall=${call.number}\r\n`,
        );
        return;
      }
      ran.add(index);
      const name = callName(call.number).startsWith("unknown") ? "unknown" : callName(call.number);
      const fails = name === "unknown" || call.args[0] > 1000n;
      if (fails) failed++;
      this.#count(name, name === "unknown" ? "ENOSYS" : fails ? "EINVAL" : "ok");
    }
    if (ran.has(this.#options.crashAfterExitOf ?? -1)) this.#cleanupPanic = true;
    const calls = plan.indices.length;
    text += `fuzz: done seed=${plan.seed} calls=${calls} failed=${failed} elapsed_ms=${
      Math.max(1, Math.round(calls / 50))
    }\r\n`;
    this.emit(`${text}\x01sis:end ${seq} 0\r\nsis> `);
  }
}
