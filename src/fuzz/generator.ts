/** The kernel's fuzz generator (kernel/crates/fuzz, sis-fuzz `generate`) mirrored call for call, so sis can list exactly what a seed's call `index` was without booting; vectors.txt there is the shared check. */

const MASK = (1n << 64n) - 1n;
const U64_MAX = MASK;

/** Page size, I/O and path limits, as sis-syscall limits.rs has them. */
const PAGE_SIZE = 4096n;
const MAX_IO_LEN = 64n * 1024n;
const PATH_MAX = 255n;
const MAX_FDS = 16n;
const MAX_PID = 1n << 20n;
const USER_TOP = 1n << 38n;
const MMAP_BASE = 0x30_0000_0000n;

/** The syscall table's names by number (sis-syscall table.rs `Sysno::ALL`). */
export const SYSCALL_NAMES = [
  "exit",
  "write",
  "read",
  "open",
  "close",
  "stat",
  "unlink",
  "mkdir",
  "getpid",
  "sleep",
  "yield",
  "mmap",
  "munmap",
  "uptime",
  "getrandom",
  "spawn",
  "wait",
  "progress",
] as const;

/** How many argument registers each call reads (table.rs `arg_count`); the listing shows only those. */
const ARG_COUNTS = [1, 3, 3, 3, 1, 3, 2, 2, 0, 1, 0, 3, 2, 0, 3, 4, 2, 1];

/** The calls the generator picks from (sis-fuzz `FUZZED`): not exit, spawn or progress. */
const FUZZED = [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n, 11n, 12n, 13n, 14n, 16n];

/** Their names: the calls a long enough run must reach (the coverage table's rows). */
export const FUZZED_SYSCALL_NAMES: readonly string[] = FUZZED.map((number) => SYSCALL_NAMES[Number(number)]);

/** What the fuzz program reports of its memory (`fuzz: layout ...`), as sis-fuzz `Layout`. */
export interface Layout {
  buffer: bigint;
  bufferLen: bigint;
  text: bigint;
  kernel: bigint;
  unmapped: bigint;
}

/** One generated call: number and six argument registers. */
export interface FuzzCall {
  number: bigint;
  args: bigint[];
}

/** SplitMix64, as sis-fuzz's `Rng`. */
class Rng {
  #state: bigint;
  constructor(seed: bigint) {
    this.#state = seed & MASK;
  }
  next(): bigint {
    this.#state = (this.#state + 0x9e3779b97f4a7c15n) & MASK;
    let z = this.#state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
    return z ^ (z >> 31n);
  }
  below(bound: bigint): bigint {
    return this.next() % bound;
  }
  pick<T>(choices: readonly T[]): T {
    return choices[Number(this.below(BigInt(choices.length)))];
  }
}

function pointer(rng: Rng, layout: Layout): bigint {
  const inBuffer = (layout.buffer + rng.below(layout.bufferLen)) & MASK;
  switch (Number(rng.below(10n))) {
    case 0:
    case 1:
    case 2:
      return layout.buffer;
    case 3:
      return inBuffer | 1n;
    case 4:
      return (layout.buffer + layout.bufferLen - 1n - rng.below(8n)) & MASK;
    case 5:
      return layout.text;
    case 6:
      return rng.pick([0n, 1n, PAGE_SIZE - 1n]);
    case 7:
      return (layout.kernel + rng.below(PAGE_SIZE)) & MASK;
    case 8:
      return rng.pick([layout.unmapped, USER_TOP - 1n, USER_TOP, U64_MAX - 7n]);
    default:
      return rng.next();
  }
}

function length(rng: Rng, layout: Layout): bigint {
  switch (Number(rng.below(8n))) {
    case 0:
      return 0n;
    case 1:
    case 2:
    case 3:
      return 1n + rng.below(64n);
    case 4:
      return layout.bufferLen;
    case 5:
      return rng.pick([MAX_IO_LEN, MAX_IO_LEN + 1n]);
    case 6:
      return rng.pick([PAGE_SIZE, PAGE_SIZE + 1n, U64_MAX, 1n << 32n]);
    default:
      return rng.next();
  }
}

function pathLength(rng: Rng): bigint {
  switch (Number(rng.below(6n))) {
    case 0:
      return 0n;
    case 1:
    case 2:
    case 3:
      return 1n + rng.below(16n);
    case 4:
      return rng.pick([PATH_MAX, PATH_MAX + 1n]);
    default:
      return rng.next();
  }
}

