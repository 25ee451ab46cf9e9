/** Finds the kernel's panic reports in a transcript and parses the human report and the JSON record (kernel/sis-kernel/src/panic.rs). */
import { classifyLine, type PanicRecord } from "./log.ts";

/**
 * A report is the `\x01sis:panic` marker, a human block between two rules
 * of `=`, then one JSON line `{"level":"FATAL","subsystem":"panic",…}`.
 * Either half may be missing (a cut transcript, a panic inside the
 * report); what is there is used, the JSON record winning where both say
 * the same thing, and a disagreement between them is reported as a problem.
 */

export interface BacktraceFrame {
  /** `pc` for the trapped program counter, else the frame index. */
  label: string;
  address: bigint;
}

export interface PanicReport {
  /** 1-based line of the marker (or of the banner when the marker is missing). */
  line: number;
  message?: string;
  location?: string;
  arch?: string;
  uptime?: string;
  heap?: string;
  version?: string;
  /** `build:` line: the full commit and the build id of the kernel that panicked (newer kernels). */
  build?: { commit: string; buildId: string };
  registers: Record<string, bigint>;
  backtrace: BacktraceFrame[];
  /** The last log records the report lists, as printed. */
  recentRecords: string[];
  record?: PanicRecord;
  isRecursive: boolean;
  /** Things that did not parse or disagree; the report is still returned. */
  problems: string[];
}

const RULE = /^={16,}$/;
const HEX = /^[0-9a-fA-F]{1,16}$/;

/** Finds and parses every panic report in the transcript's lines. Never throws. */
export function findPanicReports(lines: readonly string[]): PanicReport[] {
  const reports: PanicReport[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = stripCr(lines[index]);
    const isMarker = line === "\x01sis:panic";
    const isBanner = line === "!!! KERNEL PANIC !!!" &&
      !(index >= 2 && stripCr(lines[index - 2]) === "\x01sis:panic");
    // A FATAL panic record on its own (a transcript cut before the marker, or a log file).
    const isRecordOnly = !isMarker && !isBanner && line.startsWith("{") &&
      line.includes('"subsystem":"panic"');
    if (isMarker || isBanner || isRecordOnly) {
      const { report, end } = parseReport(lines, index);
      reports.push(report);
      index = Math.max(index, end);
    }
  }
  return reports;
}

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

function parseReport(lines: readonly string[], start: number): { report: PanicReport; end: number } {
  const report: PanicReport = {
    line: start + 1,
    registers: {},
    backtrace: [],
    recentRecords: [],
    isRecursive: false,
    problems: [],
  };
  let section = "";
  // The banner sits between the first two rules: starting at it, one is behind us.
  let rules = stripCr(lines[start]) === "!!! KERNEL PANIC !!!" ? 1 : 0;
  let index = start;
  if (stripCr(lines[index]) === "\x01sis:panic") index++;
  for (; index < lines.length; index++) {
    const line = stripCr(lines[index]);
    if (line.includes("!!! RECURSIVE PANIC !!!")) {
      report.isRecursive = true;
      report.problems.push("a second panic interrupted the report");
      break;
    }
    if (line.startsWith("{")) {
      const classified = classifyLine(line);
      if (classified.kind === "record" && classified.panic) {
        report.record = classified.panic;
        mergeRecord(report, classified.panic);
      } else if (classified.kind === "malformed") {
        report.problems.push(`line ${index + 1}: panic record: ${classified.reason}`);
      }
      break;
    }
    if (RULE.test(line)) {
      rules++;
      if (rules === 3) section = "done";
      continue;
    }
    if (line === "!!! KERNEL PANIC !!!") continue;
    if (line === "\x01sis:panic") {
      // The next report starts: this one ended without its JSON record.
      index--;
      break;
    }
    if (section === "done" || (rules === 0 && index > start + 1)) {
      // Past the human block without a JSON record: the report ends here.
      index--;
      break;
    }
    const field = /^(message|location):\s{1,2}(.*)$/.exec(line);
    if (field) {
      report[field[1] as "message" | "location"] = field[2];
      section = "";
      continue;
    }
    if (/^(registers|system|backtrace|last log records):$/.test(line)) {
      section = line.slice(0, -1);
      continue;
    }
    switch (section) {
      case "registers":
        for (const match of line.matchAll(/\s*([A-Za-z0-9_]+): ([0-9a-fA-F]{16})/g)) {
          report.registers[match[1]] = BigInt("0x" + match[2]);
        }
        break;
      case "system": {
        const item = /^\s+(arch|uptime|heap|version):\s+(.*)$/.exec(line);
        if (item) report[item[1] as "arch" | "uptime" | "heap" | "version"] = item[2];
        const build = /^\s+build:\s+(\S+) ([0-9a-f]{16})\s*$/.exec(line);
        if (build) report.build = { commit: build[1], buildId: build[2] };
        break;
      }
      case "backtrace": {
        const frame = /^\s+#(pc|\d+)\s+([0-9a-fA-F]+)$/.exec(line);
        if (frame && HEX.test(frame[2])) {
          report.backtrace.push({ label: frame[1], address: BigInt("0x" + frame[2]) });
        } else report.problems.push(`line ${index + 1}: not a backtrace frame: ${JSON.stringify(line)}`);
        break;
      }
      case "last log records":
        report.recentRecords.push(line.replace(/^ {2}/, ""));
        break;
      default:
        report.problems.push(
          `line ${index + 1}: unexpected line in the panic report: ${JSON.stringify(line)}`,
        );
    }
  }
  if (!report.record) report.problems.push("no JSON panic record (the transcript may be cut)");
  return { report, end: index };
}

/** Fills what the human block lacked from the JSON record and notes disagreements. */
function mergeRecord(report: PanicReport, record: PanicRecord): void {
  const compare = (what: string, human: string | undefined, json: string | undefined) => {
    if (human !== undefined && json !== undefined && human !== json) {
      report.problems.push(`${what} differs: human ${JSON.stringify(human)}, JSON ${JSON.stringify(json)}`);
    }
  };
  compare("message", report.message, record.message);
  compare("location", report.location, record.location ?? "<exception>");
  compare("arch", report.arch, record.arch);
  report.message = record.message;
  report.location = record.location ?? "<exception>";
  report.arch = record.arch;
  const registers: Record<string, bigint> = {};
  for (const [name, value] of Object.entries(record.registers)) registers[name] = BigInt(value);
  for (const [name, value] of Object.entries(report.registers)) {
    if (registers[name] !== undefined && registers[name] !== value) {
      report.problems.push(`register ${name} differs`);
    }
  }
  report.registers = { ...report.registers, ...registers };
  const humanFrames = report.backtrace.map((frame) => frame.address);
  const jsonFrames = record.backtrace.map((address) => BigInt(address));
  if (humanFrames.length > 0 && humanFrames.join() !== jsonFrames.join()) {
    report.problems.push("backtrace differs between the human report and the JSON record");
  }
  if (report.backtrace.length === 0) {
    const hasPc = Object.keys(record.registers).length > 0;
    report.backtrace = jsonFrames.map((address, index) => ({
      label: hasPc ? (index === 0 ? "pc" : String(index - 1)) : String(index),
      address,
    }));
  }
}
