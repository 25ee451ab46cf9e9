/** What `sis doctor` checks and `sis setup` installs: one table of tools, each with how to find it and which Debian package brings it. */
import { PROFILES } from "../qemu/profiles.ts";
import { type Probe, which } from "./probe.ts";
import { findRustToolchain, LINKER } from "./rust.ts";
import { isAtLeast, MIN_DENO_VERSION, MIN_QEMU_VERSION, RUST_UPGRADE_FIX } from "./versions.ts";

/** How much a missing tool matters. */
export type Need =
  /** sis cannot build or boot without it: doctor exits 3. */
  | "required"
  /** Used by some features (reports, manifests); `sis setup` installs it by default. */
  | "recommended"
  /** Heavy and rarely needed (chromium, prometheus): installed only with `sis setup --optional`. */
  | "optional";

/** The outcome of one check. */
export interface CheckResult {
  readonly name: string;
  readonly need: Need;
  readonly found: boolean;
  /** What was found (version, path) or what is wrong. */
  readonly detail: string;
  /** Debian packages that provide it. */
  readonly packages: readonly string[];
  /** What to do when it is missing. */
  readonly fix: string;
}

/** Inputs of every check. */
export interface CheckInputs {
  readonly env: Readonly<Record<string, string>>;
  readonly probe: Probe;
  /** Version of the Deno running sis. */
  readonly denoVersion: string;
  /** kernel/Cargo.toml's `rust-version`, when run inside a checkout. */
  readonly rustVersion?: string;
  /** The toolchain lookup, shared by the checks that need it (set by runChecks). */
  readonly rust?: ReturnType<typeof findRustToolchain>;
}

/** The shared toolchain lookup, or a fresh one. */
function rustOf(inputs: CheckInputs): ReturnType<typeof findRustToolchain> {
  return inputs.rust ?? findRustToolchain(inputs.env, inputs.probe);
}

/** A check before it runs: data plus one function. */
interface CheckSpec {
  readonly name: string;
  readonly need: Need;
  readonly packages: readonly string[];
  /** The fix when it is not an apt package away. */
  readonly fix?: string;
  run(inputs: CheckInputs): Promise<{ found: boolean; detail: string }>;
}

/**
 * Looks a program up on PATH and reports the first line of `<program>
 * <versionFlag>`; with `minimum`, an older version counts as not found.
 */
function program(name: string, versionFlag = "--version", minimum?: string): CheckSpec["run"] {
  return async ({ env, probe }) => {
    const path = await which(probe, name, env);
    if (!path) return { found: false, detail: "not on PATH" };
    const result = await probe.run([path, versionFlag]);
    const version = (result.stdout || result.stderr).split("\n", 1)[0].trim();
    if (minimum && !isAtLeast(version, minimum)) {
      return {
        found: false,
        detail: `${path} (${version || "no version"}) is older than ${minimum}, the minimum`,
      };
    }
    return { found: true, detail: version ? `${path} (${version})` : path };
  };
}

/** Checks that a firmware file QEMU loads by default is present. */
function file(path: string): CheckSpec["run"] {
  return async ({ probe }) =>
    (await probe.exists(path)) ? { found: true, detail: path } : { found: false, detail: `${path} missing` };
}

const QEMU_VERSION = "--version";

