/** A small QMP client (QEMU Machine Protocol): greeting, capabilities, commands with ids, events as a stream. */
import { AsyncQueue, connectUnixWithRetry } from "./socket.ts";

/**
 * Written here because the only npm QMP client is a 78-line unlicensed
 * package (DESIGN.md). QMP is newline-delimited JSON: the server greets with
 * `{"QMP": {...}}`, the client must send `qmp_capabilities` before anything
 * else, replies carry the `id` we sent, and asynchronous events
 * (`{"event": ..., "timestamp": ...}`) may arrive between replies.
 * https://www.qemu.org/docs/master/interop/qmp-spec.html
 */

/** An asynchronous QMP event such as STOP, RESUME, SHUTDOWN. */
export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

/** The reply of `query-status`. */
export interface QmpStatus {
  status: string;
  running: boolean;
  singlestep?: boolean;
}

/** QEMU answered a command with an error object, or the connection broke. */
export class QmpError extends Error {
  constructor(message: string, readonly errorClass?: string) {
    super(message);
    this.name = "QmpError";
  }
}

export interface QmpConnectOptions {
  /** Give up connecting or waiting for the greeting after this long. */
  timeoutMs?: number;
  /** Stop retrying the connect once this returns false (QEMU died). */
  isAlive?: () => boolean;
}

type Pending = {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer?: ReturnType<typeof setTimeout>;
};

const encoder = new TextEncoder();

export class QmpClient {
  readonly #conn: Deno.Conn;
  readonly #pending = new Map<number, Pending>();
  readonly #events = new AsyncQueue<QmpEvent>();
  #nextId = 1;
  #isClosed = false;
  #greeting: Promise<Record<string, unknown>>;
  #resolveGreeting!: (value: Record<string, unknown>) => void;
  #rejectGreeting!: (error: Error) => void;
  readonly #readLoop: Promise<void>;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.#greeting = new Promise((resolve, reject) => {
      this.#resolveGreeting = resolve;
      this.#rejectGreeting = reject;
    });
    // Avoid an unhandled rejection when the greeting fails before anyone awaits it.
    this.#greeting.catch(() => {});
    this.#readLoop = this.#read();
  }

  /**
   * Connects (retrying until QEMU listens, bounded by `timeoutMs`), reads the
   * greeting and negotiates capabilities. The returned client is in command mode.
   */
  static async connect(path: string, options: QmpConnectOptions = {}): Promise<QmpClient> {
    const timeoutMs = options.timeoutMs ?? 5000;
    const deadline = Date.now() + timeoutMs;
    const conn = await connectUnixWithRetry(path, deadline, options.isAlive);
    const client = new QmpClient(conn);
    try {
      await withTimeout(client.#greeting, deadline - Date.now(), "QMP greeting");
      await client.execute("qmp_capabilities", undefined, Math.max(1, deadline - Date.now()));
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }

  /** The server's greeting (`QMP.version` etc.). */
  get greeting(): Promise<Record<string, unknown>> {
    return this.#greeting;
  }

  /** Sends a command and resolves with its `return` value; rejects on `error` or timeout. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 5000): Promise<T> {
    if (this.#isClosed) return Promise.reject(new QmpError(`QMP connection closed before "${command}"`));
    const id = this.#nextId++;
    const message = JSON.stringify(
      args ? { execute: command, arguments: args, id } : { execute: command, id },
    );
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new QmpError(`QMP "${command}" got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.#conn.write(encoder.encode(message + "\n")).catch((error) => {
        this.#settle(id, undefined, new QmpError(`QMP write failed: ${(error as Error).message}`));
      });
    });
  }

  queryStatus(timeoutMs?: number): Promise<QmpStatus> {
    return this.execute<QmpStatus>("query-status", undefined, timeoutMs);
  }

  async cont(timeoutMs?: number): Promise<void> {
    await this.execute("cont", undefined, timeoutMs);
  }

  /**
   * Asks QEMU to quit. QEMU may close the socket before the reply arrives,
   * so a closed connection counts as success.
   */
  async quit(timeoutMs = 2000): Promise<void> {
    try {
      await this.execute("quit", undefined, timeoutMs);
    } catch (error) {
      if (!(error instanceof QmpError) || !this.#isClosed) throw error;
    }
  }

  /** Asynchronous events, in arrival order, until the connection closes. */
  events(): AsyncIterable<QmpEvent> {
    return this.#events;
  }

  /** The next event, or `undefined` after `timeoutMs` or at end of stream. */
  async nextEvent(timeoutMs?: number): Promise<QmpEvent | undefined> {
    const result = await this.#events.next(timeoutMs);
    return result && !result.done ? result.value : undefined;
  }

  /** Resolves when the server closed the connection (QEMU exited). */
  get closed(): Promise<void> {
    return this.#readLoop;
  }

  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer.
    }
    this.#failAll(new QmpError("QMP connection closed"));
  }

  /** Rejects every pending command and ends the event stream. */
  #failAll(error: QmpError): void {
    this.#rejectGreeting(error);
    for (const id of [...this.#pending.keys()]) this.#settle(id, undefined, error);
    this.#events.close();
  }

  #settle(id: number, value: unknown, error?: Error): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    if (pending.timer !== undefined) clearTimeout(pending.timer);
    if (error) pending.reject(error);
    else pending.resolve(value);
  }

  #dispatch(line: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line);
    } catch {
      return; // Not JSON: QMP never sends that; ignore rather than die.
    }
    if (typeof message !== "object" || message === null) return;
    if ("QMP" in message) {
      this.#resolveGreeting(message.QMP as Record<string, unknown>);
    } else if ("event" in message) {
      this.#events.push(message as unknown as QmpEvent);
    } else if (typeof message.id === "number") {
      if ("error" in message) {
        const error = message.error as { class?: string; desc?: string };
        this.#settle(message.id, undefined, new QmpError(error.desc ?? "QMP error", error.class));
      } else {
        this.#settle(message.id, message.return);
      }
    }
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = "";
    try {
      for await (const chunk of this.#conn.readable) {
        buffered += decoder.decode(chunk, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line) this.#dispatch(line);
        }
      }
    } catch {
      // A reset connection ends the stream like a clean close.
    }
    this.#isClosed = true;
    this.#failAll(new QmpError("QMP connection closed"));
  }
}

/** Races a promise against a deadline, naming what timed out. */
function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new QmpError(`${what} did not arrive within the timeout`)),
      Math.max(1, timeoutMs),
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
