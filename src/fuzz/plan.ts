/** The `fuzz` program's argument text (kernel/crates/fuzz plan.rs): `seed=S calls=N start=K [ms=M]` for a run, `seed=S list=A-B,C` for an exact index sequence. */

/** The kernel's limit on `run`'s argument text (sis-syscall ARG_MAX). */
export const ARG_MAX = 1024;

/** Calls in one `run fuzz` process: a reproducer's range starts at a chunk boundary, so it is at most this long. */
export const CHUNK_CALLS = 100_000;

/** `seed=S calls=N start=K`, with `ms=M` for a time-limited chunk (`calls=0` then means no call limit). */
export function runArguments(seed: bigint, start: number, calls: number, timeLimitMs?: number): string {
  const words = [`seed=${seed}`, `calls=${calls}`, `start=${start}`];
  if (timeLimitMs !== undefined) words.push(`ms=${Math.max(1, Math.round(timeLimitMs))}`);
  return words.join(" ");
}

/** Consecutive indices merged into inclusive ranges, in the given order. */
export function toRanges(indices: readonly number[]): [number, number][] {
  const ranges: [number, number][] = [];
  for (const index of indices) {
    const last = ranges.at(-1);
    if (last && index === last[1] + 1) last[1] = index;
    else ranges.push([index, index]);
  }
  return ranges;
}

/**
 * `seed=S list=A-B,C`, or undefined when the text would pass ARG_MAX (a
 * sequence fragmented into very many ranges: the caller treats it as not
 * testable rather than cutting it).
 */
export function listArguments(seed: bigint, indices: readonly number[]): string | undefined {
  if (indices.length === 0) return undefined;
  const list = toRanges(indices).map(([first, last]) => first === last ? `${first}` : `${first}-${last}`)
    .join(",");
  const text = `seed=${seed} list=${list}`;
  return new TextEncoder().encode(`fuzz ${text}`).length <= ARG_MAX ? text : undefined;
}
