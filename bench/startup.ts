/**
 * `deno run -A bench/startup.ts [--runs N]`: how fast sis answers when it has
 * little to do. `./sis --help` through the launcher (target 150 ms: commands
 * load their heavy modules lazily) against a bare Deno start measured in the
 * same run, and a no-op `sis build` (nothing changed: cargo does nothing).
 * Figures are printed, nothing is asserted: timings on a shared machine
 * belong here, not in tests.
 */
import { median, ms, ROOT, runsArgument } from "./_common.ts";

const runs = runsArgument(Deno.args, 9);

async function timeCommand(command: string, args: string[]): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const output = await new Deno.Command(command, { args, cwd: ROOT, stdin: "null", stdout: "null" })
      .output();
    times.push(performance.now() - started);
    if (output.code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${output.code}`);
  }
  return times;
}

const bare = await timeCommand(Deno.execPath(), ["eval", ""]);
const help = await timeCommand(`${ROOT}/sis`, ["--help"]);
console.log(`bare deno start:     median ${ms(median(bare))}`);
console.log(
  `./sis --help:        median ${ms(median(help))} (${
    (median(help) / median(bare)).toFixed(2)
  }x bare; target 150 ms)`,
);
const build = await timeCommand(`${ROOT}/sis`, ["build", "--arch", "x86_64"]);
console.log(`no-op sis build:     median ${ms(median(build))} (x86_64, nothing changed)`);
