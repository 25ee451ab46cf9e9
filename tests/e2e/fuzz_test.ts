/** End-to-end tests of `sis fuzz` on the real kernels in real QEMU, the three archs in parallel: 100,000 calls per arch without a crash and a coverage table; the positive control (fuzz-break kernels) found, replayed, minimized to at most 5 calls and replayed again from repro.json; bad input is exit 2. */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ARCHES } from "../../src/arch.ts";
import type { FuzzArchResult, FuzzResults, ReplayArchResult } from "../../src/fuzz/results.ts";
import { FUZZED_SYSCALL_NAMES } from "../../src/fuzz/generator.ts";
import { parseRepro } from "../../src/fuzz/repro.ts";
import { isQemuAlive, pollFor, qemuPids, sis, SisProcess, stopSis } from "./_harness.ts";

/** Calls per arch in the gate (the figure; the bench runs 1,000,000). */
const GATE_CALLS = 100_000;

/** Every errno the validation layer gives that the generator is built to reach (sis-fuzz's host test lists the same). */
const EXPECTED_ERRNOS = ["EFAULT", "EBADF", "EINVAL", "ENOSYS", "ENAMETOOLONG", "ENOENT", "ESRCH"];

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "sis-e2e-fuzz-" });
}

/** `sis fuzz syscalls --arch all` plus `flags`, which must exit 0; its results from the JSON written to `json`. */
async function fuzzAllArches(json: string, ...flags: string[]) {
  const run = await sis(["fuzz", "syscalls", "--arch", "all", ...flags, "--json", json]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const results: FuzzResults = JSON.parse(await readFile(json, "utf8"));
  return { run, results };
}

function bundleOf(stderr: string): string {
  const dir = /bundle (\S+)\n/.exec(stderr)?.[1];
  assert.ok(dir, `no bundle line in: ${stderr}`);
  return dir;
}

function assertNoQemuLeft(bundle: string) {
  for (const pid of qemuPids(bundle)) assert.equal(isQemuAlive(pid), false, `QEMU ${pid} still running`);
}

Deno.test("sis fuzz syscalls --arch all: 100,000 calls per arch, no kernel crash, every call and errno in the coverage table", async () => {
  const out = await tempDir();
  try {
    const { run, results } = await fuzzAllArches(
      join(out, "fuzz.json"),
      "--calls",
      String(GATE_CALLS),
      "--junit",
      join(out, "fuzz.xml"),
    );
    assert.equal(results.kind, "fuzz");
    assert.deepEqual(results.archs.map((arch) => arch.arch).sort(), [...ARCHES]);
    for (const arch of results.archs as FuzzArchResult[]) {
      assert.equal(arch.status, "passed", JSON.stringify(arch.problem ?? arch.crash ?? arch.kernel));
      assert.equal(arch.calls, GATE_CALLS);
      assert.equal(arch.coverage.bySyscall.progress.ok, GATE_CALLS, "one progress call per fuzzed call");
      assert.ok(arch.callsPerSecond > 0);
      for (const name of FUZZED_SYSCALL_NAMES) {
        assert.ok(arch.coverage.bySyscall[name], `${arch.arch}: ${name} never counted`);
      }
      const errnos = new Set(Object.values(arch.coverage.bySyscall).flatMap((row) => Object.keys(row)));
      for (const errno of EXPECTED_ERRNOS) {
        assert.ok(errnos.has(errno), `${arch.arch}: ${errno} never returned`);
      }
      // The memory paths that allocate and free frames are reached, not only their argument checks.
      for (const name of ["mmap", "munmap"]) {
        assert.ok(arch.coverage.bySyscall[name].ok > 0, `${arch.arch}: ${name} never succeeded`);
      }
      // The program's count of failed calls is the kernel's count of errnos (exit and its own writes succeed).
      const counted = Object.entries(arch.coverage.bySyscall).flatMap(([, row]) =>
        Object.entries(row).filter(([outcome]) => outcome !== "ok").map(([, count]) => count)
      ).reduce((sum, count) => sum + count, 0);
      assert.equal(counted, arch.failedCalls, `${arch.arch}: kernel errnos vs the program's failed calls`);
      assert.match(run.stdout, new RegExp(`PASS ${arch.arch}-fuzz ${GATE_CALLS} calls, \\d+ calls/s`));
    }
    assert.match(run.stdout, /SYSCALL +OK +EBADF/);
    const bundle = bundleOf(run.stderr);
    const inBundle: FuzzResults = JSON.parse(await readFile(join(bundle, "results.json"), "utf8"));
    assert.deepEqual(inBundle.archs, results.archs);
    assert.match(await readFile(join(out, "fuzz.xml"), "utf8"), /no kernel crash in 100000 calls/);
    assertNoQemuLeft(bundle);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("the positive control is found, replayed and minimized to at most 5 calls on every arch, and repro.json replays it", async () => {
  const out = await tempDir();
  try {
    const { run, results } = await fuzzAllArches(join(out, "control.json"), "--control");
    assert.equal(results.archs.length, ARCHES.length);
    for (const arch of results.archs as FuzzArchResult[]) {
      assert.equal(arch.status, "passed", JSON.stringify(arch.problem ?? arch.kernel));
      assert.match(arch.crash!.message, /^fuzz-break: write\(5, 0x[0-9a-f]+ffa, 0x10001\)/);
      assert.equal(arch.crash!.range!.end, arch.crash!.progress, "the range ends at the call in flight");
      assert.deepEqual(arch.replay?.sameCrash, true);
      assert.ok(arch.minimized!.indices.length <= 5, `${arch.arch}: ${arch.minimized!.indices.length} calls`);
      assert.match(arch.minimized!.listing.at(-1)!, /^#\d+ write\(0x5, 0x[0-9a-f]+ffa, 0x10001\)$/);
      const listing = await readFile(join(arch.bundleDir!, "repro.txt"), "utf8");
      assert.match(listing, /minimized by ddmin/);
    }
    const bundle = bundleOf(run.stderr);
    const reproPath = join(bundle, "repro.json");
    assert.equal(results.repro, reproPath);
    const repro = parseRepro(await readFile(reproPath, "utf8"), reproPath);
    assert.deepEqual(repro.features, ["fuzz-break"]);
    assert.equal(repro.reproducers.length, ARCHES.length);
    assertNoQemuLeft(bundle);

    const replay = await sis(["fuzz", "replay", reproPath, "--no-build", "--json", join(out, "replay.json")]);
    assert.equal(replay.code, 4, `the crash still happens: exit 4\n${replay.stdout}${replay.stderr}`);
    const replayed: FuzzResults = JSON.parse(await readFile(join(out, "replay.json"), "utf8"));
    for (const arch of replayed.archs as ReplayArchResult[]) {
      assert.equal(arch.status, "crashed");
      assert.equal(arch.sameCrash, true);
    }
    assertNoQemuLeft(bundleOf(replay.stderr));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("SIGINT mid-fuzz writes whole results, leaves no QEMU and exits 130", async () => {
  const out = await tempDir();
  const process = new SisProcess([
    "fuzz",
    "syscalls",
    "--arch",
    "x86_64",
    "--time",
    "10m",
    "--no-build",
    "--json",
    join(out, "fuzz.json"),
  ]);
  try {
    // Mid-run: the program's first heartbeat is in the job's events.
    const bundle = await pollFor(() => process.bundleDir(), 60_000);
    await pollFor(async () => {
      const events = await readFile(join(bundle, "x86_64-fuzz", "events.ndjson"), "utf8").catch(() => "");
      return events.includes("fuzz: at index=") ? true : undefined;
    }, 60_000);
    const pids = qemuPids(bundle);
    assert.ok(pids.length > 0);
    process.child.kill("SIGINT");
    const finished = await process.done;
    assert.equal(finished.code, 130, finished.stdout + finished.stderr);
    for (const pid of pids) assert.equal(isQemuAlive(pid), false, `QEMU ${pid} survived SIGINT`);
    const results: FuzzResults = JSON.parse(await readFile(join(out, "fuzz.json"), "utf8"));
    assert.equal(results.interrupted, "SIGINT");
    assert.equal(results.archs[0].status, "interrupted");
  } finally {
    await stopSis(process, "SIGKILL");
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("sis fuzz: bad flags and a repro.json that is not one are one error line and exit 2, before any boot", async () => {
  const out = await tempDir();
  try {
    await Deno.writeTextFile(join(out, "not-repro.json"), '{"schema": 1, "kind": "chaos"}');
    await Deno.writeTextFile(join(out, "broken.json"), "{");
    const cases: [string[], RegExp][] = [
      [["fuzz", "syscalls", "--calls", "5", "--time", "10s"], /give --calls or --time, not both/],
      [["fuzz", "syscalls", "--seed", "nope"], /Bad --seed "nope"/],
      [["fuzz", "syscalls", "--time", "5parsecs"], /Invalid --time "5parsecs"/],
      [["fuzz", "syscalls", "--calls", "0"], /--calls/],
      [["fuzz", "syscalls", "--arch", "mips"], /--arch/],
      [["fuzz", "replay", join(out, "missing.json")], /cannot read .*missing\.json: no such file/],
      [
        ["fuzz", "replay", join(out, "not-repro.json")],
        /not a fuzz reproducer: "kind" is not "sis-fuzz-repro"/,
      ],
      [["fuzz", "replay", join(out, "broken.json")], /is not JSON/],
      [["fuzz", "replay", out], /is a directory/],
    ];
    for (const [args, error] of cases) {
      const run = await sis(args);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      const lines = run.stderr.trim().split("\n");
      assert.equal(lines.length, 1, `one line for ${args.join(" ")}: ${run.stderr}`);
      assert.match(lines[0], error);
      assert.doesNotMatch(run.stderr, /bundle/, "nothing was booted");
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
