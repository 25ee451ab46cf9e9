/** The soak sample and event contract (docs/SOAK.md): one JSON object per line, read into columns per arch, tolerant of a torn last line. */

/** One scrape, as `samples.ndjson` holds it. */
export interface SoakSample {
  /** Unix time of the scrape in milliseconds. */
  t: number;
  arch: string;
  /** Which boot of this arch's kernel answered (1 for the first; a restart or resume adds one). */
  boot: number;
  /** Every sample of the exposition: `name{labels}` exactly as written there, to its value. */
  metrics: Record<string, number>;
}

/** Kinds of events a soak records in `events.ndjson`. */
export type SoakEventKind =
  | "start"
  | "resume"
  | "boot"
  | "restart"
  | "panic"
  | "hang"
  | "chaos"
  | "log"
  | "stop"
  | "error";

/** One event, as `events.ndjson` holds it. */
export interface SoakEvent {
  t: number;
  arch: string;
  boot: number;
  kind: SoakEventKind | string;
  /** A line of text for the chart's tooltip and the event table (kernel text: escape it). */
  message: string;
  /** Log level for `log` events, when known. */
  level?: string;
  [key: string]: unknown;
}

/** How well a file read: lines used, and what was skipped and why (counted warnings, never errors). */
export interface ReadTally {
  lines: number;
  used: number;
  /** A last line without its newline that is not valid JSON: what a kill leaves behind. */
  tornLastLine: number;
  /** Lines in the middle that are not valid JSON or miss a required field. */
  invalidLines: number;
  /** First few problems, with line numbers, for the warning text. */
  problems: string[];
}

/** Columns of one arch's samples: times, boots, and one value column per series (NaN where a scrape lacked it). */
export class ArchColumns {
  readonly arch: string;
  t: number[] = [];
  boot: number[] = [];
  readonly series = new Map<string, number[]>();

  constructor(arch: string) {
    this.arch = arch;
  }

  get length(): number {
    return this.t.length;
  }

  add(sample: SoakSample): void {
    const row = this.t.length;
    this.t.push(sample.t);
    this.boot.push(sample.boot);
    let filled = 0;
    for (const key in sample.metrics) {
      const value = sample.metrics[key];
      let column = this.series.get(key);
      if (column === undefined) {
        // A series first seen now was absent from the earlier scrapes.
        column = new Array<number>(row).fill(NaN);
        this.series.set(key, column);
      }
      column.push(typeof value === "number" ? value : NaN);
      filled += 1;
    }
    // Usually every series was in the scrape; otherwise the missing ones get a gap.
    if (filled !== this.series.size) {
      for (const column of this.series.values()) {
        if (column.length === row) column.push(NaN);
      }
    }
  }

  /** Sorts rows by time (a resumed or merged file may interleave) if they are not in order already. */
  sortByTime(): void {
    let isSorted = true;
    for (let i = 1; i < this.t.length && isSorted; i++) isSorted = this.t[i - 1] <= this.t[i];
    if (isSorted) return;
    const order = this.t.map((_, index) => index).sort((a, b) => this.t[a] - this.t[b]);
    const pick = (column: number[]) => order.map((index) => column[index]);
    this.t = pick(this.t);
    this.boot = pick(this.boot);
    for (const [key, column] of this.series) this.series.set(key, pick(column));
  }
}

/** Parses one NDJSON line that must hold a JSON object; a string says what is wrong with it. */
function parseJsonObject(line: string): object | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return "not valid JSON";
  }
  if (typeof value !== "object" || value === null) return "not a JSON object";
  return value;
}

/** Parses one sample line; a string says what is wrong with it. */
export function parseSampleLine(line: string): SoakSample | string {
  const value = parseJsonObject(line);
  if (typeof value === "string") return value;
  const sample = value as Partial<SoakSample>;
  if (typeof sample.t !== "number" || !Number.isFinite(sample.t)) return `"t" is not a number`;
  if (typeof sample.arch !== "string" || sample.arch === "") return `"arch" is not a string`;
  if (typeof sample.boot !== "number") return `"boot" is not a number`;
  if (typeof sample.metrics !== "object" || sample.metrics === null) return `"metrics" is not an object`;
  return sample as SoakSample;
}

/** Parses one event line; a string says what is wrong with it. */
export function parseEventLine(line: string): SoakEvent | string {
  const value = parseJsonObject(line);
  if (typeof value === "string") return value;
  const event = value as Partial<SoakEvent>;
  if (typeof event.t !== "number" || !Number.isFinite(event.t)) return `"t" is not a number`;
  if (typeof event.kind !== "string") return `"kind" is not a string`;
  return {
    ...event,
    t: event.t,
    kind: event.kind,
    arch: typeof event.arch === "string" ? event.arch : "",
    boot: typeof event.boot === "number" ? event.boot : 0,
    message: typeof event.message === "string" ? event.message : "",
  } as SoakEvent;
}

function newTally(): ReadTally {
  return { lines: 0, used: 0, tornLastLine: 0, invalidLines: 0, problems: [] };
}

/**
 * Feeds every line of an NDJSON file to `onLine`, reading in chunks so a
 * week of samples (hundreds of MB) never has to be one string. A last line
 * without its newline that does not parse is a torn write: counted, not used.
 */
export async function readNdjson<T>(
  path: string,
  parse: (line: string) => T | string,
  onRecord: (record: T) => void,
): Promise<ReadTally> {
  const tally = newTally();
  const file = await Deno.open(path, { read: true });
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(4 << 20);
  let rest = "";
  const handle = (line: string, isLast: boolean) => {
    tally.lines += 1;
    if (line.trim() === "") return;
    const record = parse(line);
    if (typeof record === "string") {
      if (isLast) tally.tornLastLine += 1;
      else tally.invalidLines += 1;
      if (tally.problems.length < 5) {
        tally.problems.push(`line ${tally.lines}: ${isLast ? "torn last line (no newline)" : record}`);
      }
      return;
    }
    tally.used += 1;
    onRecord(record);
  };
  try {
    for (;;) {
      const count = await file.read(buffer);
      if (count === null) break;
      const text = rest + decoder.decode(buffer.subarray(0, count), { stream: true });
      let start = 0;
      for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
        handle(text.slice(start, end), false);
        start = end + 1;
      }
      rest = text.slice(start);
    }
    rest += decoder.decode();
    if (rest !== "") handle(rest, true);
  } finally {
    file.close();
  }
  return tally;
}

/** Reads `samples.ndjson` into columns per arch (archs in order of first appearance). */
export async function readSamples(path: string): Promise<{ archs: ArchColumns[]; tally: ReadTally }> {
  const byArch = new Map<string, ArchColumns>();
  const tally = await readNdjson(path, parseSampleLine, (sample) => {
    let columns = byArch.get(sample.arch);
    if (columns === undefined) {
      columns = new ArchColumns(sample.arch);
      byArch.set(sample.arch, columns);
    }
    columns.add(sample);
  });
  for (const columns of byArch.values()) columns.sortByTime();
  return { archs: [...byArch.values()], tally };
}

/** Reads `events.ndjson`; a missing file is no events. */
export async function readEvents(path: string): Promise<{ events: SoakEvent[]; tally: ReadTally }> {
  const events: SoakEvent[] = [];
  try {
    const tally = await readNdjson(path, parseEventLine, (event) => events.push(event));
    events.sort((a, b) => a.t - b.t);
    return { events, tally };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { events, tally: newTally() };
    throw error;
  }
}
