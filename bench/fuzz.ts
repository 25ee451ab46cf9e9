/**
 * Bench: `sis fuzz` on the real kernels, one arch at a time (--jobs 1, so
 * the archs do not share the CPU while their rate is measured).
 *
 * 1. `sis fuzz syscalls --arch all --calls 1000000`: calls per second per
 *    arch (the kernel's own elapsed time for the calls, boot excluded;
 *    target >= 20,000) and 1,000,000 calls per arch without a kernel crash.
 * 2. `sis fuzz syscalls --arch all --control --seed S` for each seed of
 *    --seeds (default 42,7,1): the time to find the positive control, replay
 *    it and minimize it (the job's fuzzing, replay and ddmin phases, wall
 *    clock, boots included, the kernel build excluded; target <= 60 s per arch), the
 *    call index it was found at and the minimized length (target <= 5).
 *
 * `deno run -A bench/fuzz.ts [--calls N] [--seeds 42,7,1] [--jobs N] [--skip-long] [--skip-control]`
 */
import { join } from "node:path";
import type { FuzzArchResult, FuzzResults } from "../src/fuzz/results.ts";
import { ROOT } from "./_common.ts";

function argument(name: string, fallback: string): string {
  const index = Deno.args.indexOf(name);
  return index >= 0 ? Deno.args[index + 1] : fallback;
}

const calls = Number(argument("--calls", "1000000"));
const seeds = argument("--seeds", "42,7,1").split(",");
const jobs = argument("--jobs", "1");
const outDir = join(ROOT, "bench", "out", "fuzz");
await Deno.mkdir(outDir, { recursive: true });

async function sisFuzz(
  args: string[],
  json: string,
): Promise<{ code: number; results: FuzzResults; ms: number }> {
  const started = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "-A",
      join(ROOT, "src/cli.ts"),
      "fuzz",
      "syscalls",
      ...args,
      "--jobs",
      jobs,
      "--json",
      json,
    ],
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - started;
  const text = new TextDecoder().decode(output.stdout);
  let results: FuzzResults;
  try {
    results = JSON.parse(await Deno.readTextFile(json));
  } catch {
    throw new Error(
      `sis fuzz ${args.join(" ")} wrote no results (exit ${output.code}):\n${text}${
        new TextDecoder().decode(output.stderr)
      }`,
    );
  }
  return { code: output.code, results, ms };
}

const verdict = (ok: boolean) => ok ? "ok" : "MISSED";
let missed = 0;

if (!Deno.args.includes("--skip-long")) {
  console.log(`# ${calls} calls per arch (sis fuzz syscalls --arch all --calls ${calls} --jobs ${jobs})`);
  const { code, results, ms } = await sisFuzz(
    ["--arch", "all", "--calls", String(calls)],
    join(outDir, "long.json"),
  );
  for (const arch of results.archs as FuzzArchResult[]) {
    const noCrash = arch.status === "passed" && arch.calls === calls;
    const fast = arch.callsPerSecond >= 20_000;
    missed += Number(!noCrash) + Number(!fast);
    console.log(
      `${arch.arch.padEnd(8)} ${arch.calls} calls, ${arch.status}` +
        `${arch.crash ? ` (${arch.crash.kind}: ${arch.crash.message})` : ""} [${verdict(noCrash)}]; ` +
        `${arch.callsPerSecond} calls/s over ${
          (arch.elapsedMs / 1000).toFixed(1)
        } s guest time [target >= 20000: ${verdict(fast)}]`,
    );
  }
  console.log(`whole command: ${(ms / 1000).toFixed(1)} s, exit ${code}\n`);
}

if (!Deno.args.includes("--skip-control")) {
  console.log(`# positive control (sis fuzz syscalls --arch all --control --seed S --jobs ${jobs})`);
  for (const seed of seeds) {
    const { results } = await sisFuzz(
      ["--arch", "all", "--control", "--seed", seed],
      join(outDir, `control-${seed}.json`),
    );
    for (const arch of results.archs as FuzzArchResult[]) {
      const t = arch.timings;
      const totalMs = t.fuzzMs + (t.replayMs ?? 0) + (t.minimizeMs ?? 0);
      const found = arch.status === "passed";
      const inTime = found && totalMs <= 60_000;
      missed += Number(!found) + Number(!inTime);
      console.log(
        `seed ${seed.padEnd(4)} ${arch.arch.padEnd(8)} ${
          found ? "found" : `NOT found (${arch.problem ?? arch.status})`
        }` +
          ` at call ${arch.crash?.progress ?? "-"}, minimized to ${
            arch.minimized?.indices.length ?? "-"
          } call(s)` +
          ` in ${arch.minimized?.tests ?? "-"} test(s); find ${(t.fuzzMs / 1000).toFixed(1)} s + replay ${
            ((t.replayMs ?? 0) / 1000).toFixed(1)
          } s` +
          ` + minimize ${((t.minimizeMs ?? 0) / 1000).toFixed(1)} s = ${
            (totalMs / 1000).toFixed(1)
          } s [target <= 60 s: ${verdict(inTime)}]`,
      );
    }
  }
}

console.log(missed === 0 ? "\nall targets met" : `\n${missed} target(s) missed`);
