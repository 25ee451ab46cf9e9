/**
 * The lock-order check in a real kernel (docs/kernel-smp.md, "Locks and
 * their order"). Debug builds always check; this boots release builds with
 * the `lock-order-check` feature, the same check (`percpu.rs`
 * CHECK_LOCK_ORDER) in kernels that rebuild in seconds, where a cold debug
 * build (build-std included) costs minutes. A violation panics the kernel,
 * which the session reports as a SessionPanicError, so every step below
 * fails on an out-of-order acquire.
 *
 * First, on every arch, the paths that nest locks run under the check: user
 * programs (their process table, console and captured output, file calls,
 * spawn, wait and kill), the shell's metrics, and a `/metrics` scrape over
 * the NIC (the `net` task renders it holding the network stack's lock).
 * Then `lockorder` takes a rank-4 lock and a rank-2 lock and the kernel
 * panics with the report that names both. The host tests of
 * `sis-lockorder` cover the check itself and the documented nestings.
 */
import assert from "node:assert/strict";
import { type Arch, ARCHES } from "../../src/arch.ts";
import type { Machine } from "../../src/qemu/machine.ts";
import { BUILTIN_CONFIGS, type MachineConfig } from "../../src/qemu/profiles.ts";
import { type Session, SessionPanicError } from "../../src/session/driver.ts";
import { buildPaths } from "../../src/toolchain/build.ts";
import { ok, withFramedKernel } from "./_boot.ts";
import { buildFeatureKernels, ROOT } from "./_harness.ts";

/** Checking kernels go beside the plain ones, never over them. */
const CHECK_BUILD_DIR = "build/lock-order-check";

/** Builds the checking kernels of every arch once, for both tests. */
const built: Promise<void> = buildFeatureKernels(ARCHES, "lock-order-check", CHECK_BUILD_DIR);
// Awaited by each test; marked handled here so a quick failure (no
// toolchain) is reported by the tests, not as an unhandled rejection.
built.catch(() => {});

async function withCheckingKernel(
  arch: Arch,
  config: MachineConfig,
  body: (session: Session, machine: Machine) => Promise<void>,
): Promise<void> {
  await built;
  await withFramedKernel(
    { arch, config, kernelPath: buildPaths(ROOT, arch, CHECK_BUILD_DIR).elf },
    60_000,
    body,
  );
}

/** A step that must not panic: a lock-order panic is reported with its record. */
async function step<T>(arch: Arch, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof SessionPanicError) {
      throw new Error(`${arch}: ${what} panicked the checking kernel:\n${error.report.join("\n")}`);
    }
    throw error;
  }
}

/** Waits for the background DHCP: `ifconfig` is asked until it shows an address (bounded). */
async function waitForAddress(arch: Arch, session: Session): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const lines = await ok(session, "ifconfig");
    if (lines.some((line) => line.includes("inet 10.0.2.15/24"))) return;
    assert.ok(Date.now() < deadline, `${arch}: no address after 30 s: ${lines.join(" | ")}`);
    // The kernel sleeps between the two asks, so its net task gets the CPU.
    await ok(session, "sleep 50");
  }
}

async function userProgramsAndScrapes(arch: Arch): Promise<void> {
  await withCheckingKernel(arch, BUILTIN_CONFIGS.default, async (session, machine) => {
    await step(arch, "ls /", () => ok(session, "ls /"));
    // Every call of the syscall table, child processes included.
    const selftest = await step(arch, "run selftest", () => ok(session, "run selftest"));
    assert.match(
      selftest.at(-1) ?? "",
      /^selftest: \d+ checks, 0 failed$/,
      `${arch}: ${selftest.join("\n")}`,
    );
    // Births, exits and reaping in a row (the process table's lock).
    const repeated = await step(arch, "run --repeat 20 hello", () => ok(session, "run --repeat 20 hello"));
    assert.deepEqual(repeated, Array(20).fill("hello from user mode"), arch);
    // A fault: the kill line under the console lock, the exit.
    const fault = await step(arch, "run fault", () => session.run("run fault"));
    assert.equal(fault.status, 139, `${arch}: ${fault.output.join("\n")}`);
    assert.match(fault.output.join("\n"), /^killed: pid \d+ \(fault\): page fault at 0x0$/, arch);
    // A redirected run: the captured output grows under its lock, and the
    // shell writes it to the file system.
    await step(arch, "run hello > /out", () => ok(session, "run hello > /out"));
    assert.deepEqual(
      await step(arch, "cat /out", () => ok(session, "cat /out")),
      ["hello from user mode"],
      arch,
    );
    // kill: a sleeping process woken and reaped.
    const [started] = await step(arch, "run --background", () => ok(session, "run --background hello 60000"));
    const pid = Number(/^run: pid (\d+)$/.exec(started)?.[1]);
    assert.ok(pid > 0, `${arch}: ${started}`);
    assert.deepEqual(await step(arch, "kill", () => ok(session, `kill ${pid}`)), [
      `killed: pid ${pid} (hello): killed by request`,
    ]);
    // The shell's metrics: file system, heap, scheduler and process table in turn.
    const metrics = await step(arch, "metricsctl", () => ok(session, "metricsctl"));
    assert.ok(
      metrics.some((line) => line.startsWith("sis_user_processes ")),
      `${arch}: ${metrics.join("\n")}`,
    );
    // The net task renders /metrics holding the network stack's lock.
    await step(arch, "ifconfig", () => waitForAddress(arch, session));
    for (let scrape = 0; scrape < 3; scrape++) {
      const response = await fetch(`http://127.0.0.1:${machine.forwards!.metrics}/metrics`);
      const text = await response.text();
      assert.equal(response.status, 200, `${arch}: ${text}`);
      assert.match(text, /^sis_user_processes \d+$/m, arch);
    }
    // Still alive after the scrapes: a panic in the net task would show here.
    await step(arch, "ps", () => ok(session, "ps"));
  });
}

Deno.test("a lock-order-checking kernel runs user programs, metrics and /metrics scrapes on every arch without a violation", async () => {
  // Settled, not raced: every arch's QEMU is shut down before the test ends.
  const results = await Promise.allSettled(ARCHES.map((arch) => userProgramsAndScrapes(arch)));
  const failures = results.flatMap((result) => result.status === "rejected" ? [result.reason] : []);
  if (failures.length > 0) throw failures.length === 1 ? failures[0] : new AggregateError(failures);
});

Deno.test("a lock-order-checking kernel panics naming both locks when two are taken out of order", async () => {
  // One arch: the check is arch-independent code (`sync.rs`, `percpu.rs`).
  await withCheckingKernel("aarch64", BUILTIN_CONFIGS["no-network"], async (session) => {
    // The documented order still works in the checking kernel.
    assert.equal((await session.run("ls /")).status, 0);
    const error = await session.run("lockorder").then(() => undefined, (caught) => caught);
    assert.ok(error instanceof SessionPanicError, `expected the lock-order panic, got ${error}`);
    assert.match(
      error.report.join("\n"),
      /lock order violated: taking fs::ROOT \(rank 2\) while holding sched::SCHEDULER \(rank 4\)/,
    );
  });
});
