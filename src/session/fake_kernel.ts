/** A scripted stand-in for the kernel's serial console (docs/PROTOCOL.md), for driver tests without QEMU. */
import { AsyncQueue } from "../qemu/socket.ts";
import type { ConsolePort } from "./driver.ts";

/**
 * It speaks the protocol the way the kernel does: banner, prompt, echo in
 * human mode, `frame on` → ready marker, then one frame per received line.
 * Commands: `echo`, `cat` (ENOENT), `chatty` (a log record mid-output),
 * `panic [msg]` (marker, report, FATAL record, then the stream ends),
 * `hang` (never answers), `drip <n> <gap_ms>` (n lines, one per gap, then
 * the end), `die` (stream ends without a marker), `ifconfig [--wait]` (the
 * address DHCP gave, as the kernel prints it); anything
 * else is an unknown command (127). `chunkSize` splits every write to
 * exercise reassembly.
 */
export interface FakeKernelOptions {
  banner?: string[];
  /** Deliver output in pieces of this many bytes (1 = byte by byte). */
  chunkSize?: number;
  /** Never print the prompt (a kernel stuck after entry). */
  isStuckAtBoot?: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class FakeKernel implements ConsolePort {
  readonly chunks = new AsyncQueue<Uint8Array>();
  /** Everything the driver wrote, as text. */
  received = "";
  #line = "";
  #isFramed = false;
  #seq = 0;
  #options: FakeKernelOptions;
  #timers = new Set<ReturnType<typeof setInterval>>();

  constructor(options: FakeKernelOptions = {}) {
    this.#options = options;
    const banner = options.banner ?? ["OpenSBI v1.2", "SIS kernel 0.1.0 booting on fake"];
    this.#emit(banner.map((line) => line + "\r\n").join("") + (options.isStuckAtBoot ? "" : "sis> "));
  }

  /** Stops pending output (the machine is switched off): timers cleared, stream ended. */
  stop(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers.clear();
    this.chunks.close();
  }

  write(bytes: Uint8Array): Promise<void> {
    const text = decoder.decode(bytes);
    this.received += text;
    for (const char of text) {
      if (this.chunks.isClosed) break;
      if (char === "\r" || char === "\n") {
        const line = this.#line;
        this.#line = "";
        this.#execute(line);
      } else {
        this.#line += char;
        if (!this.#isFramed) this.#emit(char);
      }
    }
    return Promise.resolve();
  }

  #emit(text: string): void {
    const bytes = encoder.encode(text);
    const size = this.#options.chunkSize ?? bytes.length;
    for (let offset = 0; offset < bytes.length; offset += Math.max(1, size)) {
      this.chunks.push(bytes.slice(offset, offset + Math.max(1, size)));
    }
  }

  #execute(line: string): void {
    if (!this.#isFramed) {
      if (line === "frame on") {
        this.#isFramed = true;
        this.#emit("\r\n\x01sis:ready\r\nsis> ");
      } else {
        this.#emit(`\r\n${this.#output(line).lines.join("\r\n")}\r\nsis> `);
      }
      return;
    }
    const seq = ++this.#seq;
    const [name] = line.split(" ");
    if (name === "hang") {
      this.#emit(`\x01sis:begin ${seq} ${line}\r\n`);
      return;
    }
    if (name === "drip") {
      // `drip <lines> <gap_ms>`: output that keeps coming, slower than one timeout in total.
      const [count, gapMs] = line.split(" ").slice(1).map(Number);
      this.#emit(`\x01sis:begin ${seq} ${line}\r\n`);
      let sent = 0;
      const timer = setInterval(() => {
        if (sent < count) {
          this.#emit(`drop ${++sent}\r\n`);
          return;
        }
        clearInterval(timer);
        this.#timers.delete(timer);
        this.#emit(`\x01sis:end ${seq} 0\r\nsis> `);
      }, gapMs);
      this.#timers.add(timer);
      return;
    }
    if (name === "die") {
      this.#emit(`\x01sis:begin ${seq} ${line}\r\npartial outp`);
      this.chunks.close();
      return;
    }
    if (name === "panic") {
      const message = line.slice(6) || "explicit panic";
      this.#emit(
        `\x01sis:begin ${seq} ${line}\r\n\x01sis:panic\r\n!!! KERNEL PANIC !!!\r\nmessage: ${message}\r\n` +
          `{"level":"FATAL","subsystem":"panic","message":"${message}","location":"shell.rs:1:1"}\r\n`,
      );
      this.chunks.close();
      return;
    }
    const { lines, status, logAfter } = this.#output(line);
    let text = `\x01sis:begin ${seq} ${line}\r\n`;
    lines.forEach((output, index) => {
      text += `${output}\r\n`;
      if (logAfter === index) text += `\x01sis:log {"level":"INFO","subsystem":"fake","msg":"tick"}\r\n`;
    });
    this.#emit(`${text}\x01sis:end ${seq} ${status}\r\nsis> `);
  }

  #output(line: string): { lines: string[]; status: number; logAfter?: number } {
    const [name, ...words] = line.split(" ");
    switch (name) {
      case "":
        return { lines: [], status: 0 };
      case "echo":
        return { lines: [words.join(" ")], status: 0 };
      case "cat":
        return { lines: [`error: ENOENT: ${words[0]}: no such file or directory`], status: 2 };
      case "ifconfig":
        return { lines: ["eth0: inet 10.0.2.15/24 gw 10.0.2.2"], status: 0 };
      case "chatty":
        return { lines: ["first", "second"], status: 0, logAfter: 0 };
      default:
        return { lines: [`error: unknown command '${name}' (try 'help')`], status: 127 };
    }
  }
}
