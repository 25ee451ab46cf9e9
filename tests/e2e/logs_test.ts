/** End-to-end tests of `sis logs`: filters, formats, stats and malformed-line reports, on fixtures and recorded transcripts. */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { CLI, PERMISSIONS, ROOT, sis } from "./_harness.ts";

const MIXED = "fixtures/logs/mixed.log";

Deno.test("sis logs --stats counts by level and subsystem and lists malformed lines by number", async () => {
  const run = await sis(["logs", MIXED, "--stats"]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^lines 15, records 8, matched 8, malformed 2$/m);
  assert.match(run.stdout, /^ {2}ERROR {2}2$/m);
  assert.match(run.stdout, /^ {2}fs {11}3$/m);
  assert.match(run.stdout, /line 9: invalid JSON/);
  assert.match(run.stdout, /line 13: log record: level/);
});

Deno.test("sis logs --level is a minimum level, in any letter case, across both formats", async () => {
  const run = await sis(["logs", MIXED, "--level", "error"]);
  assert.equal(run.code, 0);
  assert.deepEqual(run.stdout.trim().split("\n").map((line) => line.trim()), [
    "2.500000  [ERROR] net: send failed bytes=64",
    "-  [ERROR] sched: task stuck task=3 waited_ms=1200",
  ]);
  const warn = await sis(["logs", MIXED, "--level", "WARN", "--format", "count"]);
  assert.equal(warn.stdout, "4\n");
});

Deno.test("sis logs --since/--until select by timestamp and --format json writes records back", async () => {
  const run = await sis(["logs", MIXED, "--since", "1.5s", "--until", "2500ms", "--format", "json"]);
  const records = run.stdout.trim().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(records.map((record) => [record.ts, record.level]), [[1500000, "WARN"], [
    2500000,
    "ERROR",
  ]]);
  assert.equal(records[0].path, '/tmp/a "b"');
});

Deno.test("sis logs reads framed transcripts of every arch and stdin", async () => {
  for (const arch of ["aarch64", "riscv64", "x86_64"]) {
    const run = await sis([
      "logs",
      `fixtures/transcripts/${arch}-session.log`,
      "--subsystem",
      "boot",
      "--format",
      "count",
    ]);
    assert.equal(run.code, 0, run.stderr);
    // The boot records, printed at boot and replayed by dmesg in JSON.
    assert.ok(Number(run.stdout) >= 6, `${arch}: ${run.stdout}`);
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "-A",
      fileURLToPath(new URL("../../src/cli.ts", import.meta.url)),
      "logs",
      "-",
      "--format",
      "count",
    ],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(
    new TextEncoder().encode('[INFO] a: b\n{"ts":1,"level":"INFO","subsystem":"x","status":"y"}\n'),
  );
  await writer.close();
  const output = await child.output();
  assert.equal(new TextDecoder().decode(output.stdout), "2\n");
});

Deno.test("sis logs rejects an unknown level and a missing file with usage errors", async () => {
  assert.equal((await sis(["logs", MIXED, "--level", "LOUD"])).code, 2);
  const missing = await sis(["logs", "fixtures/logs/nope.log"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^error: cannot read fixtures\/logs\/nope\.log: no such file/);
});

Deno.test("sis logs into a reader that closes early (| head) ends quietly with its own exit code", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sis-logs-pipe-" });
  try {
    // Far more than a pipe buffer holds, so sis is still writing when the reader goes.
    const line = '{"ts":1000,"level":"INFO","subsystem":"fs","status":"wrote","bytes":64}\n';
    const log = `${dir}/big.log`;
    await Deno.writeTextFile(log, line.repeat(50_000));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", ...PERMISSIONS, CLI, "logs", log],
      cwd: ROOT,
      env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    const first = await reader.read();
    assert.ok(first.value && first.value.length > 0, "sis logs printed nothing");
    await reader.cancel();
    const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
    assert.equal(stderr, "");
    assert.equal(status.code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
