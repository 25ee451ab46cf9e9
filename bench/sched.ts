/**
 * Scheduler benchmark (issue 11), per arch, figures printed, nothing asserted:
 *
 * - SMP speedup: the work `spin --tasks 2 --ms M` does with -smp 2 over
 *   -smp 1 (target >= 1.6x; QEMU runs one host thread per vCPU, so the
 *   host must have two free cores for it).
 * - Shell latency under load: `echo` round trips (client side, framed)
 *   while `spin --tasks 4` runs in the background, with 1 and 2 CPUs, p50
 *   and p99 (target p99 < 50 ms), next to the same without load. Busy
 *   vCPU threads compete with QEMU's I/O thread (which carries every byte)
 *   for the host's cores: on a 2-core host, two busy vCPUs leave it none.
 * - Boot to prompt with -smp 4 against a bare QEMU start with -smp 4 in the
 *   same run (target <= 300 ms and <= 2x).
 * - Context-switch p50 (`sis_ctx_switch_p50_seconds` after a fixed
 *   sleep/echo workload), against the kernels under `--reference DIR`
 *   (a checkout with build/<arch>/sis-kernel.elf, e.g. main's) when given.
 * - Whole context switches per second: `spin --tasks 2 --yield` on one CPU,
 *   where each unit of work is a `yield_now` that hands the CPU to the
 *   other task (the reference too, if its kernel has `--yield`).
 *
 * Usage: deno run -A bench/sched.ts [--runs N] [--ms M] [--reference DIR]
 *          [--only speedup,latency,boot,switch,yield] [--arch aarch64,riscv64,x86_64]
 *          [--switch-cpus N]
 * (`--only` and `--arch` pick sections and archs, for a quick look at one
 * figure on a shared machine; the default is every section on every arch.
 * `--switch-cpus` boots the context-switch section's kernels with N CPUs
 * instead of the default config's 2.)
 */
import { join } from "node:path";
import { type Arch, ARCHES } from "../src/arch.ts";
import { BUILTIN_CONFIGS, type MachineConfig } from "../src/qemu/profiles.ts";
import type { Session } from "../src/session/driver.ts";
import { measureBoot } from "./boot.ts";
import {
  argument,
  bootToPrompt,
  kernelPath,
  listArgument,
  median,
  ms,
  quantile,
  runsArgument,
} from "./_common.ts";

function withCpus(cpus: number): MachineConfig {
  return { ...BUILTIN_CONFIGS.default, name: `smp${cpus}`, cpus };
}

async function ok(session: Session, command: string): Promise<string[]> {
  const result = await session.run(command, 120_000);
  if (result.status !== 0) {
    throw new Error(`${command}: status ${result.status}: ${result.output.join(" / ")}`);
  }
  return result.output;
}

/** CPU seconds (user + system) the host gave process `pid` so far (Linux /proc). */
async function hostCpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // Fields after the command name (which may hold spaces): utime is the
  // 14th field, stime the 15th, in clock ticks (USER_HZ, 100 on Linux).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * One foreground `spin --tasks 2 --ms M` on `cpus` CPUs: its total work and
 * the host cores QEMU got meanwhile (its CPU seconds over the wall time),
 * which bounds the speedup: two vCPUs can do twice the work only if the
 * host gives the process two cores.
 */
async function spinWork(
  arch: Arch,
  path: string,
  cpus: number,
  durationMs: number,
): Promise<{ work: number; hostCores: number }> {
  const { machine, session } = await bootToPrompt(arch, path, withCpus(cpus));
  try {
    await session.enableFraming();
    const cpuBefore = await hostCpuSeconds(machine.pid);
    const started = performance.now();
    const [line] = await ok(session, `spin --tasks 2 --ms ${durationMs}`);
    const wallSeconds = (performance.now() - started) / 1000;
    const hostCores = (await hostCpuSeconds(machine.pid) - cpuBefore) / wallSeconds;
    const work = Number(/ work (\d+) /.exec(line)?.[1]);
    if (!Number.isFinite(work) || work <= 0) throw new Error(`${arch}: unexpected spin output: ${line}`);
    return { work, hostCores };
  } finally {
    await machine.shutdown();
  }
}

