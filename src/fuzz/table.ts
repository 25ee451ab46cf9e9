/** Terminal output of `sis fuzz`: one line per finished arch, the coverage table (per syscall, how often each errno came back), and the reproducer listing. */
import { SYSCALL_NAMES } from "./generator.ts";
import type { FuzzArchResult, FuzzResults, ReplayArchResult } from "./results.ts";
import type { SyscallCounts } from "./transcript.ts";

const STATUS_WORD = { passed: "PASS", crashed: "CRASH", failed: "FAIL", interrupted: "STOP" } as const;

/** `PASS x86_64-fuzz 100000 calls, 21345 calls/s (4.7 s)` or the crash and its reproducer. */
export function archLine(result: FuzzArchResult | ReplayArchResult): string {
  const word = STATUS_WORD[result.status];
  const seconds = `(${(result.durationMs / 1000).toFixed(1)} s)`;
  if (!("control" in result)) {
    const what = result.crash
      ? `still crashes: ${result.crash.message}`
      : result.problem ?? result.kernel?.message ?? "no crash";
    return `${word} ${result.name} replay of ${result.indices.length} call(s): ${what} ${seconds}`;
  }
  // A crash in the first chunk leaves no finished chunk to time.
  const rate = result.elapsedMs > 0 ? `${result.callsPerSecond} calls/s` : "rate n/a (no chunk finished)";
  let line = `${word} ${result.name} ${result.calls} calls, ${rate}`;
  if (result.crash) {
    line += `; ${result.crash.kind}: ${result.crash.message}`;
    if (result.crash.range) {
      line += ` (seed ${result.seed}, calls ${result.crash.range.start}-${result.crash.range.end})`;
    }
    if (result.replay) line += result.replay.sameCrash ? ", replayed" : ", replay did not crash the same way";
    if (result.minimized) line += `, minimized to ${result.minimized.indices.length} call(s)`;
  } else if (result.problem ?? result.kernel) {
    line += `; ${result.problem ?? result.kernel?.message}`;
  }
  return `${line} ${seconds}`;
}

/** Columns: the syscall, ok, then every errno seen in any row, in name order; `-` for none. */
export function coverageTable(counts: SyscallCounts): string {
  const names = Object.keys(counts.bySyscall).sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  if (names.length === 0) return "  (no syscalls counted)\n";
  const errnos = [...new Set(names.flatMap((name) => Object.keys(counts.bySyscall[name])))]
    .filter((outcome) => outcome !== "ok").sort();
  const columns = ["ok", ...errnos];
  const rows = [[
    "SYSCALL",
    ...columns.map((column) => column === "ok" ? "OK" : column),
    "TOTAL",
  ]];
  for (const name of names) {
    const outcomes = counts.bySyscall[name];
    const total = Object.values(outcomes).reduce((sum, count) => sum + count, 0);
    rows.push([
      name,
      ...columns.map((column) => outcomes[column] ? String(outcomes[column]) : "-"),
      String(total),
    ]);
  }
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) =>
    "  " +
    row.map((cell, column) => column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))
      .join("  ")
  ).join("\n") + "\n";
}

/** Table order: the syscall table's numbers first, unknown numbers after. */
function order(name: string): number {
  const at = (SYSCALL_NAMES as readonly string[]).indexOf(name);
  return at === -1 ? SYSCALL_NAMES.length : at;
}

/** The text after a run: per arch the coverage table, the crash and its minimized calls; then where repro.json is. */
export function fuzzReport(results: FuzzResults): string {
  let text = "";
  for (const arch of results.archs) {
    if (!("control" in arch)) continue;
    text += arch.elapsedMs > 0
      ? `\n${arch.arch}: ${arch.calls} calls in ${(arch.elapsedMs / 1000).toFixed(1)} s guest time, ` +
        `${arch.callsPerSecond} calls/s, ${arch.failedCalls} returned an errno\n`
      : `\n${arch.arch}: ${arch.calls} calls; the crash came before a chunk finished: no rate or coverage\n`;
    if (arch.elapsedMs > 0) text += coverageTable(arch.coverage);
    if (arch.minimized) {
      text += `  reproducer (${arch.minimized.indices.length} call(s) of seed ${arch.seed}):\n`;
      for (const line of arch.minimized.listing) text += `    ${line}\n`;
    }
  }
  if (results.repro) text += `\nreproducer: ${results.repro} (sis fuzz replay ${results.repro})\n`;
  return text;
}
