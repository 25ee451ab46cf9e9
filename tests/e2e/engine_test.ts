/** End-to-end tests of the run engine's contracts for every command that boots kernels (test, chaos, regress): SIGINT mid-run, empty selections, fresh kernels, a full or read-only runs/. */
import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { isQemuAlive, pollFor, qemuPids, ROOT, sis, SisProcess, suitesDir } from "./_harness.ts";
import { bundleResults, SLOW_SUITE, stopSis } from "./_harness.ts";

/** Ends a spawned sis that a failed assertion left running, by SIGKILL: these tests are about its signal handling. */
const stop = (process: SisProcess | undefined) => stopSis(process, "SIGKILL");

/** The bundle folder, the job folder's events file once it contains `needle`, and the job's QEMU pid. */
async function waitMidRun(process: SisProcess, needle: string): Promise<{ bundle: string; pids: number[] }> {
  const bundle = await pollFor(() => process.bundleDir(), 60_000);
  const pids = await pollFor(() => (qemuPids(bundle).length ? qemuPids(bundle) : undefined), 60_000);
  await pollFor(() => {
    for (const entry of Deno.readDirSync(bundle)) {
      if (!entry.isDirectory) continue;
      const events = join(bundle, entry.name, "events.ndjson");
      try {
        if (Deno.readTextFileSync(events).includes(needle)) return true;
      } catch {
        // Not created yet.
      }
    }
    return undefined;
  }, 60_000);
  return { bundle, pids };
}

/** Checks the JUnit file is whole, well-formed XML with at least one test case. */
async function assertWholeJunit(path: string): Promise<void> {
  const xml = await readFile(path, "utf8");
  assert.equal(XMLValidator.validate(xml), true, xml);
  const parsed = new XMLParser({ ignoreAttributes: false }).parse(xml);
  const suites = [parsed.testsuites.testsuite].flat();
  assert.ok(suites.length >= 1, xml);
  assert.ok(suites.some((suite: { testcase?: unknown }) => suite.testcase !== undefined), xml);
}

interface Interruptible {
  command: string;
  /** Sets up inputs in `dir`; returns the argv (without --json/--junit). */
  args(dir: string): Promise<string[]>;
  /** Text in a job's events.ndjson that shows the run is mid-work. */
  midRun: string;
  /** Checks the command's JSON says the run was interrupted. */
  checkJson(json: Record<string, unknown>): void;
}

const INTERRUPTIBLE: Interruptible[] = [
  {
    command: "test",
    args: async (dir) => {
      await writeFile(join(dir, "slow.yaml"), SLOW_SUITE);
      return ["test", "--arch", "x86_64", "--suites-dir", dir, "--suite", "slow", "--timeout-ms", "120000"];
    },
    midRun: '"line":"sleep 100000"',
    checkJson: (json) => {
      assert.equal(json.interrupted, "SIGINT");
      const [job] = json.jobs as { status: string; steps: { status: string }[] }[];
      assert.equal(job.status, "interrupted");
      assert.deepEqual(job.steps.map((step) => step.status), ["passed", "failed", "skipped"]);
    },
  },
  {
    command: "chaos",
    // A second of delay per slow write, 1000 of them: the cell is far from done when signalled.
    args: () =>
      Promise.resolve([
        "chaos",
        "run",
        "slow_io",
        "--rate",
        "100",
        "--delay-us",
        "1000000",
        "--ops",
        "1000",
        "--arch",
        "x86_64",
        "--timeout-ms",
        "120000",
      ]),
    midRun: '"kind":"end","seq":8',
    checkJson: (json) => {
      assert.equal(json.interrupted, "SIGINT");
      const [cell] = json.cells as { status: string }[];
      assert.equal(cell.status, "interrupted");
    },
  },
  {
    command: "regress",
    args: async (dir) => {
      const baseline = JSON.parse(await readFile(join(ROOT, "baselines", "x86_64.json"), "utf8"));
      await writeFile(join(dir, "x86_64.json"), JSON.stringify({ ...baseline, commands: ["sleep 100000"] }));
      return ["regress", "check", "--arch", "x86_64", "--baseline-dir", dir, "--timeout-ms", "120000"];
    },
    midRun: '"line":"sleep 100000"',
    checkJson: (json) => {
      const x86 = json.x86_64 as { status: string };
      assert.equal(x86.status, "interrupted");
    },
  },
];

