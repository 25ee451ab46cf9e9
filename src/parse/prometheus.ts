/** Prometheus text exposition (0.0.4) and OpenMetrics parser, writer and linter; promtool's verdicts are the reference. */

/**
 * The parser never throws and never stops at a bad line: each problem is
 * reported with its line number and the line is skipped, so one broken
 * series cannot hide the rest of a scrape (the old tooling dropped
 * unparsable lines silently). `promtool check metrics` stops at the first
 * parse error instead; the comparison tests only compare verdicts.
 *
 * Problems carry `isPromtool`: true for the checks Debian's promtool 2.42
 * makes (its text parser's errors and client_golang's promlint rules, with
 * promlint's exact wording), false for the stricter checks promtool 2.42
 * does not make but that the format's spec requires (duplicate series,
 * interleaved families, histogram buckets out of order or without `+Inf`,
 * `_count` differing from the `+Inf` bucket). docs/PARSERS.md lists them.
 */

export type MetricType =
  | "counter"
  | "gauge"
  | "histogram"
  | "gaugehistogram"
  | "summary"
  | "info"
  | "stateset"
  | "untyped"
  | "unknown";

export interface Sample {
  /** The sample's own name (`x_bucket`, `x_sum`, …). */
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
  /** 1-based line in the input. */
  line: number;
  /** Canonical key of `labels` (see `seriesKey`), set by the parser. */
  key?: string;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help?: string;
  unit?: string;
  samples: Sample[];
}

export interface MetricProblem {
  line?: number;
  metric?: string;
  text: string;
  /** `error`: the input is not valid exposition; `lint`: valid but against the conventions. */
  severity: "error" | "lint";
  /** Whether promtool 2.42 reports this too (see above). */
  isPromtool: boolean;
}

export interface Exposition {
  format: "text" | "openmetrics";
  families: MetricFamily[];
  problems: MetricProblem[];
  /** OpenMetrics: whether `# EOF` ended the input. */
  hasEof: boolean;
}

export interface ParseOptions {
  /** `auto` picks OpenMetrics when a `# EOF` line is present. */
  format?: "auto" | "text" | "openmetrics";
}

const TEXT_TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const OPENMETRICS_TYPES = new Set([
  "counter",
  "gauge",
  "histogram",
  "gaugehistogram",
  "summary",
  "info",
  "stateset",
  "unknown",
]);
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Suffixes a sample name may add to its family's name, per family type. */
const SUFFIXES: Partial<Record<MetricType, readonly string[]>> = {
  histogram: ["_bucket", "_sum", "_count", "_created"],
  gaugehistogram: ["_bucket", "_gsum", "_gcount"],
  summary: ["_sum", "_count", "_created"],
  counter: ["_total", "_created"],
  info: ["_info"],
};

/**
 * In the text format only histograms and summaries have component samples
 * (Go's parser, which promtool uses, reads a counter's `x_total` as its own
 * family when the counter is named `x`); `_created` is OpenMetrics only.
 */
const TEXT_SUFFIXES: Partial<Record<MetricType, readonly string[]>> = {
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["_sum", "_count"],
};

/** Parses an exposition. Never throws. */
export function parsePrometheus(text: string, options: ParseOptions = {}): Exposition {
  const exposition = parseLines(text, options, (family, sample) => family.samples.push(sample));
  for (const family of exposition.families) exposition.problems.push(...checkFamily(family));
  return exposition;
}

/**
 * The line loop of `parsePrometheus`: hands each accepted sample to
 * `onSample` with its family instead of keeping it, and leaves the
 * per-family checks to the caller. Families come back without samples.
 */
