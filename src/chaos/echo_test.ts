import assert from "node:assert/strict";
import { echoTransfer } from "./echo.ts";

/** A loopback echo server whose handling of each connection the test picks. */
async function withServer(
  handle: (connection: Deno.TcpConn, testDone: Promise<void>) => Promise<void>,
  body: (port: number) => Promise<void>,
): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const handled: Promise<void>[] = [];
  const { promise: testDone, resolve: endTest } = Promise.withResolvers<void>();
  const accepting = (async () => {
    for await (const connection of listener) handled.push(handle(connection, testDone).catch(() => {}));
  })();
  try {
    await body((listener.addr as Deno.NetAddr).port);
  } finally {
    endTest();
    listener.close();
    await accepting.catch(() => {});
    await Promise.all(handled);
  }
}

/** Echoes every byte, changed by `alter`; sends no FIN until the test is over. */
function echoing(alter: (chunk: Uint8Array, offset: number) => void = () => {}) {
  return async (connection: Deno.TcpConn, testDone: Promise<void>) => {
    const buffer = new Uint8Array(8192);
    let offset = 0;
    try {
      for (;;) {
        const count = await connection.read(buffer);
        if (count === null) {
          // The client half-closed: no FIN back until the test is over, as
          // a server whose FIN keeps getting lost looks to the client.
          await testDone;
          return;
        }
        const chunk = buffer.slice(0, count);
        alter(chunk, offset);
        offset += count;
        await connection.write(chunk);
      }
    } finally {
      connection.close();
    }
  };
}

Deno.test("echoTransfer() is done when every byte came back, without waiting for the server's FIN", async () => {
  await withServer(echoing(), async (port) => {
    const transfer = await echoTransfer(port, 100_000, 10_000);
    assert.equal(transfer.error, undefined);
    assert.equal(transfer.received, 100_000);
    assert.equal(transfer.isIntact, true);
  });
});

Deno.test("echoTransfer() reports one changed byte as not intact", async () => {
  await withServer(
    echoing((chunk, offset) => {
      if (offset <= 5000 && 5000 < offset + chunk.length) chunk[5000 - offset] ^= 1;
    }),
    async (port) => {
      const transfer = await echoTransfer(port, 20_000, 10_000);
      assert.equal(transfer.received, 20_000);
      assert.equal(transfer.isIntact, false);
    },
  );
});

Deno.test("echoTransfer() reports a server that closes early as not intact, with what came back", async () => {
  await withServer(async (connection) => {
    const buffer = new Uint8Array(1000);
    let echoed = 0;
    while (echoed < 1000) {
      const count = await connection.read(buffer.subarray(echoed));
      if (count === null) break;
      await connection.write(buffer.subarray(echoed, echoed + count));
      echoed += count;
    }
    connection.close();
  }, async (port) => {
    const transfer = await echoTransfer(port, 50_000, 10_000);
    assert.equal(transfer.isIntact, false);
    assert.ok(transfer.received <= 1000, `received ${transfer.received}`);
  });
});
