/** Unit tests for `sis report merge`: reading results files and bundles, merging runs, and the GitHub output. */
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { testContext } from "../context.ts";
import { UsageError } from "../errors.ts";
import { annotations } from "./github.ts";
import { mergeReport, mergeResults, parseResults, readResults } from "./merge.ts";
import { type JobResult, type RunResults, summarize } from "./results.ts";

function job(arch: string, suite: string, status: "passed" | "failed" = "passed"): JobResult {
  return {
    name: `${arch}-default-${suite}`,
    arch,
    config: "default",
    suite,
    status,
    bootMs: 50,
    durationMs: 100,
    steps: [{
      id: `${suite}/echo`,
      name: "echo",
      command: "echo hi",
      status,
      durationMs: 1,
      messages: status === "failed" ? ['output does not contain "hi"'] : [],
      output: ["hi"],
      location: { file: `/work/repo/tests/suites/${suite}.yaml`, line: 7 },
    }],
  };
}

function run(runId: string, startedAt: string, durationMs: number, jobs: JobResult[]): RunResults {
  return { schema: 1, runId, startedAt, durationMs, jobs, summary: summarize(jobs) };
}

const shard1 = run("r1", "2026-01-01T00:00:00.000Z", 1000, [job("x86_64", "smoke"), job("aarch64", "smoke")]);
const shard2 = run("r2", "2026-01-01T00:00:00.500Z", 2000, [job("riscv64", "smoke", "failed")]);

Deno.test("mergeResults() keeps every job once, in plan order, spanning the earliest start to the latest end", () => {
  const merged = mergeResults([{ source: "b.json", results: shard2 }, { source: "a.json", results: shard1 }]);
  assert.deepEqual(merged.jobs.map((entry) => entry.arch), ["aarch64", "riscv64", "x86_64"]);
  assert.deepEqual(merged.summary, { passed: 2, failed: 1, skipped: 0, pending: 0, kernelFailures: 0 });
  assert.equal(merged.startedAt, "2026-01-01T00:00:00.000Z");
  assert.equal(merged.durationMs, 2500);
  assert.deepEqual(merged.merged.runs.map((entry) => entry.runId).sort(), ["r1", "r2"]);
});

Deno.test("mergeResults() counts a run read twice once, and refuses a job present in two runs", () => {
  const twice = mergeResults([
    { source: "runs/r1/results.json", results: shard1 },
    { source: "sis-results/r1.json", results: shard1 },
  ]);
  assert.equal(twice.jobs.length, 2);
  const overlapping = run("r3", "2026-01-01T00:00:00.000Z", 10, [job("x86_64", "smoke")]);
  assert.throws(
    () => mergeResults([{ source: "a.json", results: shard1 }, { source: "c.json", results: overlapping }]),
    (error: Error) =>
      error instanceof UsageError &&
      /x86_64-default-smoke is in both a\.json and c\.json/.test(error.message),
  );
  assert.throws(() => mergeResults([]), UsageError);
});

Deno.test("parseResults() names the file and the field of a file that is not sis results", () => {
  assert.throws(() => parseResults("{", "x.json"), /^UsageError: x\.json: not JSON/);
  assert.throws(
    () => parseResults(JSON.stringify({ ...shard1, jobs: [{ name: "j" }] }), "y.json"),
    (error: Error) =>
      error instanceof UsageError && error.message.startsWith("y.json: not sis results: jobs.0."),
  );
  assert.deepEqual(parseResults(JSON.stringify(shard1), "z.json").summary, shard1.summary);
});