/** Every check, in the order doctor prints them. */
const CHECKS: readonly CheckSpec[] = [
  {
    name: "deno",
    need: "required",
    packages: [],
    fix: `the ./sis launcher installs it from npm (deno@${MIN_DENO_VERSION})`,
    run: ({ denoVersion }) =>
      Promise.resolve(
        isAtLeast(denoVersion, MIN_DENO_VERSION)
          ? { found: true, detail: denoVersion }
          : { found: false, detail: `${denoVersion} is older than ${MIN_DENO_VERSION}, the minimum` },
      ),
  },
  {
    name: "rustc + cargo (build-std)",
    need: "required",
    packages: ["rustc-web", "cargo-web", "rust-web-src"],
    fix: `./sis setup, or ${RUST_UPGRADE_FIX}`,
    async run(inputs) {
      const { toolchain, inspections } = await rustOf(inputs);
      if (toolchain && inputs.rustVersion && !isAtLeast(toolchain.rustcVersion, inputs.rustVersion)) {
        return {
          found: false,
          detail: `${toolchain.rustcVersion} is older than the kernel's rust-version ${inputs.rustVersion} ` +
            "(kernel/Cargo.toml)",
        };
      }
      if (toolchain) {
        return { found: true, detail: `${toolchain.rustcVersion} [${toolchain.kind}], ${toolchain.cargo}` };
      }
      return { found: false, detail: inspections.map((i) => i.ok ? "" : i.problem).join("; ") };
    },
  },
  {
    name: "Rust library source",
    need: "required",
    packages: ["rust-web-src"],
    async run(inputs) {
      const { toolchain } = await rustOf(inputs);
      return toolchain
        ? { found: true, detail: toolchain.librarySource }
        : { found: false, detail: "no toolchain with library source (needed by -Zbuild-std)" };
    },
  },
  { name: LINKER, need: "required", packages: ["lld"], run: program(LINKER) },
  {
    name: "qemu-system-aarch64",
    need: "required",
    packages: [PROFILES.aarch64.aptPackage],
    run: program("qemu-system-aarch64", QEMU_VERSION, MIN_QEMU_VERSION),
  },
  {
    name: "qemu-system-riscv64",
    need: "required",
    packages: [PROFILES.riscv64.aptPackage],
    run: program("qemu-system-riscv64", QEMU_VERSION, MIN_QEMU_VERSION),
  },
  {
    name: "OpenSBI firmware (riscv64)",
    need: "required",
    packages: ["qemu-system-data"],
    run: file("/usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.bin"),
  },
  {
    name: "qemu-system-x86_64",
    need: "required",
    packages: [PROFILES.x86_64.aptPackage],
    run: program("qemu-system-x86_64", QEMU_VERSION, MIN_QEMU_VERSION),
  },
  {
    name: "SeaBIOS firmware (x86_64)",
    need: "required",
    packages: ["seabios"],
    run: file("/usr/share/seabios/bios-256k.bin"),
  },
  // setpriv --pdeathsig KILL ends QEMU when sis itself is killed with SIGKILL.
  { name: "setpriv", need: "required", packages: ["util-linux"], run: program("setpriv") },
  { name: "git", need: "recommended", packages: ["git"], run: program("git") },
  { name: "jq", need: "recommended", packages: ["jq"], run: program("jq") },
  { name: "chromium", need: "optional", packages: ["chromium"], run: program("chromium") },
  { name: "promtool", need: "optional", packages: ["prometheus"], run: program("promtool") },
];

/**
 * The one-line fix for missing packages, the same wherever sis meets the gap
 * (doctor, a QEMU that will not start on a CI runner): the setup command and
 * the apt-get line it runs, for machines where sis is a lone binary.
 */
export function setupFix(packages: readonly string[], optional = false): string {
  return `./sis setup${optional ? " --optional" : ""} (apt-get install ${packages.join(" ")})`;
}

/** Runs every check (in parallel: each only reads the machine). */
export function runChecks(inputs: CheckInputs): Promise<CheckResult[]> {
  // Two rows ask for the Rust toolchain: look it up once.
  const rust = findRustToolchain(inputs.env, inputs.probe);
  const shared: CheckInputs = { ...inputs, rust };
  return Promise.all(CHECKS.map(async (check) => {
    const { found, detail } = await check.run(shared);
    const fix = check.fix ??
      (check.packages.length > 0 ? setupFix(check.packages, check.need === "optional") : "");
    return { name: check.name, need: check.need, found, detail, packages: check.packages, fix };
  }));
}

/** The Debian packages that would fix the failed checks of the given needs, without duplicates. */
export function missingPackages(results: readonly CheckResult[], needs: readonly Need[]): string[] {
  const packages = results
    .filter((result) => !result.found && needs.includes(result.need))
    .flatMap((result) => result.packages);
  return [...new Set(packages)];
}

/** The commands `sis setup` runs, as argv arrays (never a shell string). */
export interface SetupPlan {
  readonly packages: readonly string[];
  readonly commands: readonly (readonly string[])[];
}

/**
 * apt-get update first (a fresh machine's package lists are empty or stale),
 * then one install of every missing package. Not root: through sudo when
 * there is one; otherwise the plan runs apt-get directly and it reports the
 * permission problem itself.
 */
export function planSetup(packages: readonly string[], isRoot: boolean, sudo: string | undefined): SetupPlan {
  if (packages.length === 0) return { packages, commands: [] };
  const prefix = isRoot || !sudo ? [] : [sudo];
  return {
    packages,
    commands: [
      [...prefix, "apt-get", "update"],
      [...prefix, "apt-get", "install", "-y", "--no-install-recommends", ...packages],
    ],
  };
}
