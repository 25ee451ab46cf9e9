//! Memory discovery and heap bookkeeping, kept apart from boot code so the
//! host's `cargo test` covers it.
#![cfg_attr(not(test), no_std)]

/// A physical address range.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Region {
    pub start: usize,
    pub size: usize,
}

/// Most regions of either kind a memory map holds; more are dropped (and
/// counted) rather than overflowing, since this is filled before the heap exists.
pub const MAX_REGIONS: usize = 16;

/// A fixed-capacity memory map, filled before the heap exists.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryMap {
    pub usable: [Region; MAX_REGIONS],
    pub usable_count: usize,
    pub reserved: [Region; MAX_REGIONS],
    pub reserved_count: usize,
}
