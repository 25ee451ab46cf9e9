/** Boot benchmark: spawn to `sis> ` per arch, against a bare QEMU start of a minimal image in the same run, with the ratio. */
import { join } from "node:path";
import { type Arch, ARCHES } from "../src/arch.ts";
import { BUILTIN_CONFIGS, type MachineConfig, PROFILES } from "../src/qemu/profiles.ts";
import { MINIMAL_IMAGES } from "./_minimal.ts";
import { bootToPrompt, kernelPath, median, ms, runsArgument } from "./_common.ts";

/**
 * Targets (issue 4): boot to prompt at most 300 ms per arch and at most 2x
 * the bare start. The bare start is QEMU with the same machine arguments on
 * a few-instruction image that powers off at once, timed spawn to exit.
 * Figures are medians of `--runs` runs (default 5). Printed, never asserted.
 */
export async function bareStart(arch: Arch, image: string, cpus = 2): Promise<number> {
  const profile = PROFILES[arch];
  const started = performance.now();
  const status = await new Deno.Command(profile.binary, {
    args: [
      ...profile.machineArgs,
      // As qemuArgv(): no default devices, so both sides boot the same machine.
      "-nodefaults",
      "-m",
      "512M",
      "-smp",
      String(cpus),
      "-display",
      "none",
      "-monitor",
      "none",
      "-serial",
      "none",
      "-kernel",
      image,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  if (status.code !== 0) throw new Error(`${arch}: minimal image exited with ${status.code}`);
  return performance.now() - started;
}

/**
 * `runs` timings (ms) of one arch: a bare QEMU start of the minimal image
 * (written into `scratchDir`), spawn to `sis> ` of `kernel`, and of
 * `referenceKernel` when given, all on `config`'s CPU count, interleaved
 * run by run so that host load falls on every side alike.
 */
export async function measureBoot(
  arch: Arch,
  kernel: string,
  runs: number,
  options: { scratchDir: string; config?: MachineConfig; referenceKernel?: string },
): Promise<{ bare: number[]; boot: number[]; reference: number[] }> {
  const config = options.config ?? BUILTIN_CONFIGS.default;
  const image = join(options.scratchDir, `${arch}.bin`);
  await Deno.writeFile(image, MINIMAL_IMAGES[arch]);
  const bare: number[] = [];
  const boot: number[] = [];
  const reference: number[] = [];
  for (let run = 0; run < runs; run++) {
    bare.push(await bareStart(arch, image, config.cpus));
    const ours = await bootToPrompt(arch, kernel, config);
    boot.push(ours.ms);
    await ours.machine.shutdown();
    if (options.referenceKernel) {
      const theirs = await bootToPrompt(arch, options.referenceKernel, config);
      reference.push(theirs.ms);
      await theirs.machine.shutdown();
    }
  }
  return { bare, boot, reference };
}

export async function benchBoot(runs: number): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sis-bench-" });
  try {
    console.log(`boot to prompt (median of ${runs}; target <= 300 ms and <= 2x bare QEMU)`);
    console.log("arch      bare-qemu  sis-prompt  ratio  verdict");
    for (const arch of ARCHES) {
      const path = kernelPath(arch);
      if (!path) continue;
      const { bare, boot } = await measureBoot(arch, path, runs, { scratchDir: dir });
      const ratio = median(boot) / median(bare);
      const verdict = median(boot) <= 300 && ratio <= 2 ? "ok" : "OVER TARGET";
      console.log(
        `${arch.padEnd(9)} ${ms(median(bare)).padStart(9)}  ${ms(median(boot)).padStart(10)}  ${
          ratio.toFixed(2).padStart(5)
        }  ${verdict}`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await benchBoot(runsArgument(Deno.args, 5));
