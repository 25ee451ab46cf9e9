/** The library surface: imports mod.ts the way a script would and uses every export once, against recorded fixtures and the real kernel in real QEMU. */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as sis from "../mod.ts";
import {
  ARCHES,
  BUILTIN_CONFIGS,
  checkExposition,
  classifyLine,
  compareScrapes,
  demangle,
  ElfError,
  EnvironmentError,
  ExitCode,
  FailedError,
  findBuildId,
  findPanicReports,
  formatPrometheus,
  KernelExitedError,
  KernelHangError,
  KernelPanicError,
  levelRank,
  LEVELS,
  Machine,
  parseInjection,
  parseLevel,
  parsePrometheus,
  parseStats,
  parseTranscript,
  QmpClient,
  QmpError,
  readElf,
  runExitCode,
  scanLog,
  scanText,
  Session,
  SessionPanicError,
  shutdownAllMachines,
  SisError,
  summarize,
  symbolize,
  toJunitXml,
  UsageError,
  VERSION,
} from "../mod.ts";
import type { RunResults } from "../mod.ts";

const ROOT = new URL("../", import.meta.url);
const fixture = (path: string) => readFile(new URL(`fixtures/${path}`, ROOT));

Deno.test("mod.ts has named exports only, none of the CLI's internals, and deno.json publishes it at sis's version", async () => {
  const names = Object.keys(sis);
  assert.ok(!names.includes("default"));
  // Every value export is imported by name above and used by a test below: a new export needs a use here.
  assert.deepEqual(names.sort(), [
    "ARCHES",
    "BUILTIN_CONFIGS",
    "ElfError",
    "EnvironmentError",
    "ExitCode",
    "FailedError",
    "KernelExitedError",
    "KernelHangError",
    "KernelPanicError",
    "LEVELS",
    "Machine",
    "QmpClient",
    "QmpError",
    "Session",
    "SessionPanicError",
    "SisError",
    "UsageError",
    "VERSION",
    "checkExposition",
    "classifyLine",
    "compareScrapes",
    "demangle",
    "findBuildId",
    "findPanicReports",
    "formatPrometheus",
    "levelRank",
    "parseInjection",
    "parseLevel",
    "parsePrometheus",
    "parseStats",
    "parseTranscript",
    "readElf",
    "runExitCode",
    "scanLog",
    "scanText",
    "shutdownAllMachines",
    "summarize",
    "symbolize",
    "toJunitXml",
  ]);
  for (
    const internal of ["main", "runEngine", "runTest", "buildKernel", "RunBundle", "installSignalTeardown"]
  ) {
    assert.ok(!names.includes(internal), `${internal} is a CLI internal`);
  }
  const config = JSON.parse(await readFile(new URL("deno.json", ROOT), "utf8"));
  assert.equal(config.version, VERSION);
  assert.match(config.name, /^@[a-z0-9-]+\/[a-z0-9-]+$/);
  assert.equal(config.exports["."], "./mod.ts");
});

Deno.test("mod.ts parsers read recorded kernel output: logs, Prometheus, panics, ELF symbols, framing, chaos records", async () => {
  // Logs.
  const log = new TextDecoder().decode(await fixture("logs/mixed.log"));
  const scanned = scanText(log);
  const records = scanned.filter((line) => line.line.kind === "record");
  assert.ok(records.length > 0);
  assert.equal(classifyLine(log.split("\n")[0]).kind, scanned[0].line.kind);
  let streamed = 0;
  const totals = await scanLog(ReadableStream.from([new TextEncoder().encode(log)]), () => streamed++);
  assert.equal(streamed, scanned.length);
  assert.ok(totals.lines >= scanned.length);
  assert.equal(parseLevel("warn"), "WARN");
  assert.ok(levelRank("ERROR") > levelRank("INFO"));
  assert.equal(LEVELS[0], "TRACE");
  // Prometheus: parse, check, format and read back, compare two scrapes.
  const text = new TextDecoder().decode(await fixture("prometheus/kernel-x86_64.prom"));
  const exposition = parsePrometheus(text);
  assert.ok(exposition.families.length > 5);
  assert.deepEqual(checkExposition(text).problems.filter((problem) => problem.severity === "error"), []);
  const again = parsePrometheus(formatPrometheus(exposition.families));
  assert.equal(again.families.length, exposition.families.length);
  const findings = compareScrapes([{ name: "a", exposition }, { name: "b", exposition: again }], 1000);
  assert.deepEqual(findings, []);
  // Panic reports and the serial framing of a recorded session.
  const transcript = new TextDecoder().decode(await fixture("transcripts/x86_64-panic.log"));
  const [report] = findPanicReports(transcript.split("\n"));
  assert.equal(report.message, "boom");
  const events = parseTranscript(new Uint8Array(await fixture("serial/recorded-riscv64-smoke.bin")));
  assert.ok(events.some((event) => event.kind === "end"));
  // Chaos records as the kernel prints them.
  const injection = parseInjection(
    `{"ts":1,"level":"WARN","subsystem":"chaos","status":"injected","mode":"disk_full","point":"block_write","effect":"fail","errno":"ENOSPC","check":2,"seq":1}`,
  );
  assert.equal(injection?.errno, "ENOSPC");
  const stats = parseStats([
    `{"mode":"disk_full","rate":30,"seed":42,"delay_us":1000,"contended":0,"modes":{"disk_full":{"checks":5,"injections":1},"disk_fail":{"checks":0,"injections":0},"network_fail":{"checks":0,"injections":0},"memory_pressure":{"checks":0,"injections":0},"random_panic":{"checks":0,"injections":0},"slow_io":{"checks":0,"injections":0}}}`,
  ]);
  assert.equal(stats.modes.disk_full.injections, 1);
  // ELF symbols of a built kernel, its build id, demangling; a non-ELF is an ElfError.
  const elfBytes = await readFile(new URL("build/x86_64/sis-kernel.elf", ROOT));
  const elf = readElf(elfBytes);
  const entry = elf.symbols.find((symbol) => symbol.isFunction && symbol.size > 4n)!;
  assert.equal(symbolize(elf.symbols, entry.address + 2n).offset, 2n);
  assert.match(findBuildId(elfBytes) ?? "", /^[0-9a-f]{16}$/);
  assert.equal(demangle("_ZN10sis_kernel4main17h0123456789abcdefE"), "sis_kernel::main");
  assert.throws(() => readElf(new Uint8Array(64)), ElfError);
});

