/**
 * End-to-end tests of the preemptive SMP scheduler (issue 11), on every
 * arch in the real QEMU: a busy loop does not freeze the shell, secondary
 * CPUs run tasks, and the CPU count shows in what the kernel reports.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Arch, ARCHES } from "../../src/arch.ts";
import type { Machine } from "../../src/qemu/machine.ts";
import { BUILTIN_CONFIGS, type MachineConfig } from "../../src/qemu/profiles.ts";
import { type Session, SessionPanicError } from "../../src/session/driver.ts";
import { freshKernels, ok, withFramedKernel } from "./_boot.ts";
import { ps, type TaskRow } from "./_user.ts";

const kernels = await freshKernels();

function withKernel(
  arch: Arch,
  config: MachineConfig,
  body: (session: Session, machine: Machine) => Promise<void>,
): Promise<void> {
  return withFramedKernel({ arch, config, kernelPath: kernels[arch].path }, 20_000, body);
}

/** Rows of `ps`'s task table (PID NAME STATE CPU RUNTIME_US SWITCHES). */
async function tasks(session: Session): Promise<TaskRow[]> {
  return (await ps(session)).tasks;
}

/** Spin tasks still alive (not exited and freed). */
function spinners(rows: TaskRow[]): TaskRow[] {
  return rows.filter((row) => row.name === "spin");
}

for (const arch of ARCHES) {
  Deno.test(`kernel on ${arch} with one CPU: the shell answers while busy tasks spin`, async () => {
    await withKernel(arch, BUILTIN_CONFIGS["smp-off"], async (session) => {
      // Long enough to outlast the test: if the shell answers while the spin
      // tasks are still alive on the only CPU, the tick preempted them.
      assert.deepEqual(await ok(session, "spin --tasks 4 --ms 60000 --background"), [
        "spin: 4 tasks for 60000 ms in the background",
      ]);
      for (let index = 0; index < 20; index++) {
        assert.deepEqual(await ok(session, `echo answer ${index}`), [`answer ${index}`]);
      }
      const alive = spinners(await tasks(session));
      assert.equal(alive.length, 4, "the spin tasks are still alive, so the shell ran between their slices");
      assert.ok(alive.every((row) => row.cpu === 0 && row.state !== "exited"));
      // Quiet for 100 ms: with no input to wake the shell, only the tick
      // moves the CPU between the four spin tasks.
      await ok(session, "sleep 100");
      const cpus = await ok(session, "cpus");
      const preemptions = Number(/^preemptions: (\d+)$/.exec(cpus.at(-1)!)?.[1]);
      assert.ok(preemptions > 0, `the tick preempted tasks: ${cpus.join(" | ")}`);
      // A second job is refused while one runs, with a clear error.
      const busy = await session.run("spin --tasks 1 --ms 10");
      assert.notEqual(busy.status, 0);
      assert.match(busy.output.join("\n"), /EBUSY/);
    });
  });

  Deno.test(`kernel on ${arch} with one CPU: spin --yield counts whole context switches`, async () => {
    await withKernel(arch, BUILTIN_CONFIGS["smp-off"], async (session) => {
      const switches = async () => {
        const lines = await ok(session, "metricsctl --format prometheus");
        return Number(lines.find((line) => line.startsWith("sis_ctx_switches_total "))?.split(" ")[1]);
      };
      const before = await switches();
      const [line] = await ok(session, "spin --tasks 2 --ms 200 --yield");
      const after = await switches();
      const match = /^spin: 2 tasks, 200 ms, work (\d+) \(per task: (\d+) (\d+)\)$/.exec(line);
      assert.ok(match, line);
      const [work, first, second] = match.slice(1).map(Number);
      assert.ok(first > 0 && second > 0 && work === first + second, line);
      // Two ready tasks on one CPU: every yield hands it to the other one,
      // so the kernel counted a switch per unit of work, but for the last
      // stretch (under 1,024 yields) of the task that finished second alone.
      assert.ok(work > 10_000, line);
      assert.ok(after - before >= work - 1024, `${after - before} switches for ${work} yields`);
      // Taking turns, the two did the same work to within a clock check
      // (each stores its count every 1,024 yields).
      assert.ok(Math.abs(first - second) <= 1024, line);
    });
  });

  Deno.test(`kernel on ${arch} with -smp 4: ps shows tasks running on more than one CPU, every idle CPU woken for them`, async () => {
    await withKernel(arch, BUILTIN_CONFIGS.smp, async (session) => {
      await ok(session, "spin --tasks 4 --ms 60000 --background");
      // The shell's CPU sends each idle CPU a wake-up IPI for the queued
      // tasks; an idle CPU with no sleeper of its own wakes for nothing
      // else. So every CPU runs a spin task soon: wait for that event
      // (seen across ps samples, since the shell takes CPU 0 to answer),
      // bounded by a minute: on a loaded host the woken vCPU threads may
      // wait seconds for a host core.
      const seen = new Set<number>();
      const giveUpAt = Date.now() + 60_000;
      while (seen.size < 4 && Date.now() < giveUpAt) {
        const running = spinners(await tasks(session)).filter((row) => row.state === "running");
        for (const row of running) seen.add(row.cpu);
      }
      assert.deepEqual([...seen].sort(), [0, 1, 2, 3], `spin tasks ran on CPUs ${[...seen].join(", ")}`);
    });
  });

  Deno.test(`kernel on ${arch}: smp-off and default differ in the CPUs they show`, async () => {
    const shown: Record<string, { rows: number; idleTasks: number }> = {};
    for (const config of [BUILTIN_CONFIGS["smp-off"], BUILTIN_CONFIGS.default]) {
      await withKernel(arch, config, async (session) => {
        const [online, , ...rest] = await ok(session, "cpus");
        assert.equal(online, `cpus online: ${config.cpus}`);
        const idleTasks = (await tasks(session)).filter((row) => row.name === "idle");
        assert.deepEqual(idleTasks.map((row) => row.cpu).sort(), [...Array(config.cpus).keys()]);
        shown[config.name] = { rows: rest.length - 1, idleTasks: idleTasks.length };
      });
    }
    assert.deepEqual(shown, { "smp-off": { rows: 1, idleTasks: 1 }, default: { rows: 2, idleTasks: 2 } });
  });
}

for (const arch of ARCHES) {
  Deno.test(`kernel on ${arch} with -smp 4: four CPUs panicking at once give one report`, async () => {
    await withKernel(arch, BUILTIN_CONFIGS.smp, async (session, machine) => {
      const error = await session.run("panic --all-cpus").then(() => undefined, (caught: unknown) => caught);
      assert.ok(error instanceof SessionPanicError, `expected a panic, got ${error}`);
      assert.ok(error.record, `a JSON panic record after the report:\n${error.report.join("\n")}`);
      assert.match(error.record.message as string, /^panic on purpose on cpu \d \(panic --all-cpus\)$/);
      const exit = await machine.exited;
      assert.equal(exit.outcome.kind, "panic", JSON.stringify(exit.outcome));
      const transcript = await Deno.readTextFile(join(machine.runDir, "serial.log"));
      assert.equal(transcript.split("!!! KERNEL PANIC !!!").length - 1, 1, "exactly one report");
      assert.ok(!transcript.includes("RECURSIVE PANIC"), "no misleading recursive-panic line");
    });
  });
}
