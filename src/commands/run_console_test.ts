import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { ExitOutcome } from "../qemu/profiles.ts";
import { attachConsole, type ConsoleEnd, judgeSession } from "./run.ts";

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
  await attachConsole(machine, input, sink);
  assertEquals({ written, whileRunning: result.whileRunning }, {
    written: ["poweroff 3\r"],
    whileRunning: true,
  });
});

Deno.test("attachConsole finds a prompt split across chunks", async () => {
  const { machine, written, result } = fakeMachine(["boot\r\nsi", "s> "]);
  const input = ReadableStream.from([new TextEncoder().encode("x")]);
  await attachConsole(machine, input, sink);
  assertEquals({ written, whileRunning: result.whileRunning }, { written: ["x"], whileRunning: true });
});

Deno.test("judgeSession() gives each way a session ends its status, end, exit code and line", () => {
  const panic = { report: ["message: boom"], message: "boom" };
  const machineExit = { kind: "machine-exit" } as const;
  const judge = (
    consoleEnd: ConsoleEnd,
    outcome: ExitOutcome,
    stoppedBecause?: string,
  ) => {
    const { end, status, exitCode, line, kernel } = judgeSession({
      consoleEnd,
      outcome,
      panic,
      stoppedBecause,
    });
    return [end, status, exitCode, line, kernel?.kind];
  };
  assertEquals(
    [
      judge({ kind: "escape" }, { kind: "killed", signal: "SIGKILL" }),
      judge(machineExit, { kind: "poweroff", code: 0 }),
      judge(machineExit, { kind: "poweroff", code: 3 }),
      judge(machineExit, { kind: "panic" }),
      judge(machineExit, { kind: "qemu-error", status: 1 }),
      judge(machineExit, { kind: "killed", signal: "SIGKILL" }, "interrupted by SIGTERM"),
    ],
    [
      ["left", "passed", 0, "left the console; QEMU stopped", undefined],
      ["poweroff", "passed", 0, 'machine ended: {"kind":"poweroff","code":0}', undefined],
      ["poweroff", "failed", 3, 'machine ended: {"kind":"poweroff","code":3}', undefined],
      ["panic", "error", 4, 'machine ended: {"kind":"panic"}', "panic"],
      ["exited", "error", 1, 'machine ended: {"kind":"qemu-error","status":1}', "exited"],
      ["interrupted", "interrupted", 0, undefined, "interrupted"],
    ],
  );
  assertEquals(
    judgeSession({ consoleEnd: machineExit, outcome: { kind: "panic" }, panic }).kernel?.message,
    "kernel panicked: boom",
  );
});
