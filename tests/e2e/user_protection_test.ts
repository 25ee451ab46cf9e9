/**
 * End-to-end tests of user-mode protection (issue 12) on every arch in the
 * real QEMU, the three kernels booted side by side: the `escape` program's
 * misdeeds (a jump into kernel text, a read of a kernel address, a write
 * into its own text, a jump into its own stack, an undefined and a
 * privileged instruction) each end in exactly one kill line of the kind
 * the arch documents (docs/boot-<arch>.md "User mode") at the address the
 * program announced, the shell answers and no user page is left; busy loops
 * without a syscall, one more than there are CPUs, leave the shell
 * answering until `kill` ends them and frees their pages.
 */
import assert from "node:assert/strict";
import type { Arch } from "../../src/arch.ts";
import { readElf } from "../../src/parse/elf.ts";
import { BUILTIN_CONFIGS, type MachineConfig } from "../../src/qemu/profiles.ts";
import type { Session } from "../../src/session/driver.ts";
import { freshKernels, ok, onEveryArch, withFramedKernel } from "./_boot.ts";
import { memstats, ps } from "./_user.ts";

const kernels = await freshKernels();

/** sis-syscall limits.rs and kernel/user/link.ld: where the program's own pages are. */
const USER_IMAGE_BASE = 0x20_0000_0000n;
const USER_IMAGE_END = USER_IMAGE_BASE + 0x10_0000n; // far more than any program's pages
const USER_STACK_TOP = 0x1f_ffff_0000n;
const USER_STACK_BOTTOM = USER_STACK_TOP - 8n * 4096n;

type Misdeed = "text" | "readk" | "wtext" | "xdata" | "illegal" | "priv";

/** The kill report's words and exit status (128 + signal, docs/SYSCALLS.md). */
interface Kill {
  kind: string;
  status: number;
}
const PAGE_FAULT: Kill = { kind: "page fault", status: 139 };
const ILLEGAL: Kill = { kind: "illegal instruction", status: 132 };

/** The kills on aarch64 and riscv64, where a privileged instruction is an illegal one. */
const PRIVILEGED_IS_ILLEGAL: Record<Misdeed, Kill> = {
  text: PAGE_FAULT,
  readk: PAGE_FAULT,
  wtext: PAGE_FAULT,
  xdata: PAGE_FAULT,
  illegal: ILLEGAL,
  priv: ILLEGAL,
};

/**
 * What each arch documents (docs/boot-<arch>.md, arch/<arch>/user.rs):
 * every forbidden access is a page fault (aarch64 instruction/data abort,
 * riscv64 page or access fault, x86_64 #PF); an undefined instruction is
 * illegal; a privileged one is illegal on aarch64 (`msr daifset`: trapped
 * system register access, EC 0x18) and riscv64 (`csrr sstatus`), and #GP,
 * reported by vector, on x86_64 (`hlt`).
 */
const EXPECTED: Record<Arch, Record<Misdeed, Kill>> = {
  aarch64: PRIVILEGED_IS_ILLEGAL,
  riscv64: PRIVILEGED_IS_ILLEGAL,
  x86_64: { ...PRIVILEGED_IS_ILLEGAL, priv: { kind: "exception 0xd", status: 134 } },
};

/** Echo round trips the shell must answer while busy loops run. */
const ROUND_TRIPS = 5;

/** Where each misdeed's address must be: the kernel's entry, or the program's own pages. */
function addressIsRight(misdeed: Misdeed, address: bigint, kernelEntry: bigint): boolean {
  switch (misdeed) {
    case "text":
    case "readk":
      return address === kernelEntry;
    case "xdata":
      return address >= USER_STACK_BOTTOM && address < USER_STACK_TOP;
    default:
      return address >= USER_IMAGE_BASE && address < USER_IMAGE_END;
  }
}

/** Boots `arch`'s kernel with `config`, runs `body` on its framed shell, and shuts it down. */
function withKernel(
  arch: Arch,
  config: MachineConfig,
  body: (session: Session) => Promise<void>,
): Promise<void> {
  return withFramedKernel({ arch, config, kernelPath: kernels[arch].path }, 30_000, body);
}

