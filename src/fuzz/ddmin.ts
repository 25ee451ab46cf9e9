/** Delta debugging (Zeller and Hildebrandt, "Simplifying and Isolating Failure-Inducing Input", TSE 2002): ddmin shrinks a failing sequence to a 1-minimal one that still fails. */

/** Says whether a subsequence still fails (for the fuzzer: the kernel still crashes). */
export type FailureTest<T> = (candidate: readonly T[]) => Promise<boolean>;

export interface DdminOptions {
  /** Stop refining after this many tests; the result still fails, it may just not be 1-minimal. */
  maxTests?: number;
}

export interface DdminResult<T> {
  /** The smallest failing subsequence found, in the original order. */
  items: T[];
  /** Tests run (cached repeats not counted). */
  tests: number;
  /** False when maxTests cut the search short. */
  isMinimal: boolean;
}

/** Splits `items` into `parts` contiguous chunks whose sizes differ by at most one. */
export function split<T>(items: readonly T[], parts: number): T[][] {
  const chunks: T[][] = [];
  let start = 0;
  for (let part = 0; part < parts; part++) {
    const end = start + Math.floor((items.length - start) / (parts - part));
    chunks.push(items.slice(start, end));
    start = end;
  }
  return chunks;
}

/**
 * ddmin over `failing` (which must fail; not re-tested): tries each of n
 * chunks, then each complement, doubling n when neither fails, until n
 * reaches the length. Every subsequence it keeps has failed a test, so the
 * result fails; when the search was not cut short, removing any one item
 * of it makes the test pass (1-minimal).
 */
export async function ddmin<T>(
  failing: readonly T[],
  test: FailureTest<T>,
  options: DdminOptions = {},
): Promise<DdminResult<T>> {
  const maxTests = options.maxTests ?? Infinity;
  const seen = new Map<string, boolean>();
  let tests = 0;
  const cachedTest = async (candidate: readonly T[]): Promise<boolean | undefined> => {
    const key = JSON.stringify(candidate);
    const known = seen.get(key);
    if (known !== undefined) return known;
    if (tests >= maxTests) return undefined;
    tests++;
    const fails = await test(candidate);
    seen.set(key, fails);
    return fails;
  };
  let current = [...failing];
  let parts = 2;
  while (current.length >= 2) {
    const chunks = split(current, Math.min(parts, current.length));
    let reduced = false;
    let cutShort = false;
    for (const chunk of chunks) {
      const fails = await cachedTest(chunk);
      if (fails === undefined) cutShort = true;
      if (fails) {
        current = chunk;
        parts = 2;
        reduced = true;
        break;
      }
    }
    // With two chunks each complement is the other chunk: already tested.
    if (!reduced && chunks.length > 2) {
      for (let at = 0; at < chunks.length; at++) {
        const complement = chunks.filter((_, other) => other !== at).flat();
        const fails = await cachedTest(complement);
        if (fails === undefined) cutShort = true;
        if (fails) {
          current = complement;
          parts = Math.max(parts - 1, 2);
          reduced = true;
          break;
        }
      }
    }
    if (cutShort && !reduced) return { items: current, tests, isMinimal: false };
    if (!reduced) {
      if (chunks.length >= current.length) break;
      parts = Math.min(current.length, parts * 2);
    }
  }
  return { items: current, tests, isMinimal: true };
}
