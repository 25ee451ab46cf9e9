/** Ordered diff of two event sequences (longest common subsequence): missing, unexpected and reordered events, new WARN/ERROR/FATAL, panics; allowlist with expiry. */
import { z } from "zod";
import { type Level, levelRank } from "../parse/log.ts";

/**
 * Order matters: the old check sorted lines before diffing, so a boot
 * that mounted the file system before finding memory passed. Here the
 * sequences are aligned with a longest common subsequence; whatever the
 * baseline has outside it is missing, whatever the run has outside it is
 * unexpected, and a template that is both missing at one place and
 * unexpected at another is reported once, as reordered.
 */

/** One event of a boot: a log record, a command's end, a panic, the kernel's first line. */
export interface RegressEvent {
  kind: "record" | "command" | "panic" | "kernel";
  template: string;
  level?: Level;
}

export type FindingKind = "missing" | "unexpected" | "reordered" | "new-severe" | "panic";

export interface Finding {
  kind: FindingKind;
  template: string;
  /** Index in the baseline / the run, when the event is there. */
  baselineIndex?: number;
  runIndex?: number;
  /** The allowlist entry that excuses it. */
  allowedBy?: AllowEntry;
}

export const allowEntrySchema = z.strictObject({
  /** Arch the entry applies to; all when absent. */
  arch: z.string().optional(),
  kind: z.enum(["missing", "unexpected", "reordered", "new-severe", "panic", "any"]),
  /** An exact template, or `/regex/` to match several. */
  template: z.string().min(1),
  reason: z.string().min(3),
  /** Last day (UTC, inclusive) the entry is honoured; after it the check fails. */
  expires: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expires must be YYYY-MM-DD"),
});
export type AllowEntry = z.infer<typeof allowEntrySchema>;
export const allowlistSchema = z.strictObject({ entries: z.array(allowEntrySchema) });

export interface DiffResult {
  findings: Finding[];
  /** Allowlist entries past their expiry date (each fails the check). */
  expired: AllowEntry[];
  /** True when an unexcused finding or an expired entry exists. */
  isRegression: boolean;
}

/** Longest common subsequence alignment of two template lists; returns the matched index pairs. */
export function alignSequences(a: readonly string[], b: readonly string[]): Array<[number, number]> {
  const n = a.length;
  const m = b.length;
  // Lengths table, (n+1)*(m+1); boots have hundreds of events, not millions.
  const table = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * (m + 1) + j] = a[i] === b[j]
        ? table[(i + 1) * (m + 1) + j + 1] + 1
        : Math.max(table[(i + 1) * (m + 1) + j], table[i * (m + 1) + j + 1]);
    }
  }
  const pairs: Array<[number, number]> = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      pairs.push([i, j]);
      i++;
      j++;
    } else if (table[(i + 1) * (m + 1) + j] >= table[i * (m + 1) + j + 1]) i++;
    else j++;
  }
  return pairs;
}

/** Compares a run with its baseline. `today` is `YYYY-MM-DD` (UTC). */
export function diffEvents(
  baseline: readonly RegressEvent[],
  run: readonly RegressEvent[],
  options: { arch: string; allowlist?: readonly AllowEntry[]; today: string },
): DiffResult {
  const entries = (options.allowlist ?? []).filter((entry) => !entry.arch || entry.arch === options.arch);
  // Events an active entry lets move (kind reordered or any) float: they are
  // aligned apart from the rest, so when one swaps places with a fixed
  // neighbour the move is put on the floating event, never on the neighbour
  // (a longest common subsequence could keep either of the two in place).
  const floats = (template: string) =>
    entries.some((entry) =>
      entry.expires >= options.today && (entry.kind === "reordered" || entry.kind === "any") &&
      templateMatches(entry.template, template)
    );
  const fixedIndices = (events: readonly RegressEvent[], floating: boolean) =>
    events.map((event, index) => ({ event, index })).filter(({ event }) =>
      floats(event.template) === floating
    )
      .map(({ index }) => index);
  const pairs: Array<[number, number]> = [];
  for (const floating of [false, true]) {
    const fromBaseline = fixedIndices(baseline, floating);
    const fromRun = fixedIndices(run, floating);
    const aligned = alignSequences(
      fromBaseline.map((index) => baseline[index].template),
      fromRun.map((index) => run[index].template),
    );
    for (const [i, j] of aligned) {
      // Floating events match wherever they are; one that changed places is reported (and allowed).
      if (floating && fromBaseline[i] !== fromRun[j]) continue;
      pairs.push([fromBaseline[i], fromRun[j]]);
    }
  }
  const matchedBaseline = new Set(pairs.map(([i]) => i));
  const matchedRun = new Set(pairs.map(([, j]) => j));
  const missing = baseline.map((event, index) => ({ event, index })).filter(({ index }) =>
    !matchedBaseline.has(index)
  );
  const unexpected = run.map((event, index) => ({ event, index })).filter(({ index }) =>
    !matchedRun.has(index)
  );
  const findings: Finding[] = [];
  // A template both missing and unexpected moved: pair them up once each.
  const unexpectedLeft = [...unexpected];
  for (const gone of missing) {
    const moved = unexpectedLeft.findIndex(({ event }) => event.template === gone.event.template);
    if (moved >= 0) {
      const [{ index }] = unexpectedLeft.splice(moved, 1);
      findings.push({
        kind: "reordered",
        template: gone.event.template,
        baselineIndex: gone.index,
        runIndex: index,
      });
    } else {
      findings.push({ kind: "missing", template: gone.event.template, baselineIndex: gone.index });
    }
  }
  const baselineTemplates = new Set(baseline.map((event) => event.template));
  for (const { event, index } of unexpectedLeft) {
    if (event.kind === "panic") findings.push({ kind: "panic", template: event.template, runIndex: index });
    else if (
      event.level && levelRank(event.level) >= levelRank("WARN") && !baselineTemplates.has(event.template)
    ) {
      findings.push({ kind: "new-severe", template: event.template, runIndex: index });
    } else findings.push({ kind: "unexpected", template: event.template, runIndex: index });
  }
  findings.sort((a, b) => (a.runIndex ?? a.baselineIndex ?? 0) - (b.runIndex ?? b.baselineIndex ?? 0));

  const expired = entries.filter((entry) => entry.expires < options.today);
  for (const finding of findings) {
    finding.allowedBy = entries.find((entry) =>
      entry.expires >= options.today && (entry.kind === "any" || entry.kind === finding.kind) &&
      templateMatches(entry.template, finding.template)
    );
  }
  return {
    findings,
    expired,
    isRegression: expired.length > 0 || findings.some((finding) => !finding.allowedBy),
  };
}

function templateMatches(pattern: string, template: string): boolean {
  if (pattern.length > 2 && pattern.startsWith("/") && pattern.endsWith("/")) {
    try {
      return new RegExp(pattern.slice(1, -1)).test(template);
    } catch {
      return false;
    }
  }
  return pattern === template;
}
