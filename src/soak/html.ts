/**
 * The soak report as one self-contained HTML page: inline CSS and inline
 * SVG charts drawn here, no script and nothing fetched at view time. Every
 * string that came from the kernel or the bundle goes through
 * {@link escapeHtml}: a log line holding `<script>` shows as text.
 */
import type { ArchReport, Chart, LeakReport } from "./analysis.ts";
import type { SoakEvent } from "./samples.ts";
import type { SeriesSummary } from "./stats.ts";

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface ReportPage {
  title: string;
  bundle: string;
  generatedAt: string;
  archs: ArchReport[];
  /** Counted problems reading the bundle (torn or invalid lines), shown in the header. */
  warnings: string[];
  /** Start and resume events: the segments of the soak. */
  segments: number;
}

const WIDTH = 720;
const HEIGHT = 170;
const MARGIN = { left: 64, right: 10, top: 10, bottom: 22 };

/** Events drawn on the charts, with their class: restarts and faults stand out. */
const DRAWN_EVENTS = new Set(["resume", "restart", "panic", "hang", "chaos", "log", "error"]);

/** Up to this many events per arch are listed in its table (all are drawn). */
const LISTED_EVENTS = 500;

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ${String(minutes % 60).padStart(2, "0")}m`;
  return `${Math.floor(hours / 24)}d ${String(hours % 24).padStart(2, "0")}h`;
}

/** A compact figure: 1234567 → 1.235M; small values keep four significant digits. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return "–";
  const magnitude = Math.abs(value);
  for (const [limit, suffix] of [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e4, "k"]] as const) {
    if (magnitude >= limit) return `${+(value / limit).toPrecision(4)}${suffix}`;
  }
  if (magnitude === 0 || magnitude >= 0.001) return `${+value.toPrecision(4)}`;
  return value.toExponential(2);
}

function formatP(p: number): string {
  return !Number.isFinite(p) ? "–" : p < 0.0001 ? "&lt;0.0001" : p.toFixed(4);
}

function round1(value: number): string {
  return (Math.round(value * 10) / 10).toString();
}

/** One chart: the downsampled line (broken at gaps and restarts), y range labels, elapsed-time ticks and events. */
function chartSvg(chart: Chart, t0: number, t1: number, events: readonly SoakEvent[]): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  let low = Infinity;
  let high = -Infinity;
  for (const value of chart.v) {
    if (value < low) low = value;
    if (value > high) high = value;
  }
  if (low === high) {
    low -= Math.abs(low) * 0.05 || 1;
    high += Math.abs(high) * 0.05 || 1;
  }
  const span = t1 - t0 || 1;
  const xOf = (t: number) => MARGIN.left + ((t - t0) / span) * plotWidth;
  const yOf = (v: number) => MARGIN.top + plotHeight - ((v - low) / (high - low)) * plotHeight;
  const path: string[] = [];
  for (let i = 0; i < chart.t.length; i++) {
    const command = i === 0 || chart.breakBefore[i] ? "M" : "L";
    path.push(`${command}${round1(xOf(chart.t[i]))} ${round1(yOf(chart.v[i]))}`);
  }
  // A lone point after a break draws nothing as a path: give it a dot.
  const dots: string[] = [];
  for (let i = 0; i < chart.t.length; i++) {
    const isAlone = (i === 0 || chart.breakBefore[i]) &&
      (i + 1 === chart.t.length || chart.breakBefore[i + 1]);
    if (isAlone) {
      dots.push(
        `<circle class="dot" cx="${round1(xOf(chart.t[i]))}" cy="${round1(yOf(chart.v[i]))}" r="2"/>`,
      );
    }
  }
  const ticks: string[] = [];
  for (let k = 0; k <= 4; k++) {
    const x = MARGIN.left + (k / 4) * plotWidth;
    const anchor = k === 0 ? "start" : k === 4 ? "end" : "middle";
    ticks.push(
      `<text class="tick" x="${round1(x)}" y="${HEIGHT - 6}" text-anchor="${anchor}">${
        formatDuration((k / 4) * span)
      }</text>`,
    );
  }
  const marks = events.filter((event) => DRAWN_EVENTS.has(event.kind) && event.t >= t0 && event.t <= t1).map(
    (event) => {
      const x = round1(xOf(event.t));
      return `<line class="event ev-${escapeHtml(event.kind)}" x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${
        MARGIN.top + plotHeight
      }"><title>${
        escapeHtml(`${formatDuration(event.t - t0)} ${event.kind}: ${event.message}`)
      }</title></line>`;
    },
  );
  return `<svg class="chart-svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img">` +
    `<rect class="frame" x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}"/>` +
    `<text class="tick" x="${MARGIN.left - 4}" y="${MARGIN.top + 8}" text-anchor="end">${
      escapeHtml(formatValue(high))
    }</text>` +
    `<text class="tick" x="${MARGIN.left - 4}" y="${MARGIN.top + plotHeight}" text-anchor="end">${
      escapeHtml(formatValue(low))
    }</text>` +
    ticks.join("") + marks.join("") +
    `<path class="line" d="${path.join("")}"/>` + dots.join("") + `</svg>`;
}

