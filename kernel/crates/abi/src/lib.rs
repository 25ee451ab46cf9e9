//! The kernel's side of `docs/PROTOCOL.md`: errno names, QEMU exit codes and
//! the shell's framing markers. The CLI mirrors these values in
//! `src/protocol.ts`; a change here is a protocol change.
#![cfg_attr(not(test), no_std)]

pub mod errno;
pub mod exit;
pub mod frame;

pub use errno::Errno;
