/** One-machine jobs on the engine with a fake kernel, in a fresh root holding a dummy installed kernel: for unit tests of `sis run` and `sis metrics serve` without QEMU. */
import { join } from "node:path";
import { type CommandContext, testContext } from "../context.ts";
import { BUILTIN_CONFIGS, type HostForwards } from "../qemu/profiles.ts";
import type { RunResults } from "../report/results.ts";
import type { BootedMachine, JobContext } from "../runs/engine.ts";
import type { RunStop } from "../runs/signals.ts";
import { buildPaths } from "../toolchain/build.ts";
import type { FakeKernel } from "./fake_kernel.ts";
import { type MachineJob, type MachineJobOutcome, runMachineJob, type VerdictStep } from "./machine_job.ts";

/** A machine on the fake kernel; `kernels` collects every one booted, so a test can act on it. */
export function fakeMachine(kernel: FakeKernel, forwards?: HostForwards): BootedMachine {
  return {
    chunks: kernel.chunks,
    write: (bytes: Uint8Array) => kernel.write(bytes),
    argv: ["fake-qemu"],
    pid: 4242,
    forwards,
    shutdown: () => {
      // As QEMU's teardown does: the console ends.
      kernel.stop();
      return Promise.resolve({ code: 0, signal: null, outcome: { kind: "poweroff", code: 0 } });
    },
  };
}

export interface FakeRun {
  code: number;
  context: CommandContext & { stdout: { text: string }; stderr: { text: string } };
  results: RunResults;
  manifest: { argv: string[]; jobs: Record<string, unknown>[] };
}

/** Runs `runJob` as a one-job plan (riscv64, default config) with machines from `launch`. */
export async function runFakeMachineJob(options: {
  command: string[];
  flags?: string[];
  purpose: string;
  step: VerdictStep;
  runJob: (job: MachineJob, run: JobContext, context: CommandContext) => Promise<MachineJobOutcome>;
  launch: () => BootedMachine;
  stop?: RunStop;
}): Promise<FakeRun> {
  const root = await Deno.makeTempDir({ prefix: "sis-machine-job-" });
  const { elf } = buildPaths(root, "riscv64");
  await Deno.mkdir(join(elf, ".."), { recursive: true });
  await Deno.writeFile(elf, new Uint8Array([0x7f, 0x45, 0x4c, 0x46]));
  const context = testContext({ cwd: root });
  try {
    const code = await runMachineJob({
      command: options.command,
      flags: options.flags ?? [],
      place: { root, context, arch: "riscv64", config: BUILTIN_CONFIGS.default, noBuild: true },
      purpose: options.purpose,
      step: options.step,
      runJob: (job, run) => options.runJob(job, run, context),
      stop: options.stop,
      launch: () => Promise.resolve(options.launch()),
    });
    const [bundle] = [...Deno.readDirSync(join(root, "runs"))].map((entry) => join(root, "runs", entry.name));
    const read = (path: string) => JSON.parse(Deno.readTextFileSync(join(bundle, path)));
    return { code, context, results: read("results.json"), manifest: read("manifest.json") };
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}
