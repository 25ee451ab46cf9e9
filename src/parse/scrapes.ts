/** Compares consecutive Prometheus scrapes: counters that go backwards, series that disappear, families over a label-set budget. */
import { type Exposition, formatLabels, keyOf, type Sample } from "./prometheus.ts";

export interface ScrapeFinding {
  scrape: string;
  kind: "parse" | "lint" | "strict" | "counter-reset" | "series-gone" | "label-budget";
  metric?: string;
  text: string;
}

/**
 * The label-budget finding of one family, if it has more distinct label
 * sets than `maxSeries`; `keys` are its samples' series keys (`keyOf`),
 * one per sample. Shared by `compareScrapes` and the single-scrape path of
 * `sis metrics check`, which keeps keys rather than samples.
 */
export function labelBudget(
  scrape: string,
  metric: string,
  keys: readonly string[],
  maxSeries: number,
): ScrapeFinding | undefined {
  if (keys.length <= maxSeries) return undefined;
  // A series of a histogram or summary is its labels without `le`/`quantile`.
  const labelSets = new Set(keys.map((key) => key.replace(/(^|,)(le|quantile)="[^"]*"/, "")));
  if (labelSets.size <= maxSeries) return undefined;
  return {
    scrape,
    kind: "label-budget",
    metric,
    text: `${labelSets.size} label sets, over the budget of ${maxSeries}`,
  };
}

/** Compares consecutive scrapes; pure, for tests. */
export function compareScrapes(
  scrapes: ReadonlyArray<{ name: string; exposition: Exposition }>,
  maxSeries: number,
): ScrapeFinding[] {
  const findings: ScrapeFinding[] = [];
  let previous: Map<string, { value: number; type: string; metric: string; sample: Sample }> | undefined;
  for (const { name, exposition } of scrapes) {
    const current = new Map<string, { value: number; type: string; metric: string; sample: Sample }>();
    for (const family of exposition.families) {
      // Distinct label sets can only exceed the budget if the samples do.
      const overBudget = family.samples.length > maxSeries
        ? labelBudget(name, family.name, family.samples.map(keyOf), maxSeries)
        : undefined;
      if (overBudget) findings.push(overBudget);
      // One scrape has nothing to compare with: skip the per-series map.
      if (scrapes.length < 2) continue;
      for (const sample of family.samples) {
        current.set(sample.name + "{" + keyOf(sample), {
          value: sample.value,
          type: family.type,
          metric: family.name,
          sample,
        });
      }
    }
    if (previous) {
      for (const [series, before] of previous) {
        const now = current.get(series);
        // Display text is built only for what is reported (formatting every sample is slow).
        const shown = () => before.sample.name + formatLabels(before.sample.labels);
        if (!now) {
          findings.push({
            scrape: name,
            kind: "series-gone",
            metric: before.metric,
            text: `series ${shown()} disappeared`,
          });
          continue;
        }
        // Counters, and the cumulative parts of histograms and summaries, never go down.
        const isMonotonic = before.type === "counter" ||
          ((before.type === "histogram" || before.type === "summary") &&
            /_(bucket|count|sum)$/.test(before.sample.name));
        if (isMonotonic && now.value < before.value) {
          findings.push({
            scrape: name,
            kind: "counter-reset",
            metric: before.metric,
            text: `${shown()} went backwards: ${before.value} -> ${now.value}`,
          });
        }
      }
    }
    previous = current;
  }
  return findings;
}
