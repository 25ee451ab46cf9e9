/**
 * Where the kernel's boot time goes, per arch, from its own clock: boots
 * the kernel `--runs` times (default 5) with `--cpus N` CPUs (default 4,
 * as the boot target is set), replays the boot's log records as JSON
 * (`logctl json`, then `dmesg`), and prints for each record up to
 * `shell: ready` the median kernel time at which it was logged (`ts`: µs
 * since the kernel first read its clock) and the median time since the
 * record before it: the boot step between them, plus writing the record
 * before it to the serial port (each record is stamped when it is made).
 * Boot to prompt as the host saw it is printed alongside. Printed, never
 * asserted; docs/kernel-smp.md ("Boot to prompt") reads a profile.
 *
 * Usage: deno run -A bench/boot_phases.ts [--runs N] [--cpus N] [--arch aarch64,riscv64,x86_64]
 */
import { type Arch, ARCHES } from "../src/arch.ts";
import { classifyLine } from "../src/parse/log.ts";
import { BUILTIN_CONFIGS } from "../src/qemu/profiles.ts";
import { argument, bootToPrompt, kernelPath, listArgument, median, ms, runsArgument } from "./_common.ts";

/** One boot: each record's kernel time (µs) by `subsystem: status`, in log order up to `shell: ready`, and boot to prompt (host ms). */
async function bootStamps(
  arch: Arch,
  path: string,
  cpus: number,
): Promise<{ stamps: Map<string, number>; promptMs: number }> {
  const config = { ...BUILTIN_CONFIGS.default, name: `smp${cpus}`, cpus };
  const { machine, session, ms: promptMs } = await bootToPrompt(arch, path, config);
  try {
    await session.enableFraming();
    const json = await session.run("logctl json", 20_000);
    if (json.status !== 0) throw new Error(`${arch}: logctl json: status ${json.status}`);
    const replay = await session.run("dmesg", 20_000);
    if (replay.status !== 0) throw new Error(`${arch}: dmesg: status ${replay.status}`);
    const stamps = new Map<string, number>();
    for (const line of replay.output) {
      const parsed = classifyLine(line);
      if (parsed.kind !== "record" || parsed.record.ts === undefined) continue;
      const name = `${parsed.record.subsystem}: ${parsed.record.status}`;
      stamps.set(name, parsed.record.ts);
      if (name === "shell: ready") return { stamps, promptMs };
    }
    throw new Error(`${arch}: dmesg has no "shell: ready" record: ${replay.output.slice(0, 5).join(" / ")}`);
  } finally {
    await machine.shutdown();
  }
}

const runs = runsArgument(Deno.args, 5);
const cpus = Number(argument("--cpus") ?? 4);
if (!Number.isInteger(cpus) || cpus < 1 || cpus > 8) {
  console.error(`--cpus: ${argument("--cpus")} is not a CPU count (1-8)`);
  Deno.exit(2);
}
const arches = listArgument("--arch", ARCHES);

const msOf = (us: number) => `${(us / 1000).toFixed(1)} ms`.padStart(9);
for (const arch of arches) {
  const path = kernelPath(arch);
  if (!path) continue;
  const boots: Map<string, number>[] = [];
  const prompts: number[] = [];
  for (let run = 0; run < runs; run++) {
    const { stamps, promptMs } = await bootStamps(arch, path, cpus);
    boots.push(stamps);
    prompts.push(promptMs);
  }
  // The first boot's records, in its order, that every boot logged.
  const names = [...boots[0].keys()].filter((name) => boots.every((stamps) => stamps.has(name)));
  console.log(
    `\n${arch}, -smp ${cpus}, median of ${runs}: boot to prompt ${
      ms(median(prompts))
    } (host); kernel time per record`,
  );
  console.log(`${"record".padEnd(36)}${"at".padStart(9)}${"step".padStart(9)}`);
  names.forEach((name, index) => {
    const at = boots.map((stamps) => stamps.get(name)!);
    const step = boots.map((stamps) => stamps.get(name)! - (index === 0 ? 0 : stamps.get(names[index - 1])!));
    console.log(`${name.padEnd(36)}${msOf(median(at))}${msOf(median(step))}`);
  });
}
