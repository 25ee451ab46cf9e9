import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describeCall, generateCall, type Layout } from "./generator.ts";

const VECTORS = fileURLToPath(new URL("../../kernel/crates/fuzz/vectors.txt", import.meta.url));

/** The layout the Rust test generated vectors.txt with (its header line). */
function vectorLayout(header: string): Layout {
  const field = (name: string) => BigInt(new RegExp(`${name}=(0x[0-9a-f]+)`).exec(header)![1]);
  return {
    buffer: field("buffer"),
    bufferLen: field("buffer_len"),
    text: field("text"),
    kernel: field("kernel"),
    unmapped: field("unmapped"),
  };
}

Deno.test("generateCall() gives the Rust generator's calls on every shared vector", async () => {
  const [header, ...lines] = (await Deno.readTextFile(VECTORS)).trim().split("\n");
  const layout = vectorLayout(header);
  assert.ok(lines.length > 200, "vectors.txt holds the shared calls");
  for (const line of lines) {
    const [seed, index, number, ...args] = line.split(" ").map((word) => BigInt(`0x${word}`));
    const call = generateCall(seed, index, layout);
    assert.deepEqual(call, { number, args }, `seed ${seed} index ${index}`);
  }
});

Deno.test("describeCall() shows the registers a call reads, all six for an unknown number", () => {
  assert.equal(
    describeCall({ number: 1n, args: [5n, 0x2000005ffan, 0x10001n, 7n, 8n, 9n] }),
    "write(0x5, 0x2000005ffa, 0x10001)",
  );
  assert.equal(describeCall({ number: 8n, args: [1n, 2n, 3n, 4n, 5n, 6n] }), "getpid()");
  assert.equal(
    describeCall({ number: 255n, args: [1n, 2n, 3n, 4n, 5n, 6n] }),
    "unknown(0xff)(0x1, 0x2, 0x3, 0x4, 0x5, 0x6)",
  );
});