/** Each misdeed: one kill line of the documented kind at the announced address; the kernel goes on. */
async function misdeeds(arch: Arch, session: Session): Promise<void> {
  // The kernel's entry point: an address in kernel text, mapped in every
  // process's tables and unreachable from user mode.
  const kernelEntry = readElf(await Deno.readFile(kernels[arch].path)).entry;
  for (const [misdeed, expected] of Object.entries(EXPECTED[arch]) as [Misdeed, Kill][]) {
    const command = misdeed === "text" || misdeed === "readk"
      ? `run escape ${misdeed} 0x${kernelEntry.toString(16)}`
      : `run escape ${misdeed}`;
    const result = await session.run(command);
    const transcript = `${command}:\n${result.output.join("\n")}`;
    assert.equal(result.output.length, 2, transcript);
    const announced = new RegExp(`^escape: ${misdeed} at (0x[0-9a-f]+)$`).exec(result.output[0]);
    assert.ok(announced, transcript);
    const address = announced[1];
    assert.ok(
      addressIsRight(misdeed, BigInt(address), kernelEntry),
      `${address} is not where ${misdeed} goes`,
    );
    assert.match(
      result.output[1],
      new RegExp(`^killed: pid \\d+ \\(escape\\): ${expected.kind} at ${address}$`),
      transcript,
    );
    assert.equal(result.status, expected.status, transcript);
    assert.deepEqual(await ok(session, `echo after ${misdeed}`), [`after ${misdeed}`]);
    assert.equal((await memstats(session)).user_pages, 0, `user pages left after ${misdeed}`);
  }
  // Bad arguments are the program's usage error (status 2), not a kill.
  for (const command of ["run escape", "run escape fly", "run escape text 0xzz"]) {
    const result = await session.run(command);
    assert.equal(result.status, 2, `${command}: ${result.output.join("\n")}`);
    assert.equal(result.output.length, 1, result.output.join("\n"));
    assert.match(result.output[0], /^(usage: escape |escape: the address must be hexadecimal)/);
  }
}

/**
 * One more busy loop than CPUs, so the shell shares a CPU with one: it
 * answers each echo while they spin in user mode (no syscall, their run
 * time growing), then `kill` ends each with one line and frees its pages.
 */
async function spinners(session: Session, cpus: number): Promise<void> {
  const pids: number[] = [];
  for (let index = 0; index <= cpus; index++) {
    const [started] = await ok(session, "run --background escape spin");
    const pid = Number(/^run: pid (\d+)$/.exec(started)?.[1]);
    assert.ok(pid > 0, started);
    pids.push(pid);
  }
  const first = await ps(session);
  const grew = new Set<number>();
  // At least ROUND_TRIPS round trips, and until every loop has visibly run
  // (its task's run time moved): each look is one real `ps`.
  for (let trip = 0; trip < ROUND_TRIPS || (grew.size < pids.length && trip < 100); trip++) {
    assert.deepEqual(await ok(session, `echo trip ${trip}`), [`trip ${trip}`]);
    const now = await ps(session);
    for (const pid of pids) {
      const process = now.processes.get(pid);
      assert.ok(process, `pid ${pid} is not in ps`);
      assert.deepEqual([process.program, process.state, process.syscall], ["escape", "running", "-"]);
      const task = now.tasks.find((row) => row.pid === pid);
      assert.ok(task && task.name === "escape", `pid ${pid} has no escape task`);
      if (task.runtimeUs > (first.tasks.find((row) => row.pid === pid)?.runtimeUs ?? Infinity)) grew.add(pid);
    }
  }
  assert.equal(grew.size, pids.length, `loops that ran: ${[...grew].join(", ")} of ${pids.join(", ")}`);
  for (const pid of pids) {
    assert.deepEqual(await ok(session, `kill ${pid}`), [`killed: pid ${pid} (escape): killed by request`]);
  }
  assert.equal((await memstats(session)).user_pages, 0, "user pages left after kill");
  assert.equal((await ps(session)).processes.size, 0, "no user process is left");
}

Deno.test("user protection on aarch64, riscv64 and x86_64 (side by side): each escape is killed as documented, busy loops are preempted and killed", async () => {
  await onEveryArch((arch) =>
    withKernel(arch, BUILTIN_CONFIGS.default, async (session) => {
      await misdeeds(arch, session);
      await spinners(session, BUILTIN_CONFIGS.default.cpus);
    })
  );
});

Deno.test("user protection with 4 CPUs (--config smp, side by side): five busy loops leave the shell answering, kill frees them", async () => {
  await onEveryArch((arch) =>
    withKernel(arch, BUILTIN_CONFIGS.smp, (session) => spinners(session, BUILTIN_CONFIGS.smp.cpus))
  );
});
