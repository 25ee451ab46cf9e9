/** Boots a kernel in the real QEMU straight to a framed shell session, for the e2e tests that drive the kernel without `sis`. */
import { type LaunchOptions, Machine } from "../../src/qemu/machine.ts";
import { Session } from "../../src/session/driver.ts";

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
