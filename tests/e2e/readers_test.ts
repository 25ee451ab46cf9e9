/** Fuzz-style end-to-end test of every command that reads a user's file: a directory, a binary file, an empty file and a missing path each give one `error:` line and exit 2, never a stack trace. */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sis } from "./_harness.ts";

/** Each reader command, with the bad input in place of its file argument. */
const READERS: ((path: string) => string[])[] = [
  (path) => ["logs", path],
  (path) => ["logs", path, "--stats"],
  (path) => ["panic", "decode", path],
  (path) => ["panic", "decode", "fixtures/transcripts/x86_64-panic.log", "--elf", path],
  (path) => ["metrics", "check", path],
  (path) => ["metrics", "check", "fixtures/prometheus/kernel-x86_64.prom", path],
  (path) => ["chaos", "replay", path, "--no-build"],
  (path) => ["regress", "check", "--arch", "x86_64", "--allowlist", path, "--no-build"],
  (path) => ["test", "--arch", "x86_64", "--suites-dir", path, "--no-build"],
];

Deno.test("every reader command refuses a directory, a binary, an empty file and a missing path: one error line, exit 2", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sis-e2e-readers-"));
  try {
    const binary = join(dir, "binary");
    // Random-looking bytes with NULs, as a core dump or an image would have.
    await writeFile(binary, Uint8Array.from({ length: 4096 }, (_, index) => (index * 7919) % 256));
    const empty = join(dir, "empty");
    await writeFile(empty, "");
    const inputs = { directory: join(dir, "folder"), binary, empty, missing: join(dir, "missing") };
    await Deno.mkdir(inputs.directory);
    for (const reader of READERS) {
      for (const [kind, path] of Object.entries(inputs)) {
        const args = reader(path);
        const run = await sis(args);
        const what = `sis ${args.join(" ")} (${kind}): ${run.stderr}`;
        assert.equal(run.code, 2, what);
        const lines = run.stderr.trim().split("\n");
        assert.equal(lines.length, 1, what);
        assert.match(lines[0], /^error: /, what);
        assert.doesNotMatch(run.stderr, /internal error/, what);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
