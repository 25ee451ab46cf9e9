/** Suite benchmark: a 50-command framed session per arch (prompt included), then all arches at once vs the slowest single arch. */
import { type Arch, ARCHES } from "../src/arch.ts";
import { bootToPrompt, kernelPath, median, ms, runsArgument } from "./_common.ts";

/** 50 ordinary commands, the mix a suite runs (output sizes from 0 to a few lines). */
export const FIFTY_COMMANDS: readonly string[] = Array.from(
  { length: 50 },
  (_, index) =>
    [
      "echo bench " + index,
      "uptime",
      "ls /",
      "cat /README.md",
      "pwd",
      "cpus",
      "memstats",
      "version",
      "ps",
      "help",
    ][index % 10],
);

/**
 * Targets (issue 4): at most 2 s per arch, prompt included; `--arch all`
 * in parallel at most 1.5x the slowest single arch. Every command must end
 * with status 0, so a broken kernel cannot look fast.
 */
async function fiftyCommands(arch: Arch, path: string): Promise<number> {
  const started = performance.now();
  const { machine, session } = await bootToPrompt(arch, path);
  try {
    await session.enableFraming();
    for (const command of FIFTY_COMMANDS) {
      const result = await session.run(command);
      if (result.status !== 0) throw new Error(`${arch}: "${command}" ended with status ${result.status}`);
    }
    return performance.now() - started;
  } finally {
    await machine.shutdown();
  }
}

export async function benchSuite(runs: number): Promise<void> {
  const kernels = ARCHES.map((arch) => [arch, kernelPath(arch)] as const).filter(
    (entry): entry is readonly [Arch, string] => entry[1] !== undefined,
  );
  console.log(`50-command suite (median of ${runs}; target <= 2 s per arch, all <= 1.5x slowest)`);
  const single = new Map<Arch, number>();
  for (const [arch, path] of kernels) {
    const times: number[] = [];
    for (let run = 0; run < runs; run++) times.push(await fiftyCommands(arch, path));
    single.set(arch, median(times));
    console.log(
      `${arch.padEnd(9)} ${ms(median(times)).padStart(8)}  ${median(times) <= 2000 ? "ok" : "OVER TARGET"}`,
    );
  }
  if (kernels.length < 2) return;
  const together: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    await Promise.all(kernels.map(([arch, path]) => fiftyCommands(arch, path)));
    together.push(performance.now() - started);
  }
  const slowest = Math.max(...single.values());
  const ratio = median(together) / slowest;
  console.log(
    `all (${kernels.length} in parallel) ${ms(median(together))}, slowest single ${ms(slowest)}, ratio ${
      ratio.toFixed(2)
    }  ` +
      (ratio <= 1.5 ? "ok" : "OVER TARGET"),
  );
}

if (import.meta.main) await benchSuite(runsArgument(Deno.args, 3));
