/** The CLI's mirror of kernel/crates/abi: errno numbers, exit codes and framing markers of docs/PROTOCOL.md. */

/**
 * Errno names and numbers (Linux numbering), as `kernel/crates/abi/src/errno.rs`
 * defines them. A failing command prints `error: <NAME>: <detail>` and ends
 * with the number as its status. protocol_test.ts reads the Rust file and
 * fails when the two drift apart.
 */
export const ERRNO = {
  ENOENT: 2,
  ESRCH: 3,
  EIO: 5,
  E2BIG: 7,
  EBADF: 9,
  ENOMEM: 12,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  EMFILE: 24,
  EFBIG: 27,
  ENOSPC: 28,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ENETDOWN: 100,
  ETIMEDOUT: 110,
} as const;

export type ErrnoName = keyof typeof ERRNO;

/** The errno name for a command status, or undefined when the status is not an errno. */
export function errnoName(status: number): ErrnoName | undefined {
  return (Object.keys(ERRNO) as ErrnoName[]).find((name) => ERRNO[name] === status);
}

/** Status of a command the shell does not know (PROTOCOL.md "Failing commands"). */
export const STATUS_UNKNOWN_COMMAND = 127;

/** Status of a command used wrongly. */
export const STATUS_USAGE = 2;

/** The largest code `poweroff <code>` accepts (`abi::exit::POWEROFF_MAX`). */
export const POWEROFF_MAX = 100;

/** The kernel's exit code after a panic or unexpected exception (`abi::exit::PANIC`). */
export const PANIC_EXIT_CODE = 101;

/** Start byte of every marker line (SOH). */
export const MARK = 0x01;

/** Marker names after the SOH byte (`abi::frame`). */
export const MARKER = {
  begin: "sis:begin",
  end: "sis:end",
  log: "sis:log",
  ready: "sis:ready",
  panic: "sis:panic",
} as const;

/** The shell prompt, exactly, with no newline after it. */
export const PROMPT = "sis> ";

/** The kernel's first line starts with this (stage `kernel`). */
export const KERNEL_ENTRY_PREFIX = "SIS kernel ";

/** The command that switches the shell to machine mode, and the one that leaves it. */
export const FRAME_ON = "frame on";
export const FRAME_OFF = "frame off";

/** Limits of the line editor: longer lines are refused with E2BIG. */
export const MAX_LINE_BYTES = 1024;
export const MAX_LINE_WORDS = 128;

/** At most this many bytes of the received line are echoed in a `begin` marker. */
export const BEGIN_LINE_MAX_BYTES = 200;
