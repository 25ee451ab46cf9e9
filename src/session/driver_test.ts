/** Unit tests for the session driver against the scripted fake kernel. */
import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert/strict";
import { KernelHangError, UsageError } from "../errors.ts";
import { KernelExitedError, Session, SessionPanicError, type TimedEvent } from "./driver.ts";
import { FakeKernel } from "./fake_kernel.ts";

async function framedSession(kernel: FakeKernel, options = {}) {
  const session = new Session(kernel, { commandTimeoutMs: 1000, bootTimeoutMs: 1000, ...options });
  await session.boot();
  await session.enableFraming();
  return session;
}

Deno.test("Session boots through firmware and kernel to the shell, then runs framed commands", async () => {
  for (const chunkSize of [undefined, 1, 3]) {
    const kernel = new FakeKernel({ chunkSize });
    const events: TimedEvent[] = [];
    const session = new Session(kernel, { onEvent: (event) => events.push(event) });
    assertEquals(session.stage, "firmware");
    const boot = await session.boot();
    assertEquals(boot.firmwareLines, 1);
    assertEquals(boot.kernelLine, "SIS kernel 0.1.0 booting on fake");
    assertEquals(session.stage, "shell");
    await session.enableFraming();
    const echo = await session.run("echo hello world");
    assertEquals([echo.seq, echo.output, echo.status, echo.warnings], [1, ["hello world"], 0, []]);
    assertEquals(session.stage, "command 1");
    const missing = await session.run("cat /nope");
    assertEquals(missing.status, 2);
    assertEquals(missing.output, ["error: ENOENT: /nope: no such file or directory"]);
    const unknown = await session.run("bogus");
    assertEquals(unknown.status, 127);
    // An empty line still gets its frame, keeping the sequence in step.
    assertEquals((await session.run("")).output, []);
    assertEquals((await session.run("echo after")).seq, 5);
    ok(events.some((event) => event.kind === "ready"));
    ok(events.every((event, index) => index === 0 || event.atMs >= events[index - 1].atMs));
  }
});

Deno.test("Session keeps log records out of a command's output", async () => {
  const session = await framedSession(new FakeKernel({ chunkSize: 2 }));
  const result = await session.run("chatty");
  assertEquals(result.output, ["first", "second"]);
  assertEquals(result.logs, [{
    text: '{"level":"INFO","subsystem":"fake","msg":"tick"}',
    record: { level: "INFO", subsystem: "fake", msg: "tick" },
  }]);
});

Deno.test("Session output never contains the echo of the command", async () => {
  const kernel = new FakeKernel();
  const session = await framedSession(kernel);
  // `frame on` turned echo off; the result is built only from the frame.
  const result = await session.run("echo x");
  assertEquals(result.output, ["x"]);
  assertEquals(kernel.received, "frame on\recho x\r");
});

Deno.test("Session reports a command that never ends as a hang with its stage", async () => {
  const session = await framedSession(new FakeKernel());
  await session.run("echo one");
  const started = performance.now();
  await rejects(session.run("hang", 100), (error: unknown) => {
    ok(error instanceof KernelHangError);
    assertEquals(error.stage, "command 2");
    ok(error.message.includes("did not finish within 100 ms"), error.message);
    ok(error.serialTail?.includes("[begin 2] hang"));
    return true;
  });
  const elapsed = performance.now() - started;
  ok(elapsed >= 95 && elapsed < 1000, `hang detected after ${elapsed} ms`);
});

Deno.test("Session classes a boot hang by stage: kernel entered, no prompt", async () => {
  const session = new Session(new FakeKernel({ isStuckAtBoot: true }), { bootTimeoutMs: 50 });
  await rejects(
    session.boot(),
    (error: unknown) => error instanceof KernelHangError && error.stage === "kernel",
  );
  const silent = new Session(new FakeKernel({ isStuckAtBoot: true, banner: ["OpenSBI v1.2"] }), {
    bootTimeoutMs: 50,
  });
  await rejects(
    silent.boot(),
    (error: unknown) => error instanceof KernelHangError && error.stage === "firmware",
  );
});

