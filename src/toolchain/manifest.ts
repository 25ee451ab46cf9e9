/** The build manifest written beside each kernel ELF: what was built, from what, and how to rebuild it. */
import { z } from "zod";
import { ARCHES } from "../arch.ts";
import { FailedError } from "../errors.ts";

/** Schema of `build/<arch>/manifest.json`. Bump `schema` on any incompatible change. */
export const BuildManifestSchema = z.object({
  schema: z.literal(1),
  arch: z.enum(ARCHES),
  target: z.string().min(1),
  profile: z.enum(["release", "debug"]),
  features: z.array(z.string()),
  /** The ELF, relative to the project root. */
  elf: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  sizeBytes: z.number().int().nonnegative(),
  rustc: z.string(),
  cargo: z.string(),
  linker: z.string(),
  /** `git rev-parse HEAD` of the checkout, or null outside git. */
  commit: z.string().nullable(),
  /** Whether kernel/ had uncommitted changes, or null outside git. */
  dirty: z.boolean().nullable(),
  builtAt: z.iso.datetime(),
  buildSeconds: z.number().nonnegative(),
  /** The exact cargo invocation that produced the ELF. */
  command: z.object({
    cwd: z.string(),
    env: z.record(z.string(), z.string()),
    argv: z.array(z.string()).min(1),
    /** The same, as one line to paste into a POSIX shell at the project root. */
    shell: z.string(),
  }),
});

export type BuildManifest = z.infer<typeof BuildManifestSchema>;

/** Validates parsed JSON as a manifest; the error names the first bad field. */
export function parseManifest(value: unknown, source: string): BuildManifest {
  const result = BuildManifestSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.length > 0 ? issue.path.join(".") : "(root)";
  throw new FailedError(`Invalid build manifest ${source}: field "${field}": ${issue.message}`, {
    fix: "rebuild it with 'sis build'",
  });
}

/** Reads and validates `build/<arch>/manifest.json`. */
export async function readManifest(path: string): Promise<BuildManifest> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new FailedError(`No build manifest at ${path}`, { fix: "run 'sis build' first" });
    }
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new FailedError(`Invalid build manifest ${path}: not JSON`, { fix: "rebuild it with 'sis build'" });
  }
  return parseManifest(json, path);
}

/** Quotes one word for a POSIX shell, only when it needs it. */
export function shellQuote(word: string): string {
  if (word !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `cd kernel && A=1 B=2 cargo ...`: a command a person can paste. */
export function shellCommand(
  cwd: string,
  env: Readonly<Record<string, string>>,
  argv: readonly string[],
): string {
  const assignments = Object.entries(env).map(([key, value]) => `${key}=${shellQuote(value)}`);
  return `cd ${shellQuote(cwd)} && ${[...assignments, ...argv.map(shellQuote)].join(" ")}`;
}
