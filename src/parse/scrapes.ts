/** Compares consecutive Prometheus scrapes: counters that go backwards, series that disappear, families over a label-set budget. */
import { type Exposition, seriesKey } from "./prometheus.ts";

export interface ScrapeFinding {
  scrape: string;
  kind: "parse" | "lint" | "strict" | "counter-reset" | "series-gone" | "label-budget";
  metric?: string;
  text: string;
}

/** Compares consecutive scrapes; pure, for tests. */
export function compareScrapes(
  scrapes: ReadonlyArray<{ name: string; exposition: Exposition }>,
  maxSeries: number,
): ScrapeFinding[] {
  const findings: ScrapeFinding[] = [];
  let previous: Map<string, { value: number; type: string; metric: string }> | undefined;
  for (const { name, exposition } of scrapes) {
    const current = new Map<string, { value: number; type: string; metric: string }>();
    for (const family of exposition.families) {
      const labelSets = new Set(family.samples.map((sample) => seriesKey(sample.labels)));
      if (labelSets.size > maxSeries) {
        findings.push({
          scrape: name,
          kind: "label-budget",
          metric: family.name,
          text: `${labelSets.size} label sets, over the budget of ${maxSeries}`,
        });
      }
      for (const sample of family.samples) {
        current.set(sample.name + seriesKey(sample.labels), {
          value: sample.value,
          type: family.type,
          metric: family.name,
        });
      }
    }
    if (previous) {
      for (const [series, before] of previous) {
        const now = current.get(series);
        if (!now) {
          findings.push({
            scrape: name,
            kind: "series-gone",
            metric: before.metric,
            text: `series ${series} disappeared`,
          });
          continue;
        }
        // Counters, and the cumulative parts of histograms and summaries, never go down.
        const isMonotonic = before.type === "counter" ||
          ((before.type === "histogram" || before.type === "summary") &&
            /_(bucket|count|sum)(\{|$)/.test(series));
        if (isMonotonic && now.value < before.value) {
          findings.push({
            scrape: name,
            kind: "counter-reset",
            metric: before.metric,
            text: `${series} went backwards: ${before.value} -> ${now.value}`,
          });
        }
      }
    }
    previous = current;
  }
  return findings;
}