/** Client-side round trips of `count` echos, with or without a background spin. */
async function echoLatencies(
  arch: Arch,
  path: string,
  count: number,
  loaded: boolean,
  cpus: number,
): Promise<number[]> {
  const { machine, session } = await bootToPrompt(arch, path, withCpus(cpus));
  try {
    await session.enableFraming();
    if (loaded) await ok(session, "spin --tasks 4 --ms 60000 --background");
    const latencies: number[] = [];
    for (let index = 0; index < count; index++) {
      const started = performance.now();
      const output = await ok(session, `echo ${index}`);
      latencies.push(performance.now() - started);
      if (output[0] !== String(index)) throw new Error(`${arch}: echo ${index} answered ${output[0]}`);
    }
    if (loaded) {
      // The load must still be there at the end, or the figure means nothing.
      const rows = await ok(session, "ps");
      if (rows.filter((row) => /\sspin\s/.test(row)).length !== 4) {
        throw new Error(`${arch}: spin ended early`);
      }
    }
    return latencies;
  } finally {
    await machine.shutdown();
  }
}

/** sis_ctx_switch_p50_seconds after 20 x (sleep 5; echo). */
async function contextSwitchP50(arch: Arch, path: string): Promise<number> {
  const { machine, session } = await bootToPrompt(arch, path, withCpus(switchCpus));
  try {
    await session.enableFraming();
    for (let index = 0; index < 20; index++) {
      await ok(session, "sleep 5");
      await ok(session, `echo ${index}`);
    }
    const lines = await ok(session, "metricsctl --format prometheus");
    const sample = lines.find((line) => line.startsWith("sis_ctx_switch_p50_seconds"));
    const value = Number(sample?.split(/\s+/)[1]);
    if (!Number.isFinite(value)) throw new Error(`${arch}: no sis_ctx_switch_p50_seconds`);
    return value * 1e6;
  } finally {
    await machine.shutdown();
  }
}

/** Yields per second of `spin --tasks 2 --yield` on one CPU, or undefined if the kernel has no `--yield`. */
async function yieldsPerSecond(arch: Arch, path: string, durationMs: number): Promise<number | undefined> {
  const { machine, session } = await bootToPrompt(arch, path, withCpus(1));
  try {
    await session.enableFraming();
    const result = await session.run(`spin --tasks 2 --ms ${durationMs} --yield`, 120_000);
    if (result.status !== 0) return undefined;
    const work = Number(/ work (\d+) /.exec(result.output[0])?.[1]);
    if (!Number.isFinite(work) || work <= 0) {
      throw new Error(`${arch}: unexpected spin output: ${result.output[0]}`);
    }
    return work / (durationMs / 1000);
  } finally {
    await machine.shutdown();
  }
}

const SECTIONS = ["speedup", "latency", "boot", "switch", "yield"] as const;
const sections = listArgument("--only", SECTIONS);
const arches = listArgument("--arch", ARCHES);
const runs = runsArgument(Deno.args, 3);
const durationMs = Number(argument("--ms") ?? 2000);
const reference = argument("--reference");
const switchCpus = Number(argument("--switch-cpus") ?? BUILTIN_CONFIGS.default.cpus);
if (!Number.isInteger(switchCpus) || switchCpus < 1 || switchCpus > 8) {
  console.error(`--switch-cpus: ${argument("--switch-cpus")} is not a CPU count (1-8)`);
  Deno.exit(2);
}
const us = (value: number) => `${value.toFixed(2)} us`;

/**
 * `measure` on this arch's kernel `runs` times, alternating with the
 * `--reference` kernel when given (so both see the same host load). A
 * reference kernel that cannot do it (undefined) is left out; ours must.
 */
async function oursAndReference(
  arch: Arch,
  path: string,
  measure: (path: string) => Promise<number | undefined>,
): Promise<{ ours: number[]; theirs: number[]; referencePath?: string }> {
  const referencePath = reference ? join(reference, "build", arch, "sis-kernel.elf") : undefined;
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let run = 0; run < runs; run++) {
    const mine = await measure(path);
    if (mine === undefined) throw new Error(`${arch}: ${path} cannot run this measurement`);
    ours.push(mine);
    if (referencePath) {
      const other = await measure(referencePath);
      if (other !== undefined) theirs.push(other);
    }
  }
  return { ours, theirs, referencePath };
}

if (sections.includes("speedup")) {
  console.log(
    `SMP speedup: spin --tasks 2 --ms ${durationMs}, -smp 2 over -smp 1 (median of ${runs}; target >= 1.6x)`,
  );
  for (const arch of arches) {
    const path = kernelPath(arch);
    if (!path) continue;
    const one: number[] = [];
    const two: number[] = [];
    const coresOne: number[] = [];
    const coresTwo: number[] = [];
    for (let run = 0; run < runs; run++) {
      const single = await spinWork(arch, path, 1, durationMs);
      const double = await spinWork(arch, path, 2, durationMs);
      one.push(single.work);
      two.push(double.work);
      coresOne.push(single.hostCores);
      coresTwo.push(double.hostCores);
    }
    const speedup = median(two) / median(one);
    // Work per host core QEMU got, -smp 2 over -smp 1: near 1.0 when the
    // guest scales and only the host's cores were missing.
    const perCore = (median(two) / median(coresTwo)) / (median(one) / median(coresOne));
    console.log(
      `${arch.padEnd(9)} smp1 ${median(one)}  smp2 ${median(two)}  speedup ${
        speedup.toFixed(2)
      }x  host cores ${median(coresOne).toFixed(2)}/${median(coresTwo).toFixed(2)}  per host core ${
        perCore.toFixed(2)
      }  load ${Deno.loadavg()[0].toFixed(1)}  ${speedup >= 1.6 ? "ok" : "UNDER TARGET"}`,
    );
  }
}