function parseLines(
  text: string,
  options: ParseOptions,
  onSample: (family: MetricFamily, sample: Sample) => void,
): Exposition {
  const format = options.format === undefined || options.format === "auto"
    ? (endsWithEof(text) ? "openmetrics" : "text")
    : options.format;
  const isOpenMetrics = format === "openmetrics";
  const problems: MetricProblem[] = [];
  const families: MetricFamily[] = [];
  const byName = new Map<string, MetricFamily>();
  /** Families whose samples were seen, to detect a family split in two. */
  const closed = new Set<MetricFamily>();
  /** Families that have had a sample (a TYPE line after one is an error). */
  const sampled = new Set<MetricFamily>();
  let lastSampled: MetricFamily | undefined;
  let current: MetricFamily | undefined;
  let hasEof = false;
  const error = (line: number, message: string, isPromtool = true, metric?: string) =>
    problems.push({ line, metric, text: message, severity: "error", isPromtool });

  const familyFor = (name: string, line: number): MetricFamily => {
    // Most lines continue the current family: no map lookup (which hashes
    // the line's fresh name string) is needed to find it again.
    if (current !== undefined && current.name === name) return current;
    let family = byName.get(name);
    if (!family) {
      family = { name, type: isOpenMetrics ? "unknown" : "untyped", samples: [] };
      byName.set(name, family);
      families.push(family);
    }
    if (current !== family) {
      if (current) closed.add(current);
      if (closed.has(family)) {
        error(line, `metric family "${name}" is split: its lines are not adjacent`, false, name);
        closed.delete(family);
      }
      current = family;
    }
    return family;
  };

  // Lines are cut one at a time rather than split into one big array first.
  let lineNo = 0;
  for (let start = 0; start < text.length;) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    start = end + 1;
    lineNo++;
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (hasEof) {
      error(lineNo, "content after # EOF", false);
      break;
    }
    const first = line.charCodeAt(0);
    if (line.length === 0 || ((first === 0x20 || first === 0x09) && /^[ \t]*$/.test(line))) {
      if (isOpenMetrics) error(lineNo, "empty line", false);
      continue;
    }
    if (line.charCodeAt(0) === 0x23 /* # */) {
      if (line === "# EOF") {
        hasEof = true;
        continue;
      }
      const meta = /^#[ \t]+(HELP|TYPE|UNIT)[ \t]+(\S+)(?:[ \t](.*))?$/s.exec(line);
      if (!meta) continue; // An ordinary comment.
      const [, keyword, name, rest = ""] = meta;
      if (!METRIC_NAME.test(name)) {
        error(lineNo, `invalid metric name in comment: "${name}"`);
        continue;
      }
      if (keyword === "UNIT" && !isOpenMetrics) continue; // A comment in the text format.
      const family = familyFor(name, lineNo);
      if (keyword === "HELP") {
        if (family.help !== undefined) {
          error(lineNo, `second HELP line for metric name "${name}"`, true, name);
          continue;
        }
        // Go's parser skips the blanks before HELP text, and blank-only text is no help at all.
        const helpText = rest.replace(/^[ \t]+/, "");
        if (helpText === "") continue;
        const help = unescapeText(helpText, false);
        if (help === undefined) error(lineNo, "invalid escape sequence in HELP text", true, name);
        else family.help = help;
      } else if (keyword === "TYPE") {
        const type = rest.trim();
        if (!(isOpenMetrics ? OPENMETRICS_TYPES : TEXT_TYPES).has(type)) {
          error(lineNo, `unknown metric type "${type}"`, true, name);
        } else if (sampled.has(family) || family.type !== (isOpenMetrics ? "unknown" : "untyped")) {
          error(
            lineNo,
            `second TYPE line for metric name "${name}", or TYPE reported after samples`,
            true,
            name,
          );
        } else {
          family.type = type as MetricType;
        }
      } else {
        family.unit = rest.trim();
      }
      continue;
    }
    const parsed = parseSampleLine(line, lineNo, isOpenMetrics);
    if (typeof parsed === "string") {
      error(lineNo, parsed);
      continue;
    }
    const familyName = familyNameOf(parsed.name, current, byName, isOpenMetrics ? SUFFIXES : TEXT_SUFFIXES);
    const family = familyFor(familyName, lineNo);
    const labelCheck = checkReservedLabels(family, parsed);
    if (labelCheck) {
      error(lineNo, labelCheck, true, family.name);
      continue;
    }
    if (family !== lastSampled) {
      sampled.add(family);
      lastSampled = family;
    }
    onSample(family, parsed);
  }
  if (isOpenMetrics && !hasEof) error(lineNo, "OpenMetrics exposition without # EOF", false);
  return { format, families, problems, hasEof };
}

/** The family a sample belongs to: its own name, or a typed family it is a component of. */
function familyNameOf(
  sampleName: string,
  current: MetricFamily | undefined,
  byName: Map<string, MetricFamily>,
  suffixes: typeof SUFFIXES,
): string {
  if (current) {
    if (current.name === sampleName) return sampleName;
    const own = suffixes[current.type];
    if (own) {
      for (const suffix of own) {
        if (isComponent(sampleName, current.name, suffix)) return current.name;
      }
    }
  }
  for (const suffix of ["_bucket", "_sum", "_count", "_created", "_total", "_gsum", "_gcount", "_info"]) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = sampleName.slice(0, -suffix.length);
    const family = byName.get(base);
    if (family && (suffixes[family.type] ?? []).includes(suffix)) return base;
  }
  return sampleName;
}

/** Whether the last line (before at most one newline) is `# EOF`: OpenMetrics. */
function endsWithEof(text: string): boolean {
  const body = text.endsWith("\n") ? text.slice(0, -1) : text;
  let last = body.slice(body.lastIndexOf("\n") + 1);
  if (last.endsWith("\r")) last = last.slice(0, -1);
  return last === "# EOF";
}

/** `sample === family + suffix`, without building the string (this runs per sample). */
function isComponent(sample: string, family: string, suffix: string): boolean {
  return sample.length === family.length + suffix.length && sample.endsWith(suffix) &&
    sample.startsWith(family);
}

