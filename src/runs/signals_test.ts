import assert from "node:assert/strict";
import { BufferOutput } from "../context.ts";
import { installRunSignals, RunStop, type StopSignal } from "./signals.ts";

function fakeSignals() {
  const handlers = new Map<StopSignal, () => void>();
  return {
    handlers,
    listen: (signal: StopSignal, handler: () => void) => {
      handlers.set(signal, handler);
      return () => handlers.delete(signal);
    },
  };
}

Deno.test("the first SIGINT stops the run without exiting; the second exits 130 at once after restoring", () => {
  const stop = new RunStop();
  const fake = fakeSignals();
  const exits: number[] = [];
  let restored = 0;
  const remove = installRunSignals(stop, {
    stderr: new BufferOutput(),
    listen: fake.listen,
    exit: (code) => exits.push(code),
    beforeExit: () => restored++,
  });
  fake.handlers.get("SIGINT")!();
  assert.equal(stop.isStopped, true);
  assert.equal(stop.interruptedBy, "SIGINT");
  assert.deepEqual(exits, []);
  assert.equal(restored, 0);
  // A SIGTERM after the SIGINT exits with the first signal's code.
  fake.handlers.get("SIGTERM")!();
  assert.deepEqual(exits, [130]);
  assert.equal(restored, 1);
  remove();
  assert.equal(fake.handlers.size, 0);
});

Deno.test("a first SIGTERM means exit 143 and names itself in stop.reason", () => {
  const stop = new RunStop();
  const fake = fakeSignals();
  const exits: number[] = [];
  installRunSignals(stop, {
    stderr: new BufferOutput(),
    listen: fake.listen,
    exit: (code) => exits.push(code),
  });
  fake.handlers.get("SIGTERM")!();
  fake.handlers.get("SIGTERM")!();
  assert.deepEqual(exits, [143]);
  assert.equal(stop.reason, "interrupted by SIGTERM");
});
