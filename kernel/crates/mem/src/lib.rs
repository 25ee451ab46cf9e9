//! Memory discovery and heap bookkeeping, kept apart from boot code so the
//! host's `cargo test` covers it.
#![cfg_attr(not(test), no_std)]

pub mod discover;
pub mod heap;
mod map;

pub use map::{MemoryMap, Region, MAX_REGIONS};