function checkReservedLabels(family: MetricFamily, sample: Sample): string | undefined {
  const isBucket = (family.type === "histogram" || family.type === "gaugehistogram") &&
    isComponent(sample.name, family.name, "_bucket");
  if (isBucket) {
    const le = sample.labels.le;
    if (le === undefined) return `histogram bucket "${sample.name}" without "le" label`;
    if (parseBound(le) === undefined) return `expected float as value for 'le' label, got "${le}"`;
  }
  if (family.type === "summary" && sample.name === family.name) {
    const quantile = sample.labels.quantile;
    if (quantile === undefined) return `summary "${family.name}" sample without "quantile" label`;
    if (parseBound(quantile) === undefined) {
      return `expected float as value for 'quantile' label, got "${quantile}"`;
    }
  }
  return undefined;
}

/**
 * The common shape of a sample line, matched by one compiled regular
 * expression: most lines of a large scrape take this path, and only lines
 * it does not match go through the character scanner below, which names
 * what is wrong. Both accept the same language (the property tests run
 * both through the same inputs).
 */
/** One label, `name="value"` with the three escapes the format has. */
const LABEL = String.raw`[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"`;
const FAST_SAMPLE = new RegExp(
  String
    .raw`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:${LABEL}(?:,${LABEL})*,?)?)\})?[ \t]+([^ \t]+)(?:[ \t]+(-?\d{1,19}))?$`,
);
const FAST_LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)",?/y;

/** The label names of the last escape-free line, by position (see `fastSample`). */
const recentNames: string[] = [];

/** The regular-expression path alone (exported for the test that it agrees with the scanner). */
export function fastSample(line: string, lineNo: number): Sample | undefined {
  const match = FAST_SAMPLE.exec(line);
  if (!match) return undefined;
  const labels: Record<string, string> = {};
  const body = match[2];
  let isSorted = true;
  let previous = "";
  /** Escape-free labels out of order: their `name="value"` texts, to sort into the key. */
  let segments: string[] | undefined;
  if (body && !body.includes("\\")) {
    // Validated by the expression and free of escapes: every `"` delimits a value.
    let position = 0;
    for (let index = 0; position < body.length; index++) {
      const equals = body.indexOf('="', position);
      const close = body.indexOf('"', equals + 2);
      // The previous line's name at this place, when it is the same text:
      // it is already an internalized property key, a fresh slice is not.
      const known = recentNames[index];
      let name: string;
      if (known !== undefined && known.length === equals - position && body.startsWith(known, position)) {
        name = known;
      } else {
        name = body.slice(position, equals);
        if (index < 32) recentNames[index] = name;
      }
      if (name < previous) isSorted = false;
      // While the names come sorted a repeat can only be the previous one;
      // `Object.hasOwn` on a fresh string was ~5% of the parse in a profile.
      const isRepeat = isSorted ? name === previous : Object.hasOwn(labels, name);
      previous = name;
      if (isRepeat || name === "__name__") return undefined; // The scanner says why.
      labels[name] = body.slice(equals + 2, close);
      if (!isSorted && !segments) {
        // The first label out of order: the texts before it, cut by their quotes.
        segments = [];
        for (let at = 0; at < position;) {
          const end = body.indexOf('"', body.indexOf('="', at) + 2) + 1;
          segments.push(body.slice(at, end));
          at = end + 1;
        }
      }
      segments?.push(body.slice(position, close + 1));
      position = close + 2; // Past the quote and the comma.
    }
  } else if (body) {
    FAST_LABEL.lastIndex = 0;
    for (let label = FAST_LABEL.exec(body); label; label = FAST_LABEL.exec(body)) {
      const name = label[1];
      if (name < previous) isSorted = false;
      previous = name;
      if (Object.hasOwn(labels, name) || name === "__name__") return undefined; // The scanner says why.
      const raw = label[2];
      labels[name] = raw.includes("\\")
        ? raw.replace(/\\(.)/g, (_, char) => (char === "n" ? "\n" : char))
        : raw;
      if (FAST_LABEL.lastIndex === body.length) break;
    }
  }
  const value = parseNumber(match[3]);
  if (value === undefined) return undefined;
  const sample: Sample = { name: match[1], labels, value, line: lineNo };
  if (match[4] !== undefined) sample.timestampMs = Number(match[4]);
  sample.key = isSorted ? (body && body.endsWith(",") ? body.slice(0, -1) : body ?? "") : segments
    // Without escapes a label's text is what `seriesKey` writes for it
    // (values hold no `"` or `\`), so sorting the texts by name sorts
    // the key: cheaper than rebuilding it (Go clients write `le` last, out
    // of order, so half the lines of a histogram-heavy scrape come here).
    ? sortSegments(segments)
    : seriesKey(labels);
  return sample;
}

/** Joins `name="value"` texts sorted by name (names are unique and free of `=`). */
function sortSegments(segments: string[]): string {
  // Insertion sort: a handful of labels, usually one out of place.
  for (let index = 1; index < segments.length; index++) {
    const segment = segments[index];
    let at = index;
    while (at > 0 && nameAfter(segments[at - 1], segment)) {
      segments[at] = segments[at - 1];
      at--;
    }
    segments[at] = segment;
  }
  return segments.join(",");
}

