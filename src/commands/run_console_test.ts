import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { attachConsole } from "./run.ts";

/** A machine whose output is `chunks` and which records what was written to it. */
function fakeMachine(chunks: string[]) {
  const written: string[] = [];
  const result = { whileRunning: false };
  let release!: () => void;
  const inputWritten = new Promise<void>((resolve) => (release = resolve));
  const machine = {
    chunks: (async function* () {
      for (const chunk of chunks) yield new TextEncoder().encode(chunk);
      // Stay up until the typed input reached the machine (or give up: the
      // console then releases held input only because the machine ended).
      let timer: ReturnType<typeof setTimeout> | undefined;
      const gaveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)));
      const first = await Promise.race([inputWritten.then(() => "written"), gaveUp.then(() => "gave up")]);
      result.whileRunning = first === "written";
      clearTimeout(timer);
    })(),
    write(bytes: Uint8Array): Promise<void> {
      written.push(new TextDecoder().decode(bytes));
      release();
      return Promise.resolve();
    },
  };
  return { machine, written, result };
}

const sink = { write: (_text: string) => {} };

Deno.test("attachConsole sends typed input when the prompt and a log line arrive in one chunk", async () => {
  const { machine, written, result } = fakeMachine([
    "boot\r\n",
    "sis> \r\n[INFO] net: address address=10.0.2.15/24 source=dhcp\r\n",
  ]);
  const input = ReadableStream.from([new TextEncoder().encode("poweroff 3\r")]);
  await attachConsole(machine, input, sink as never);
  assertEquals({ written, whileRunning: result.whileRunning }, {
    written: ["poweroff 3\r"],
    whileRunning: true,
  });
});

Deno.test("attachConsole finds a prompt split across chunks", async () => {
  const { machine, written, result } = fakeMachine(["boot\r\nsi", "s> "]);
  const input = ReadableStream.from([new TextEncoder().encode("x")]);
  await attachConsole(machine, input, sink as never);
  assertEquals({ written, whileRunning: result.whileRunning }, { written: ["x"], whileRunning: true });
});
