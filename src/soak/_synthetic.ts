/** Seeded synthetic series for the soak unit tests and bench/soak.ts: noise, leaks, plateaus, steps. */

/** A small seeded PRNG (mulberry32): same seed, same series, on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal deviates from a uniform source (Box–Muller). */
export function gaussian(random: () => number): () => number {
  return () => {
    const u = Math.max(random(), Number.MIN_VALUE);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
}

/** `count` times `stepMs` apart from `startMs`, one boot. */
export function timeline(count: number, stepMs = 1000, startMs = 1_700_000_000_000): {
  t: Float64Array;
  boot: Float64Array;
} {
  return {
    t: Float64Array.from({ length: count }, (_, i) => startMs + i * stepMs),
    boot: new Float64Array(count).fill(1),
  };
}
