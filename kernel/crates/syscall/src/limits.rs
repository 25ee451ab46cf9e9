//! The numbers every validator checks against, in one place so that
//! docs/SYSCALLS.md and the fuzzer's generators can name them.

/// Size of a page on every arch (4 KiB granule everywhere).
pub const PAGE_SIZE: u64 = 4096;

/// The lowest user address: page 0 stays unmapped so a null pointer faults.
pub const USER_BASE: u64 = PAGE_SIZE;

/// One past the highest user address on every arch. 2^38 (256 GiB) fits the
/// smallest of the three user halves (riscv64 Sv39's lower half); anything
/// at or above it is a kernel or non-canonical address and gets EFAULT.
pub const USER_TOP: u64 = 1 << 38;

/// Largest buffer one read, write or getrandom moves. Bigger is EINVAL:
/// a program that wants more loops, and the kernel never holds a user
/// request of unbounded size.
pub const MAX_IO_LEN: u64 = 64 * 1024;

/// Longest path in bytes (no terminator: paths are pointer and length).
pub const PATH_MAX: u64 = 255;

/// Open files per process; one more is EMFILE.
pub const MAX_FDS: usize = 16;

/// Arguments `spawn` passes; more is E2BIG.
pub const MAX_ARGS: usize = 8;

/// Total bytes of `spawn`'s argument string; more is E2BIG.
pub const ARG_MAX: u64 = 1024;

/// Pages a process may map with mmap (its image and stack not counted);
/// beyond it mmap is ENOMEM. 1 MiB.
pub const MAX_PROCESS_PAGES: u64 = 256;

/// Largest single mmap length; more is EINVAL (it could never fit).
pub const MAX_MMAP_LEN: u64 = MAX_PROCESS_PAGES * PAGE_SIZE;

/// Largest pid; 0 and anything above are ESRCH without a table look-up.
pub const MAX_PID: u64 = 1 << 20;

/// Longest sleep in milliseconds (one minute); more is EINVAL.
pub const MAX_SLEEP_MS: u64 = 60_000;

/// Where user programs are linked (kernel/user/link.ld): 128 GiB, clear of
/// every kernel identity map.
pub const USER_IMAGE_BASE: u64 = 0x20_0000_0000;

/// Where mmap starts looking for free pages: 192 GiB.
pub const MMAP_BASE: u64 = 0x30_0000_0000;

/// Most mappings a process has (image segments, stack, argument page, mmaps);
/// one more mmap is ENOMEM.
pub const MAX_MAPPINGS: usize = 32;

/// One past the top of every process's stack: the stack grows down from
/// here, and the page above it (up to the image) stays unmapped, so running
/// off either end of the stack faults instead of touching the image.
pub const USER_STACK_TOP: u64 = USER_IMAGE_BASE - 16 * PAGE_SIZE;

/// Pages of user stack every process gets (32 KiB), mapped at load time.
pub const USER_STACK_PAGES: u64 = 8;

/// Where the kernel puts a process's argument text (one read-only page of
/// ARG_MAX bytes at most), clear of the stack and the image: 64 GiB.
pub const USER_ARGS_ADDRESS: u64 = 0x10_0000_0000;
