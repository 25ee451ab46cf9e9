/** Terminal output of chaos runs: one progress line per finished cell, a summary table, and the failed assertions below it. */
import { formatPercent } from "./binomial.ts";
import { MODE_SPECS } from "./modes.ts";
import type { CellResult, ChaosResults } from "./results.ts";

type Paint = (text: string) => string;

export interface Palette {
  green: Paint;
  red: Paint;
  yellow: Paint;
  dim: Paint;
}

export const PLAIN: Palette = { green: (t) => t, red: (t) => t, yellow: (t) => t, dim: (t) => t };

const STATUS_WORD = { passed: "PASS", failed: "FAIL", error: "ERROR", interrupted: "STOP" } as const;

function paintStatus(cell: CellResult, palette: Palette): string {
  const word = STATUS_WORD[cell.status];
  return cell.status === "passed"
    ? palette.green(word)
    : cell.status === "failed"
    ? palette.red(word)
    : palette.yellow(word);
}

/** One line when a cell finishes: `PASS x86_64-disk_full-r30 12/40 failed (2.1 s)`. */
export function cellLine(cell: CellResult, palette: Palette = PLAIN): string {
  const summary = cell.summary;
  const what = cell.mode === "random_panic"
    ? summary.expectedPanic ? "panicked as injected" : "no panic"
    : cell.mode === "slow_io"
    ? `${summary.injections} delay(s)`
    : `${summary.failedOps}/${summary.ops} failed`;
  return `${paintStatus(cell, palette)} ${cell.name} ${what} ${
    palette.dim(`(${(cell.durationMs / 1000).toFixed(1)} s)`)
  }`;
}

/** Left-aligned columns; numbers right-aligned. */
function layout(rows: string[][], numeric: boolean[]): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => visibleLength(row[column]))));
  return rows.map((row) =>
    row.map((cell, column) => {
      const pad = " ".repeat(widths[column] - visibleLength(cell));
      return numeric[column] ? pad + cell : cell + pad;
    }).join("  ").trimEnd()
  );
}

function visibleLength(text: string): number {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "").length;
}

/** The summary table of a run, then each failed assertion with its messages, then one total line. */
export function chaosTable(results: ChaosResults, palette: Palette = PLAIN): string {
  const header = [
    "ARCH",
    "MODE",
    "RATE",
    "OPS",
    "FAILED",
    "INJECTED/CHECKS",
    "OBSERVED",
    "INTERVAL",
    "NOTE",
    "STATUS",
  ];
  const numeric = [false, false, true, true, true, true, true, false, false, false];
  const rows = results.cells.map((cell) => {
    const s = cell.summary;
    const interval = s.interval ? `${formatPercent(s.interval.low)}-${formatPercent(s.interval.high)}` : "-";
    let note = "";
    if (s.addedLatencyMs !== undefined) note = `+${s.addedLatencyMs} ms/injection`;
    else if (s.expectedPanic) note = "expected panic";
    else if (cell.mode === "network_fail") {
      note = cell.assertions.some((a) => a.id === "echo" && a.status === "passed")
        ? "NIC echo intact"
        : "null netdev";
    }
    if (cell.replay) {
      note = [note, cell.replay.matched ? "replay matched" : "REPLAY DIFFERS"].filter(Boolean).join(", ");
    }
    return [
      cell.arch,
      cell.mode,
      `${cell.ratePercent}%`,
      String(s.ops),
      MODE_SPECS[cell.mode].effect === "fail" ? String(s.failedOps) : "-",
      // Dropped frames are injections too: with them the column matches OBSERVED.
      s.checks !== undefined ? `${s.injections + (s.droppedFrames ?? 0)}/${s.checks}` : String(s.injections),
      s.observedRate !== undefined ? formatPercent(s.observedRate) : "-",
      interval,
      note,
      paintStatus(cell, palette),
    ];
  });
  let text = layout([header, ...rows], numeric).join("\n") + "\n";
  for (const cell of results.cells) {
    for (const assertion of cell.assertions.filter((a) => a.status === "failed")) {
      text += `\n${palette.red("FAIL")} ${cell.name}: ${assertion.name}\n`;
      for (const message of assertion.messages.slice(0, 12)) text += `  ${message}\n`;
    }
    if (cell.replay && !cell.replay.matched) {
      text += `\n${palette.red("FAIL")} ${cell.name}: replay differs\n  ${cell.replay.difference}\n`;
    }
  }
  for (const cell of results.cells.filter((cell) => cell.summary.expectedPanic)) {
    const where = cell.summary.panicLocation ? ` at ${cell.summary.panicLocation}` : "";
    text += `\npanic ${cell.name}: ${cell.summary.panicMessage}${where}` +
      (cell.bundleDir ? `\n  report: ${cell.bundleDir}/transcript.json` : "") + "\n";
  }
  const notes = new Set(results.cells.map((cell) => MODE_SPECS[cell.mode].note).filter(Boolean));
  for (const note of notes) text += `\nnote: network_fail ${note}\n`;
  const { cells, passed, failed, errors } = results.summary;
  text += `\nchaos: ${cells} cell(s): ${passed} passed, ${failed} failed, ${errors} kernel error(s) ` +
    `(rates judged against the seed's draws; ${
      (results.confidence * 100).toFixed(1)
    }% Wilson intervals shown) in ${(results.durationMs / 1000).toFixed(1)} s\n`;
  return text;
}
