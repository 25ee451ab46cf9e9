/**
 * Appends samples and events to a soak bundle as they come: one whole line
 * per write (synchronous, so a `kill -9` of sis leaves every line written
 * in the page cache and loses at most the one being written), and an
 * fdatasync at least every {@link SYNC_EVERY_MS} so a power cut loses at
 * most that much.
 */
import type { SoakEvent, SoakSample } from "./samples.ts";

export const SYNC_EVERY_MS = 5000;

const encoder = new TextEncoder();

/** An NDJSON file opened for appending. */
class AppendFile {
  readonly path: string;
  #file: Deno.FsFile;
  #lastSync = performance.now();
  #isDirty = false;

  constructor(path: string) {
    this.path = path;
    this.#file = Deno.openSync(path, { create: true, append: true });
  }

  append(record: unknown): void {
    const bytes = encoder.encode(JSON.stringify(record) + "\n");
    for (let written = 0; written < bytes.length;) written += this.#file.writeSync(bytes.subarray(written));
    this.#isDirty = true;
    if (performance.now() - this.#lastSync >= SYNC_EVERY_MS) this.sync();
  }

  sync(): void {
    if (!this.#isDirty) return;
    this.#file.syncDataSync();
    this.#isDirty = false;
    this.#lastSync = performance.now();
  }

  close(): void {
    try {
      this.sync();
    } finally {
      this.#file.close();
    }
  }
}

/**
 * Cuts a torn last line (no newline: a writer killed mid-line) off the end
 * of `path`, so appends start on a line of their own. Returns the bytes cut.
 */
export function cutTornTail(path: string): number {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
  if (bytes.length === 0 || bytes[bytes.length - 1] === 0x0a) return 0;
  const keep = bytes.lastIndexOf(0x0a) + 1;
  Deno.truncateSync(path, keep);
  return bytes.length - keep;
}

/** The two files every arch's job of one soak appends to. */
export class SoakWriter {
  readonly #samples: AppendFile;
  readonly #events: AppendFile;
  #timer: ReturnType<typeof setInterval>;
  samplesWritten = 0;

  constructor(samplesPath: string, eventsPath: string) {
    this.#samples = new AppendFile(samplesPath);
    this.#events = new AppendFile(eventsPath);
    // A quiet soak (a long interval) still reaches the disk every few seconds.
    this.#timer = setInterval(() => this.sync(), SYNC_EVERY_MS);
    Deno.unrefTimer(Number(this.#timer));
  }

  sample(sample: SoakSample): void {
    this.#samples.append(sample);
    this.samplesWritten += 1;
  }

  event(event: SoakEvent): void {
    this.#events.append(event);
  }

  sync(): void {
    try {
      this.#samples.sync();
      this.#events.sync();
    } catch {
      // The next append reports the failure to its caller.
    }
  }

  close(): void {
    clearInterval(this.#timer);
    let failure: unknown;
    for (const file of [this.#samples, this.#events]) {
      try {
        file.close();
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure) throw failure;
  }
}
