/** What a soak is: its plan (kept in the manifest for --resume), its jobs and their results, and the kernels it boots. */
import type { Arch } from "../arch.ts";
import type { CommandContext } from "../context.ts";
import type { MachineConfig } from "../qemu/profiles.ts";
import type { KernelFailure } from "../report/results.ts";
import type { EngineJob, Launcher } from "../runs/engine.ts";
import type { KernelBuilder } from "../runs/kernels.ts";
import type { RunStop } from "../runs/signals.ts";
import type { SoakChaos, SoakScrape, SoakWorkload } from "./options.ts";

/** Kernels for soaks: the stress workload and chaos compiled in, apart from the plain kernels. */
export const SOAK_BUILD_DIR = "build/soak";
export const SOAK_FEATURES = ["chaos", "stress"];

/** What a soak is asked to do; stored in the manifest so `--resume` can continue it. */
export interface SoakPlan {
  arches: Arch[];
  config: string;
  durationMs: number;
  intervalMs: number;
  workload: SoakWorkload;
  intensity: number;
  leakBytes: number;
  chaos?: SoakChaos;
  seed: number;
  /** How samples are read; absent in bundles from before HTTP scraping, which scraped the serial console. */
  scrape?: SoakScrape;
}

export interface SoakRunOptions {
  plan: SoakPlan;
  machineConfig: MachineConfig;
  root: string;
  context: CommandContext;
  argv: readonly string[];
  qemuBinaries: Partial<Record<Arch, string>>;
  /** Continue this bundle (its plan comes from its manifest). */
  resume?: string;
  noBuild?: boolean;
  json?: string;
  bootTimeoutMs?: number;
  commandTimeoutMs?: number;
  launch?: Launcher;
  build?: KernelBuilder;
  runsDir?: string;
  stop?: RunStop;
}

export interface SoakJob extends EngineJob {
  arch: Arch;
  /** Soak time still to cover (less than the duration when resuming). */
  remainingMs: number;
  /** Boot number of the first boot of this segment. */
  firstBoot: number;
}

export interface SoakArchResult {
  name: string;
  arch: Arch;
  status: "completed" | "interrupted" | "error";
  samples: number;
  boots: number;
  restarts: number;
  /** Panics and hangs that chaos did not ask for. */
  unexpectedFailures: KernelFailure[];
  panics: number;
  hangs: number;
  chaosInjections: number;
  durationMs: number;
  message?: string;
}

/** Boots in a row that may fail before their first sample before the soak of that arch gives up. */
export const MAX_FAILURES_IN_A_ROW = 3;

/** What the live line shows, per arch. */
export interface ArchProgress {
  samples: number;
  heapBytes?: number;
  restarts: number;
  startedAt: number;
  remainingMs: number;
}

/** The command that starts the workload. */
export function stressCommand(plan: Pick<SoakPlan, "workload" | "intensity" | "leakBytes">): string {
  const leak = plan.leakBytes > 0 ? ` --leak ${plan.leakBytes}` : "";
  return `stress start ${plan.workload} --intensity ${plan.intensity}${leak}`;
}
