/** Seeded synthetic series for the soak unit tests and bench/soak.ts: noise, leaks, plateaus, steps. */
import { seededRandom } from "./random.ts";

export { seededRandom };

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

export interface SyntheticSoak {
  archs: readonly string[];
  /** Samples per arch, one per `intervalMs`. */
  samples: number;
  intervalMs?: number;
  /** Heap bytes leaked per sample on these archs. */
  leakBytesPerSample?: Readonly<Record<string, number>>;
  /** Extra noise series per arch (`sis_synthetic_N`), to reach a series count. */
  extraSeries?: number;
  seed?: number;
  startMs?: number;
}

/**
 * Writes a soak in the sample format (docs/SOAK.md) to `path`, line by
 * line in chunks: heap bytes (noise, or a leak), tasks, VFS bytes, a
 * counter, the build info and `extraSeries` noise gauges per arch.
 */
export async function writeSyntheticSamples(path: string, soak: SyntheticSoak): Promise<number> {
  const random = seededRandom(soak.seed ?? 1);
  const noise = gaussian(random);
  const interval = soak.intervalMs ?? 1000;
  const start = soak.startMs ?? 1_700_000_000_000;
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  let chunk = "";
  let lines = 0;
  try {
    for (let i = 0; i < soak.samples; i++) {
      for (const arch of soak.archs) {
        const leak = (soak.leakBytesPerSample?.[arch] ?? 0) * i;
        const metrics: Record<string, number> = {
          [`sis_build_info{version="0.1.0",commit="abc1234",arch="${arch}"}`]: 1,
          sis_heap_current_bytes: Math.round(2_000_000 + leak + 20_000 * noise()),
          sis_heap_size_bytes: 64 * 1024 * 1024,
          sis_tasks: 3 + Math.round(Math.abs(noise())),
          sis_vfs_used_bytes: Math.round(40_000 + 2_000 * noise()),
          sis_ctx_switches_total: i * 50 + Math.round(random() * 10),
        };
        for (let s = 0; s < (soak.extraSeries ?? 0); s++) {
          metrics[`sis_synthetic_${s}{cpu="0"}`] = Math.round(1000 * (s + 1) + 100 * noise());
        }
        chunk += JSON.stringify({ t: start + i * interval, arch, boot: 1, metrics }) + "\n";
        lines += 1;
      }
      if (chunk.length > 1 << 20) {
        await file.write(encoder.encode(chunk));
        chunk = "";
      }
    }
    await file.write(encoder.encode(chunk));
  } finally {
    file.close();
  }
  return lines;
}
