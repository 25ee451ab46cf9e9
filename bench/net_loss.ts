/**
 * Echo under `network_fail` (issue 10, docs/NETWORK.md "10 MB at 30 %"):
 * per arch, all archs in parallel, boots the chaos kernel
 * (`build/chaos/<arch>`, as `sis chaos` builds it), arms `network_fail` at
 * `--rate` percent with `--seed`, and sends `--bytes` through the echo
 * service over QEMU's user network, for at most `--seconds`. Prints what
 * came back intact and the rate. Figures are printed, never asserted.
 *
 *   deno run -A bench/net_loss.ts --rate 30 --bytes 1048576 --seconds 150
 *   deno run -A bench/net_loss.ts --rate 0 --bytes 10485760
 */
import { join } from "node:path";
import { type Arch, ARCHES } from "../src/arch.ts";
import { type EchoTransfer, echoTransfer } from "../src/chaos/echo.ts";
import { Machine } from "../src/qemu/machine.ts";
import { BUILTIN_CONFIGS } from "../src/qemu/profiles.ts";
import { Session } from "../src/session/driver.ts";
import { ROOT } from "./_common.ts";

function numberArgument(args: string[], name: string, fallback: number): number {
  const index = args.indexOf(name);
  const value = index >= 0 ? Number(args[index + 1]) : fallback;
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}

async function echoUnderLoss(
  arch: Arch,
  rate: number,
  seed: number,
  bytes: number,
  seconds: number,
): Promise<EchoTransfer> {
  const machine = await Machine.launch({
    arch,
    config: BUILTIN_CONFIGS.default,
    kernelPath: join(ROOT, "build", "chaos", arch, "sis-kernel.elf"),
  });
  try {
    const session = new Session(machine, { bootTimeoutMs: 30_000, commandTimeoutMs: 30_000 });
    await session.boot();
    await session.enableFraming();
    const address = await session.run("ifconfig --wait");
    if (address.status !== 0) throw new Error(`${arch}: no address: ${address.output.join(" | ")}`);
    for (const command of [`chaos seed ${seed}`, `chaos rate ${rate}`, "chaos mode network_fail"]) {
      const result = await session.run(command);
      if (result.status !== 0) {
        throw new Error(
          `${arch}: ${command}: ${result.output.join(" | ")} (a chaos kernel? run sis chaos once)`,
        );
      }
    }
    return await echoTransfer(machine.forwards!.echo, bytes, seconds * 1000);
  } finally {
    await machine.shutdown();
  }
}

if (import.meta.main) {
  const rate = numberArgument(Deno.args, "--rate", 30);
  const seed = numberArgument(Deno.args, "--seed", 7);
  const bytes = numberArgument(Deno.args, "--bytes", 1024 * 1024);
  const seconds = numberArgument(Deno.args, "--seconds", 150);
  console.log(`network_fail ${rate} %, seed ${seed}, ${bytes} bytes offered, at most ${seconds} s per arch`);
  console.log("arch      echoed bytes  intact  seconds  KiB/s");
  const results = await Promise.all(ARCHES.map((arch) => echoUnderLoss(arch, rate, seed, bytes, seconds)));
  for (const [index, transfer] of results.entries()) {
    const secondsTaken = transfer.durationMs / 1000;
    console.log(
      `${ARCHES[index].padEnd(9)} ${String(transfer.received).padStart(12)}  ${
        transfer.isIntact ? "yes" : "no "
      }     ${secondsTaken.toFixed(1).padStart(7)}  ${(transfer.received / 1024 / secondsTaken).toFixed(1)}${
        transfer.error ? `  (${transfer.error})` : ""
      }`,
    );
  }
}
