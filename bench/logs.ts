/** Bench: `sis logs --level ERROR` on a generated 250 MB NDJSON log against jq and grep on the same file (time ratios and counts). */
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./_common.ts";

/**
 * The targets: at least 10x faster than `jq -c 'select(.level=="ERROR")'`,
 * at most 4x slower than `grep -c '"level":"ERROR"'`, and the same count as
 * both. Every tool runs as a process on the same file, after one warm-up
 * read so all three see it in the page cache; each figure is the median of
 * `--runs` runs (jq once: it is the slow one). The log has no FATAL
 * records, so the minimum level ERROR selects exactly `level == "ERROR"`.
 */

const SUBSYSTEMS = ["boot", "fs", "net", "sched", "shell", "mem", "chaos", "power"];
const LEVELS = ["TRACE", "DEBUG", "INFO", "INFO", "INFO", "INFO", "WARN", "WARN", "ERROR"];

/** Writes about `bytes` of NDJSON records; returns the ERROR count written. */
export async function generateLog(path: string, bytes: number): Promise<number> {
  const file = await open(path, "w");
  let written = 0;
  let errors = 0;
  let ts = 0;
  let seed = 12345;
  // A linear congruential generator; its low bits are poor, so the high ones are used.
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 8;
  try {
    while (written < bytes) {
      let block = "";
      while (block.length < 4 * 1024 * 1024) {
        ts += random() % 5000;
        const level = random() % 50 === 0 ? "ERROR" : LEVELS[random() % (LEVELS.length - 1)];
        if (level === "ERROR") errors++;
        const subsystem = SUBSYSTEMS[random() % SUBSYSTEMS.length];
        block += `{"ts":${ts},"level":"${level}","subsystem":"${subsystem}","status":"event ${
          random() % 100
        }","path":"/tmp/file-${random() % 1000}.txt","bytes":${random() % 65536},"ok":${
          random() % 2 === 0
        }}\n`;
      }
      await file.write(block);
      written += block.length;
    }
  } finally {
    await file.close();
  }
  return errors;
}

async function timed(command: string, args: string[]): Promise<{ ms: number; stdout: string }> {
  const started = performance.now();
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).output();
  const ms = performance.now() - started;
  if (!output.success && output.code !== 1) {
    throw new Error(`${command} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  return { ms, stdout: new TextDecoder().decode(output.stdout).trim() };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export async function benchLogs(sizeMiB = 250, runs = 3): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "sis-bench-logs-"));
  try {
    const path = join(dir, "log.ndjson");
    const generated = await generateLog(path, sizeMiB * 1024 * 1024);
    const size = (await stat(path)).size;
    console.log(`logs: ${(size / 1024 / 1024).toFixed(0)} MiB NDJSON, ${generated} ERROR records written`);
    await timed("cat", [path]); // Warm the page cache.
    const sisArgs = [
      "run",
      "--quiet",
      "-A",
      join(ROOT, "src/cli.ts"),
      "logs",
      path,
      "--level",
      "ERROR",
      "--format",
      "count",
    ];
    const sisRuns = [];
    const grepRuns = [];
    let sisCount = "";
    let grepCount = "";
    for (let run = 0; run < runs; run++) {
      const sis = await timed(Deno.execPath(), sisArgs);
      sisRuns.push(sis.ms);
      sisCount = sis.stdout;
      const grep = await timed("grep", ["-c", '"level":"ERROR"', path]);
      grepRuns.push(grep.ms);
      grepCount = grep.stdout;
    }
    const jq = await timed("sh", ["-c", `jq -c 'select(.level=="ERROR")' '${path}' | wc -l`]);
    const sisMs = median(sisRuns);
    const grepMs = median(grepRuns);
    console.log(`  sis logs --level ERROR   ${sisMs.toFixed(0).padStart(6)} ms  count ${sisCount}`);
    console.log(`  grep -c                  ${grepMs.toFixed(0).padStart(6)} ms  count ${grepCount}`);
    console.log(`  jq select | wc -l        ${jq.ms.toFixed(0).padStart(6)} ms  count ${jq.stdout}`);
    const faster = jq.ms / sisMs;
    const slower = sisMs / grepMs;
    const sameCount = sisCount === grepCount && grepCount === jq.stdout && Number(sisCount) === generated;
    console.log(
      `  sis vs jq:   ${faster.toFixed(1)}x faster (target >= 10x)  ${faster >= 10 ? "ok" : "MISSED"}`,
    );
    console.log(
      `  sis vs grep: ${slower.toFixed(1)}x slower (target <= 4x)   ${slower <= 4 ? "ok" : "MISSED"}`,
    );
    console.log(`  counts:      ${sameCount ? "equal" : "DIFFER"}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const index = Deno.args.indexOf("--size-mib");
  await benchLogs(index >= 0 ? Number(Deno.args[index + 1]) : 250);
}
