/** Scraping the kernel's own `GET /metrics` through QEMU's host port forward (`sis soak --scrape http`), with the serial console kept to tell a dead kernel from a dead network. */
import { KernelHangError } from "../errors.ts";
import type { Session } from "../session/driver.ts";
import { parseScrape } from "./scrape.ts";

/** The scraper interface the soak job uses, serial or HTTP. */
export interface MetricsScraper {
  scrape(session: Pick<Session, "run" | "stage">): Promise<Record<string, number>>;
}

/**
 * Reads `http://127.0.0.1:<port>/metrics` (the Prometheus exposition the
 * kernel serves on TCP 9100, docs/NETWORK.md). The exposition writes each
 * series exactly as `metricsctl --format simple` does, labels included, so
 * `parseScrape` gives the same sample keys as the serial scrape.
 *
 * A failed request (refused, reset, timed out, not 200) is checked against
 * the serial console: a kernel that panicked or hung fails that command
 * with the session's own panic or hang error, which the soak records as
 * usual. A kernel whose console still answers while `/metrics` does not is
 * recorded as a hang of the HTTP service, with the reason.
 */
export class HttpScraper implements MetricsScraper {
  readonly url: string;
  readonly #timeoutMs: number;

  constructor(port: number, timeoutMs: number) {
    this.url = `http://127.0.0.1:${port}/metrics`;
    this.#timeoutMs = timeoutMs;
  }

  async scrape(session: Pick<Session, "run" | "stage">): Promise<Record<string, number>> {
    let reason: string;
    try {
      const response = await fetch(this.url, { signal: AbortSignal.timeout(this.#timeoutMs) });
      const text = await response.text();
      if (response.status === 200) return parseScrape(text.split("\n"));
      reason = `status ${response.status} ${text.split("\n")[0].slice(0, 80)}`;
    } catch (error) {
      reason = error instanceof DOMException && error.name === "TimeoutError"
        ? `no answer within ${this.#timeoutMs} ms`
        : (error as Error).message;
    }
    // Throws the session's panic, hang or exit error if the kernel is gone.
    await session.run("uptime");
    throw new KernelHangError(
      `GET ${this.url} failed (${reason}) while the serial console still answers`,
      session.stage,
    );
  }
}
