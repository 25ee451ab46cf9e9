import assert from "node:assert/strict";
import { parseTranscript, type SerialEvent } from "../session/framing.ts";
import { crashOf } from "./run.ts";
import {
  addCounts,
  findBadArguments,
  findKilled,
  lastHeartbeatIndex,
  parseDone,
  parseLayout,
  parseSyscallCounts,
  parseUserLines,
  subtractCounts,
} from "./transcript.ts";

/** Recorded from real boots (`sis fuzz syscalls --arch aarch64`, `--arch riscv64 --control`), first boot only. */
const TRANSCRIPTS = new URL("../../fixtures/fuzz/", import.meta.url);

async function events(name: string): Promise<SerialEvent[]> {
  return parseTranscript(await Deno.readFile(new URL(name, TRANSCRIPTS)));
}

/** The output lines of the command whose frame starts with `command`. */
function outputOf(all: SerialEvent[], command: string, occurrence = 0): string[] {
  const output: string[] = [];
  let seen = -1;
  let inside = false;
  for (const event of all) {
    if (event.kind === "begin") {
      inside = event.line.startsWith(command) && ++seen === occurrence;
    } else if (event.kind === "end") {
      if (inside) return output;
    } else if (inside && event.kind === "line") output.push(event.text);
  }
  return output;
}

Deno.test("a recorded aarch64 run parses: layout, done line, and syscalls --json before and after", async () => {
  const all = await events("aarch64-session.log");
  const run = outputOf(all, "run fuzz");
  assert.deepEqual(parseLayout(run[0]), {
    buffer: 0x2000005000n,
    bufferLen: 0x2000n,
    text: BigInt(/text=(0x[0-9a-f]+)/.exec(run[0])![1]),
    kernel: 0x40200000n,
    unmapped: 0x2f00000000n,
  });
  const done = run.map(parseDone).find((line) => line !== undefined)!;
  assert.equal(done.seed, 42n);
  assert.equal(done.calls, 100_000);
  assert.ok(done.failed > 0 && done.failed < done.calls);
  assert.ok(done.elapsedMs > 0);
  assert.ok(lastHeartbeatIndex(run)! > 0);
  const before = parseSyscallCounts(outputOf(all, "syscalls --json", 0));
  const after = parseSyscallCounts(outputOf(all, "syscalls --json", 1));
  assert.deepEqual(before, { calls: 0, bySyscall: {} });
  const added = subtractCounts(after, before);
  // Each fuzzed call and its progress call, plus the program's own writes, uptime and exit.
  assert.ok(added.calls > 2 * done.calls);
  assert.equal(added.bySyscall.progress.ok, done.calls);
  assert.ok(added.bySyscall.write.EBADF > 0 && added.bySyscall.unknown.ENOSYS > 0);
  const errnoTotal = Object.entries(added.bySyscall).flatMap(([name, outcomes]) =>
    name === "exit"
      ? []
      : Object.entries(outcomes).filter(([outcome]) => outcome !== "ok").map(([, count]) => count)
  ).reduce((sum, count) => sum + count, 0);
  assert.equal(errnoTotal, done.failed);
  assert.deepEqual(addCounts(added, added).bySyscall.progress, { ok: 2 * done.calls });
});

Deno.test("a recorded riscv64 control panic names the call in flight: the reproducer range", async () => {
  const all = await events("riscv64-control.log");
  const panic = all.findIndex((event) => event.kind === "panic");
  assert.ok(panic > 0);
  const report = all.slice(panic + 1).filter((event) => event.kind === "line").map((event) =>
    (event as { text: string }).text
  );
  assert.deepEqual(parseUserLines(report), [{ pid: 5, program: "fuzz", progress: 44021, syscall: 1 }]);
  const crash = crashOf({
    kind: "panic",
    message: "kernel panicked",
    report,
    record: { message: "fuzz-break: write(5, 0x2000005ffa, 0x10001) hit the deliberately broken path" },
  }, 0);
  assert.deepEqual(crash.range, { start: 0, end: 44021 });
  assert.equal(crash.signature, "panic: fuzz-break: write(#, #, #) hit the deliberately broken path");
});

Deno.test("parseUserLines() reads idle processes (- for progress and syscall) and ignores other lines", () => {
  assert.deepEqual(
    parseUserLines([
      "  user: pid=3 program=hello progress=- syscall=-",
      "user: pid=x program=fuzz progress=1 syscall=1",
      "message: user: pid=9",
    ]),
    [{ pid: 3, program: "hello", progress: undefined, syscall: undefined }],
  );
});

Deno.test("parseSyscallCounts() rejects what is not the kernel's counts, saying what is wrong", () => {
  assert.throws(() => parseSyscallCounts(["usage: syscalls [--json]"]), /did not print JSON/);
  assert.throws(() => parseSyscallCounts(['{"by_syscall": {}}']), /no "calls" count/);
  assert.throws(() => parseSyscallCounts(['{"calls": 1}']), /no "by_syscall"/);
  assert.throws(
    () => parseSyscallCounts(['{"calls": 1, "by_syscall": {"write": {"ok": -1}}}']),
    /write.ok is not a count/,
  );
});

Deno.test("the fuzz program's other lines: bad arguments and the kernel's kill line", () => {
  assert.equal(findBadArguments(["fuzz: bad arguments: missing seed=S"]), "missing seed=S");
  assert.equal(
    findKilled(["x", "killed: pid 7 (fuzz): page fault at 0x0"]),
    "killed: pid 7 (fuzz): page fault at 0x0",
  );
  assert.equal(parseDone("fuzz: done seed=1 calls=2"), undefined);
  assert.equal(parseLayout("fuzz: layout buffer=0x1"), undefined);
});
