/** Reading `metricsctl` through the framed session: the full `simple` scrape, the `values` scrape, and the scraper that uses both. */
import { parseNumber } from "../parse/prometheus.ts";
import type { Session } from "../session/driver.ts";
import type { MetricsScraper } from "./http_scrape.ts";

/**
 * Turns `metricsctl --format simple` output into the sample's metrics: the
 * key is the series exactly as the exposition writes it (labels included).
 */
export function parseScrape(lines: readonly string[]): Record<string, number> {
  const metrics: Record<string, number> = {};
  for (const line of lines) {
    const text = line.trimEnd();
    const space = text.lastIndexOf(" ");
    if (space <= 0 || text.startsWith("#")) continue;
    const value = parseNumber(text.slice(space + 1));
    if (value !== undefined) metrics[text.slice(0, space)] = value;
  }
  return metrics;
}

/** The values of `metricsctl --format values` under `keys`; undefined when the counts differ. */
export function parseValues(
  lines: readonly string[],
  keys: readonly string[],
): Record<string, number> | undefined {
  const words = lines.join(" ").trim().split(/\s+/).filter((word) => word !== "");
  if (words.length !== keys.length) return undefined;
  const metrics: Record<string, number> = {};
  for (let i = 0; i < keys.length; i++) {
    const value = parseNumber(words[i]);
    if (value === undefined) return undefined;
    metrics[keys[i]] = value;
  }
  return metrics;
}

/**
 * Scrapes one boot's kernel: the series names once with `--format simple`,
 * then only the values (`--format values`, a fifth of the bytes on the
 * UART: docs/observability.md). A value count that does not match the names
 * falls back to a full scrape and learns the names again.
 */
export class Scraper implements MetricsScraper {
  #keys: string[] | undefined;

  async scrape(session: Pick<Session, "run">): Promise<Record<string, number>> {
    if (this.#keys !== undefined) {
      const values = parseValues((await session.run("metricsctl --format values")).output, this.#keys);
      if (values !== undefined) return values;
    }
    const metrics = parseScrape((await session.run("metricsctl --format simple")).output);
    this.#keys = Object.keys(metrics);
    return metrics;
  }
}
