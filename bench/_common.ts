/** Shared bench helpers: locate kernels, boot one to its prompt, summarise timings. */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Arch } from "../src/arch.ts";
import { Machine } from "../src/qemu/machine.ts";
import { BUILTIN_CONFIGS, type MachineConfig } from "../src/qemu/profiles.ts";
import { Session } from "../src/session/driver.ts";

/** The checkout whose build/ is measured; SIS_ROOT points the bench at another one (as it does sis). */
export const ROOT = Deno.env.get("SIS_ROOT") ?? fileURLToPath(new URL("../", import.meta.url));

/** build/<arch>/sis-kernel.elf, or undefined with a note when it was not built. */
export function kernelPath(arch: Arch): string | undefined {
  const path = join(ROOT, "build", arch, "sis-kernel.elf");
  try {
    Deno.statSync(path);
    return path;
  } catch {
    console.log(`${arch}: no ${path} (run: ./sis build --arch ${arch}); skipped`);
    return undefined;
  }
}

/** Boots to the prompt; returns the machine, session and ms from spawn to prompt. */
export async function bootToPrompt(
  arch: Arch,
  path: string,
  config: MachineConfig = BUILTIN_CONFIGS.default,
): Promise<{ machine: Machine; session: Session; ms: number }> {
  const started = performance.now();
  const machine = await Machine.launch({ arch, config, kernelPath: path });
  try {
    const session = new Session(machine, { bootTimeoutMs: 20_000, commandTimeoutMs: 10_000 });
    await session.boot();
    return { machine, session, ms: performance.now() - started };
  } catch (error) {
    await machine.shutdown();
    throw error;
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export const ms = (value: number) => `${value.toFixed(0)} ms`;

/** The value after `name` in the bench's own arguments, if given. */
export function argument(name: string): string | undefined {
  const index = Deno.args.indexOf(name);
  return index >= 0 ? Deno.args[index + 1] : undefined;
}

/** A comma-separated `name` list among `allowed` (all of them when not given); exits 2 on an unknown item. */
export function listArgument<T extends string>(name: string, allowed: readonly T[]): readonly T[] {
  const value = argument(name);
  if (value === undefined) return allowed;
  const picked = value.split(",");
  const unknown = picked.filter((item) => !(allowed as readonly string[]).includes(item));
  if (unknown.length > 0) {
    console.error(`${name}: unknown ${unknown.join(", ")} (one or more of ${allowed.join(",")})`);
    Deno.exit(2);
  }
  return picked as T[];
}

/** `--runs N` from the bench's own arguments (benches are scripts, not sis commands). */
export function runsArgument(args: string[], fallback: number): number {
  const index = args.indexOf("--runs");
  const value = index >= 0 ? Number(args[index + 1]) : fallback;
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

/** The value at quantile `q` (0-1) of `values`, nearest rank. */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