/**
 * Whether the label name of `a` (the text before its `=`) sorts after that
 * of `b`, as `<` orders strings, without cutting the names out. `=` ends a
 * name: a name that is a prefix of the other sorts first.
 */
function nameAfter(a: string, b: string): boolean {
  for (let index = 0;; index++) {
    const x = a.charCodeAt(index);
    const y = b.charCodeAt(index);
    if (x === 0x3d /* = */) return false; // `a`'s name ended first, or both did (names are unique).
    if (y === 0x3d) return true;
    if (x !== y) return x > y;
  }
}

/** Parses `name{labels} value [timestamp]` (plus an OpenMetrics exemplar); returns a reason on failure. */
export function parseSampleLine(line: string, lineNo: number, isOpenMetrics: boolean): Sample | string {
  if (!isOpenMetrics) {
    const fast = fastSample(line, lineNo);
    if (fast) return fast;
  }
  return scanSampleLine(line, lineNo, isOpenMetrics);
}

/** The character scanner: accepts what `fastSample` accepts and says what is wrong with the rest. */
export function scanSampleLine(line: string, lineNo: number, isOpenMetrics: boolean): Sample | string {
  let index = 0;
  while (index < line.length && isNameChar(line.charCodeAt(index), index === 0)) index++;
  const name = line.slice(0, index);
  if (name.length === 0) return `invalid metric name at the start of the line`;
  const labels: Record<string, string> = {};
  if (line[index] === "{") {
    index++;
    for (;;) {
      while (line[index] === " " || line[index] === "\t") index++;
      if (line[index] === "}") {
        index++;
        break;
      }
      const start = index;
      while (index < line.length && isLabelChar(line.charCodeAt(index), index === start)) index++;
      const labelName = line.slice(start, index);
      if (!labelName) return `invalid label name at column ${start + 1}`;
      while (line[index] === " " || line[index] === "\t") index++;
      if (line[index] !== "=") return `expected "=" after label name "${labelName}"`;
      index++;
      while (line[index] === " " || line[index] === "\t") index++;
      if (line[index] !== '"') return `expected '"' to open the value of label "${labelName}"`;
      const value = readQuoted(line, index + 1);
      if (typeof value === "string") return value;
      if (Object.hasOwn(labels, labelName)) return `duplicate label name "${labelName}"`;
      if (labelName === "__name__") return `label name "__name__" is reserved`;
      labels[labelName] = value.text;
      index = value.end;
      while (line[index] === " " || line[index] === "\t") index++;
      if (line[index] === ",") {
        index++;
        continue;
      }
      if (line[index] === "}") {
        index++;
        break;
      }
      return `expected "," or "}" after the value of label "${labelName}"`;
    }
  }
  if (line[index] !== " " && line[index] !== "\t") return `expected a space before the value of "${name}"`;
  // Value, optional timestamp, and (OpenMetrics) an optional exemplar after " # ".
  const tokens: string[] = [];
  for (;;) {
    while (line.charCodeAt(index) === 0x20 || line.charCodeAt(index) === 0x09) index++;
    if (index >= line.length) break;
    if (isOpenMetrics && tokens.length > 0 && line[index] === "#" && line[index - 1] === " ") break;
    const start = index;
    while (index < line.length && line.charCodeAt(index) !== 0x20 && line.charCodeAt(index) !== 0x09) index++;
    tokens.push(line.slice(start, index));
    if (tokens.length > 2) return `unexpected text after the value and timestamp of "${name}"`;
  }
  if (tokens.length === 0) return `expected a value for "${name}"`;
  const value = parseNumber(tokens[0]);
  if (value === undefined) return `expected float as value, got "${tokens[0]}"`;
  const sample: Sample = { name, labels, value, line: lineNo, key: seriesKey(labels) };
  if (tokens.length === 2) {
    const timestamp = isOpenMetrics ? parseNumber(tokens[1]) : parseInteger(tokens[1]);
    if (timestamp === undefined || !Number.isFinite(timestamp)) {
      return `expected integer as timestamp, got "${tokens[1]}"`;
    }
    sample.timestampMs = isOpenMetrics ? timestamp * 1000 : timestamp;
  }
  return sample;
}

function isNameChar(code: number, isFirst: boolean): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 95 || code === 58 ||
    (!isFirst && code >= 48 && code <= 57);
}

function isLabelChar(code: number, isFirst: boolean): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 95 ||
    (!isFirst && code >= 48 && code <= 57);
}

/** Reads a quoted label value body from `start` (after the opening quote). */
function readQuoted(line: string, start: number): { text: string; end: number } | string {
  let text = "";
  let index = start;
  for (;;) {
    const close = line.indexOf('"', index);
    const backslash = line.indexOf("\\", index);
    if (close < 0) return "label value without a closing quote";
    if (backslash < 0 || close < backslash) {
      text += line.slice(index, close);
      return { text, end: close + 1 };
    }
    text += line.slice(index, backslash);
    const next = line[backslash + 1];
    if (next === "\\") text += "\\";
    else if (next === '"') text += '"';
    else if (next === "n") text += "\n";
    else return `invalid escape sequence "\\${next ?? ""}" in label value`;
    index = backslash + 2;
  }
}

