/**
 * Shell readers the e2e tests share (user_test.ts, user_protection_test.ts,
 * sched_test.ts): `memstats` as numbers, and `ps`'s two tables by pid.
 */
import assert from "node:assert/strict";
import type { Session } from "../../src/session/driver.ts";
import { ok } from "./_boot.ts";

/** `memstats` as name -> number. */
export async function memstats(session: Session): Promise<Record<string, number>> {
  const lines = await ok(session, "memstats");
  return Object.fromEntries(lines.map((line) => {
    const [name, value] = line.split(" ");
    return [name, Number(value)];
  }));
}

/** One task of `ps`'s first table. */
export interface TaskRow {
  pid: number;
  name: string;
  state: string;
  /** The CPU the task last ran on. */
  cpu: number;
  runtimeUs: number;
}

/** One row of `ps`'s user-process table (docs/SYSCALLS.md). */
export interface ProcessRow {
  pid: number;
  program: string;
  parent: string;
  state: string;
  pages: number;
  fds: number;
  progress: string;
  syscall: string;
}

/**
 * `ps`: the task table, every row in its order (a pid shown twice stays
 * twice), and (empty when none run) the user processes, by pid.
 */
export async function ps(
  session: Session,
): Promise<{ tasks: TaskRow[]; processes: Map<number, ProcessRow> }> {
  const lines = await ok(session, "ps");
  assert.match(lines[0] ?? "", /^\s*PID\s+NAME\s+STATE\s+CPU\s+RUNTIME_US\s+SWITCHES$/, lines.join("\n"));
  const header = lines.findIndex((line) =>
    /^\s*PID\s+PROGRAM\s+PARENT\s+STATE\s+PAGES\s+FDS\s+PROGRESS\s+SYSCALL$/.test(line)
  );
  const taskLines = lines.slice(1, header < 0 ? undefined : header).filter((line) => line.trim() !== "");
  const processLines = header < 0 ? [] : lines.slice(header + 1);
  const tasks = taskLines.map((line) => {
    const [pid, name, state, cpu, runtimeUs] = line.trim().split(/\s+/);
    return { pid: Number(pid), name, state, cpu: Number(cpu), runtimeUs: Number(runtimeUs) };
  });
  const processes = new Map(processLines.map((line) => {
    const [pid, program, parent, state, pages, fds, progress, syscall] = line.trim().split(/\s+/);
    const row = {
      pid: Number(pid),
      program,
      parent,
      state,
      pages: Number(pages),
      fds: Number(fds),
      progress,
      syscall,
    };
    return [row.pid, row] as const;
  }));
  return { tasks, processes };
}
