/** The GitHub Actions matrix of `sis matrix --github`: one entry per arch × config × shard, with the exact `sis test` arguments, and its zod schema. */
import { z } from "zod";
import { type Arch, ARCHES } from "../arch.ts";
import { UsageError } from "../errors.ts";
import { PROFILES } from "../qemu/profiles.ts";

/** GitHub refuses a matrix of more than 256 jobs per workflow run. */
export const GITHUB_MATRIX_LIMIT = 256;

/** Where each entry's `sis test` writes its JUnit and JSON files, relative to the job's working directory. */
export const RESULTS_DIR = "sis-results";

const nameLike = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/);

/** One job of the matrix; the workflow reads these fields as `matrix.<field>`. */
export const matrixEntrySchema = z.strictObject({
  /** Safe in artifact and file names: `x86_64-default-1of3`. */
  id: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/),
  /** For people: `x86_64 default 1/3`. */
  name: z.string().min(1),
  arch: z.enum(ARCHES),
  config: nameLike,
  /** The `--suite` value every entry runs (a name, a comma list, or `all`). */
  suite: z.string().min(1),
  /** `i/N`, 1-based. */
  shard: z.string().regex(/^[1-9][0-9]*\/[1-9][0-9]*$/),
  /** The one apt package that gives this arch's QEMU. */
  aptPackage: z.string().min(1),
  /** The `sis` arguments, one per element (starts with `test`). */
  argv: z.array(z.string().min(1)).min(2),
  /** The same arguments joined for a shell line (`sis ${{ matrix.args }}`); no element needs quoting. */
  args: z.string().min(1),
  /** The JSON results file `argv` writes (upload it, then `sis report merge` it). */
  json: z.string().min(1),
  /** The JUnit file `argv` writes. */
  junit: z.string().min(1),
}).superRefine((entry, context) => {
  if (entry.args !== entry.argv.join(" ")) {
    context.addIssue({ code: "custom", path: ["args"], message: "args must be argv joined by spaces" });
  }
  const [index, count] = entry.shard.split("/").map(Number);
  if (index > count) {
    context.addIssue({ code: "custom", path: ["shard"], message: "shard index above count" });
  }
});

/** What `fromJSON()` is given: GitHub's `include` form, so every field is a matrix value. */
export const githubMatrixSchema = z.strictObject({
  include: z.array(matrixEntrySchema).min(1).max(GITHUB_MATRIX_LIMIT),
});

export type MatrixEntry = z.infer<typeof matrixEntrySchema>;
export type GithubMatrix = z.infer<typeof githubMatrixSchema>;

export interface MatrixRequest {
  readonly arches: readonly Arch[];
  readonly configs: readonly string[];
  /** The `--suite` value, passed on as given. */
  readonly suite: string;
  /** How many suites `suite` selects: a shard must have at least one. */
  readonly suiteCount: number;
  readonly shards: number;
  /** Extra `sis test` arguments appended to every entry (for example `--no-build`). */
  readonly extraArgs?: readonly string[];
}

/** An argument a shell line can carry without quoting. */
const SHELL_SAFE = /^[A-Za-z0-9_./,:=@%+-]+$/;

/**
 * Plans the matrix. Every shard of an entry must get work: sharding splits
 * an arch × config run by suite, so more shards than suites is a usage error
 * rather than jobs that boot nothing.
 */
export function planMatrix(request: MatrixRequest): GithubMatrix {
  if (!Number.isInteger(request.shards) || request.shards < 1) {
    throw new UsageError(`--shards must be a whole number of at least 1, got ${request.shards}`);
  }
  if (request.shards > request.suiteCount) {
    throw new UsageError(
      `--shards ${request.shards} splits each arch × config run by suite, but --suite ${request.suite} selects ` +
        `${request.suiteCount} suite(s)`,
      { fix: `use --shards ${request.suiteCount} or fewer, or select more suites (--suite all)` },
    );
  }
  const count = request.arches.length * request.configs.length * request.shards;
  if (count > GITHUB_MATRIX_LIMIT) {
    throw new UsageError(
      `the matrix would have ${count} jobs; GitHub runs at most ${GITHUB_MATRIX_LIMIT} per workflow`,
      { fix: "ask for fewer archs, configs or shards" },
    );
  }
  for (const argument of [request.suite, ...request.configs, ...(request.extraArgs ?? [])]) {
    if (!SHELL_SAFE.test(argument)) {
      throw new UsageError(`"${argument}" cannot be passed on a workflow's shell line unquoted`, {
        fix: "use names made of letters, digits and - _ . , only",
      });
    }
  }
  const include: MatrixEntry[] = [];
  for (const arch of request.arches) {
    for (const config of request.configs) {
      for (let index = 1; index <= request.shards; index++) {
        const shard = `${index}/${request.shards}`;
        const id = `${arch}-${config}-${index}of${request.shards}`;
        const json = `${RESULTS_DIR}/${id}.json`;
        const junit = `${RESULTS_DIR}/${id}.xml`;
        const argv = [
          "test",
          "--arch",
          arch,
          "--config",
          config,
          "--suite",
          request.suite,
          "--shard",
          shard,
          // CI runners bring the kernels built once by the build job, and have no Rust toolchain.
          "--no-build",
          "--junit",
          junit,
          "--json",
          json,
          ...(request.extraArgs ?? []),
        ];
        include.push({
          id,
          name: `${arch} ${config} ${shard}`,
          arch,
          config,
          suite: request.suite,
          shard,
          aptPackage: PROFILES[arch].aptPackage,
          argv,
          args: argv.join(" "),
          json,
          junit,
        });
      }
    }
  }
  return githubMatrixSchema.parse({ include });
}
