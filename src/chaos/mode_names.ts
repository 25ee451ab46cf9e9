/** The chaos mode names, defined once: the CLI's choices and the mode table both take them from here (this file imports nothing, so `sis --help` stays fast). */

/** Every mode `chaos mode` accepts besides `none`, in the kernel's order (docs/CHAOS.md of sis-chaos). */
export const CHAOS_MODES = [
  "disk_full",
  "disk_fail",
  "network_fail",
  "memory_pressure",
  "random_panic",
  "slow_io",
] as const;

export type ChaosMode = typeof CHAOS_MODES[number];
