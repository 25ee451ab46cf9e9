/** `sis report merge` on a real sharded run: three archs, three shards, merged, against the same run unsharded. */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { RunResults } from "../../src/report/results.ts";
import { sis } from "./_harness.ts";

/** What must agree between two runs of the same jobs: which jobs, and each step's verdict. */
function verdicts(results: RunResults) {
  return results.jobs
    .map((job) => ({
      name: job.name,
      status: job.status,
      steps: job.steps.map((step) => ({ id: step.id, status: step.status, messages: step.messages })),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

Deno.test("merging the three shards of a three-arch run gives the unsharded run's results", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sis-e2e-merge-" });
  try {
    const base = ["test", "--arch", "all", "--suite", "all"];
    const whole = await sis([...base, "--json", join(dir, "whole.json"), "--junit", join(dir, "whole.xml")]);
    assert.equal(whole.code, 0, whole.stdout + whole.stderr);
    const bundles: string[] = [];
    for (const index of [1, 2, 3]) {
      const shard = await sis([...base, "--shard", `${index}/3`, "--json", join(dir, `shard-${index}.json`)]);
      assert.equal(shard.code, 0, shard.stdout + shard.stderr);
      const bundle = /bundle (\S+)\n/.exec(shard.stderr)?.[1];
      assert.ok(bundle, shard.stderr);
      bundles.push(bundle);
    }
    const unsharded: RunResults = JSON.parse(await readFile(join(dir, "whole.json"), "utf8"));
    const shards: RunResults[] = await Promise.all(
      [1, 2, 3].map(async (index) => JSON.parse(await readFile(join(dir, `shard-${index}.json`), "utf8"))),
    );
    // A real split: every shard ran something, and no shard ran everything.
    for (const shard of shards) assert.ok(shard.jobs.length > 0 && shard.jobs.length < unsharded.jobs.length);
    assert.deepEqual(
      new Set(unsharded.jobs.map((job) => job.arch)),
      new Set(["aarch64", "riscv64", "x86_64"]),
    );

    // From the --json files, and from the run bundles themselves (plus a --json copy of one: counted once).
    for (
      const [label, inputs] of [["json", [1, 2, 3].map((i) => join(dir, `shard-${i}.json`))], [
        "bundles",
        [...bundles, join(dir, "shard-1.json")],
      ]] as const
    ) {
      const out = join(dir, `merged-${label}`);
      const merge = await sis([
        "report",
        "merge",
        ...inputs,
        "--json",
        `${out}.json`,
        "--junit",
        `${out}.xml`,
        "--summary",
        `${out}.md`,
      ]);
      assert.equal(merge.code, 0, merge.stdout + merge.stderr);
      const merged: RunResults = JSON.parse(await readFile(`${out}.json`, "utf8"));
      assert.deepEqual(verdicts(merged), verdicts(unsharded), label);
      assert.deepEqual(merged.summary, unsharded.summary, label);
      // The merged JUnit has as many test cases and failures as the unsharded one.
      const count = (xml: string, pattern: RegExp) => xml.match(pattern)?.length ?? 0;
      const [mergedXml, wholeXml] = await Promise.all([
        readFile(`${out}.xml`, "utf8"),
        readFile(join(dir, "whole.xml"), "utf8"),
      ]);
      assert.equal(count(mergedXml, /<testcase /g), count(wholeXml, /<testcase /g), label);
      assert.equal(count(mergedXml, /<failure /g), count(wholeXml, /<failure /g), label);
      assert.match(await readFile(`${out}.md`, "utf8"), /^## sis test \(3 runs merged\): passed\n/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sis report merge refuses overlapping runs and non-results with exit 2 and one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sis-e2e-merge-" });
  try {
    const first = await sis(["test", "--arch", "x86_64", "--json", join(dir, "a.json")]);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const second = await sis(["test", "--arch", "x86_64", "--json", join(dir, "b.json")]);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    const overlap = await sis(["report", "merge", join(dir, "a.json"), join(dir, "b.json")]);
    assert.equal(overlap.code, 2);
    assert.match(overlap.stderr, /^error: job x86_64-default-smoke is in both \S+a\.json and \S+b\.json/);
    await Deno.writeTextFile(join(dir, "c.json"), "[1, 2]");
    const bad = await sis(["report", "merge", join(dir, "c.json")]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
    assert.match(bad.stderr, /^error: \S+c\.json: not sis results/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
