/** End-to-end tests of `sis test`: real kernel, real QEMU, spawned CLI; suites, hangs, panics, signals, kill -9, concurrent runs. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { XMLValidator } from "fast-xml-parser";
import { ARCHES } from "../../src/arch.ts";
import { isQemuAlive, pollFor, qemuPids, ROOT, sis, SisProcess, suitesDir } from "./_harness.ts";
import { bundleResults, SLOW_SUITE, stopSis } from "./_harness.ts";

/** Ends a spawned sis that a failed assertion left running, by SIGTERM so that it stops its QEMU too. */
const stop = (process: SisProcess | undefined) => stopSis(process, "SIGTERM");

/**
 * A hang bound, not a speed check: a kernel that never powers off fails the
 * test with what it printed instead of holding the gate until its timeout.
 */
const RUN_END_BOUND_MS = 120_000;

async function endsWithin(process: SisProcess, boundMs: number): Promise<Awaited<SisProcess["done"]>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `sis did not end within ${boundMs} ms\nstdout:\n${process.stdout}\nstderr:\n${process.stderr}`,
          ),
        ),
      boundMs,
    );
  });
  try {
    return await Promise.race([process.done, hung]);
  } finally {
    clearTimeout(timer);
  }
}

for (const arch of ARCHES) {
  Deno.test(`sis test --suite all passes on ${arch} with a well-formed JUnit file`, async () => {
    const out = await Deno.makeTempDir({ prefix: "sis-e2e-" });
    try {
      const run = await sis([
        "test",
        "--arch",
        arch,
        "--suite",
        "all",
        "--junit",
        join(out, "junit.xml"),
        "--json",
        join(out, "results.json"),
      ]);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const results = JSON.parse(await Deno.readTextFile(join(out, "results.json")));
      assert.equal(results.summary.failed, 0);
      assert.ok(results.summary.passed >= 30, `only ${results.summary.passed} steps passed`);
      assert.equal(results.summary.pending, 0, "no suite is pending");
      assert.equal(XMLValidator.validate(await Deno.readTextFile(join(out, "junit.xml"))), true);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  });
}

for (const arch of ARCHES) {
  Deno.test(`sis test reports a command that stops answering on ${arch} as a hang with its stage`, async () => {
    const dir = await suitesDir({ slow: SLOW_SUITE });
    try {
      const run = await sis(suiteRun(arch, dir, "slow", "--timeout-ms", "700"));
      assert.equal(run.code, 4, run.stdout + run.stderr);
      assert.match(
        run.stdout,
        /kernel hang: command 2 \("sleep 100000"\) did not finish within 700 ms \(stage: command 2\)/,
      );
      assert.match(run.stdout, /PASS \S+ slow\/the shell answers/);
      assert.match(run.stdout, /SKIP \S+ slow\/never reached/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

for (const arch of ARCHES) {
  Deno.test(`sis test reports a panic on ${arch} at once, with the kernel's report`, async () => {
    const dir = await suitesDir({
      boom: `
steps:
  - name: the shell answers
    run: echo before
  - name: panic on purpose
    run: panic boom
  - name: never reached
    run: echo after
`,
    });
    const out = await Deno.makeTempDir({ prefix: "sis-e2e-" });
    try {
      // A 60 s timeout: finishing well inside it shows the panic was not waited out.
      const run = await sis(
        suiteRun(arch, dir, "boom", "--timeout-ms", "60000", "--json", join(out, "results.json")),
      );
      assert.equal(run.code, 4, run.stdout + run.stderr);
      assert.ok(run.elapsedMs < 30_000, `took ${run.elapsedMs} ms`);
      const [job] = JSON.parse(await Deno.readTextFile(join(out, "results.json"))).jobs;
      assert.equal(job.kernel.kind, "panic");
      assert.equal(job.kernel.stage, "command 2");
      assert.ok(
        job.kernel.report.some((line: string) => line.includes("boom")),
        job.kernel.report.join("\n"),
      );
      assert.match(run.stdout, /kernel panic: kernel panicked at stage "command 2"/);
      assert.equal(job.qemuExit.outcome.kind, "panic");
    } finally {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(out, { recursive: true });
    }
  });
}

for (const arch of ARCHES) {
  Deno.test(`sis test reports the fault command on ${arch} as a panic naming the exception`, async () => {
    const dir = await suitesDir({ fault: "steps:\n  - name: touch an unmapped address\n    run: fault\n" });
    const out = await Deno.makeTempDir({ prefix: "sis-e2e-" });
    try {
      const json = join(out, "results.json");
      const run = await sis(suiteRun(arch, dir, "fault", "--json", json));
      assert.equal(run.code, 4, run.stdout + run.stderr);
      const [job] = JSON.parse(await Deno.readTextFile(json)).jobs;
      assert.equal(job.kernel.kind, "panic");
      assert.equal(job.kernel.stage, "command 1");
      assert.match(job.kernel.message, /unexpected exception/);
      assert.equal(job.kernel.record.level, "FATAL");
    } finally {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(out, { recursive: true });
    }
  });
}

/** `sis test` arguments for one suite of the suites folder `dir`, plus any extra flags. */
function suiteRun(arch: string, dir: string, suite: string, ...extra: string[]): string[] {
  return ["test", "--arch", arch, "--suites-dir", dir, "--suite", suite, ...extra];
}

/** Starts `sis test` on the slow suite in `dir` (riscv64), as the signal tests need it. */
function startSlowRun(dir: string): SisProcess {
  return new SisProcess(suiteRun("riscv64", dir, "slow", "--timeout-ms", "60000"));
}

/** The run's bundle folder and its live QEMU's pid, once both exist. */
async function qemuOf(process: SisProcess): Promise<{ bundle: string; pid: number }> {
  const bundle = await pollFor(() => process.bundleDir(), 30_000);
  const [pid] = await pollFor(() => (qemuPids(bundle).length ? qemuPids(bundle) : undefined), 30_000);
  assert.ok(isQemuAlive(pid));
  return { bundle, pid };
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`${signal} to sis test mid-run leaves no QEMU process`, async () => {
    const dir = await suitesDir({ slow: SLOW_SUITE });
    let process: SisProcess | undefined;
    try {
      process = startSlowRun(dir);
      const { bundle, pid } = await qemuOf(process);
      // Wait until the slow command is running, so the signal lands mid-command.
      await pollFor(() => (Deno.readTextFileSync(join(bundle, "riscv64-default-slow", "events.ndjson"))
          .includes('"seq":2')
        ? true
        : undefined), 30_000);
      process.child.kill(signal);
      const finished = await process.done;
      assert.equal(finished.code, signal === "SIGINT" ? 130 : 143, finished.stderr);
      assert.equal(isQemuAlive(pid), false, `QEMU ${pid} survived ${signal}`);
      // What happened so far is in the bundle.
      assert.ok(Deno.readTextFileSync(join(bundle, "riscv64-default-slow", "serial.raw")).includes("before"));
    } finally {
      await stop(process);
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("kill -9 of sis leaves no QEMU within 2 s, and the next run removes its socket folder", async () => {
  const dir = await suitesDir({ slow: SLOW_SUITE });
  let process: SisProcess | undefined;
  try {
    process = startSlowRun(dir);
    const { bundle, pid } = await qemuOf(process);
    process.child.kill("SIGKILL");
    await process.done;
    await pollFor(() => (isQemuAlive(pid) ? undefined : true), 2_000);
    // Nothing could remove the killed run's socket folder; the next sis does.
    const manifest = JSON.parse(await Deno.readTextFile(join(bundle, "manifest.json")));
    const qmp = manifest.jobs[0].qemuArgv[manifest.jobs[0].qemuArgv.indexOf("-qmp") + 1];
    const runDir = /^unix:(.*)\/qmp\.sock,/.exec(qmp)![1];
    assert.ok(Deno.statSync(runDir).isDirectory);
    const next = await sis(["test", "--arch", "riscv64", "--filter", "smoke/echo"]);
    assert.equal(next.code, 0, next.stdout + next.stderr);
    assert.throws(() => Deno.statSync(runDir), Deno.errors.NotFound);
  } finally {
    await stop(process);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("two sis test runs at the same time do not disturb each other", async () => {
  const [first, second] = await Promise.all([
    sis(["test", "--arch", "riscv64", "--suite", "smoke"]),
    sis(["test", "--arch", "riscv64", "--suite", "smoke"]),
  ]);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.equal(second.code, 0, second.stdout + second.stderr);
  const bundles = [first, second].map((run) => /bundle (\S+)\n/.exec(run.stderr)?.[1]);
  assert.ok(bundles[0] && bundles[1] && bundles[0] !== bundles[1]);
  for (const bundle of bundles) {
    const results = JSON.parse(await Deno.readTextFile(join(bundle!, "results.json")));
    assert.equal(results.summary.failed, 0);
    assert.ok(results.summary.passed >= 5);
  }
});

Deno.test("sis test --config all runs every config and passes the smoke suite", async () => {
  const run = await sis(["test", "--arch", "riscv64", "--config", "all", "--suite", "smoke"]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  for (const config of ["default", "lowmem", "smp-off", "smp", "no-network"]) {
    assert.match(run.stdout, new RegExp(`done  riscv64-${config}-smoke: passed`));
  }
});

for (const arch of ARCHES) {
  Deno.test(`the configs' memory and CPU counts reach the ${arch} kernel`, async () => {
    const dir = await suitesDir({
      probe: "steps:\n  - name: cpus\n    run: cpus\n  - name: memstats\n    run: memstats\n",
    });
    const out = await Deno.makeTempDir({ prefix: "sis-e2e-" });
    try {
      const json = join(out, "results.json");
      const run = await sis(suiteRun(arch, dir, "probe", "--config", "all", "--json", json));
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const jobs: { config: string; steps: { name: string; output: string[] }[] }[] =
        JSON.parse(await Deno.readTextFile(json)).jobs;
      const seen = Object.fromEntries(jobs.map((job) => {
        const cpus = Number(/cpus online: (\d+)/.exec(job.steps[0].output.join("\n"))?.[1]);
        const ram = Number(/^ram_bytes (\d+)$/m.exec(job.steps[1].output.join("\n"))?.[1]);
        return [job.config, { cpus, ramMiB: Math.round(ram / (1024 * 1024)) }];
      }));
      assert.deepEqual(
        Object.fromEntries(Object.entries(seen).map(([config, value]) => [config, value.cpus])),
        { default: 2, lowmem: 2, "smp-off": 1, smp: 4, "no-network": 2 },
      );
      // The kernel sees the RAM QEMU was given, less firmware and holes: within 16 MiB.
      for (const [config, expected] of Object.entries({ default: 512, lowmem: 128, smp: 512 })) {
        const ramMiB = seen[config].ramMiB;
        assert.ok(ramMiB <= expected && ramMiB > expected - 16, `${config}: ${ramMiB} MiB`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(out, { recursive: true });
    }
  });
}

Deno.test("sis test with an unknown config or suite is a usage error naming the choices", async () => {
  const config = await sis(["test", "--arch", "riscv64", "--config", "huge"]);
  assert.equal(config.code, 2);
  assert.match(config.stderr, /^error: unknown config "huge" \(fix: use one of: default, lowmem/);
  const suite = await sis(["test", "--arch", "riscv64", "--suite", "nope"]);
  assert.equal(suite.code, 2);
  assert.match(suite.stderr, /^error: unknown suite "nope"/);
});

Deno.test("sis test exits 3 naming the fix when the configured QEMU is missing, and 2 for a bad sis.yaml", async () => {
  // A throwaway checkout: the real one must not get a sis.yaml from a test.
  const checkout = await Deno.makeTempDir({ prefix: "sis-e2e-checkout-" });
  try {
    await Deno.mkdir(join(checkout, "kernel/sis-kernel"), { recursive: true });
    await Deno.mkdir(join(checkout, "build/riscv64"), { recursive: true });
    await Deno.copyFile(
      join(ROOT, "kernel/sis-kernel/Cargo.toml"),
      join(checkout, "kernel/sis-kernel/Cargo.toml"),
    );
    // Any file will do as the ELF: QEMU never starts.
    await Deno.writeTextFile(join(checkout, "build/riscv64/sis-kernel.elf"), "not an ELF");
    await Deno.mkdir(join(checkout, "tests/suites"), { recursive: true });
    await Deno.copyFile(join(ROOT, "tests/suites/smoke.yaml"), join(checkout, "tests/suites/smoke.yaml"));
    await Deno.writeTextFile(join(checkout, "sis.yaml"), "qemu:\n  riscv64: qemu-system-nonexistent\n");
    // --no-build: the ELF is brought along, as a CI job that builds elsewhere does.
    const missing = await sis(["test", "--arch", "riscv64", "--no-build"], { SIS_ROOT: checkout });
    assert.equal(missing.code, 3, missing.stdout + missing.stderr);
    assert.match(
      missing.stderr,
      /^error: cannot start QEMU for "riscv64": qemu-system-nonexistent is not installed \(fix: /m,
    );
    await Deno.writeTextFile(join(checkout, "sis.yaml"), "configs:\n  lowmem:\n    memory: lots\n");
    const bad = await sis(["test", "--arch", "riscv64", "--no-build"], { SIS_ROOT: checkout });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^error: \S+sis\.yaml: configs\.lowmem\.memory: /m);
  } finally {
    await Deno.remove(checkout, { recursive: true });
  }
});

Deno.test("sis run attaches the console, Ctrl-] leaves, and QEMU is gone afterwards", async () => {
  const process = new SisProcess(["run", "--arch", "riscv64"], {}, "piped");
  const input = process.child.stdin.getWriter();
  try {
    const pid = await pollFor(() => {
      const match = /QEMU pid (\d+)/.exec(process.stderr);
      return match ? Number(match[1]) : undefined;
    }, 30_000);
    // Typed ahead of the prompt on purpose: sis holds it until the shell is ready.
    await input.write(new TextEncoder().encode("echo console works\r"));
    await pollFor(() => (/^console works\r?$/m.test(process.stdout) ? true : undefined), 30_000);
    await input.write(new Uint8Array([0x1d]));
    const finished = await process.done;
    assert.equal(finished.code, 0, finished.stderr);
    assert.match(finished.stderr, /left the console; QEMU stopped/);
    assert.equal(isQemuAlive(pid), false);
    // The session is a one-job run on the engine: its bundle holds the console's bytes and the verdict.
    const { dir, results } = await bundleResults(finished.stderr);
    assert.equal(results.kind, "run");
    const [job] = results.jobs as (typeof results.jobs[number] & { end: string })[];
    assert.deepEqual(
      { jobs: results.jobs.length, name: job.name, status: job.status, end: job.end, kernel: job.kernel },
      { jobs: 1, name: "riscv64-default-console", status: "passed", end: "left", kernel: undefined },
    );
    assert.deepEqual(results.summary, { passed: 1, failed: 0, skipped: 0, pending: 0, kernelFailures: 0 });
    assert.match(await Deno.readTextFile(join(dir, job.name, "serial.raw")), /^console works\r?$/m);
    const manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
    assert.equal(manifest.jobs[0].qemuPid, pid);
  } finally {
    await input.close().catch(() => {});
    await stop(process);
  }
});

for (const arch of ARCHES) {
  Deno.test(`sis run on ${arch} maps poweroff 3 back to code 3`, async () => {
    const process = new SisProcess(["run", "--arch", arch], {}, "piped");
    const input = process.child.stdin.getWriter();
    try {
      await input.write(new TextEncoder().encode("poweroff 3\r"));
      const finished = await endsWithin(process, RUN_END_BOUND_MS);
      // The kernel's poweroff code is sis run's exit code.
      assert.equal(finished.code, 3, finished.stderr);
      assert.match(finished.stderr, /machine ended: \{"kind":"poweroff","code":3\}/);
      // A code other than 0 is the session's failure, named in the step.
      const { results } = await bundleResults(finished.stderr);
      const [job] = results.jobs as (typeof results.jobs[number] & { end: string })[];
      assert.deepEqual(
        { status: job.status, end: job.end, messages: job.steps[0].messages, failed: results.summary.failed },
        { status: "failed", end: "poweroff", messages: ["the kernel powered off with code 3"], failed: 1 },
      );
    } finally {
      await input.close().catch(() => {});
      await stop(process);
    }
  });
}

Deno.test("sis run exits 4 on a panic typed at its console, and results.json carries the panic report", async () => {
  const process = new SisProcess(["run", "--arch", "riscv64"], {}, "piped");
  const input = process.child.stdin.getWriter();
  try {
    await input.write(new TextEncoder().encode("panic boom\r"));
    const finished = await endsWithin(process, RUN_END_BOUND_MS);
    assert.equal(finished.code, 4, finished.stderr);
    assert.match(finished.stderr, /machine ended: \{"kind":"panic"\}/);
    const { results } = await bundleResults(finished.stderr);
    const [job] = results.jobs as (typeof results.jobs[number] & { end: string })[];
    assert.deepEqual(
      { status: job.status, end: job.end, kind: job.kernel?.kind, message: job.kernel?.message },
      { status: "error", end: "panic", kind: "panic", message: "kernel panicked: boom" },
    );
    assert.equal(job.kernel?.record?.level, "FATAL");
    assert.equal(results.summary.kernelFailures, 1);
  } finally {
    await input.close().catch(() => {});
    await stop(process);
  }
});

Deno.test("under GitHub Actions a failing step gives an ::error annotation and a step summary", async () => {
  const dir = await suitesDir({
    gh: `
steps:
  - name: passes
    run: echo fine
    expect: { contains: [fine] }
  - name: expects the wrong text
    run: echo actual
    expect: { contains: [expected] }
`,
  });
  const summary = join(dir, "summary.md");
  try {
    const run = await sis(suiteRun("riscv64", dir, "gh"), {
      GITHUB_ACTIONS: "true",
      GITHUB_STEP_SUMMARY: summary,
    });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(
      run.stdout,
      /^::error title=gh\/expects the wrong text failed \(riscv64\/default\)::\$ echo actual%0Aoutput does not contain "expected"$/m,
    );
    const markdown = await Deno.readTextFile(summary);
    assert.match(markdown, /^## sis test: failed$/m);
    assert.match(markdown, /\| riscv64 \| default \| gh \| failed \| 1 \| 1 \|/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
