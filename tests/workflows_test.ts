/**
 * The workflows and the composite action read as data: the test job runs
 * exactly what `sis matrix --github` plans, and action.yml is consistent
 * (declared inputs, step outputs, QEMU packages). actionlint (in .ci/run)
 * checks the syntax; these check what it cannot know.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { z } from "zod";
import { githubMatrixSchema } from "../src/ci/matrix.ts";
import { PROFILES } from "../src/qemu/profiles.ts";
import { ROOT, sis } from "./e2e/_harness.ts";

const read = async (path: string) => parse(await readFile(`${ROOT}/${path}`, "utf8"));

const stepSchema = z.object({
  name: z.string().optional(),
  run: z.string().optional(),
  uses: z.string().optional(),
})
  .loose();
const workflowSchema = z.object({
  jobs: z.record(
    z.string(),
    z.object({ steps: z.array(stepSchema), strategy: z.object({ matrix: z.unknown() }).loose().optional() })
      .loose(),
  ),
}).loose();

Deno.test("ci.yml's test job runs exactly the arguments `sis matrix --github` gives, on a matrix from that command", async () => {
  const ci = workflowSchema.parse(await read(".github/workflows/ci.yml"));
  const planStep = ci.jobs.build.steps.find((step) => step.run?.includes("matrix --github"));
  assert.ok(planStep?.run, "the build job plans the matrix");
  const command = /dist\/sis (matrix --github[^)"]*)/.exec(planStep.run)?.[1];
  assert.ok(command, planStep.run);
  assert.equal(ci.jobs.test.strategy?.matrix, "${{ fromJSON(needs.build.outputs.matrix) }}");

  // The plan, made by the real CLI from the workflow's own command line, is valid and sharded.
  const planned = await sis(command.trim().split(/\s+/));
  assert.equal(planned.code, 0, planned.stderr);
  const matrix = githubMatrixSchema.parse(JSON.parse(planned.stdout));
  assert.ok(
    matrix.include.every((entry) => entry.argv.includes("--shard") && entry.argv.includes("--no-build")),
  );

  // sis runs once per test job, with the entry's args and nothing else.
  const runs = ci.jobs.test.steps.map((step) => step.run ?? "").filter((run) => /\bsis\b/.test(run));
  const invocations = runs.flatMap((run) => run.split("\n")).filter((line) =>
    line.trim().startsWith("dist/sis")
  );
  assert.deepEqual(invocations.map((line) => line.trim()), ["dist/sis ${{ matrix.args }}"]);
  const install = ci.jobs.test.steps.find((step) => step.run?.includes("apt-get install"));
  assert.match(
    install?.run ?? "",
    /apt-get install -y -q --no-install-recommends "\$\{\{ matrix\.aptPackage \}\}"\s*$/,
  );
  // The report job merges what the test jobs upload.
  const merge = ci.jobs.report.steps.find((step) => step.run?.includes("report merge"));
  assert.match(merge?.run ?? "", /dist\/sis report merge results --junit \S+ --json \S+ --summary \S+/);
});

const actionSchema = z.object({
  name: z.string().min(1),
  description: z.string().min(1),
  inputs: z.record(
    z.string(),
    z.object({ description: z.string().min(1), default: z.string().optional() }).loose(),
  ),
  outputs: z.record(z.string(), z.object({ description: z.string().min(1), value: z.string() })),
  runs: z.object({
    using: z.literal("composite"),
    steps: z.array(
      z.union([
        z.object({ run: z.string(), shell: z.literal("bash"), id: z.string().optional() }).loose(),
        z.object({ uses: z.string(), with: z.record(z.string(), z.unknown()).optional() }).loose(),
      ]),
    ).min(1),
  }),
});

Deno.test("action.yml: the inputs asked for, every reference declared, QEMU packages as doctor names them", async () => {
  const text = await readFile(`${ROOT}/action.yml`, "utf8");
  const action = actionSchema.parse(parse(text));
  for (const input of ["version", "arch", "config", "suite", "args"]) assert.ok(action.inputs[input], input);
  for (const [, name] of text.matchAll(/\binputs\.([a-z-]+)/g)) {
    assert.ok(action.inputs[name], `inputs.${name}`);
  }
  const ids = new Set(action.runs.steps.map((step) => (step as { id?: string }).id).filter(Boolean));
  for (const [, id] of text.matchAll(/\bsteps\.([a-z-]+)\.outputs/g)) assert.ok(ids.has(id), `steps.${id}`);
  for (const [arch, profile] of Object.entries(PROFILES)) {
    assert.match(text, new RegExp(`^\\s+${arch}\\) packages="${profile.aptPackage}" ;;$`, "m"), arch);
  }
  // It fails on sis's exit code, after the upload.
  const last = action.runs.steps.at(-1) as { run?: string; if?: string };
  assert.equal(last.if, "always()");
  assert.match(last.run ?? "", /exit "\$SIS_EXIT"/);
  // It checks the download against its published checksum before running it.
  assert.match(text, /sha256sum --check --strict "sis-\$target\.sha256"/);
});