for (const run of INTERRUPTIBLE) {
  Deno.test(`SIGINT mid-run of sis ${run.command} writes whole JSON and JUnit files, leaves no QEMU, exits 130`, async () => {
    const dir = await mkdtemp(join(tmpdir(), `sis-e2e-engine-${run.command}-`));
    let process: SisProcess | undefined;
    try {
      const json = join(dir, "out.json");
      const junit = join(dir, "out.xml");
      process = new SisProcess([...(await run.args(dir)), "--json", json, "--junit", junit]);
      const { bundle, pids } = await waitMidRun(process, run.midRun);
      process.child.kill("SIGINT");
      const finished = await process.done;
      assert.equal(finished.code, 130, finished.stdout + finished.stderr);
      assert.doesNotMatch(finished.stderr, /internal error/);
      for (const pid of pids) assert.equal(isQemuAlive(pid), false, `QEMU ${pid} survived SIGINT`);
      run.checkJson(JSON.parse(await readFile(json, "utf8")));
      await assertWholeJunit(junit);
      // The bundle has its results too.
      JSON.parse(await readFile(join(bundle, "results.json"), "utf8"));
    } finally {
      await stop(process);
      await rm(dir, { recursive: true, force: true });
    }
  });
}

Deno.test("a selection that selects nothing is usage error 2 naming it, for test, chaos and regress", async () => {
  const cases: [string[], RegExp][] = [
    [["test", "--arch", "x86_64", "--filter", "nomatch"], /no job matches --suite smoke --filter "nomatch"/],
    [["test", "--arch", "x86_64", "--shard", "2/2"], /shard 2\/2 .* selects none of its 1 job/],
    [
      ["chaos", "run", "disk_full", "--rate", "30", "--filter", "nomatch"],
      /no job matches --filter "nomatch"/,
    ],
    [["chaos", "matrix", "--arch", "x86_64", "--filter", "nomatch"], /job names: x86_64-disk_full-r10/],
    [["regress", "check", "--arch", "x86_64", "--filter", "nomatch"], /no job matches --filter "nomatch"/],
    [["regress", "check", "--arch", "x86_64", "--shard", "2/2"], /shard 2\/2/],
  ];
  for (const [args, message] of cases) {
    const run = await sis(args);
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assert.match(run.stderr, message, args.join(" "));
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    assert.match(run.stderr, /^error: nothing to run/);
  }
});

/**
 * A private copy of the checkout's kernel sources and x86_64 build state:
 * the test edits the copy, never the repository. cargo's target folder comes
 * along, so only the edited crate recompiles.
 */
async function kernelCopy(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "sis-e2e-fresh-"));
  await cp(join(ROOT, "kernel"), join(root, "kernel"), {
    recursive: true,
    preserveTimestamps: true,
    filter: (source) => !source.startsWith(join(ROOT, "kernel", "target")),
  });
  await mkdir(join(root, "kernel", "target"), { recursive: true });
  for (const part of ["release", "x86_64-unknown-none"]) {
    await cp(join(ROOT, "kernel", "target", part), join(root, "kernel", "target", part), {
      recursive: true,
      preserveTimestamps: true,
    });
  }
  await cp(join(ROOT, "build", "x86_64"), join(root, "build", "x86_64"), { recursive: true });
  await cp(join(ROOT, "tests", "suites"), join(root, "tests", "suites"), { recursive: true });
  return root;
}