/** Unescapes HELP text (`\\`, `\n`) or a label value (also `\"`); undefined on a bad escape. */
function unescapeText(text: string, isLabel: boolean): string | undefined {
  if (!text.includes("\\")) return text;
  let out = "";
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char !== "\\") {
      out += char;
      continue;
    }
    const next = text[++index];
    if (next === "\\") out += "\\";
    else if (next === "n") out += "\n";
    else if (next === '"' && isLabel) out += '"';
    else if (next === undefined) return undefined;
    // Go's text parser keeps other escapes in HELP as they are.
    else out += "\\" + next;
  }
  return out;
}

const FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$/;

/** A sample value the way Go's strconv.ParseFloat reads it (decimal, Inf, NaN). */
export function parseNumber(text: string): number | undefined {
  if (FLOAT.test(text)) return Number(text);
  const lower = text.toLowerCase();
  if (lower === "nan") return NaN;
  if (lower === "+inf" || lower === "inf" || lower === "+infinity" || lower === "infinity") return Infinity;
  if (lower === "-inf" || lower === "-infinity") return -Infinity;
  return undefined;
}

function parseInteger(text: string): number | undefined {
  return /^[+-]?\d{1,19}$/.test(text) ? Number(text) : undefined;
}

/** Structural checks of one family that promtool 2.42 does not make (see the module comment). */
/**
 * A series key without one label, cut by position (keys are `a="1",b="2"`,
 * values escaped, so `,name="` can only start a label). A regular
 * expression here cost a tenth of the parse time of a large scrape.
 */
function withoutLabel(key: string, name: string): string {
  const head = `${name}="`;
  const start = key.startsWith(head) ? 0 : key.indexOf(`,${head}`);
  if (start < 0) return key;
  let end = key.indexOf('"', start + head.length + (start === 0 ? 0 : 1));
  // A quote after an odd run of backslashes is escaped: look further.
  while (end > 0 && isEscaped(key, end)) end = key.indexOf('"', end + 1);
  if (end < 0) return key;
  if (start === 0) return key.slice(end + 2); // Drops the comma after it, if any.
  return key.slice(0, start) + key.slice(end + 1);
}

function isEscaped(text: string, index: number): boolean {
  let backslashes = 0;
  while (index - backslashes - 1 >= 0 && text[index - backslashes - 1] === "\\") backslashes++;
  return backslashes % 2 === 1;
}

/**
 * `le` and `quantile` values repeat across series: each distinct text is
 * parsed once (`null` stands for "not a number" in the cache).
 */
const boundCache = new Map<string, number | null>();
function parseBound(text: string): number | undefined {
  let value = boundCache.get(text);
  if (value === undefined) {
    value = parseNumber(text) ?? null;
    if (boundCache.size < 10_000) boundCache.set(text, value);
  }
  return value ?? undefined;
}

function leValue(text: string): number {
  return parseBound(text) ?? NaN;
}

function checkFamily(family: MetricFamily): MetricProblem[] {
  const check = new FamilyCheck(family);
  for (const sample of family.samples) check.add(sample);
  return check.finish();
}

/** One histogram series (its labels without `le`): its buckets so far. */
interface BucketRun {
  previousLe: number;
  previousCount: number;
  lastLe: string;
  lastValue: number;
  lastLine: number;
  problems: MetricProblem[];
}

/**
 * The structural checks of one family, fed one sample at a time so that
 * `lintExposition` can check a scrape without keeping its samples (holding
 * 100,000 sample objects until the end made a quarter of the time garbage
 * collection). `checkFamily` feeds it a whole family: one code path for
 * both, so their verdicts cannot drift apart. The problems come out in the
 * order the whole-family checks made them: duplicates, then each histogram
 * series in order of first appearance, then negative counters.
 */
class FamilyCheck {
  readonly duplicates: MetricProblem[] = [];
  readonly negatives: MetricProblem[] = [];
  readonly seen = new Map<string, Set<string>>();
  readonly runs = new Map<string, BucketRun>();
  readonly counts = new Map<string, number>();
  readonly isHistogram: boolean;
  /** How many samples carry each label name (promlint counts per sample); complete after `finish`. */
  readonly labelUses = new Map<string, number>();
  /** The label names of the last samples, and how many in a row had them (counted into `labelUses` later). */
  lastNames: string[] = [];
  lastNamesRun = 0;
  /** The last sample name and its key set: consecutive samples mostly share a name. */
  lastName = "";
  lastKeys: Set<string> | undefined;
  samples = 0;

  constructor(readonly family: MetricFamily) {
    this.isHistogram = family.type === "histogram" || family.type === "gaugehistogram";
  }

