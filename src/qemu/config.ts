/** Loads `sis.yaml` (config overrides and extra configs), validated with zod; a bad file is one error naming the field. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { type Arch, ARCHES } from "../arch.ts";
import { UsageError } from "../errors.ts";
import { BUILTIN_CONFIGS, type MachineConfig } from "./profiles.ts";

/** `512M`, `1G`, `128` (MiB) or a number of MiB. */
const memory = z.union([
  z.number().int().positive(),
  z.string().regex(/^\d+\s*[MG]?i?B?$/i, "memory must look like 512M or 1G"),
]).transform((value) => {
  if (typeof value === "number") return value;
  const match = /^(\d+)\s*([MG]?)/i.exec(value)!;
  return Number(match[1]) * (match[2].toUpperCase() === "G" ? 1024 : 1);
}).pipe(z.number().min(16, "memory must be at least 16 MiB").max(16384, "memory must be at most 16G"));

const configSchema = z.strictObject({
  memory: memory.optional(),
  cpus: z.number().int().min(1).max(8).optional(),
  network: z.boolean().optional(),
  extra_args: z.array(z.string()).optional(),
  description: z.string().optional(),
});

const archRecord = <T extends z.ZodType>(value: T) =>
  z.strictObject(
    Object.fromEntries(ARCHES.map((arch) => [arch, value.optional()])) as Record<Arch, z.ZodOptional<T>>,
  );

/** The schema of `sis.yaml`. Unknown keys are errors: a typo must not be silently ignored. */
export const sisYamlSchema = z.strictObject({
  configs: z.record(
    z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "config names are lower-case words"),
    configSchema,
  )
    .optional(),
  qemu: archRecord(z.string().min(1)).optional(),
  timeouts: z.strictObject({
    boot_ms: z.number().int().positive().optional(),
    command_ms: z.number().int().positive().optional(),
  }).optional(),
});

export type SisYaml = z.infer<typeof sisYamlSchema>;

/** What the harness uses after merging `sis.yaml` over the built-ins. */
export interface HarnessSettings {
  readonly configs: Readonly<Record<string, MachineConfig>>;
  /** QEMU binary per arch when sis.yaml overrides it. */
  readonly qemuBinaries: Partial<Record<Arch, string>>;
  readonly bootTimeoutMs?: number;
  readonly commandTimeoutMs?: number;
  /** The file the settings came from, if any. */
  readonly source?: string;
}

/** Formats a zod issue path as `configs.lowmem.memory`. */
function issuePath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? "(top level)" : path.map(String).join(".");
}

/** Validates parsed YAML; throws a {@link UsageError} naming the file and the first bad field. */
export function settingsFromYaml(data: unknown, source: string): HarnessSettings {
  const result = sisYamlSchema.safeParse(data ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new UsageError(`${source}: ${issuePath(issue.path)}: ${issue.message}`, {
      fix: "see docs/HARNESS.md for the fields sis.yaml accepts",
    });
  }
  const configs: Record<string, MachineConfig> = { ...BUILTIN_CONFIGS };
  for (const [name, override] of Object.entries(result.data.configs ?? {})) {
    const base = BUILTIN_CONFIGS[name] ?? BUILTIN_CONFIGS.default;
    const memoryMiB = override.memory ?? base.memoryMiB;
    const cpus = override.cpus ?? base.cpus;
    configs[name] = {
      name,
      memoryMiB,
      cpus,
      network: override.network ?? base.network,
      extraArgs: override.extra_args ?? base.extraArgs,
      description: override.description ?? `${memoryMiB} MiB, ${cpus} CPU${cpus === 1 ? "" : "s"} (sis.yaml)`,
    };
  }
  return {
    configs,
    qemuBinaries: result.data.qemu ?? {},
    bootTimeoutMs: result.data.timeouts?.boot_ms,
    commandTimeoutMs: result.data.timeouts?.command_ms,
    source,
  };
}

/** Reads `<cwd>/sis.yaml` when present; the built-ins otherwise. */
export async function loadSettings(cwd: string, fileName = "sis.yaml"): Promise<HarnessSettings> {
  const path = join(cwd, fileName);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") {
      return { configs: { ...BUILTIN_CONFIGS }, qemuBinaries: {} };
    }
    throw new UsageError(`${path}: cannot read: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new UsageError(`${path}: not valid YAML: ${(error as Error).message}`);
  }
  return settingsFromYaml(data, path);
}

/** Expands `--config` (a name or `all`) to configs, or names the bad one. */
export function selectConfigs(settings: HarnessSettings, choice: string): MachineConfig[] {
  if (choice === "all") return Object.values(settings.configs);
  const config = settings.configs[choice];
  if (!config) {
    throw new UsageError(`unknown config "${choice}"`, {
      fix: `use one of: ${Object.keys(settings.configs).join(", ")}, all`,
    });
  }
  return [config];
}
