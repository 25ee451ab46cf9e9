/** Bench: parse and lint a generated 100,000-sample exposition with `sis metrics check` and with `promtool check metrics` (time ratio, same verdict). */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./_common.ts";
import { checkExposition, lintExposition } from "../src/parse/prometheus.ts";

/**
 * Target: at least as fast as promtool. Both run as processes on the same
 * file (process start included on both sides), and their verdicts (exit
 * codes) must agree; the in-process times of the typed API
 * (`checkExposition`, one object per sample) and of the streaming path
 * `sis metrics check` takes for one scrape (`lintExposition`) are printed
 * too. 1,000 families of 100 series each, counters, gauges and histograms,
 * all clean, so both tools read every line. The runs alternate, so load
 * from other work on the machine falls on both sides alike.
 */

export function generateExposition(samples: number): string {
  const lines: string[] = [];
  let count = 0;
  for (let family = 0; count < samples; family++) {
    const kind = family % 3;
    const name = kind === 0
      ? `bench_requests_${family}_total`
      : kind === 1
      ? `bench_queue_${family}_bytes`
      : `bench_latency_${family}_seconds`;
    lines.push(`# HELP ${name} Generated family ${family} with "quotes" \\\\ and text.`);
    lines.push(`# TYPE ${name} ${kind === 0 ? "counter" : kind === 1 ? "gauge" : "histogram"}`);
    for (let series = 0; series < 100 && count < samples; series++) {
      // Label names in sorted order, as Prometheus client libraries write them.
      const labels = `code="${200 + (series % 5)}",instance="host-${series}",path="/api/v1/item/${series}"`;
      if (kind === 2) {
        let cumulative = 0;
        for (const le of ["0.005", "0.01", "0.1", "1", "+Inf"]) {
          cumulative += series;
          lines.push(`${name}_bucket{${labels},le="${le}"} ${cumulative}`);
        }
        lines.push(`${name}_sum{${labels}} ${series * 0.25}`, `${name}_count{${labels}} ${cumulative}`);
        count += 7;
      } else {
        lines.push(`${name}{${labels}} ${series * 17.5} 1700000000000`);
        count++;
      }
    }
  }
  return lines.join("\n") + "\n";
}

async function timed(
  command: string,
  args: string[],
  stdin?: string,
): Promise<{ ms: number; code: number; out: string }> {
  const started = performance.now();
  const child = new Deno.Command(command, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const collected = child.output();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const output = await collected;
  const out = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  return { ms: performance.now() - started, code: output.code, out };
}

export async function benchPrometheus(runs = 5): Promise<void> {
  const promtool = [Deno.env.get("PROMTOOL"), "promtool", "/tmp/prom/usr/bin/promtool"].filter(
    Boolean,
  ) as string[];
  const dir = await mkdtemp(join(tmpdir(), "sis-bench-prom-"));
  try {
    const text = generateExposition(100_000);
    const path = join(dir, "big.prom");
    await writeFile(path, text);
    // The streaming path first, cold as in the process `sis metrics check`
    // starts; the typed API after it runs with the parser already compiled.
    const streamStarted = performance.now();
    const streamed = lintExposition(text);
    const streamMs = performance.now() - streamStarted;
    const started = performance.now();
    const exposition = checkExposition(text);
    const inProcessMs = performance.now() - started;
    if (JSON.stringify(streamed.exposition.problems) !== JSON.stringify(exposition.problems)) {
      throw new Error("lintExposition and checkExposition disagree on the bench input");
    }
    const samples = exposition.families.reduce((sum, family) => sum + family.samples.length, 0);
    console.log(
      `prometheus: ${samples} samples, ${
        (text.length / 1024 / 1024).toFixed(1)
      } MiB; ${exposition.problems.length} problems`,
    );
    let tool: string | undefined;
    for (const candidate of promtool) {
      try {
        await timed(candidate, ["--version"]);
        tool = candidate;
        break;
      } catch {
        // Next.
      }
    }
    const sisRuns = [];
    const toolRuns = [];
    let sameVerdicts = true;
    for (let run = 0; run < runs; run++) {
      const sis = await timed(Deno.execPath(), [
        "run",
        "--quiet",
        "-A",
        join(ROOT, "src/cli.ts"),
        "metrics",
        "check",
        path,
      ]);
      sisRuns.push(sis.ms);
      if (tool) {
        const result = await timed(tool, ["check", "metrics"], text);
        if (result.code !== 0) {
          console.log(`  promtool said (exit ${result.code}): ${result.out.slice(0, 200)}`);
        }
        if (result.code !== sis.code) {
          sameVerdicts = false;
          console.log(
            `  verdicts differ: sis exit ${sis.code}, promtool exit ${result.code}: ${sis.out.slice(0, 200)}`,
          );
        }
        toolRuns.push(result.ms);
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    console.log(
      `  streaming lint in process    ${streamMs.toFixed(0).padStart(6)} ms  (lintExposition, cold)`,
    );
    console.log(
      `  parse + lint in process      ${inProcessMs.toFixed(0).padStart(6)} ms  (checkExposition, warm)`,
    );
    console.log(`  sis metrics check (process)  ${median(sisRuns).toFixed(0).padStart(6)} ms`);
    if (!tool) {
      console.log("  promtool not found: ratio not measured");
      return;
    }
    console.log(`  promtool check metrics       ${median(toolRuns).toFixed(0).padStart(6)} ms`);
    console.log(`  verdicts (exit codes): ${sameVerdicts ? "same" : "DIFFER"}`);
    const ratio = median(toolRuns) / median(sisRuns);
    console.log(
      `  sis vs promtool: ${ratio.toFixed(2)}x promtool's speed (target >= 1x)  ${
        ratio >= 1 && sameVerdicts ? "ok" : "MISSED"
      }`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await benchPrometheus();