Deno.test("editing a kernel source and running sis test boots the new kernel (--no-build boots the installed one)", async () => {
  // The repository's own kernel is built first (the engine's incremental build).
  const prepared = await sis(["build", "--arch", "x86_64"]);
  assert.equal(prepared.code, 0, prepared.stderr);
  const root = await kernelCopy();
  const suites = await suitesDir({
    fresh: `
steps:
  - name: the README carries the edit
    run: cat /README.md
    expect: { contains: [FRESH-KERNEL-EDIT] }
`,
  });
  try {
    const source = join(root, "kernel", "sis-kernel", "src", "fs.rs");
    const text = await readFile(source, "utf8");
    const edited = text.replace(
      'const README: &str = "\\\n',
      'const README: &str = "FRESH-KERNEL-EDIT\\n\\\n',
    );
    assert.notEqual(edited, text, "the README constant was not found in fs.rs");
    await writeFile(source, edited);
    const env = { SIS_ROOT: root };
    const args = ["test", "--arch", "x86_64", "--suites-dir", suites, "--suite", "fresh"];
    // --no-build boots the ELF installed before the edit: the step fails.
    const stale = await sis([...args, "--no-build", "--json", join(suites, "stale.json")], env);
    assert.equal(stale.code, 1, stale.stdout + stale.stderr);
    // By default the engine rebuilds first and boots the edited kernel.
    const fresh = await sis([...args, "--json", join(suites, "fresh.json")], env);
    assert.equal(fresh.code, 0, fresh.stdout + fresh.stderr);
    const staleKernel = JSON.parse(await readFile(join(suites, "stale.json"), "utf8")).kernels.x86_64;
    const freshKernel = JSON.parse(await readFile(join(suites, "fresh.json"), "utf8")).kernels.x86_64;
    assert.equal(staleKernel.built, false);
    assert.equal(freshKernel.built, true);
    assert.notEqual(staleKernel.sha256, freshKernel.sha256);
  } finally {
    await rm(root, { recursive: true, force: true });
    await rm(suites, { recursive: true, force: true });
  }
});

/** A root whose runs/ is a tmpfs of `options` (a tiny or a read-only one), with the checkout's x86_64 kernel installed. */
async function rootWithRuns(options: string): Promise<{ root: string; release: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), "sis-e2e-runs-"));
  await mkdir(join(root, "kernel", "sis-kernel"), { recursive: true });
  await cp(
    join(ROOT, "kernel", "sis-kernel", "Cargo.toml"),
    join(root, "kernel", "sis-kernel", "Cargo.toml"),
  );
  await cp(join(ROOT, "build", "x86_64"), join(root, "build", "x86_64"), { recursive: true });
  await cp(join(ROOT, "tests", "suites"), join(root, "tests", "suites"), { recursive: true });
  await mkdir(join(root, "runs"));
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", options, "tmpfs", join(root, "runs")],
  }).output();
  assert.ok(mount.success, new TextDecoder().decode(mount.stderr));
  return {
    root,
    release: async () => {
      await new Deno.Command("umount", { args: [join(root, "runs")] }).output();
      await rm(root, { recursive: true, force: true });
    },
  };
}