  strict(text: string, line?: number): MetricProblem {
    return { line, metric: this.family.name, text, severity: "error", isPromtool: false };
  }

  add(sample: Sample): void {
    const family = this.family;
    this.samples++;
    this.countLabels(sample.labels);
    let keys = this.lastKeys;
    if (keys === undefined || sample.name !== this.lastName) {
      keys = this.seen.get(sample.name);
      if (!keys) this.seen.set(sample.name, keys = new Set());
      this.lastName = sample.name;
      this.lastKeys = keys;
    }
    const key = keyOf(sample);
    if (keys.has(key)) {
      this.duplicates.push(
        this.strict(`duplicate series ${sample.name}${formatLabels(sample.labels)}`, sample.line),
      );
    }
    keys.add(key);
    if (this.isHistogram) {
      if (isComponent(sample.name, family.name, "_bucket")) {
        // The series of a bucket is its label set without `le`.
        const series = withoutLabel(key, "le");
        let run = this.runs.get(series);
        if (!run) {
          run = {
            previousLe: -Infinity,
            previousCount: -Infinity,
            lastLe: "",
            lastValue: 0,
            lastLine: 0,
            problems: [],
          };
          this.runs.set(series, run);
        }
        const leText = sample.labels.le;
        const le = leValue(leText);
        if (!(le > run.previousLe)) {
          run.problems.push(this.strict(`histogram buckets not in increasing "le" order`, sample.line));
        }
        if (sample.value < run.previousCount) {
          run.problems.push(this.strict(`histogram bucket counts decrease (le="${leText}")`, sample.line));
        }
        run.previousLe = le;
        run.previousCount = sample.value;
        run.lastLe = leText;
        run.lastValue = sample.value;
        run.lastLine = sample.line;
      } else if (
        isComponent(sample.name, family.name, "_count") || isComponent(sample.name, family.name, "_gcount")
      ) {
        this.counts.set(withoutLabel(key, "le"), sample.value);
      }
    }
    if (family.type === "counter" && sample.value < 0) {
      this.negatives.push(this.strict(`counter ${sample.name} is negative`, sample.line));
    }
  }

  /**
   * Counts a sample's label names. Runs of samples with the same names (the
   * common case) are counted once per run rather than with a map update
   * per label per sample.
   */
  countLabels(labels: Record<string, string>): void {
    const last = this.lastNames;
    let index = 0;
    let isSame = true;
    for (const label in labels) {
      if (index >= last.length || last[index] !== label) {
        isSame = false;
        break;
      }
      index++;
    }
    if (isSame && index === last.length) {
      this.lastNamesRun++;
      return;
    }
    this.flushLabels();
    this.lastNames = Object.keys(labels);
    this.lastNamesRun = 1;
  }

  flushLabels(): void {
    for (const label of this.lastNames) {
      this.labelUses.set(label, (this.labelUses.get(label) ?? 0) + this.lastNamesRun);
    }
    this.lastNamesRun = 0;
  }

  finish(): MetricProblem[] {
    this.flushLabels();
    const problems = this.duplicates;
    for (const [series, run] of this.runs) {
      problems.push(...run.problems);
      const count = this.counts.get(series);
      if (leValue(run.lastLe) !== Infinity) {
        problems.push(this.strict(`histogram without a le="+Inf" bucket`, run.lastLine));
      } else if (count !== undefined && count !== run.lastValue) {
        problems.push(
          this.strict(
            `histogram _count ${count} differs from the +Inf bucket ${run.lastValue}`,
            run.lastLine,
          ),
        );
      }
    }
    problems.push(...this.negatives);
    return problems;
  }
}

/**
 * A canonical key of a label set: names sorted, written as the exposition
 * format writes them (`a="1",b="x\\"y"`, no braces). The fast path stores
 * the line's own label text as the key when its names come sorted, which is
 * the same string, so most samples never build one (this ran once per
 * sample and dominated the parse time of large scrapes).
 */
export function seriesKey(labels: Record<string, string>): string {
  const names = Object.keys(labels);
  for (let index = 1; index < names.length; index++) {
    if (names[index - 1] > names[index]) {
      names.sort();
      break;
    }
  }
  let key = "";
  for (const name of names) key += `${key ? "," : ""}${name}="${escapeLabel(labels[name])}"`;
  return key;
}

/** The series key of a sample's labels: the parser's, or built (see `seriesKey`). */
export function keyOf(sample: Sample): string {
  return sample.key ??= seriesKey(sample.labels);
}

/** Writes labels the way the exposition format does. */
export function formatLabels(labels: Record<string, string>): string {
  const names = Object.keys(labels);
  if (names.length === 0) return "";
  return "{" + names.map((name) => `${name}="${escapeLabel(labels[name])}"`).join(",") + "}";
}

