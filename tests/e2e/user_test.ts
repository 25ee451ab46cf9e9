/**
 * End-to-end tests of user mode (issue 12) on every arch in the real QEMU,
 * the three kernels booted side by side: the embedded programs load with
 * W^X segments; `run hello` prints its line; `run fault` is killed with one
 * report line and the shell still answers; `run badptr` gets EFAULT for
 * every bad pointer; `run selftest` makes every call of the table work and
 * fail as documented; `syscalls --json` counts what ran; after 1,000 runs of
 * hello the heap is back where it was; `ps` shows a live process; and a
 * kernel panic report names it.
 */
import assert from "node:assert/strict";
import { BUILTIN_CONFIGS } from "../../src/qemu/profiles.ts";
import { type Session, SessionPanicError } from "../../src/session/driver.ts";
import { freshKernels, ok, onEveryArch, withFramedKernel } from "./_boot.ts";
import { memstats } from "./_user.ts";

const kernels = await freshKernels();

/** kernel/user/link.ld: every program's text starts here. */
const USER_IMAGE_BASE = "0x2000000000";

/** Runs of hello in the leak check (the figure). */
const RUNS = 1000;

/**
 * How far the heap may be from its start after RUNS runs. One process holds
 * more than 60 KiB (image, 8 stack pages, argument page, tables), so a leak
 * of even 1/2000 of that per run shows.
 */
const HEAP_SLACK_BYTES = 32 * 1024;

/** Sysno numbers (kernel/crates/syscall/src/table.rs). */
const SLEEP = 9;

interface SyscallCounts {
  calls: number;
  by_syscall: Record<string, Record<string, number>>;
}

async function syscalls(session: Session): Promise<SyscallCounts> {
  const [line, ...rest] = await ok(session, "syscalls --json");
  assert.deepEqual(rest, [], "syscalls --json prints one line");
  return JSON.parse(line) as SyscallCounts;
}

function count(counts: SyscallCounts, call: string, outcome: string): number {
  return counts.by_syscall[call]?.[outcome] ?? 0;
}

async function programsAreChecked(session: Session): Promise<void> {
  const result = await session.run("programs");
  assert.equal(result.status, 0, result.output.join("\n"));
  const [header, ...rows] = result.output;
  assert.match(header, /^NAME\s+BYTES\s+ENTRY\s+SEGMENTS$/);
  assert.deepEqual(rows.map((row) => row.split(/\s+/)[0]).slice(0, 3), ["hello", "fault", "badptr"]);
  for (const row of rows) {
    const [name, bytes, entry, ...segments] = row.split(/\s+/);
    assert.ok(Number(bytes) > 0, `${name}: size ${bytes}`);
    assert.equal(entry, USER_IMAGE_BASE, row);
    // Text first at the base, then read-only data; each a separate page range.
    assert.match(segments[0], new RegExp(`^r-x@${USER_IMAGE_BASE}\\+\\d+p$`), row);
    assert.ok(segments.every((segment) => /^(r-x|r--|rw-)@0x[0-9a-f]+\+\d+p$/.test(segment)), row);
  }
  assert.equal((await session.run("programs extra")).status, 22);
}

