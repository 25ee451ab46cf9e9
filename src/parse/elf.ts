/** Reads an ELF64 file's symbol table in TypeScript and maps addresses to `function+offset`, with Rust names demangled (v0 and legacy). */

import { demangle } from "./demangle.ts";

/**
 * Only what symbolizing needs: the section headers, `.symtab` (or
 * `.dynsym`) and its string table, little- and big-endian. Every offset is
 * bounds-checked, so a truncated or hostile file gives an `ElfError`, never
 * an out-of-range read or a hang. File and line numbers need DWARF, which is
 * left to `llvm-addr2line` (see `addr2line()` below) when it is installed.
 */

export class ElfError extends Error {}

export interface ElfSymbol {
  name: string;
  /** Demangled name (Rust legacy `_ZN…E` and v0 `_R` prefixes are handled where possible). */
  displayName: string;
  address: bigint;
  size: bigint;
  isFunction: boolean;
}

export interface ElfInfo {
  machine: number;
  machineName: string;
  entry: bigint;
  symbols: ElfSymbol[];
}

const MACHINES: Record<number, string> = { 0x3e: "x86_64", 0xb7: "aarch64", 0xf3: "riscv64" };

/** Parses the ELF header and symbols; throws `ElfError` on anything malformed. */
export function readElf(bytes: Uint8Array): ElfInfo {
  if (bytes.length < 64 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ElfError("not an ELF file (bad magic)");
  }
  if (bytes[4] !== 2) throw new ElfError("not a 64-bit ELF file");
  const little = bytes[5] === 1;
  if (bytes[5] !== 1 && bytes[5] !== 2) throw new ElfError("bad ELF data encoding");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => check(at, 2) && view.getUint16(at, little);
  const u32 = (at: number) => check(at, 4) && view.getUint32(at, little);
  const u64 = (at: number) => (check(at, 8), view.getBigUint64(at, little));
  function check(at: number, size: number): true {
    if (at < 0 || at + size > bytes.length) throw new ElfError(`truncated ELF file (read at ${at})`);
    return true;
  }
  const machine = u16(18) as number;
  const entry = u64(24);
  const sectionOffset = toNumber(u64(40));
  const sectionSize = u16(58) as number;
  const sectionCount = u16(60) as number;
  if (sectionCount === 0) {
    return { machine, machineName: MACHINES[machine] ?? `machine ${machine}`, entry, symbols: [] };
  }
  if (sectionSize < 64) throw new ElfError("section header entries are too small");
  const sections = [];
  for (let index = 0; index < sectionCount; index++) {
    const at = sectionOffset + index * sectionSize;
    sections.push({
      type: u32(at + 4) as number,
      offset: toNumber(u64(at + 24)),
      size: toNumber(u64(at + 32)),
      link: u32(at + 40) as number,
      entrySize: toNumber(u64(at + 56)),
    });
  }
  const SHT_SYMTAB = 2;
  const SHT_DYNSYM = 11;
  const table = sections.find((section) => section.type === SHT_SYMTAB) ??
    sections.find((section) => section.type === SHT_DYNSYM);
  const symbols: ElfSymbol[] = [];
  if (table) {
    const strings = sections[table.link];
    if (!strings) throw new ElfError("symbol table links to a missing string table");
    check(strings.offset, strings.size);
    check(table.offset, table.size);
    const entrySize = table.entrySize || 24;
    if (entrySize < 24) throw new ElfError("symbol entries are too small");
    const decoder = new TextDecoder();
    for (let at = table.offset; at + entrySize <= table.offset + table.size; at += entrySize) {
      const nameOffset = u32(at) as number;
      const info = bytes[at + 4];
      const type = info & 0xf;
      const address = u64(at + 8);
      const size = u64(at + 16);
      // Functions, and untyped symbols with an address (assembly labels such as the boot entry).
      if (type !== 2 && type !== 0) continue;
      if (address === 0n || nameOffset >= strings.size) continue;
      const start = strings.offset + nameOffset;
      let end = start;
      const limit = strings.offset + strings.size;
      while (end < limit && bytes[end] !== 0) end++;
      const name = decoder.decode(bytes.subarray(start, end));
      if (name === "" || name.startsWith("$") || name.startsWith(".L")) continue; // Mapping symbols ($x, $d).
      symbols.push({ name, displayName: demangle(name), address, size, isFunction: type === 2 });
    }
  }
  symbols.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  return { machine, machineName: MACHINES[machine] ?? `machine ${machine}`, entry, symbols };
}

function toNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError("offset too large");
  return Number(value);
}

/** An address resolved against the symbol table. */
export interface Symbolized {
  address: bigint;
  symbol?: string;
  offset?: bigint;
}

/** Finds the function containing `address`: the last symbol at or below it, within its size when it has one. */
export function symbolize(symbols: readonly ElfSymbol[], address: bigint): Symbolized {
  let low = 0;
  let high = symbols.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (symbols[middle].address <= address) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  // Prefer a sized function symbol among those sharing the address.
  while (found > 0 && symbols[found - 1].address === symbols[found].address && !symbols[found].isFunction) {
    found--;
  }
  if (found < 0) return { address };
  const symbol = symbols[found];
  const offset = address - symbol.address;
  if (symbol.size > 0n && offset >= symbol.size) return { address };
  return { address, symbol: symbol.displayName, offset };
}

/** `name+0x1c`, or the bare address when unknown. */
export function formatSymbolized(value: Symbolized): string {
  if (value.symbol === undefined) return `0x${value.address.toString(16)} (unknown)`;
  return `${value.symbol}+0x${value.offset!.toString(16)}`;
}

/** A file:line for an address, from DWARF through an addr2line tool. */
export interface SourceLine {
  function?: string;
  location?: string;
}

/**
 * Runs `llvm-addr2line` (or binutils `addr2line`) once for all addresses.
 * Returns undefined when neither tool is installed; an address the tool
 * cannot place gets `{}`.
 */
export async function addr2line(
  elfPath: string,
  addresses: readonly bigint[],
  tools: readonly string[] = ["llvm-addr2line", "addr2line"],
): Promise<SourceLine[] | undefined> {
  if (addresses.length === 0) return [];
  for (const tool of tools) {
    let output: Deno.CommandOutput;
    try {
      output = await new Deno.Command(tool, {
        args: ["-e", elfPath, "-f", "-C", ...addresses.map((address) => `0x${address.toString(16)}`)],
        stdout: "piped",
        stderr: "null",
      }).output();
    } catch {
      continue; // Not installed.
    }
    if (!output.success) continue;
    const lines = new TextDecoder().decode(output.stdout).split("\n");
    const result: SourceLine[] = [];
    for (let index = 0; index < addresses.length; index++) {
      const fn = lines[index * 2]?.trim();
      const location = lines[index * 2 + 1]?.trim();
      result.push({
        function: fn && fn !== "??" ? fn : undefined,
        location: location && !location.startsWith("??") ? location : undefined,
      });
    }
    return result;
  }
  return undefined;
}

/** The marker `build.rs` puts in every kernel image, followed by its 16-hex-digit build id. */
const BUILD_ID_MARKER = new TextEncoder().encode("sis-build-id:");

/**
 * The kernel's build id, found by its marker in the image's bytes (it is a
 * string constant in .rodata); undefined for kernels built before the id.
 */
export function findBuildId(bytes: Uint8Array): string | undefined {
  let from = 0;
  for (;;) {
    const at = bytes.indexOf(BUILD_ID_MARKER[0], from);
    if (at < 0) return undefined;
    from = at + 1;
    if (at + BUILD_ID_MARKER.length + 16 > bytes.length) return undefined;
    if (!BUILD_ID_MARKER.every((byte, index) => bytes[at + index] === byte)) continue;
    const id = new TextDecoder().decode(
      bytes.subarray(at + BUILD_ID_MARKER.length, at + BUILD_ID_MARKER.length + 16),
    );
    if (/^[0-9a-f]{16}$/.test(id)) return id;
  }
}
