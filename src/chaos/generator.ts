/** The kernel's chaos generator (crates/chaos: Xoshiro256++ seeded through SplitMix64, one draw in 0..100 per matching check) mirrored, so sis can predict exactly which checks a seed and a rate inject. */

const MASK = (1n << 64n) - 1n;

function rotl(value: bigint, bits: bigint): bigint {
  return ((value << bits) | (value >> (64n - bits))) & MASK;
}

/** SplitMix64 (Steele, Lea, Flood 2014): what rand_xoshiro's `seed_from_u64` expands a u64 seed with. */
function splitMix64(seed: bigint): () => bigint {
  let state = seed & MASK;
  return () => {
    state = (state + 0x9e3779b97f4a7c15n) & MASK;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
    return z ^ (z >> 31n);
  };
}

/** The draws (each 0..99) a seed gives, in order: draw i decides check i of the active mode. */
export function chaosDraws(seed: string | bigint): () => number {
  const next = chaosOutputs(seed);
  // Lemire's multiply-shift to 0..100, as the kernel does.
  return () => Number((next() * 100n) >> 64n);
}

/** The raw 64-bit outputs behind the draws (draw = output * 100 >> 64). */
export function chaosOutputs(seed: string | bigint): () => bigint {
  const next = splitMix64(BigInt(seed));
  const state = [next(), next(), next(), next()];
  return () => {
    const [s0, s1, s2, s3] = state;
    // Xoshiro256++ (Blackman, Vigna 2019).
    const result = (rotl((s0 + s3) & MASK, 23n) + s0) & MASK;
    const shifted = (s1 << 17n) & MASK;
    const t2 = s2 ^ s0;
    const t3 = s3 ^ s1;
    state[1] = s1 ^ t2;
    state[0] = s0 ^ t3;
    state[2] = t2 ^ shifted;
    state[3] = rotl(t3, 45n);
    return result;
  };
}

/** The check numbers (1-based) among the first `checks` that a correct kernel injects at `ratePercent`. */
export function predictedInjections(seed: string | bigint, ratePercent: number, checks: number): number[] {
  const draw = chaosDraws(seed);
  const injected: number[] = [];
  for (let check = 1; check <= checks; check++) if (draw() < ratePercent) injected.push(check);
  return injected;
}
