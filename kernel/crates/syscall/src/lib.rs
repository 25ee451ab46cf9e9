//! The syscall ABI shared by every arch: one table of numbers, the return
//! encoding, and the validation layer that turns six raw argument registers
//! into a typed [`Call`] or the errno of the first bad argument.
//!
//! The kernel runs nothing of a syscall before [`decode`] accepted it: user
//! pointers are ranges checked against the process's mappings (with
//! overflow checks), fds against its table, flags against the known bits,
//! lengths and counts against the limits in [`limits`]. docs/SYSCALLS.md is
//! the prose version of this crate.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

pub mod copy;
pub mod decode;
pub mod fd;
pub mod flags;
pub mod limits;
pub mod mappings;
pub mod memory;
pub mod path;
pub mod processes;
pub mod pid;
pub mod ret;
pub mod stats;
pub mod table;
pub mod user_range;

pub use copy::{copy_from_user, copy_to_user, UserPages};
pub use decode::{decode, Call, Process};
pub use fd::{Fd, FdTable};
pub use mappings::Mappings;
pub use memory::MemoryBudget;
pub use ret::{decode_return, encode_return};
pub use stats::{AtomicSyscallStats, Outcome, SyscallStats};
pub use sis_abi::Errno;
pub use table::Sysno;
pub use user_range::{Access, AddressSpace, Piece, Region, UserRange};
