/**
 * Boots a kernel in the real QEMU straight to a framed shell session, for
 * the e2e tests that drive the kernel without `sis`: fresh kernels, the
 * boot itself, a command that must succeed, and the three archs side by side.
 */
import assert from "node:assert/strict";
import { type Arch, ARCHES } from "../../src/arch.ts";
import { testContext } from "../../src/context.ts";
import { type LaunchOptions, Machine } from "../../src/qemu/machine.ts";
import { ensureKernels, type KernelFile } from "../../src/runs/kernels.ts";
import { type CommandResult, Session } from "../../src/session/driver.ts";
import { ROOT } from "./_harness.ts";

/**
 * The kernels under test, fresh: the engine's incremental build runs first
 * (well under a second when nothing changed), so a test never boots an ELF
 * older than the checkout, the stale-kernel trap the engine closes.
 */
export function freshKernels(arches: readonly Arch[] = ARCHES): Promise<Record<string, KernelFile>> {
  return ensureKernels(ROOT, [...arches], testContext({ cwd: ROOT, env: Deno.env.toObject() }));
}

/**
 * Launches the machine, waits for the prompt and turns framing on, with
 * `timeoutMs` for the boot and for every command; a machine that does not
 * get that far is shut down before the error is thrown.
 */
export async function bootFramed(
  options: LaunchOptions,
  timeoutMs: number,
): Promise<{ machine: Machine; session: Session }> {
  const machine = await Machine.launch(options);
  const session = new Session(machine, { bootTimeoutMs: timeoutMs, commandTimeoutMs: timeoutMs });
  try {
    await session.boot();
    await session.enableFraming();
  } catch (error) {
    await machine.shutdown();
    throw error;
  }
  return { machine, session };
}

/**
 * Boots as {@link bootFramed} does, runs `body` on the framed session and
 * shuts the machine down however `body` ended.
 */
export async function withFramedKernel<T>(
  options: LaunchOptions,
  timeoutMs: number,
  body: (session: Session, machine: Machine) => Promise<T>,
): Promise<T> {
  const { machine, session } = await bootFramed(options, timeoutMs);
  try {
    return await body(session, machine);
  } finally {
    await machine.shutdown();
  }
}

/** Runs `command` and returns its output; any non-zero status fails the test. */
export async function ok(session: Session, command: string, timeoutMs?: number): Promise<string[]> {
  const result: CommandResult = await session.run(command, timeoutMs);
  assert.equal(result.status, 0, `${command} failed (${result.status}): ${result.output.join("\n")}`);
  return result.output;
}

/**
 * Runs `check` for every arch at once (the kernels booted side by side) and
 * fails with every arch's failure, not only the first one's.
 */
export async function onEveryArch(check: (arch: Arch) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(ARCHES.map((arch) => check(arch)));
  const failures = results.flatMap((result, index) =>
    result.status === "rejected"
      ? [`${ARCHES[index]}: ${result.reason instanceof Error ? result.reason.message : result.reason}`]
      : []
  );
  assert.deepEqual(failures, [], failures.join("\n\n"));
}
