/** The worker pool: runs jobs at most N at a time, results in plan order, and stops taking new jobs once the run is stopped. */

/**
 * Runs `run` over `items` with at most `parallel` at once. Once `stop` is
 * aborted no further item starts; each item that never started gets
 * `notStarted(item)` instead. Results come back in the items' order.
 */
export async function runPool<T, R>(
  items: readonly T[],
  options: {
    parallel: number;
    stop?: AbortSignal;
    run: (item: T, index: number) => Promise<R>;
    notStarted: (item: T, index: number) => R;
    /** Called as each item ends, in the order they end (progress). */
    onDone?: (result: R, index: number) => void;
  },
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length && !options.stop?.aborted) {
      const index = next++;
      results[index] = await options.run(items[index], index);
      options.onDone?.(results[index], index);
    }
  };
  const workers = Math.max(1, Math.min(options.parallel, items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  for (let index = next; index < items.length; index++) {
    results[index] = options.notStarted(items[index], index);
    options.onDone?.(results[index], index);
  }
  return results;
}
