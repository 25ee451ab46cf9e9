/** The values `sis soak` takes: durations (`90s`, `30m`, `8h`, `7d`), chaos (`MODE:RATE`), workloads; each bad one is a usage error naming what is accepted. */
import { CHAOS_MODES, type ChaosMode } from "../chaos/mode_names.ts";
import { UsageError } from "../errors.ts";

export const WORKLOADS = ["mixed", "fs", "heap", "tasks", "idle"] as const;
export type SoakWorkload = typeof WORKLOADS[number];

/** Where a soak reads the metrics: `metricsctl` on the serial console, or the kernel's HTTP `/metrics`. */
export const SCRAPE_MODES = ["serial", "http"] as const;
export type SoakScrape = typeof SCRAPE_MODES[number];

/** Chaos modes a soak may arm: every mode of the kernel (the list is defined once, in src/chaos). */
export const SOAK_CHAOS_MODES = CHAOS_MODES;
export type SoakChaosMode = ChaosMode;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `8h`, `7d`, `500ms`, or a combination such as `1h30m`, in milliseconds. */
export function parseDuration(text: string, what: string): number {
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(pattern)) {
    total += Number(match[1]) * UNIT_MS[match[2]];
    consumed += match[0].length;
  }
  if (text === "" || consumed !== text.length || !(total > 0)) {
    throw new UsageError(
      `Invalid ${what} "${text}": expected a number with a unit, such as 90s, 30m, 8h or 7d`,
    );
  }
  return total;
}

export interface SoakChaos {
  mode: SoakChaosMode;
  /** Percent chance, per scrape interval, that the soak arms the mode for that interval. */
  ratePercent: number;
}

/** `MODE:RATE`, RATE a percentage 0-100 (decimals allowed). */
export function parseChaos(text: string): SoakChaos {
  const [mode, rate, ...rest] = text.split(":");
  const ratePercent = Number(rate);
  if (
    rest.length > 0 || !(SOAK_CHAOS_MODES as readonly string[]).includes(mode) || rate === undefined ||
    rate.trim() === "" || !Number.isFinite(ratePercent) || ratePercent < 0 || ratePercent > 100
  ) {
    throw new UsageError(
      `Invalid --chaos "${text}": expected MODE:RATE with MODE one of ${SOAK_CHAOS_MODES.join(", ")} ` +
        `and RATE a percentage 0-100 (the chance per interval), such as random_panic:5`,
    );
  }
  return { mode: mode as SoakChaosMode, ratePercent };
}
