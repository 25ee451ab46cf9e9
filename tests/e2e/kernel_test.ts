/**
 * End-to-end tests of the kernel itself (issues 2 and 3): memory and CPU
 * configurations, hostile input at the shell, JSON logging, metrics that
 * move, and build info, on every arch in the real QEMU.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Arch, ARCHES } from "../../src/arch.ts";
import type { Machine } from "../../src/qemu/machine.ts";
import { BUILTIN_CONFIGS, type MachineConfig } from "../../src/qemu/profiles.ts";
import { type Session, SessionPanicError } from "../../src/session/driver.ts";
import { CHAOS_BUILD_DIR } from "../../src/chaos/run.ts";
import { ensureKernels } from "../../src/runs/kernels.ts";
import { testContext } from "../../src/context.ts";
import { readElf } from "../../src/parse/elf.ts";
import { findJq, findPromtool, ignoreWithout, pipeThrough, requireTool } from "../_tools.ts";
import { bootFramed, freshKernels, ok } from "./_boot.ts";
import { ROOT } from "./_harness.ts";

const promtool = await findPromtool();
const jq = await findJq();

const kernels = await freshKernels();

/** A booted kernel in framed mode, torn down by `close`. */
interface Booted {
  session: Session;
  machine: Machine;
  close(): Promise<void>;
}

function config(memoryMiB: number, cpus: number): MachineConfig {
  return { ...BUILTIN_CONFIGS.default, name: `${memoryMiB}M-${cpus}cpu`, memoryMiB, cpus };
}

async function boot(arch: Arch, machineConfig: MachineConfig = BUILTIN_CONFIGS.default): Promise<Booted> {
  const { machine, session } = await bootFramed(
    { arch, config: machineConfig, kernelPath: kernels[arch].path },
    20_000,
  );
  return { session, machine, close: async () => void await machine.shutdown() };
}

/** `name value` lines (memstats, metrics --format simple) as a map. */
function figures(lines: string[]): Map<string, number> {
  return new Map(
    lines.map((line) => line.split(" ")).filter((parts) => parts.length === 2).map((
      [name, value],
    ) => [name, Number(value)]),
  );
}