Deno.test("mod.ts results types and helpers: summary, exit code and JUnit of a results JSON", () => {
  const run: RunResults = {
    schema: 1,
    runId: "r",
    startedAt: new Date(0).toISOString(),
    durationMs: 1,
    jobs: [{
      name: "x86_64-default-smoke",
      arch: "x86_64",
      config: "default",
      suite: "smoke",
      status: "failed",
      durationMs: 1,
      steps: [
        {
          id: "smoke/a",
          name: "a",
          command: "echo a",
          status: "passed",
          durationMs: 1,
          messages: [],
          output: [],
        },
        {
          id: "smoke/b",
          name: "b",
          command: "echo b",
          status: "failed",
          durationMs: 1,
          messages: ["x"],
          output: [],
        },
      ],
    }],
    summary: { passed: 0, failed: 0, skipped: 0, pending: 0, kernelFailures: 0 },
  };
  run.summary = summarize(run.jobs);
  assert.deepEqual(run.summary, { passed: 1, failed: 1, skipped: 0, pending: 0, kernelFailures: 0 });
  assert.equal(runExitCode(run.summary), ExitCode.Failed);
  assert.match(toJunitXml(run), /<testcase [^>]*name="b"[^>]*>\s*<failure/);
});

Deno.test("mod.ts error types keep their exit codes", () => {
  const errors: [SisError, number][] = [
    [new UsageError("u"), ExitCode.Usage],
    [new EnvironmentError("e"), ExitCode.Environment],
    [new FailedError("f"), ExitCode.Failed],
    [new KernelPanicError("p"), ExitCode.Kernel],
    [new KernelHangError("h", "shell"), ExitCode.Kernel],
  ];
  for (const [error, code] of errors) assert.equal(error.exitCode, code);
  assert.ok(new QmpError("q") instanceof Error);
  assert.ok(KernelExitedError.prototype instanceof SisError);
  assert.ok(SessionPanicError.prototype instanceof KernelPanicError);
});

Deno.test("mod.ts launches the real kernel, drives its shell through Session, and tears it down", async () => {
  assert.ok(ARCHES.includes("x86_64"));
  const machine = await Machine.launch({
    arch: "x86_64",
    config: BUILTIN_CONFIGS.default,
    kernelPath: new URL("build/x86_64/sis-kernel.elf", ROOT).pathname,
  });
  try {
    const session = new Session(machine, { bootTimeoutMs: 30_000, commandTimeoutMs: 30_000 });
    await session.boot();
    await session.enableFraming();
    const result = await session.run("echo from the library");
    assert.deepEqual(result.output, ["from the library"]);
    assert.equal((await machine.qmp!.queryStatus()).status, "running");
  } finally {
    await shutdownAllMachines();
  }
  assert.equal(machine.hasExited, true);
});

Deno.test("mod.ts QmpClient talks to a real QEMU's QMP socket: status, cont, quit", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sis-mod-qmp-"));
  const socket = join(dir, "qmp.sock");
  // A paused machine with nothing in it: enough for QMP.
  const qemu = new Deno.Command("qemu-system-x86_64", {
    args: ["-M", "q35", "-S", "-nodefaults", "-display", "none", "-qmp", `unix:${socket},server=on,wait=off`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const client = await QmpClient.connect(socket, { timeoutMs: 10_000 });
    assert.equal((await client.queryStatus()).running, false);
    await client.cont();
    assert.equal((await client.queryStatus()).running, true);
    await client.quit();
    client.close();
    assert.equal((await qemu.status).success, true);
  } finally {
    try {
      qemu.kill("SIGKILL");
    } catch {
      // Already exited after quit.
    }
    await qemu.status;
    await rm(dir, { recursive: true, force: true });
  }
});