function escapeLabel(value: string): string {
  if (!/[\\\n"]/.test(value)) return value;
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

/** Writes a number as Go's exposition writer does for the special values. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  if (Object.is(value, -0)) return "-0";
  return String(value);
}

/** Writes families as text format 0.0.4 (or OpenMetrics with `# EOF`). */
export function formatPrometheus(
  families: readonly MetricFamily[],
  format: "text" | "openmetrics" = "text",
): string {
  let out = "";
  for (const family of families) {
    if (family.help !== undefined) {
      out += `# HELP ${family.name} ${family.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}\n`;
    }
    if (family.type !== "untyped" && family.type !== "unknown") {
      out += `# TYPE ${family.name} ${family.type}\n`;
    }
    if (family.unit !== undefined && format === "openmetrics") {
      out += `# UNIT ${family.name} ${family.unit}\n`;
    }
    for (const sample of family.samples) {
      out += `${sample.name}${formatLabels(sample.labels)} ${formatNumber(sample.value)}`;
      if (sample.timestampMs !== undefined) {
        out += ` ${format === "openmetrics" ? sample.timestampMs / 1000 : sample.timestampMs}`;
      }
      out += "\n";
    }
  }
  if (format === "openmetrics") out += "# EOF\n";
  return out;
}

// ---- promlint: the naming rules promtool applies (client_golang testutil/promlint, promtool 2.42) ----

const UNITS: Record<string, string> = {
  amperes: "amperes",
  bytes: "bytes",
  celsius: "celsius",
  grams: "grams",
  joules: "joules",
  kelvin: "kelvin",
  meters: "meters",
  metres: "metres",
  seconds: "seconds",
  volts: "volts",
  minutes: "seconds",
  hours: "seconds",
  days: "seconds",
  weeks: "seconds",
  kelvins: "kelvin",
  fahrenheit: "celsius",
  rankine: "celsius",
  inches: "meters",
  yards: "meters",
  miles: "meters",
  bits: "bytes",
  calories: "joules",
  pounds: "grams",
  ounces: "grams",
};
const UNIT_PREFIXES = [
  "pico",
  "nano",
  "micro",
  "milli",
  "centi",
  "deci",
  "deca",
  "hecto",
  "kilo",
  "kibi",
  "mega",
  "mibi",
  "giga",
  "gibi",
  "tera",
  "tebi",
  "peta",
  "pebi",
  "",
];
const UNIT_ABBREVIATIONS = ["s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d"];
const TYPE_NAMES = ["counter", "gauge", "summary", "histogram", "gauge_histogram"];

/**
 * The promlint problems of each family, as promtool prints them: one
 * `<metric> <text>` per problem, sorted by metric then text. Applies to
 * the families of a text-format exposition (promtool reads no other).
 */
export function lintFamilies(families: readonly MetricFamily[]): MetricProblem[] {
  const problems: MetricProblem[] = [];
  for (const family of families) {
    // promtool only sees families that have samples (its decoder drops empty ones).
    if (family.samples.length === 0) continue;
    // promlint reports a label problem once per sample that has the label;
    // counting the uses of each name keeps that count without running the
    // checks per sample (the report is sorted, so order does not matter).
    const labelUses = new Map<string, number>();
    for (const sample of family.samples) {
      for (const label in sample.labels) labelUses.set(label, (labelUses.get(label) ?? 0) + 1);
    }
    lintFamily(family.name, family.type, family.help, labelUses, problems);
  }
  return sortLint(problems);
}

/** promtool's order: by metric, then by text. */
function sortLint(problems: MetricProblem[]): MetricProblem[] {
  return problems.sort((a, b) =>
    a.metric === b.metric
      ? (a.text < b.text ? -1 : a.text > b.text ? 1 : 0)
      : (a.metric! < b.metric! ? -1 : 1)
  );
}

/** promlint's rules for one family that has samples; `labelUses` counts the samples carrying each label. */
function lintFamily(
  name: string,
  type: MetricType,
  help: string | undefined,
  labelUses: ReadonlyMap<string, number>,
  problems: MetricProblem[],
): void {
  const add = (text: string) => problems.push({ metric: name, text, severity: "lint", isPromtool: true });
  const lower = name.toLowerCase();
  if (help === undefined) add("no help text");
  const unit = metricUnit(name);
  if (unit && unit.unit !== unit.base) add(`use base unit "${unit.base}" instead of "${unit.unit}"`);
  const hasTotal = name.endsWith("_total");
  if (type === "counter" && !hasTotal) add(`counter metrics should have "_total" suffix`);
  else if (type !== "untyped" && type !== "counter" && hasTotal) {
    add(`non-counter metrics should not have "_total" suffix`);
  }
  if (type !== "untyped") {
    const isHistogram = type === "histogram";
    const isSummary = type === "summary";
    if (!isHistogram && name.endsWith("_bucket")) {
      add(`non-histogram metrics should not have "_bucket" suffix`);
    }
    if (!isHistogram && !isSummary && name.endsWith("_count")) {
      add(`non-histogram and non-summary metrics should not have "_count" suffix`);
    }
    if (!isHistogram && !isSummary && name.endsWith("_sum")) {
      add(`non-histogram and non-summary metrics should not have "_sum" suffix`);
    }
    const le = labelUses.get("le") ?? 0;
    const quantile = labelUses.get("quantile") ?? 0;
    for (let use = 0; !isHistogram && use < le; use++) {
      add(`non-histogram metrics should not have "le" label`);
    }
    for (let use = 0; !isSummary && use < quantile; use++) {
      add(`non-summary metrics should not have "quantile" label`);
    }
  }
  for (const typeName of TYPE_NAMES) {
    if (lower.includes(`_${typeName}_`) || lower.endsWith(`_${typeName}`)) {
      add(`metric name should not include type '${typeName}'`);
    }
  }
  if (name.includes(":")) add("metric names should not contain ':'");
  if (/[a-z][A-Z]/.test(name)) add("metric names should be written in 'snake_case' not 'camelCase'");
  for (const [label, uses] of labelUses) {
    if (!/[a-z][A-Z]/.test(label)) continue;
    for (let use = 0; use < uses; use++) add("label names should be written in 'snake_case' not 'camelCase'");
  }
  for (const abbreviation of UNIT_ABBREVIATIONS) {
    if (lower.includes(`_${abbreviation}_`) || lower.endsWith(`_${abbreviation}`)) {
      add("metric names should not contain abbreviated units");
    }
  }
}

function metricUnit(name: string): { unit: string; base: string } | undefined {
  const words = name.split("_");
  for (const [unit, base] of Object.entries(UNITS)) {
    for (const prefix of UNIT_PREFIXES) {
      if (words.includes(prefix + unit)) return { unit: prefix + unit, base };
    }
  }
  return undefined;
}

/** The report `promtool check metrics` would print for these problems (lint lines only). */
export function promtoolLines(problems: readonly MetricProblem[]): string[] {
  return problems.filter((problem) => problem.severity === "lint").map((problem) =>
    `${problem.metric} ${problem.text}`
  );
}

/** Parses and lints in one call: what `sis metrics check --lint` and the tests use. */
export function checkExposition(text: string, options: ParseOptions = {}): Exposition {
  const exposition = parsePrometheus(text, options);
  // An OpenMetrics counter family is named without `_total` (its samples
  // carry it); lint it under the name the text format would give it.
  const families = exposition.format === "openmetrics"
    ? exposition.families.map((family) =>
      family.type === "counter" ? { ...family, name: `${family.name}_total` } : family
    )
    : exposition.families;
  exposition.problems.push(...lintFamilies(families));
  return exposition;
}

/** What `lintExposition` keeps of a family instead of its samples. */
export interface FamilyTally {
  family: MetricFamily;
  /** How many samples it has. */
  samples: number;
  /** The series key (`keyOf`) of each sample, in order. */
  keys: string[];
}

/**
 * `checkExposition` without keeping the samples: the same problems in the
 * same order (the same parser, family checks and promlint rules run), but
 * the families come back empty and each sample is dropped once checked;
 * `tallies` has their counts and series keys (families with samples, in
 * the order of `families`). For `sis metrics check` on a
 * single scrape, where holding one object per sample to the end made the
 * check slower than promtool's.
 */
export function lintExposition(
  text: string,
  options: ParseOptions = {},
): { exposition: Exposition; tallies: FamilyTally[] } {
  const checks = new Map<MetricFamily, FamilyCheck>();
  const tallies = new Map<MetricFamily, FamilyTally>();
  // Samples of a family come in runs: the last family's check and tally are kept at hand.
  let lastFamily: MetricFamily | undefined;
  let check: FamilyCheck | undefined;
  let tally: FamilyTally | undefined;
  const exposition = parseLines(text, options, (family, sample) => {
    if (family !== lastFamily) {
      lastFamily = family;
      check = checks.get(family);
      tally = tallies.get(family);
      if (!check || !tally) {
        // The family's type is settled by now: a TYPE line after a sample is refused.
        checks.set(family, check = new FamilyCheck(family));
        tallies.set(family, tally = { family, samples: 0, keys: [] });
      }
    }
    check!.add(sample);
    tally!.samples++;
    tally!.keys.push(keyOf(sample));
  });
  const lint: MetricProblem[] = [];
  /** In the order of `families` (first mention), as `compareScrapes` reports them. */
  const ordered: FamilyTally[] = [];
  for (const family of exposition.families) {
    const familyCheck = checks.get(family);
    if (!familyCheck) continue; // No samples: no family problems, and promtool does not lint it.
    ordered.push(tallies.get(family)!);
    exposition.problems.push(...familyCheck.finish());
    const name = exposition.format === "openmetrics" && family.type === "counter"
      ? `${family.name}_total`
      : family.name;
    lintFamily(name, family.type, family.help, familyCheck.labelUses, lint);
  }
  exposition.problems.push(...sortLint(lint));
  return { exposition, tallies: ordered };
}
