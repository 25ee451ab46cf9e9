//! A small VFS: one RAM file system whose file data lives in the blocks of a
//! [`sis_hal::BlockDevice`], with directories and metadata in memory.
//!
//! - Paths are absolute (`/a/b`) or relative; [`Vfs::resolve`] joins a
//!   relative path to the caller's working directory and normalizes `.`,
//!   `..`, repeated and trailing `/`. Every other method resolves its path
//!   against `/`, so the shell resolves against its cwd first.
//! - Writes are all or nothing: new data goes to freshly allocated blocks and
//!   replaces the old ones only after every block write succeeded, so a
//!   device error leaves the old content, the block accounting and the
//!   directory tree as they were, and the caller gets the device's errno.
//! - Every allocation is fallible (`try_reserve`): running out of heap is
//!   `ENOMEM`, never an abort.
//!
//! See docs/kernel-logic.md for the limits and the errno of each refusal.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

extern crate alloc;

mod path;
mod vfs;

pub use path::resolve;
pub use vfs::{DirEntry, Limits, Metadata, NodeKind, Vfs, VfsStats, WriteMode};
