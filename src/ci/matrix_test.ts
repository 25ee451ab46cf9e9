import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { parseSync } from "@optique/core/parser";
import { z } from "zod";
import { testCommand } from "../commands/test.ts";
import { UsageError } from "../errors.ts";
import { PROFILES } from "../qemu/profiles.ts";
import { GITHUB_MATRIX_LIMIT, githubMatrixSchema, matrixEntrySchema, planMatrix } from "./matrix.ts";

const request = {
  arches: ["aarch64", "riscv64", "x86_64"] as const,
  configs: ["default", "lowmem"],
  suite: "all",
  suiteCount: 7,
  shards: 3,
};

Deno.test("planMatrix() gives one entry per arch × config × shard, each with a distinct id", () => {
  const { include } = planMatrix(request);
  assert.equal(include.length, 3 * 2 * 3);
  assert.equal(new Set(include.map((entry) => entry.id)).size, include.length);
  const cells = include.map((entry) => `${entry.arch} ${entry.config} ${entry.shard}`).sort();
  const expected = request.arches.flatMap((arch) =>
    request.configs.flatMap((config) => [1, 2, 3].map((index) => `${arch} ${config} ${index}/3`))
  ).sort();
  assert.deepEqual(cells, expected);
});

Deno.test("every entry's argv is accepted by the real `sis test` parser and means what the entry says", () => {
  for (const entry of planMatrix(request).include) {
    assert.equal(entry.argv[0], "test");
    const parsed = parseSync(testCommand, entry.argv);
    assert.ok(parsed.success, `${entry.args}: ${JSON.stringify(parsed)}`);
    if (!parsed.success) continue;
    assert.equal(parsed.value.arch, entry.arch);
    assert.equal(parsed.value.config, entry.config);
    assert.equal(parsed.value.suite, entry.suite);
    assert.equal(parsed.value.shard, entry.shard);
    assert.equal(parsed.value.noBuild, true);
    assert.equal(parsed.value.json, entry.json);
    assert.equal(parsed.value.junit, entry.junit);
    assert.equal(entry.aptPackage, PROFILES[entry.arch].aptPackage);
  }
});

Deno.test("matrixEntrySchema rejects an entry whose args line differs from its argv", () => {
  const [entry] = planMatrix(request).include;
  assert.ok(matrixEntrySchema.safeParse(entry).success);
  assert.equal(matrixEntrySchema.safeParse({ ...entry, args: `${entry.args} --extra` }).success, false);
  assert.equal(matrixEntrySchema.safeParse({ ...entry, shard: "4/3" }).success, false);
  assert.equal(matrixEntrySchema.safeParse({ ...entry, arch: "mips" }).success, false);
  assert.equal(githubMatrixSchema.safeParse({ include: [] }).success, false);
});

Deno.test("planMatrix() refuses more shards than suites, a matrix GitHub would refuse, and unquotable names", () => {
  assert.throws(() => planMatrix({ ...request, suite: "smoke", suiteCount: 1, shards: 2 }), UsageError);
  assert.throws(() => planMatrix({ ...request, shards: 0 }), UsageError);
  const configs = Array.from({ length: 30 }, (_, index) => `c${index}`);
  assert.ok(3 * configs.length * 3 > GITHUB_MATRIX_LIMIT);
  assert.throws(() => planMatrix({ ...request, configs }), /at most 256/);
  assert.throws(() => planMatrix({ ...request, suite: "smoke; rm -rf /" }), UsageError);
});

Deno.test("docs/ci-matrix.schema.json is the JSON Schema of githubMatrixSchema", async () => {
  const committed = JSON.parse(
    await readFile(new URL("../../docs/ci-matrix.schema.json", import.meta.url), "utf8"),
  );
  assert.deepEqual(committed, z.toJSONSchema(githubMatrixSchema));
});
