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
import { bootToPrompt, kernelPath, median, ms, runsArgument } from "./_common.ts";

function argument(name: string): string | undefined {
  const index = Deno.args.indexOf(name);
  return index >= 0 ? Deno.args[index + 1] : undefined;
}

/** A boot record: `subsystem: status` and its kernel time in µs. */
interface Stamp {
  name: string;
  us: number;
}

/** One boot: the records up to `shell: ready`, in log order, and boot to prompt (host ms). */
async function bootStamps(
  arch: Arch,
  path: string,
  cpus: number,
): Promise<{ stamps: Stamp[]; promptMs: number }> {
  const config = { ...BUILTIN_CONFIGS.default, name: `smp${cpus}`, cpus };
  const { machine, session, ms: promptMs } = await bootToPrompt(arch, path, config);
  try {
    await session.enableFraming();
    for (const command of ["logctl json", "dmesg"]) {
      const result = await session.run(command, 20_000);
      if (result.status !== 0) throw new Error(`${arch}: ${command}: status ${result.status}`);
      if (command !== "dmesg") continue;
      const stamps: Stamp[] = [];
      for (const line of result.output) {
        const parsed = classifyLine(line);
        if (parsed.kind !== "record" || parsed.record.ts === undefined) continue;
        const name = `${parsed.record.subsystem}: ${parsed.record.status}`;
        stamps.push({ name, us: parsed.record.ts });
        if (name === "shell: ready") return { stamps, promptMs };
      }
      throw new Error(
        `${arch}: dmesg has no "shell: ready" record: ${result.output.slice(0, 5).join(" / ")}`,
      );
    }
    throw new Error("unreachable: dmesg always runs");
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
const picked = (argument("--arch") ?? ARCHES.join(",")).split(",");
const unknown = picked.filter((arch) => !(ARCHES as readonly string[]).includes(arch));
if (unknown.length > 0) {
  console.error(`--arch: unknown ${unknown.join(", ")} (one or more of ${ARCHES.join(",")})`);
  Deno.exit(2);
}

const msOf = (us: number) => `${(us / 1000).toFixed(1)} ms`.padStart(9);
for (const arch of picked as Arch[]) {
  const path = kernelPath(arch);
  if (!path) continue;
  const boots: Stamp[][] = [];
  const prompts: number[] = [];
  for (let run = 0; run < runs; run++) {
    const { stamps, promptMs } = await bootStamps(arch, path, cpus);
    boots.push(stamps);
    prompts.push(promptMs);
  }
  // The first boot's records, in its order, that every boot logged.
  const names = boots[0].map((stamp) => stamp.name).filter((name) =>
    boots.every((stamps) => stamps.some((stamp) => stamp.name === name))
  );
  console.log(
    `\n${arch}, -smp ${cpus}, median of ${runs}: boot to prompt ${
      ms(median(prompts))
    } (host); kernel time per record`,
  );
  console.log(`${"record".padEnd(36)}${"at".padStart(9)}${"step".padStart(9)}`);
  let previous: string | undefined;
  for (const name of names) {
    const at = boots.map((stamps) => stamps.find((stamp) => stamp.name === name)!.us);
    const step = boots.map((stamps) => {
      const here = stamps.find((stamp) => stamp.name === name)!.us;
      const before = previous === undefined ? 0 : stamps.find((stamp) => stamp.name === previous)!.us;
      return here - before;
    });
    console.log(`${name.padEnd(36)}${msOf(median(at))}${msOf(median(step))}`);
    previous = name;
  }
}