for (const arch of ARCHES) {
  for (const [memoryMiB, cpus] of [[128, 1], [1024, 4]]) {
    Deno.test(`kernel on ${arch} boots with -m ${memoryMiB}M -smp ${cpus} and reports them`, async () => {
      const kernel = await boot(arch, config(memoryMiB, cpus));
      try {
        const [online, header, ...rows] = await ok(kernel.session, "cpus");
        assert.equal(online, `cpus online: ${cpus}`);
        assert.match(header, /^CPU\s+RUNNING\s+BUSY_US\s+IDLE_US/);
        // One row per CPU that joined the scheduler, then the preemption count.
        assert.deepEqual(rows.slice(0, -1).map((row) => Number(row.trim().split(/\s+/)[0])), [
          ...Array(cpus).keys(),
        ]);
        // While the shell sleeps every CPU waits, and the wait counts as
        // idle while it lasts (a CPU asleep since boot must not read busy).
        const idleUs = (lines: string[]) =>
          lines.slice(2, -1).map((row) => Number(row.trim().split(/\s+/)[3]));
        const before = idleUs([online, header, ...rows]);
        await ok(kernel.session, "sleep 300");
        const after = idleUs(await ok(kernel.session, "cpus"));
        after.forEach((idle, cpu) =>
          assert.ok(
            idle - before[cpu] >= 150_000,
            `cpu ${cpu}: ${idle - before[cpu]} us idle in a 300 ms sleep`,
          )
        );
        const memory = figures(await ok(kernel.session, "memstats"));
        const ram = memory.get("ram_bytes")!;
        // Firmware keeps a little (OpenSBI, SeaBIOS's low memory): at least 90 % is ours.
        assert.ok(ram <= memoryMiB * 2 ** 20 && ram >= memoryMiB * 2 ** 20 * 0.9, `ram_bytes ${ram}`);
        assert.ok(memory.get("heap_size_bytes")! > ram / 2, "the heap is sized from RAM");
      } finally {
        await kernel.close();
      }
    });
  }

  // The full run on the default machine (2 CPUs), a shorter one with
  // -smp 4, where the shell may move between four preempting CPUs.
  for (
    const [machineConfig, lines] of [[BUILTIN_CONFIGS.default, 10_000], [BUILTIN_CONFIGS.smp, 2_000]] as const
  ) {
    const label = machineConfig.name === "default" ? "" : ` with -smp ${machineConfig.cpus}`;
    Deno.test(`kernel on ${arch}${label} keeps answering after ${lines.toLocaleString("en")} hostile input lines`, async () => {
      const kernel = await boot(arch, machineConfig);
      try {
        const random = seededRandom(0x5151 + arch.length);
        for (let line = 0; line < lines; line++) {
          // Every line, whatever it holds, must get exactly one frame with a status.
          const result = await kernel.session.runBytes(new Uint8Array(hostileLine(random)));
          assert.ok(result.status >= 0 && result.status <= 255, `line ${line}: status ${result.status}`);
          if (line % 1000 === 999) {
            assert.deepEqual(await ok(kernel.session, `echo alive ${line}`), [`alive ${line}`]);
          }
        }
        // The file system and the shell's state survived too.
        assert.ok((await ok(kernel.session, "cat /README.md")).some((text) => text.includes("SIS kernel")));
      } finally {
        await kernel.close();
      }
    });
  }

  Deno.test({
    name: `kernel on ${arch}: after logctl json every log line is one valid JSON record (jq agrees)`,
    ignore: ignoreWithout("jq", jq),
    fn: async () => {
      const kernel = await boot(arch);
      try {
        await ok(kernel.session, "logctl json");
        const replayed = await ok(kernel.session, "dmesg");
        assert.ok(replayed.length >= 5, "boot events are in the ring");
        const records = replayed.map((line) => JSON.parse(line) as Record<string, unknown>);
        // The reference: jq -c . takes every line and gives one compact record per line.
        const checked = await pipeThrough(requireTool("jq", jq), ["-c", "."], replayed.join("\n") + "\n");
        assert.equal(checked.code, 0, checked.stderr);
        assert.equal(checked.stdout.trimEnd().split("\n").length, replayed.length);
        const events = records.map((record) => `${record.subsystem}:${record.status}`);
        for (const event of ["boot:arch", "boot:memory", "boot:heap", "fs:mounted", "shell:ready"]) {
          assert.ok(events.includes(event), `boot event ${event} in ${events.join(", ")}`);
        }
        for (const record of records) {
          assert.equal(typeof record.ts, "number");
          assert.match(String(record.level), /^(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)$/);
        }
        // A record logged live after the switch arrives as a JSON log line.
        const switched = await kernel.session.run("logctl level debug");
        assert.equal(switched.status, 0);
        assert.equal(switched.logs.length, 1, "logctl logs the change");
        const live = JSON.parse(switched.logs[0].text);
        assert.equal(live.subsystem, "log");
        assert.equal(live.level, "INFO");
        const status = await ok(kernel.session, "logctl status");
        assert.match(status[0], /format=json level=DEBUG/);
      } finally {
        await kernel.close();
      }
    },
  });

  Deno.test(`kernel on ${arch}: metrics move as work is done`, async () => {
    const kernel = await boot(arch);
    try {
      const before = figures(await ok(kernel.session, "metrics --format simple"));
      for (let i = 0; i < 5; i++) {
        await ok(kernel.session, `write /m${i} some text ${i}`);
        await ok(kernel.session, `cat /m${i}`);
        await ok(kernel.session, "sleep 5");
      }
      await ok(kernel.session, "net send 64");
      const after = figures(await ok(kernel.session, "metrics --format simple"));
      for (
        const name of [
          "sis_ctx_switches_total",
          "sis_vfs_writes_total",
          "sis_vfs_reads_total",
          "sis_vfs_opens_total",
          "sis_heap_allocations_total",
          "sis_net_tx_packets_total",
          "sis_uptime_seconds",
        ]
      ) {
        assert.ok(after.get(name)! > before.get(name)!, `${name}: ${before.get(name)} -> ${after.get(name)}`);
      }
      assert.ok(after.get("sis_ctx_switch_p50_seconds")! > 0, "switch latency recorded");
      const json = await ok(kernel.session, "metricsctl --format json");
      assert.equal(json.length, 1);
      JSON.parse(json[0]);
    } finally {
      await kernel.close();
    }
  });

  Deno.test({
    name:
      `kernel on ${arch}: metricsctl --format prometheus passes promtool check metrics with nothing to say`,
    ignore: ignoreWithout("promtool", promtool),
    fn: async () => {
      const kernel = await boot(arch);
      try {
        await ok(kernel.session, "write /p some text");
        await ok(kernel.session, "net send 100");
        const exposition = (await ok(kernel.session, "metricsctl --format prometheus")).join("\n") + "\n";
        const verdict = await pipeThrough(
          requireTool("promtool", promtool),
          ["check", "metrics"],
          exposition,
        );
        assert.equal(verdict.code, 0, verdict.stdout + verdict.stderr);
        assert.equal((verdict.stdout + verdict.stderr).trim(), "", "promtool found problems");
      } finally {
        await kernel.close();
      }
    },
  });

  for (const [command, kind] of [["panic chaos free boom", "panic"], ["fault", "fault"]] as const) {
    Deno.test(`kernel on ${arch}: ${kind} prints the full report, the JSON record, and ends with 101`, async () => {
      const kernel = await boot(arch);
      try {
        const error = await kernel.session.run(command).then(() => undefined, (caught) => caught);
        assert.ok(error instanceof SessionPanicError, `expected a panic, got ${error}`);
        const report = error.report.join("\n");
        for (
          const section of [
            "!!! KERNEL PANIC !!!",
            "message:",
            "location:",
            "system:",
            "backtrace:",
            "last log records:",
          ]
        ) {
          assert.ok(report.includes(section), `report has ${section}`);
        }
        const record = error.record!;
        assert.equal(record.level, "FATAL");
        assert.equal(record.subsystem, "panic");
        assert.equal(record.arch, arch);
        const backtrace = record.backtrace as string[];
        assert.ok(backtrace.length >= 2, `backtrace ${JSON.stringify(backtrace)}`);
        const registers = record.registers as Record<string, string>;
        // The trapped context (fault), or the registers captured at the
        // panic! call (panic): every register the arch saves, shown in the
        // report too.
        const expected = {
          aarch64: ["x0", "x30", "sp", "elr", "esr", "far"],
          riscv64: ["ra", "sp", "a0", "sepc", "scause", "stval"],
          x86_64: ["rax", "r15", "rip", "rsp", "cr2"],
        }[arch];
        for (const name of expected) {
          assert.match(registers[name] ?? "", /^0x[0-9a-f]+$/, `register ${name}`);
        }
        assert.ok(report.includes("registers:"));
        if (kind === "panic") assert.equal(record.message, "chaos free boom");
        const exit = await kernel.machine.exited;
        assert.equal(exit.outcome.kind, "panic", JSON.stringify(exit.outcome));
      } finally {
        await kernel.close();
      }
    });
  }

  Deno.test(`kernel on ${arch}: a build without the chaos feature has no chaos code, a chaos build has it`, async () => {
    const chaosNames = (path: string) =>
      Deno.readFile(path).then((bytes) =>
        readElf(bytes).symbols.filter((symbol) => /chaos/i.test(symbol.name + symbol.displayName))
      );
    const plain = await chaosNames(join(ROOT, "build", arch, "sis-kernel.elf"));
    assert.deepEqual(plain.map((symbol) => symbol.displayName), [], "chaos symbols in the plain kernel");
    // The positive control: the same search finds the chaos code where it is compiled in.
    const kernels = await ensureKernels(ROOT, [arch], testContext({ env: Deno.env.toObject() }), {
      features: ["chaos"],
      outDir: CHAOS_BUILD_DIR,
      noBuild: true,
    });
    const chaos = await chaosNames(kernels[arch].path);
    assert.ok(chaos.length > 10, `only ${chaos.length} chaos symbols in the chaos build`);
  });

  Deno.test(`kernel on ${arch}: version names the checkout's commit`, async () => {
    const head = new TextDecoder().decode(
      (await new Deno.Command("git", { args: ["rev-parse", "HEAD"], cwd: ROOT }).output()).stdout,
    ).trim();
    const kernel = await boot(arch);
    try {
      const [line] = await ok(kernel.session, "version");
      assert.match(line, /^SIS Kernel [0-9a-f]{7} \(.+\) built \d{4}-\d{2}-\d{2}$/);
      const record = JSON.parse((await ok(kernel.session, "version --json"))[0]);
      // The image under test was built from this checkout: the commit must match.
      assert.equal(record.commit, head);
      assert.ok(line.includes(record.commit_short));
      assert.equal(record.arch, arch);
    } finally {
      await kernel.close();
    }
  });
}

