/** The three architectures sis builds and boots, and their Rust target triples. */

/** Every supported architecture, in the order `--arch all` handles them. */
export const ARCHES = ["aarch64", "riscv64", "x86_64"] as const;

export type Arch = typeof ARCHES[number];

/** The bare-metal Rust target each arch builds for (kernel/.cargo and DESIGN.md). */
export const TARGET_TRIPLE: Readonly<Record<Arch, string>> = {
  aarch64: "aarch64-unknown-none",
  riscv64: "riscv64gc-unknown-none-elf",
  x86_64: "x86_64-unknown-none",
};

/** Values `--arch` accepts: one arch or `all`. */
export const ARCH_CHOICES = [...ARCHES, "all"] as const;

export type ArchChoice = typeof ARCH_CHOICES[number];

/** Expands an `--arch` value to the list of arches it names. */
export function expandArch(choice: ArchChoice): Arch[] {
  return choice === "all" ? [...ARCHES] : [choice];
}

export function isArch(value: string): value is Arch {
  return (ARCHES as readonly string[]).includes(value);
}