function verdictTable(verdicts: readonly LeakReport[]): string {
  const rows = verdicts.map((verdict) => {
    const exhaustion = verdict.hoursToExhaustion === undefined
      ? "–"
      : formatDuration(verdict.hoursToExhaustion * 3_600_000);
    return `<tr class="verdict-${verdict.verdict.replace(" ", "-")}"><td>${escapeHtml(verdict.series)}</td>` +
      `<td class="verdict">${verdict.verdict}</td><td>${formatP(verdict.pValue)}</td>` +
      `<td>${escapeHtml(formatValue(verdict.slopePerHour))}/h</td><td>${exhaustion}</td>` +
      `<td>${verdict.points}</td><td>${escapeHtml(verdict.reason)}</td></tr>`;
  });
  return `<table class="verdicts"><thead><tr><th>series</th><th>verdict</th><th>p (increase)</th>` +
    `<th>slope</th><th>time to exhaustion</th><th>samples</th><th>why</th></tr></thead><tbody>${
      rows.join("")
    }</tbody></table>`;
}

function summaryTable(report: ArchReport): string {
  const cells = (summary: SeriesSummary) =>
    [
      summary.min,
      summary.max,
      summary.mean,
      summary.stddev,
      summary.p50,
      summary.p95,
      summary.p99,
      summary.first,
      summary.last,
    ]
      .map((value) => `<td>${escapeHtml(formatValue(value))}</td>`).join("");
  const rows = report.series.map((series) =>
    `<tr><td>${escapeHtml(series.key)}${series.kind === "counter" ? " <i>/s</i>" : ""}</td>${
      cells(series.summary)
    }</tr>`
  );
  return `<table class="summary"><thead><tr><th>series</th><th>min</th><th>max</th><th>mean</th><th>stddev</th>` +
    `<th>p50</th><th>p95</th><th>p99</th><th>first</th><th>last</th></tr></thead><tbody>${
      rows.join("")
    }</tbody></table>`;
}

function eventTable(report: ArchReport): string {
  const listed = report.events.slice(-LISTED_EVENTS);
  const omitted = report.events.length - listed.length;
  const rows = listed.map((event) =>
    `<tr class="ev-row-${escapeHtml(event.kind)}"><td>${formatDuration(event.t - report.firstT)}</td><td>${
      escapeHtml(String(event.boot))
    }</td><td>${escapeHtml(event.kind)}</td><td class="message">${escapeHtml(event.message)}</td></tr>`
  );
  return (omitted > 0 ? `<p>${omitted} earlier events not listed (all are drawn).</p>` : "") +
    `<table class="events"><thead><tr><th>at</th><th>boot</th><th>kind</th><th>message</th></tr></thead><tbody>${
      rows.join("")
    }</tbody></table>`;
}