Deno.test("readResults() takes a file, a bundle folder, or a folder of downloaded artifacts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sis-merge-" });
  try {
    await mkdir(join(dir, "artifacts/shard-1/runs/r1"), { recursive: true });
    await mkdir(join(dir, "artifacts/shard-2"), { recursive: true });
    await writeFile(join(dir, "artifacts/shard-1/runs/r1/results.json"), JSON.stringify(shard1));
    await writeFile(join(dir, "artifacts/shard-1/runs/r1/manifest.json"), JSON.stringify({ runId: "r1" }));
    await writeFile(join(dir, "artifacts/shard-2/x86.json"), JSON.stringify(shard2));
    assert.equal((await readResults(join(dir, "artifacts/shard-2/x86.json"))).length, 1);
    assert.deepEqual(
      (await readResults(join(dir, "artifacts/shard-1/runs/r1"))).map((input) => input.results.runId),
      ["r1"],
    );
    const all = await readResults(join(dir, "artifacts"));
    assert.deepEqual(all.map((input) => input.results.runId).sort(), ["r1", "r2"]);
    await mkdir(join(dir, "empty"));
    await assert.rejects(readResults(join(dir, "empty")), /holds no sis results/);
    await assert.rejects(readResults(join(dir, "missing")), UsageError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mergeReport() under GitHub Actions appends the step summary and prints annotations at the YAML line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sis-merge-" });
  try {
    await writeFile(join(dir, "a.json"), JSON.stringify(shard1));
    await writeFile(join(dir, "b.json"), JSON.stringify(shard2));
    await writeFile(join(dir, "summary.md"), "earlier step\n");
    const context = testContext({
      cwd: dir,
      env: {
        GITHUB_ACTIONS: "true",
        GITHUB_STEP_SUMMARY: join(dir, "summary.md"),
        GITHUB_WORKSPACE: "/work/repo",
      },
    });
    const code = await mergeReport(
      { inputs: ["a.json", "b.json"], junit: "merged.xml", json: "merged.json", summary: "merged.md" },
      context,
    );
    assert.equal(code, 1);
    assert.match(context.stdout.text, /2 run\(s\), 3 job\(s\): 2 passed, 1 failed/);
    assert.match(
      context.stdout.text,
      /^::error file=tests\/suites\/smoke\.yaml,line=7,title=smoke\/echo failed \(riscv64\/default\)::/m,
    );
    const summary = await readFile(join(dir, "summary.md"), "utf8");
    assert.ok(summary.startsWith("earlier step\n## sis test (2 runs merged): failed"), summary);
    assert.equal(await readFile(join(dir, "merged.md"), "utf8"), summary.slice("earlier step\n".length));
    assert.equal(JSON.parse(await readFile(join(dir, "merged.json"), "utf8")).jobs.length, 3);
    assert.equal((await readFile(join(dir, "merged.xml"), "utf8")).match(/<testcase /g)?.length, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("annotations() leave out a suite file outside the workspace rather than point at a wrong path", () => {
  const lines = annotations(shard2, { root: "/elsewhere" });
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^::error title=/);
  assert.match(
    annotations(shard2, { root: "/work/repo" })[0],
    /^::error file=tests\/suites\/smoke\.yaml,line=7,/,
  );
});

Deno.test("a merge missing a shard, or holding an interrupted run, is incomplete and never passes", async () => {
  const sharded = (runId: string, shard: string, jobs: JobResult[]) => ({
    ...run(runId, shard1.startedAt, 5, jobs),
    shard,
  });
  const complete = mergeResults([
    { source: "1", results: sharded("s1", "1/2", [job("x86_64", "smoke")]) },
    { source: "2", results: sharded("s2", "2/2", [job("x86_64", "boot")]) },
  ]);
  assert.deepEqual(complete.merged.incomplete, []);
  const missing = mergeResults([
    { source: "1", results: sharded("s1", "1/2", [job("x86_64", "smoke")]) },
    { source: "2", results: sharded("s2", "2/2", [job("x86_64", "boot")]) },
    { source: "3", results: sharded("s3", "1/2", [job("aarch64", "smoke")]) },
  ]);
  assert.deepEqual(missing.merged.incomplete, ["shard 2/2: 1 result(s), other shards have 2"]);

  const dir = await Deno.makeTempDir({ prefix: "sis-merge-" });
  try {
    await writeFile(join(dir, "a.json"), JSON.stringify(sharded("s1", "1/2", [job("x86_64", "smoke")])));
    await writeFile(join(dir, "b.json"), JSON.stringify({ ...shard2, jobs: [], interrupted: "SIGTERM" }));
    const context = testContext({ cwd: dir });
    assert.equal(await mergeReport({ inputs: ["a.json", "b.json"] }, context), 1);
    assert.match(context.stderr.text, /incomplete: shard 2\/2: 0 result\(s\)/);
    assert.match(context.stderr.text, /incomplete: run r2 was stopped by SIGTERM/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