function fd(rng: Rng): bigint {
  switch (Number(rng.below(6n))) {
    case 0:
    case 1:
    case 2:
      return 3n + rng.below(4n);
    case 3:
      return rng.below(MAX_FDS);
    case 4:
      return rng.pick([MAX_FDS - 1n, MAX_FDS, U64_MAX]);
    default:
      return rng.next();
  }
}

/** fds 1 and 2 become 0 for write and close: the program's reports go there (sis-fuzz `fd_sparing_output`). */
function fdSparingOutput(rng: Rng): bigint {
  const value = fd(rng);
  return value === 1n || value === 2n ? 0n : value;
}

function flags(rng: Rng, valid: readonly bigint[]): bigint {
  if (rng.below(4n) === 0n) {
    const bits = rng.next();
    return bits >> rng.below(64n);
  }
  return rng.pick(valid);
}

const OPEN_FLAGS = [1n, 2n | 4n, 1n | 2n | 16n, 2n | 8n];

/** Call `index` of the run seeded with `seed` (sis-fuzz `generate`). */
export function generateCall(seed: bigint, index: bigint, layout: Layout): FuzzCall {
  const rng = new Rng(seed ^ ((index * 0xd1b54a32d192ed03n) & MASK));
  rng.next();
  let number: bigint;
  if (rng.below(16n) === 0n) {
    const random = rng.next();
    number = rng.pick([BigInt(SYSCALL_NAMES.length), 255n, 1n << 32n, U64_MAX, random]);
  } else {
    number = rng.pick(FUZZED);
  }
  const args = [0n, 0n, 0n, 0n, 0n, 0n];
  const set = (...values: bigint[]) => values.forEach((value, at) => args[at] = value);
  // Arguments are drawn left to right, as Rust evaluates the array literals.
  switch (number < 18n ? SYSCALL_NAMES[Number(number)] : "unknown") {
    case "write":
      set(fdSparingOutput(rng), pointer(rng, layout), length(rng, layout));
      break;
    case "read":
      set(fd(rng), pointer(rng, layout), length(rng, layout));
      break;
    case "open":
      set(pointer(rng, layout), pathLength(rng), flags(rng, OPEN_FLAGS));
      break;
    case "close":
      set(fdSparingOutput(rng));
      break;
    case "stat":
      set(pointer(rng, layout), pathLength(rng), pointer(rng, layout));
      break;
    case "unlink":
    case "mkdir":
      set(pointer(rng, layout), pathLength(rng));
      break;
    case "sleep":
      set(rng.pick([0n, 0n, 1n, 60_001n, U64_MAX]));
      break;
    case "mmap": {
      const hint = rng.below(8n) === 0n ? layout.buffer : 0n;
      set(hint, length(rng, layout), flags(rng, [1n, 3n]));
      break;
    }
    case "munmap": {
      const mask = rng.pick([0n, PAGE_SIZE - 1n]);
      // Half the time where the kernel's mmap put this process's mappings (sis-fuzz's comment says why).
      const address = rng.below(2n) === 0n
        ? MMAP_BASE + rng.below(64n) * PAGE_SIZE
        : pointer(rng, layout) & (~mask & MASK);
      set(address, length(rng, layout));
      break;
    }
    case "getrandom":
      set(pointer(rng, layout), length(rng, layout), flags(rng, [0n]));
      break;
    case "wait":
      set(rng.pick([0n, 1n, 2n, MAX_PID, MAX_PID + 1n, U64_MAX]), pointer(rng, layout));
      break;
    default:
      for (let at = 0; at < 6; at++) args[at] = rng.next();
  }
  return { number, args };
}

/** The call's name, or `unknown(<number>)` for a number outside the table. */
export function callName(number: bigint): string {
  return number < BigInt(SYSCALL_NAMES.length) ? SYSCALL_NAMES[Number(number)] : `unknown(${hex(number)})`;
}

/** `write(0x5, 0x2000004ffa, 0x10001)`: the registers the call reads (all six for an unknown number). */
export function describeCall(call: FuzzCall): string {
  const count = call.number < BigInt(SYSCALL_NAMES.length) ? ARG_COUNTS[Number(call.number)] : 6;
  return `${callName(call.number)}(${call.args.slice(0, count).map(hex).join(", ")})`;
}

export function hex(value: bigint): string {
  return `0x${value.toString(16)}`;
}