function archSection(report: ArchReport): string {
  const builds = report.builds.map((build) => `${build.version} (${build.commit})`);
  const restarts = report.events.filter((event) => event.kind === "restart").length;
  const charts = report.charts.map((chart) =>
    `<figure class="chart" data-series="${escapeHtml(chart.key)}" data-points="${chart.t.length}">` +
    `<figcaption>${escapeHtml(chart.key)}${
      chart.kind === "counter" ? " (rate per second)" : ""
    }</figcaption>` +
    chartSvg(chart, report.firstT, report.lastT, report.events) + `</figure>`
  );
  return `<section class="arch" id="arch-${escapeHtml(report.arch)}"><h2>${escapeHtml(report.arch)}</h2>` +
    `<p class="facts">${report.samples} samples over ${formatDuration(report.lastT - report.firstT)}; ` +
    `boots ${report.boots.length}, restarts ${restarts}; kernel ${
      escapeHtml(builds.join(", ") || "unknown")
    }</p>` +
    `<h3>Leak verdicts</h3>${verdictTable(report.verdicts)}` +
    `<h3>Charts</h3><div class="charts">${charts.join("")}</div>` +
    `<h3>Summary</h3>${summaryTable(report)}<h3>Events</h3>${eventTable(report)}</section>`;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
h1{font-size:1.4em}h2{border-bottom:2px solid #ccc;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}
td:first-child,th:first-child,td.message{text-align:left}td.message{white-space:pre-wrap;font-family:monospace}
.verdict-leak .verdict{background:#f8d0d0;font-weight:bold}.verdict-inconclusive .verdict{background:#fbeec0}
.verdict-no-leak .verdict{background:#d4f0d4}.warning{background:#fbeec0;padding:4px 8px}
.charts{display:flex;flex-wrap:wrap;gap:8px}figure.chart{margin:0}figcaption{font:12px monospace}
.chart-svg .frame{fill:#fafafa;stroke:#ccc}.chart-svg .line{fill:none;stroke:#1f6fb4;stroke-width:1.2}
.chart-svg .dot{fill:#1f6fb4}.chart-svg .tick{font:10px sans-serif;fill:#555}
.chart-svg .event{stroke:#999;stroke-dasharray:2 2}.chart-svg .ev-restart,.chart-svg .ev-panic,.chart-svg .ev-hang{stroke:#c00;stroke-width:1.5;stroke-dasharray:none}
.chart-svg .ev-resume{stroke:#080;stroke-width:1.5;stroke-dasharray:none}.chart-svg .ev-chaos{stroke:#d80}
`;

/** The whole page. */
export function renderHtml(page: ReportPage): string {
  const verdictLine = page.archs.map((report) => {
    const worst = report.verdicts.some((v) => v.verdict === "leak")
      ? "leak"
      : report.verdicts.some((v) => v.verdict === "inconclusive")
      ? "inconclusive"
      : "no leak";
    return `<li><a href="#arch-${escapeHtml(report.arch)}">${escapeHtml(report.arch)}</a>: ` +
      `<b class="overall">${worst}</b></li>`;
  });
  const builds = new Set(
    page.archs.flatMap((report) => report.builds.map((b) => `${b.version} (${b.commit})`)),
  );
  const buildNote = builds.size > 1
    ? `<p class="warning">Samples come from ${builds.size} kernel builds: ${
      escapeHtml([...builds].join(", "))
    }.</p>`
    : "";
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(page.title)}</title><style>${STYLE}</style></head><body>` +
    `<h1>${escapeHtml(page.title)}</h1>` +
    `<p class="facts">bundle ${escapeHtml(page.bundle)}; generated ${escapeHtml(page.generatedAt)}; ` +
    `segments ${page.segments}; kernel ${escapeHtml([...builds].join(", ") || "unknown")}</p>` +
    buildNote +
    page.warnings.map((warning) => `<p class="warning">${escapeHtml(warning)}</p>`).join("") +
    `<ul class="overview">${verdictLine.join("")}</ul>` +
    page.archs.map(archSection).join("") + `</body></html>\n`;
}