Deno.test("sis test with runs/ on a tiny tmpfs stops at the full disk: exit 3, one line with path and errno, no QEMU, --json kept", async () => {
  // The kernel's help text ~40 times over: more serial output than 64 KiB of bundle can hold.
  const steps = Array.from({ length: 40 }, (_, index) => `  - name: help ${index}\n    run: help\n`).join("");
  const suites = await suitesDir({ chatty: `steps:\n${steps}` });
  const { root, release } = await rootWithRuns("size=64k");
  try {
    const json = join(suites, "out.json");
    const run = await sis(
      ["test", "--arch", "x86_64", "--suites-dir", suites, "--suite", "chatty", "--no-build", "--json", json],
      { SIS_ROOT: root },
    );
    assert.equal(run.code, 3, run.stdout + run.stderr);
    const errors = run.stderr.split("\n").filter((line) => line.startsWith("error:"));
    assert.equal(errors.length, 1, run.stderr);
    assert.match(errors[0], /^error: cannot write .*\/runs\/.*: ENOSPC \(no space left on device\)/);
    assert.doesNotMatch(run.stderr, /internal error|^\s+at /m);
    // What the run did is in the --json file, which lives elsewhere.
    const results = JSON.parse(await readFile(json, "utf8"));
    assert.equal(results.jobs.length, 1);
    // The QEMU it started is gone.
    const [bundle] = [...Deno.readDirSync(join(root, "runs"))].map((entry) => join(root, "runs", entry.name));
    for (const pid of qemuPids(bundle)) assert.equal(isQemuAlive(pid), false);
    // No half-written temp files are left behind.
    const leftovers = [...Deno.readDirSync(bundle)].filter((entry) => entry.name.endsWith(".tmp"));
    assert.deepEqual(leftovers, []);
  } finally {
    await release();
    await rm(suites, { recursive: true, force: true });
  }
});

Deno.test("sis test with a read-only runs/ is exit 3 naming the path and EROFS, before any boot", async () => {
  const { root, release } = await rootWithRuns("size=64k,ro");
  try {
    const run = await sis(["test", "--arch", "x86_64", "--no-build"], { SIS_ROOT: root });
    assert.equal(run.code, 3, run.stdout + run.stderr);
    assert.match(run.stderr, /^error: cannot write .*\/runs: EROFS \(read-only file system\)/m);
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
  } finally {
    await release();
  }
});

Deno.test("sis build and sis test with a read-only build/ are exit 3 naming the path and EROFS, not an internal error", async () => {
  const root = await kernelCopy();
  const build = join(root, "build");
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", "size=64k,ro", "tmpfs", build],
  })
    .output();
  assert.ok(mount.success, new TextDecoder().decode(mount.stderr));
  try {
    for (const args of [["build", "--arch", "x86_64"], ["test", "--arch", "x86_64"]]) {
      const run = await sis(args, { SIS_ROOT: root });
      assert.equal(run.code, 3, `sis ${args.join(" ")}: ${run.stdout}${run.stderr}`);
      const errors = run.stderr.split("\n").filter((line) => line.startsWith("error:"));
      assert.equal(errors.length, 1, run.stderr);
      assert.match(errors[0], /^error: cannot write .*\/build\/x86_64\/\S+: EROFS \(read-only file system\)/);
      assert.doesNotMatch(run.stderr, /internal error/);
    }
  } finally {
    await new Deno.Command("umount", { args: [build] }).output();
    await rm(root, { recursive: true, force: true });
  }
});

Deno.test("SIGTERM to sis run stops QEMU and exits 143", async () => {
  const process = new SisProcess(["run", "--arch", "x86_64", "--no-build"], {}, "piped");
  try {
    const pid = await pollFor(() => {
      const match = /QEMU pid (\d+)/.exec(process.stderr);
      return match ? Number(match[1]) : undefined;
    }, 30_000);
    assert.ok(isQemuAlive(pid));
    process.child.kill("SIGTERM");
    const finished = await process.done;
    assert.equal(finished.code, 143, finished.stderr);
    assert.match(finished.stderr, /SIGTERM: QEMU stopped/);
    assert.equal(isQemuAlive(pid), false);
    // The engine wrote the interrupted session's results before exiting.
    const { results } = await bundleResults(finished.stderr);
    const [job] = results.jobs as (typeof results.jobs[number] & { end: string })[];
    assert.deepEqual(
      { interrupted: results.interrupted, status: job.status, end: job.end, kernel: job.kernel?.kind },
      { interrupted: "SIGTERM", status: "interrupted", end: "interrupted", kernel: "interrupted" },
    );
  } finally {
    await process.child.stdin.close().catch(() => {});
    await stop(process);
  }
});
