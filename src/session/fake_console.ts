/** The serial console half every scripted feature kernel shares (docs/PROTOCOL.md): banner and prompt, line assembly, `frame on`, frame numbering, a panic that ends the stream, and the machine the engine sees; subclasses answer the framed commands. */
import { AsyncQueue } from "../qemu/socket.ts";
import type { BootedMachine } from "../runs/engine.ts";
import type { ConsolePort } from "./driver.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Before `frame on` every line only gets a new prompt (the feature tests
 * never run a command unframed); after it, each received line is handed to
 * `answer` with its frame sequence number, from 1.
 */
export abstract class FakeConsoleKernel implements ConsolePort {
  readonly chunks = new AsyncQueue<Uint8Array>();
  #line = "";
  #isFramed = false;
  #seq = 0;
  #hasPanicked = false;

  /** `banner` is the kernel's first line (`SIS kernel 0.1.0 booting on ...`); the prompt follows it. */
  constructor(banner: string) {
    this.emit(`${banner}\r\nsis> `);
  }

  /** Whether the fake panicked (its "QEMU" would have exited with 101). */
  get hasPanicked(): boolean {
    return this.#hasPanicked;
  }

  /** This kernel as the engine sees a QEMU: its console, and an exit that says whether it panicked (101) or powered off. */
  machine(argv: readonly string[]): BootedMachine {
    return {
      chunks: this.chunks,
      write: (bytes: Uint8Array) => this.write(bytes),
      argv,
      pid: 4242,
      shutdown: () =>
        Promise.resolve(
          this.hasPanicked
            ? { code: 101, signal: null, outcome: { kind: "panic" } }
            : { code: 0, signal: null, outcome: { kind: "poweroff", code: 0 } },
        ),
    };
  }

  write(bytes: Uint8Array): Promise<void> {
    for (const char of decoder.decode(bytes)) {
      if (this.chunks.isClosed) break;
      if (char === "\r" || char === "\n") {
        const line = this.#line;
        this.#line = "";
        this.#execute(line);
      } else this.#line += char;
    }
    return Promise.resolve();
  }

  /** Answers one framed command line: the whole frame, from `sis:begin` to the prompt after `sis:end`. */
  protected abstract answer(seq: number, line: string): void;

  /** Sends `text` to the console, unless the stream has ended. */
  protected emit(text: string): void {
    if (!this.chunks.isClosed) this.chunks.push(encoder.encode(text));
  }

  /** Sends `text` (the frame so far, the panic marker and report) and ends the stream, as a panicked kernel's QEMU exits. */
  protected endWithPanic(text: string): void {
    this.#hasPanicked = true;
    this.emit(text);
    this.chunks.close();
  }

  #execute(line: string): void {
    if (this.#isFramed) {
      this.answer(++this.#seq, line);
    } else if (line === "frame on") {
      this.#isFramed = true;
      this.emit("\r\n\x01sis:ready\r\nsis> ");
    } else this.emit("\r\nsis> ");
  }
}
