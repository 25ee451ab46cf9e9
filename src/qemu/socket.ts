/** Unix-socket helpers: a bounded connect-with-retry and an async byte queue used by the QMP and serial readers. */

/**
 * Connects to a unix socket QEMU is about to listen on. The socket file can
 * exist before QEMU listens (or not exist yet), so NotFound and
 * ConnectionRefused are retried with a short backoff until `deadline`
 * (ms since epoch, `Date.now()` clock). This is a bounded retry of a failing
 * call, not a sleep standing in for an event: the first success returns.
 * `isAlive` lets the caller stop early when QEMU already died.
 */
export async function connectUnixWithRetry(
  path: string,
  deadline: number,
  isAlive: () => boolean = () => true,
): Promise<Deno.UnixConn> {
  let delayMs = 1;
  for (;;) {
    try {
      return await Deno.connect({ transport: "unix", path });
    } catch (error) {
      const retryable = error instanceof Deno.errors.NotFound ||
        error instanceof Deno.errors.ConnectionRefused;
      if (!retryable || !isAlive() || Date.now() + delayMs > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    // Capped low: QEMU listens within tens of ms, and every ms of overshoot is boot time.
    delayMs = Math.min(delayMs * 2, 5);
  }
}

/**
 * A single-consumer queue that turns pushes into an async iterator, with an
 * optional per-`next` timeout. The session driver and the QMP client wait on
 * it: every wait ends on an item, the end of the stream, or a deadline.
 */
export class AsyncQueue<T> {
  #items: T[] = [];
  #waiter: ((result: IteratorResult<T>) => void) | undefined;
  #isClosed = false;
  #error: unknown = undefined;

  push(item: T): void {
    if (this.#isClosed) return;
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter({ value: item, done: false });
    } else {
      this.#items.push(item);
    }
  }

  /** Ends the stream; pending and future `next` calls see `done` (or the error). */
  close(error?: unknown): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#error = error;
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter({ value: undefined, done: true });
    }
  }

  /** Items ready to take without waiting. */
  get size(): number {
    return this.#items.length;
  }

  /** Takes an item that is already queued, without waiting; undefined when none is. */
  take(): T | undefined {
    return this.#items.shift();
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Takes the next item; `undefined` result means "timed out". */
  next(timeoutMs?: number): Promise<IteratorResult<T> | undefined> {
    if (this.#items.length > 0) return Promise.resolve({ value: this.#items.shift()!, done: false });
    if (this.#isClosed) {
      if (this.#error !== undefined) return Promise.reject(this.#error);
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.#waiter) return Promise.reject(new Error("AsyncQueue supports one waiter at a time"));
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      this.#waiter = (result) => {
        if (timer !== undefined) clearTimeout(timer);
        resolve(result);
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.#waiter = undefined;
          resolve(undefined);
        }, Math.max(0, timeoutMs));
      }
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const result = await this.next();
      if (!result || result.done) return;
      yield result.value;
    }
  }
}
