/** A TCP echo transfer through the guest's echo service (port 7 behind a QEMU forward): the network_fail cells' "payload intact through retransmission" check. */

/** What one transfer saw. */
export interface EchoTransfer {
  bytes: number;
  received: number;
  /** Every byte came back, in order. */
  isIntact: boolean;
  durationMs: number;
  /** Why the transfer stopped early (connection refused, reset, timeout). */
  error?: string;
}

/** The byte at `offset` of the test pattern (a multiplicative hash, so shifts and repeats show). */
function patternByte(offset: number): number {
  return Math.imul(offset, 2654435761) >>> 24;
}

/**
 * Writes `bytes` of a fixed pattern to 127.0.0.1:`port` while reading the
 * echo back, and half-closes. Done when every byte came back: it does not
 * wait for the server's FIN, since at 30 % loss each way the close
 * handshake alone can take minutes of retransmission backoff after the
 * payload arrived, and the payload is what is judged. Never throws: a
 * failure is in `error`. `timeoutMs` bounds the whole transfer.
 */
export async function echoTransfer(port: number, bytes: number, timeoutMs: number): Promise<EchoTransfer> {
  const started = performance.now();
  let received = 0;
  let isIntact = true;
  let connection: Deno.TcpConn | undefined;
  const timer = setTimeout(() => connection?.close(), timeoutMs);
  try {
    connection = await Deno.connect({ hostname: "127.0.0.1", port });
    const conn = connection;
    const writer = (async () => {
      const chunk = new Uint8Array(16 * 1024);
      for (let sent = 0; sent < bytes; sent += chunk.length) {
        const length = Math.min(chunk.length, bytes - sent);
        for (let i = 0; i < length; i++) chunk[i] = patternByte(sent + i);
        let written = 0;
        while (written < length) written += await conn.write(chunk.subarray(written, length));
      }
      await conn.closeWrite();
    })();
    const buffer = new Uint8Array(64 * 1024);
    while (received < bytes) {
      const count = await conn.read(buffer);
      if (count === null) break;
      for (let i = 0; i < count; i++) {
        if (buffer[i] !== patternByte(received + i)) isIntact = false;
      }
      received += count;
    }
    await writer;
    return {
      bytes,
      received,
      isIntact: isIntact && received === bytes,
      durationMs: performance.now() - started,
    };
  } catch (error) {
    return {
      bytes,
      received,
      isIntact: false,
      durationMs: performance.now() - started,
      error: performance.now() - started >= timeoutMs
        ? `timed out after ${timeoutMs} ms`
        : (error as Error).message,
    };
  } finally {
    clearTimeout(timer);
    try {
      connection?.close();
    } catch {
      // Closed by the timer or the peer.
    }
  }
}