/** xorshift32: a fixed seed gives the same hostile input on every run, so a failure reproduces. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

/** Commands the fuzzer never starts a line with: they end or stall the machine on purpose. */
const STOPPERS = /^\s*["']?(poweroff|panic|fault|sleep|frame|chaos)\b/;

/**
 * One line of hostile input, as raw bytes: random bytes (invalid UTF-8
 * included), control characters, escape sequences, very long lines, many
 * words, quotes, redirections, and real commands with garbage arguments.
 * Ends with CR, LF or CR LF.
 */
function hostileLine(random: () => number): number[] {
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const bytes = (count: number, low: number, high: number) =>
    Array.from({ length: count }, () => low + Math.floor(random() * (high - low)));
  const text = (value: string) => [...new TextEncoder().encode(value)];
  const kinds: (() => number[])[] = [
    () => bytes(1 + Math.floor(random() * 80), 0, 256),
    () => bytes(1 + Math.floor(random() * 40), 0, 32),
    () => text("x".repeat(900 + Math.floor(random() * 400))),
    () => text(Array.from({ length: 60 + Math.floor(random() * 150) }, () => "w").join(" ")),
    () => [
      ...text(pick(["\x1b[A", "\x1b[1;5C", "\x1b[" + "9".repeat(50), "\x1bOP", "\x1b", "\x1b[?25l"])),
      ...bytes(5, 32, 127),
    ],
    () => [
      ...text(
        pick(["echo ", "ls ", "cat ", "touch ", "mkdir ", "rm ", "rmdir ", "cd ", "write /f ", "cksum "]),
      ),
      ...bytes(20, 32, 256),
    ],
    () => [...text('"unterminated '), ...bytes(10, 32, 127)],
    () => text(`echo hello > ${pick(["", "/", "/nope/x", "//", "a".repeat(300)])}`),
    () => [0x08, 0x7f, 0x15, ...bytes(10, 32, 127), 0x15],
  ];
  // Keep the line one line (the terminator is ours) and never cancel it early.
  let line = pick(kinds)().map((byte) => (byte === 0x0d || byte === 0x0a || byte === 0x03 ? 0x20 : byte));
  // The editor drops control bytes, so judge the line as it will be run.
  const printable = line.filter((byte) => byte >= 0x20 && byte !== 0x7f);
  if (STOPPERS.test(new TextDecoder().decode(new Uint8Array(printable)))) line = [0x23, ...line];
  return [...line, ...pick([[0x0d], [0x0a], [0x0d, 0x0a]])];
}
