/** The job plan's selection: `--shard i/N` over the stable job order, and the rule that an empty plan is a usage error. */
import { UsageError } from "../errors.ts";

/** One shard of N, 1-based as the user types it. */
export interface Shard {
  index: number;
  count: number;
}

/** Parses `--shard i/N` (1-based, 1 <= i <= N). */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard must be I/N with 1 <= I <= N (for example 2/4), got "${text}"`);
  }
  return { index, count };
}

/**
 * Keeps the items of shard `index` of `count`: positions p with
 * p mod count == index - 1. Round robin over the plan's stable order
 * (arch, config, job), so shards of a matrix are balanced across archs and
 * the N shards together are the whole plan, each job exactly once.
 */
export function shardItems<T>(items: readonly T[], shard: Shard): T[] {
  return items.filter((_, position) => position % shard.count === shard.index - 1);
}

/**
 * Applies `--shard` to a planned job list and refuses an empty result: a
 * filter, suite or shard that selects nothing is a usage error (exit 2)
 * naming what was asked, never a green run of nothing.
 *
 * `asked` describes the selection in the user's words (`--filter "typo"`).
 */
export function selectJobs<T>(jobs: readonly T[], options: { shard?: string; asked?: string }): T[] {
  const shard = options.shard === undefined ? undefined : parseShard(options.shard);
  const selected = shard ? shardItems(jobs, shard) : [...jobs];
  if (selected.length > 0) return selected;
  const asked = options.asked ? ` ${options.asked}` : "";
  if (jobs.length === 0) {
    throw new UsageError(`nothing to run: no job matches${asked}`, {
      fix: "check the spelling; --help lists the choices",
    });
  }
  throw new UsageError(
    `nothing to run: shard ${shard!.index}/${
      shard!.count
    } of${asked} selects none of its ${jobs.length} job(s)`,
    { fix: `use at most ${jobs.length} shard(s) for this plan` },
  );
}