if (sections.includes("latency")) {
  console.log(
    "\necho round trip, 200 echos, idle vs spin --tasks 4 in the background, 1 and 2 CPUs (target p99 < 50 ms)",
  );
  for (const arch of arches) {
    const path = kernelPath(arch);
    if (!path) continue;
    for (const cpus of [1, 2]) {
      const idle = await echoLatencies(arch, path, 200, false, cpus);
      const loaded = await echoLatencies(arch, path, 200, true, cpus);
      const p99 = quantile(loaded, 0.99);
      console.log(
        `${arch.padEnd(9)} smp${cpus}  idle p50 ${ms(quantile(idle, 0.5))} p99 ${
          ms(quantile(idle, 0.99))
        }  loaded p50 ${ms(quantile(loaded, 0.5))} p99 ${ms(p99)}  ${p99 < 50 ? "ok" : "OVER TARGET"}`,
      );
    }
  }
}

if (sections.includes("boot")) {
  console.log(
    `\nboot to prompt with -smp 4 (median of ${runs}; target <= 300 ms and <= 2x bare QEMU -smp 4)`,
  );
  const dir = await Deno.makeTempDir({ prefix: "sis-bench-" });
  try {
    for (const arch of arches) {
      const path = kernelPath(arch);
      if (!path) continue;
      const referencePath = reference ? join(reference, "build", arch, "sis-kernel.elf") : undefined;
      const { bare, boot, reference: referenceBoot } = await measureBoot(arch, path, runs, {
        scratchDir: dir,
        config: withCpus(4),
        referenceKernel: referencePath,
      });
      const ratio = median(boot) / median(bare);
      const versus = referencePath ? `  reference ${ms(median(referenceBoot))}` : "";
      console.log(
        `${arch.padEnd(9)} bare ${ms(median(bare))}  prompt ${ms(median(boot))}  ratio ${
          ratio.toFixed(2)
        }${versus}  ${median(boot) <= 300 && ratio <= 2 ? "ok" : "OVER TARGET"}`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (sections.includes("switch")) {
  console.log(
    `\ncontext switch p50 after 20 x (sleep 5; echo), -smp ${switchCpus} (median of ${runs})${
      reference ? ` vs ${reference}` : ""
    }`,
  );
  for (const arch of arches) {
    const path = kernelPath(arch);
    if (!path) continue;
    const { ours, theirs, referencePath } = await oursAndReference(
      arch,
      path,
      (kernel) => contextSwitchP50(arch, kernel),
    );
    const versus = referencePath
      ? `  reference ${us(median(theirs))}  ${median(ours) <= median(theirs) ? "ok" : "ABOVE REFERENCE"}`
      : "";
    console.log(`${arch.padEnd(9)} p50 ${us(median(ours))}${versus}`);
  }
}

if (sections.includes("yield")) {
  console.log(
    `\nwhole context switches: spin --tasks 2 --ms ${durationMs} --yield on 1 CPU (median of ${runs})${
      reference ? ` vs ${reference}` : ""
    }`,
  );
  const perSwitch = (perSecond: number) => `${(1e9 / perSecond).toFixed(0)} ns`;
  for (const arch of arches) {
    const path = kernelPath(arch);
    if (!path) continue;
    const { ours, theirs, referencePath } = await oursAndReference(
      arch,
      path,
      (kernel) => yieldsPerSecond(arch, kernel, durationMs),
    );
    const versus = referencePath
      ? theirs.length > 0
        ? `  reference ${(median(theirs) / 1e6).toFixed(2)} M/s (${perSwitch(median(theirs))})  ${
          (median(ours) / median(theirs)).toFixed(1)
        }x`
        : "  reference has no --yield"
      : "";
    console.log(
      `${arch.padEnd(9)} ${(median(ours) / 1e6).toFixed(2)} M switches/s (${
        perSwitch(median(ours))
      })${versus}`,
    );
  }
}