/** Everything the "done when" asks of one kernel. */
async function userMode(session: Session): Promise<void> {
  await programsAreChecked(session);
  const before = await syscalls(session);

  assert.deepEqual(await ok(session, "run hello"), ["hello from user mode"]);

  // A fault kills the process with exactly one line; the shell goes on.
  const fault = await session.run("run fault");
  assert.deepEqual(fault.output.length, 1, fault.output.join("\n"));
  assert.match(fault.output[0], /^killed: pid \d+ \(fault\): page fault at 0x0$/);
  assert.equal(fault.status, 139, "killed by a page fault: 128 + SIGSEGV, as shells show it");
  assert.deepEqual(await ok(session, "echo still here"), ["still here"]);

  // Every bad pointer is EFAULT, and the program says so by exiting 0.
  const badptr = await ok(session, "run badptr");
  assert.equal(badptr.length, 4, badptr.join("\n"));
  for (const line of badptr) assert.match(line, /^badptr: write\(1, 0x[0-9a-f]+, 16\) = EFAULT$/);

  // Every call of the table works (and fails) as docs/SYSCALLS.md says,
  // child processes included: selftest's own checks, one line each.
  const selftest = await ok(session, "run selftest");
  const summary = selftest.at(-1) ?? "";
  const checks = Number(/^selftest: (\d+) checks, 0 failed$/.exec(summary)?.[1]);
  assert.ok(checks >= 40, selftest.join("\n"));
  const others = selftest.slice(0, -1).filter((line) => !/^selftest: [a-z-]+ ok$/.test(line));
  assert.equal(selftest.length - 1 - others.length, checks, selftest.join("\n"));
  assert.equal(others.length, 2, `its children's lines only: ${others.join("\n")}`);
  assert.equal(others[0], "hello from user mode");
  assert.match(others[1], /^killed: pid \d+ \(fault\): page fault at 0x0$/);

  // A usage error of the program is its exit status, not the kernel's.
  const usage = await session.run("run hello soon");
  assert.equal(usage.status, 2, usage.output.join("\n"));
  const missing = await session.run("run nosuch");
  assert.equal(missing.status, 2, "ENOENT");
  assert.match(missing.output.join("\n"), /^error: ENOENT: no program 'nosuch'/);

  // The counts since boot moved by what ran: hello's write, badptr's
  // four EFAULTs, the exits.
  const after = await syscalls(session);
  assert.ok(after.calls > before.calls, `${before.calls} -> ${after.calls}`);
  assert.equal(count(after, "write", "EFAULT") - count(before, "write", "EFAULT"), 4);
  assert.ok(
    count(after, "write", "ok") - count(before, "write", "ok") >= 6,
    "hello twice, badptr's four labels",
  );
  assert.ok(
    count(after, "exit", "ok") - count(before, "exit", "ok") >= 5,
    "hello, badptr, selftest and its hello, hello soon",
  );

  // 1,000 runs in one round trip; afterwards the heap is back near its
  // start and no user page is held.
  await ok(session, "run hello"); // first-run allocations (task table growth) before the baseline
  const start = await memstats(session);
  const runs = await ok(session, `run --repeat ${RUNS} hello`, 600_000);
  assert.equal(runs.length, RUNS);
  assert.ok(runs.every((line) => line === "hello from user mode"), "every run printed its line");
  const end = await memstats(session);
  assert.equal(start.user_pages, 0, "no process is left after run returned");
  assert.equal(end.user_pages, 0, "no user page is held after 1,000 runs");
  const drift = end.heap_current_bytes - start.heap_current_bytes;
  assert.ok(
    Math.abs(drift) <= HEAP_SLACK_BYTES,
    `heap ${start.heap_current_bytes} -> ${end.heap_current_bytes} bytes after ${RUNS} runs`,
  );
  assert.ok(end.heap_allocations - start.heap_allocations >= RUNS, "the runs did allocate");
  const finalCounts = await syscalls(session);
  assert.ok(count(finalCounts, "exit", "ok") - count(after, "exit", "ok") >= RUNS + 1);

  // Every process is gone from the table, selftest's unwaited children
  // included: ps lists no user process.
  const quiet = await ok(session, "ps");
  assert.ok(!quiet.some((line) => /\bPROGRAM\b/.test(line)), quiet.join("\n"));

  // kill ends a sleeping process at once, with one line, and frees it.
  const [victim] = await ok(session, "run --background hello 60000");
  const victimPid = Number(/^run: pid (\d+)$/.exec(victim)?.[1]);
  assert.deepEqual(await ok(session, `kill ${victimPid}`), [
    `killed: pid ${victimPid} (hello): killed by request`,
  ]);
  assert.equal((await memstats(session)).user_pages, 0);
  assert.equal((await session.run(`kill ${victimPid}`)).status, 3, "ESRCH: it is gone");

  // ps shows a live process, asleep in syscall 9 (sleep) for the rest of
  // the test.
  const [started] = await ok(session, "run --background hello 60000");
  const pid = Number(/^run: pid (\d+)$/.exec(started)?.[1]);
  assert.ok(pid > 0, started);
  // Asked until the process is inside sleep (it starts by writing its
  // line): the event is the kernel's, each look one real `ps`.
  let ps: string[] = [];
  let row: string[] | undefined;
  for (let look = 0; look < 100 && row?.[7] !== String(SLEEP); look++) {
    ps = await ok(session, "ps");
    const header = ps.findIndex((line) =>
      /^\s*PID\s+PROGRAM\s+PARENT\s+STATE\s+PAGES\s+FDS\s+PROGRESS\s+SYSCALL$/.test(line)
    );
    assert.ok(header > 0, ps.join("\n"));
    row = ps.slice(header + 1).map((line) => line.trim().split(/\s+/)).find((fields) =>
      Number(fields[0]) === pid
    );
    assert.ok(row, `pid ${pid} in ps:\n${ps.join("\n")}`);
  }
  assert.ok(row);
  const [, program, parent, state, pages, fds, progress, syscall] = row;
  assert.deepEqual([program, parent, state, fds, progress, syscall], [
    "hello",
    "-",
    "running",
    "3",
    "-",
    String(SLEEP),
  ], row.join(" "));
  assert.ok(Number(pages) >= 10, `pages ${pages}: image, stack and argument page`);
  assert.ok(
    ps.some((line) => new RegExp(`^\\s*${pid}\\s+hello\\s`).test(line)),
    "its task is in the task table",
  );

  // The metrics show the one live process and what it holds, and count
  // every call since boot by name and every failure by errno.
  const metrics = new Map(
    (await ok(session, "metrics --format prometheus")).filter((line) => !line.startsWith("#")).map(
      (line) => {
        const space = line.lastIndexOf(" ");
        return [line.slice(0, space), Number(line.slice(space + 1))] as const;
      },
    ),
  );
  assert.equal(metrics.get("sis_user_processes"), 1);
  assert.equal(metrics.get("sis_user_pages"), Number(pages));
  assert.equal(metrics.get("sis_user_open_fds"), 3);
  assert.ok((metrics.get('sis_syscalls_total{syscall="exit"}') ?? 0) >= RUNS + 6);
  // Counted when it returns: the background hello's sleep is not in yet.
  const sleeps = Object.values(finalCounts.by_syscall.sleep ?? {}).reduce((sum, n) => sum + n, 0);
  assert.equal(metrics.get('sis_syscalls_total{syscall="sleep"}'), sleeps);
  assert.ok((metrics.get('sis_syscalls_total{syscall="write"}') ?? 0) >= RUNS + 6);
  assert.equal(
    metrics.get('sis_syscall_errors_total{errno="EFAULT"}'),
    count(finalCounts, "write", "EFAULT"),
  );

  // A kernel panic report names every live process and the syscall it is in.
  const panic = await session.run("panic on purpose").then(
    (result) => new Error(`no panic: ${result.output.join("\n")}`),
    (error: unknown) => error,
  );
  assert.ok(panic instanceof SessionPanicError, `expected a panic, got ${panic}`);
  assert.ok(
    panic.report.includes(`user: pid=${pid} program=hello progress=- syscall=${SLEEP}`),
    panic.report.join("\n"),
  );
}

Deno.test("user mode on aarch64, riscv64 and x86_64 (booted side by side): run, fault, badptr, ps, syscalls, 1,000 runs", async () => {
  await onEveryArch((arch) =>
    withFramedKernel(
      { arch, config: BUILTIN_CONFIGS.default, kernelPath: kernels[arch].path },
      30_000,
      userMode,
    )
  );
});
