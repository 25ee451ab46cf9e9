/** End-to-end tests of `sis metrics check`: lint verdicts on real expositions and the comparison of consecutive scrapes. */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sis } from "./_harness.ts";

Deno.test("sis metrics check passes each kernel's and a Prometheus server's exposition, and flags different kernels read as one history", async () => {
  const run = await sis([
    "metrics",
    "check",
    "fixtures/prometheus/kernel-aarch64.prom",
    "fixtures/prometheus/kernel-riscv64.prom",
    "fixtures/prometheus/kernel-x86_64.prom",
  ]);
  // Three different kernels read as consecutive scrapes are not one target's
  // history: the build_info series of one arch vanishes in the next, and that
  // is flagged (exit 1). Each kernel's own scrape is clean (below).
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stdout, /kernel-riscv64\.prom: series-gone: sis_build_info: .*arch="aarch64"/);
  assert.match(run.stdout, /3 scrape\(s\), \d+ samples, \d+ problem\(s\)/);
  // Each kernel's scrape on its own passes too.
  for (const arch of ["aarch64", "riscv64", "x86_64"]) {
    const one = await sis(["metrics", "check", `fixtures/prometheus/kernel-${arch}.prom`]);
    assert.equal(one.code, 0, `${arch}: ${one.stdout}${one.stderr}`);
    assert.match(one.stdout, /^1 scrape\(s\), \d+ samples, 0 problem\(s\)$/m, arch);
  }
  const server = await sis(["metrics", "check", "fixtures/prometheus/prometheus-server-2.42.prom"]);
  assert.equal(server.code, 0, server.stdout);
});

Deno.test("sis metrics check flags lint problems, and strict ones only with --strict", async () => {
  const lint = await sis(["metrics", "check", "fixtures/prometheus/lint-problems.prom"]);
  assert.equal(lint.code, 1);
  assert.match(lint.stdout, /lint: requests: counter metrics should have "_total" suffix/);
  const strict = await sis(["metrics", "check", "fixtures/prometheus/strict-problems.prom"]);
  assert.match(strict.stdout, /strict \(warning\): dup_total: line 5: duplicate series/);
  const strictOn = await sis(["metrics", "check", "--strict", "fixtures/prometheus/strict-problems.prom"]);
  assert.equal(strictOn.code, 1);
  const broken = await sis(["metrics", "check", "fixtures/prometheus/parse-error.prom"]);
  assert.equal(broken.code, 1);
  assert.match(broken.stdout, /parse: line 4: label value without a closing quote/);
});

Deno.test("sis metrics check compares scrapes: counter reset, vanished series, label budget", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sis-metrics-"));
  try {
    const head = "# HELP sis_vfs_opens_total Opens.\n# TYPE sis_vfs_opens_total counter\n";
    await writeFile(
      join(dir, "1.prom"),
      head + 'sis_vfs_opens_total{cpu="0"} 5\nsis_vfs_opens_total{cpu="1"} 2\n',
    );
    await writeFile(join(dir, "2.prom"), head + 'sis_vfs_opens_total{cpu="0"} 3\n');
    const run = await sis([
      "metrics",
      "check",
      "--max-series",
      "1",
      join(dir, "1.prom"),
      join(dir, "2.prom"),
    ]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /counter-reset: sis_vfs_opens_total: .*went backwards: 5 -> 3/);
    assert.match(run.stdout, /series-gone: sis_vfs_opens_total: series .*cpu=\\?"1/);
    assert.match(run.stdout, /label-budget: sis_vfs_opens_total: 2 label sets, over the budget of 1/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