Deno.test("Session reports a panic at once with its report and FATAL record", async () => {
  const session = await framedSession(new FakeKernel({ chunkSize: 5 }), { panicGraceMs: 5000 });
  const started = performance.now();
  await rejects(session.run("panic boom", 5000), (error: unknown) => {
    ok(error instanceof SessionPanicError);
    assertEquals(error.stage, "command 1");
    assertEquals(error.exitCode, 4);
    assertEquals(error.report.slice(0, 2), ["!!! KERNEL PANIC !!!", "message: boom"]);
    assertEquals(error.record?.message, "boom");
    ok(error.message.includes("boom"));
    return true;
  });
  // "At once": the stream ended with the report, so neither timeout was waited out.
  ok(performance.now() - started < 1000);
});

Deno.test("Session reports a machine that ends without a panic marker", async () => {
  const session = await framedSession(new FakeKernel());
  await rejects(session.run("die"), (error: unknown) => {
    ok(error instanceof KernelExitedError);
    assertEquals(error.stage, "command 1");
    ok(error.serialTail?.includes("partial outp"));
    return true;
  });
});

Deno.test("Session refuses a command with a newline (it would desynchronise the frames)", async () => {
  const session = await framedSession(new FakeKernel());
  await rejects(session.run("echo a\recho b"), UsageError);
  assertEquals((await session.run("echo ok")).seq, 1);
});

Deno.test("Session reports a panic that arrived between commands before sending the next one", async () => {
  const kernel = new FakeKernel();
  const session = await framedSession(kernel);
  await session.run("echo one");
  // The kernel panics on its own (a background task) while the shell is idle.
  kernel.chunks.push(new TextEncoder().encode("\x01sis:panic\r\nmessage: ticker\r\n"));
  kernel.chunks.close();
  const sentBefore = kernel.received;
  await rejects(session.run("echo two"), (error: unknown) => {
    ok(error instanceof SessionPanicError);
    assertEquals(error.stage, "command 1");
    assertEquals(error.report, ["message: ticker"]);
    return true;
  });
  assertEquals(kernel.received, sentBefore);
});

Deno.test("Session keeps waiting while a command makes progress, and caps it", async () => {
  const kernel = new FakeKernel();
  const session = await framedSession(kernel);
  // 8 lines 40 ms apart: 320 ms in all, over the 100 ms timeout, never 100 ms silent.
  const result = await session.run("drip 8 40", 100);
  assertEquals(result.output.length, 8);
  assertEquals(result.status, 0);
  // 60 lines 40 ms apart would take 2.4 s: past the cap of 10 timeouts (1 s).
  await rejects(session.run("drip 60 40", 100), (error: unknown) => {
    ok(error instanceof KernelHangError);
    ok(error.message.includes("stopped making progress"), error.message);
    return true;
  });
  kernel.stop();
});

Deno.test("Session.untilEnd() waits through a quiet kernel without a deadline, then throws its panic", async () => {
  const kernel = new FakeKernel();
  const session = await framedSession(kernel, { commandTimeoutMs: 50, bootTimeoutMs: 50 });
  // Count the waits: one untimed wait, not a loop of timers that fire at once.
  let waits = 0;
  const next = kernel.chunks.next.bind(kernel.chunks);
  kernel.chunks.next = (timeoutMs?: number) => {
    waits++;
    return next(timeoutMs);
  };
  let settled = false;
  const watching = session.untilEnd().finally(() => (settled = true));
  // Past every configured timeout (50 ms) the silent kernel is still being served, not hung.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assertEquals({ settled, waits }, { settled: false, waits: 1 });
  kernel.chunks.push(new TextEncoder().encode('\x01sis:panic\r\n{"level":"FATAL","message":"ticker"}\r\n'));
  kernel.chunks.close();
  await rejects(watching, (error: unknown) => {
    ok(error instanceof SessionPanicError);
    assertEquals(error.record?.message, "ticker");
    return true;
  });
});

Deno.test("Session.untilEnd() reports a machine that ends without a panic as an exit", async () => {
  const kernel = new FakeKernel();
  const session = await framedSession(kernel);
  kernel.chunks.close();
  await rejects(session.untilEnd(), KernelExitedError);
});
