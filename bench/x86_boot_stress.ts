/**
 * x86_64 boots under load (docs/boot-x86_64.md, "Late secondaries"): boots
 * build/x86_64/sis-kernel.elf `--runs` times (default 40) per CPU count (2 and
 * 4, with the NIC), `--parallel` at once (default 8), so the QEMUs starve
 * each other's vCPU threads as a loaded CI machine does, and counts the
 * boots that did not reach the prompt with every CPU in the scheduler.
 * Figures are printed, never asserted. Run:
 *   deno run -A bench/x86_boot_stress.ts --runs 40 --parallel 8
 */
import { BUILTIN_CONFIGS, type MachineConfig } from "../src/qemu/profiles.ts";
import { Machine } from "../src/qemu/machine.ts";
import { Session } from "../src/session/driver.ts";
import { kernelPath, runsArgument } from "./_common.ts";

/** What one boot came to: "ok", or the first line of why not. */
async function bootOnce(path: string, config: MachineConfig): Promise<string> {
  let schedulerCpus: number | undefined;
  const machine = await Machine.launch({ arch: "x86_64", config, kernelPath: path });
  try {
    const session = new Session(machine, {
      bootTimeoutMs: 120_000,
      commandTimeoutMs: 60_000,
      onEvent: (event) => {
        const match = /sched: started cpus=(\d+)|"subsystem":"sched","status":"started".*"cpus":(\d+)/.exec(
          JSON.stringify(event),
        );
        if (match) schedulerCpus = Number(match[1] ?? match[2]);
      },
    });
    await session.boot();
    await session.enableFraming();
    if ((await session.run("ls /")).status !== 0) return "ls / failed";
    if (schedulerCpus !== config.cpus) {
      return `scheduler started with ${schedulerCpus} of ${config.cpus} CPUs`;
    }
    return "ok";
  } catch (error) {
    const why = String(error instanceof Error ? error.message : error).split("\n")[0];
    // How QEMU ended tells a guest reset (status 0) from a QEMU crash (a signal).
    if (!machine.hasExited) return why;
    const exit = await machine.exited;
    const qemu = exit.stderrTail.trim().split("\n").at(-1) ?? "";
    return `${why} (qemu status ${exit.code}, signal ${exit.signal ?? "none"}${qemu ? `: ${qemu}` : ""})`;
  } finally {
    await machine.shutdown();
  }
}

async function stress(path: string, config: MachineConfig, runs: number, parallel: number): Promise<void> {
  const outcomes = new Map<string, number>();
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < runs) {
      next++;
      const outcome = await bootOnce(path, config);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, runs) }, worker));
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  const failed = runs - (outcomes.get("ok") ?? 0);
  console.log(
    `x86_64 -smp ${config.cpus}: ${runs} boots, ${parallel} at once, ${failed} failed (${seconds} s)`,
  );
  for (const [outcome, count] of outcomes) if (outcome !== "ok") console.log(`  ${count}x ${outcome}`);
}

function parallelArgument(args: string[], fallback: number): number {
  const index = args.indexOf("--parallel");
  const value = index >= 0 ? Number(args[index + 1]) : fallback;
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

const path = kernelPath("x86_64");
if (path) {
  const runs = runsArgument(Deno.args, 40);
  const parallel = parallelArgument(Deno.args, 8);
  for (const config of [BUILTIN_CONFIGS.default, BUILTIN_CONFIGS.smp]) {
    await stress(path, config, runs, parallel);
  }
}
