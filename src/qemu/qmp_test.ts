/** Unit tests for the QMP client against a fake QMP server on a unix socket. */
import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { join } from "node:path";
import { QmpClient, QmpError } from "./qmp.ts";

const encoder = new TextEncoder();

interface FakeServerOptions {
  /** Split every reply into single bytes to exercise reassembly. */
  dribble?: boolean;
  /** Handles one command; return a reply object or undefined for no reply. */
  handle?: (
    command: { execute: string; id?: number },
    send: (value: unknown) => Promise<void>,
    hangUp: () => void,
  ) => Promise<void>;
}

/** A fake QEMU QMP endpoint: greets, then answers commands via `handle`. */
async function fakeServer(options: FakeServerOptions = {}) {
  const dir = await Deno.makeTempDir({ prefix: "sis-qmp-test-" });
  const path = join(dir, "qmp.sock");
  const listener = Deno.listen({ transport: "unix", path });
  const received: string[] = [];
  const served = (async () => {
    for await (const conn of listener) {
      const send = async (value: unknown) => {
        const bytes = encoder.encode(JSON.stringify(value) + "\r\n");
        if (options.dribble) { for (const byte of bytes) await conn.write(new Uint8Array([byte])); }
        else await conn.write(bytes);
      };
      await send({ QMP: { version: { qemu: { major: 7, minor: 2, micro: 0 } }, capabilities: [] } });
      let buffered = "";
      try {
        for await (const chunk of conn.readable) {
          buffered += new TextDecoder().decode(chunk);
          let newline: number;
          while ((newline = buffered.indexOf("\n")) >= 0) {
            const command = JSON.parse(buffered.slice(0, newline));
            buffered = buffered.slice(newline + 1);
            received.push(command.execute);
            if (command.execute === "qmp_capabilities") await send({ return: {}, id: command.id });
            else if (options.handle) await options.handle(command, send, () => conn.close());
            if (command.execute === "quit") {
              conn.close();
              return;
            }
          }
        }
      } catch {
        // Client went away.
      }
      return;
    }
  })();
  return {
    path,
    received,
    async close() {
      try {
        listener.close();
      } catch {
        // The accept loop already closed it.
      }
      await served.catch(() => {});
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("QmpClient negotiates capabilities and matches replies to ids, with events in between", async () => {
  const server = await fakeServer({
    dribble: true,
    handle: async (command, send) => {
      if (command.execute === "query-status") {
        await send({ event: "STOP", timestamp: { seconds: 1, microseconds: 2 } });
        await send({ return: { status: "prelaunch", running: false, singlestep: false }, id: command.id });
      } else if (command.execute === "cont") {
        await send({ return: {}, id: command.id });
        await send({ event: "RESUME", timestamp: { seconds: 1, microseconds: 3 } });
      }
    },
  });
  try {
    const client = await QmpClient.connect(server.path, { timeoutMs: 2000 });
    assertEquals(((await client.greeting).version as { qemu: { major: number } }).qemu.major, 7);
    assertEquals(await client.queryStatus(), { status: "prelaunch", running: false, singlestep: false });
    await client.cont();
    assertEquals((await client.nextEvent(1000))?.event, "STOP");
    assertEquals((await client.nextEvent(1000))?.event, "RESUME");
    assertEquals(await client.nextEvent(20), undefined);
    await client.quit();
    await client.closed;
    assertEquals(server.received, ["qmp_capabilities", "query-status", "cont", "quit"]);
  } finally {
    await server.close();
  }
});

Deno.test("QmpClient turns an error reply into a QmpError with its class", async () => {
  const server = await fakeServer({
    handle: async (command, send) => {
      await send({
        error: { class: "CommandNotFound", desc: `The command ${command.execute} has not been found` },
        id: command.id,
      });
    },
  });
  try {
    const client = await QmpClient.connect(server.path);
    await rejects(
      client.execute("bogus"),
      (error: unknown) =>
        error instanceof QmpError && error.errorClass === "CommandNotFound" &&
        error.message.includes("bogus"),
    );
    client.close();
  } finally {
    await server.close();
  }
});

Deno.test("QmpClient times out a command that gets no reply", async () => {
  const server = await fakeServer({ handle: async () => {} });
  try {
    const client = await QmpClient.connect(server.path);
    await rejects(client.execute("query-status", undefined, 50), /no reply within 50 ms/);
    client.close();
  } finally {
    await server.close();
  }
});

Deno.test("QmpClient.connect() retries until the socket listens, and gives up at its deadline", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sis-qmp-test-" });
  try {
    const start = Date.now();
    await rejects(QmpClient.connect(join(dir, "never.sock"), { timeoutMs: 100 }), Deno.errors.NotFound);
    assertEquals(Date.now() - start < 1000, true);
    // A socket that appears later is picked up by the retry.
    const late = fakeServer();
    const server = await late;
    const client = await QmpClient.connect(server.path, { timeoutMs: 2000 });
    client.close();
    await server.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("QmpClient rejects pending commands when the server hangs up", async () => {
  const server = await fakeServer({ handle: (_command, _send, hangUp) => Promise.resolve(hangUp()) });
  try {
    const client = await QmpClient.connect(server.path);
    await rejects(client.execute("query-status", undefined, 5000), /connection closed/);
    await client.closed;
    await rejects(client.execute("cont"), /closed before "cont"/);
  } finally {
    await server.close();
  }
});
