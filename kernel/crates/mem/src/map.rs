//! A fixed-capacity physical memory map, filled before the heap exists.

/// A physical address range `[start, start + size)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Region {
    pub start: usize,
    pub size: usize,
}

impl Region {
    pub const fn new(start: usize, size: usize) -> Self {
        Region { start, size }
    }

    /// One past the last byte; saturates instead of wrapping on bogus input.
    pub const fn end(&self) -> usize {
        self.start.saturating_add(self.size)
    }
}

/// Most regions of either kind a map holds. Firmware maps on the machines we
/// boot have a handful; extra entries are counted in `dropped` rather than
/// overflowing, since this is filled before the heap exists.
pub const MAX_REGIONS: usize = 16;

/// Usable RAM and ranges inside it that must stay untouched (firmware, the
/// device tree blob, boot stacks).
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryMap {
    usable: [Region; MAX_REGIONS],
    usable_count: usize,
    reserved: [Region; MAX_REGIONS],
    reserved_count: usize,
    /// Entries that did not fit; reported in the boot log.
    pub dropped: usize,
}

impl MemoryMap {
    pub const fn new() -> Self {
        MemoryMap {
            usable: [Region::new(0, 0); MAX_REGIONS],
            usable_count: 0,
            reserved: [Region::new(0, 0); MAX_REGIONS],
            reserved_count: 0,
            dropped: 0,
        }
    }

    /// Adds usable RAM; empty regions are ignored.
    pub fn add_usable(&mut self, region: Region) {
        Self::push(&mut self.usable, &mut self.usable_count, &mut self.dropped, region);
    }

    /// Adds a range the heap must not use; empty regions are ignored.
    pub fn add_reserved(&mut self, region: Region) {
        Self::push(&mut self.reserved, &mut self.reserved_count, &mut self.dropped, region);
    }

    fn push(slots: &mut [Region; MAX_REGIONS], count: &mut usize, dropped: &mut usize, region: Region) {
        if region.size == 0 {
            return;
        }
        if *count == MAX_REGIONS {
            *dropped += 1;
            return;
        }
        slots[*count] = region;
        *count += 1;
    }

    pub fn usable(&self) -> &[Region] {
        &self.usable[..self.usable_count]
    }

    pub fn reserved(&self) -> &[Region] {
        &self.reserved[..self.reserved_count]
    }

    /// Total bytes of usable RAM (what `memstats` calls the machine's memory).
    pub fn total_usable_bytes(&self) -> usize {
        self.usable().iter().fold(0usize, |sum, region| sum.saturating_add(region.size))
    }
}
