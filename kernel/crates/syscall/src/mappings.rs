//! A process's mappings: a sorted, non-overlapping set of page-aligned
//! regions in user space. It is what [`UserRange::check`](crate::UserRange)
//! validates pointers against, and where mmap finds room and munmap finds
//! what to remove.

use crate::limits::{MAX_MAPPINGS, PAGE_SIZE, USER_BASE, USER_TOP};
use crate::user_range::{AddressSpace, Region};
use sis_abi::Errno;

/// At most MAX_MAPPINGS regions, sorted by start, never overlapping.
#[derive(Clone, Debug)]
pub struct Mappings {
    regions: [Region; MAX_MAPPINGS],
    count: usize,
}

impl Default for Mappings {
    fn default() -> Self {
        let empty = Region { start: 0, end: 0, readable: false, writable: false };
        Mappings { regions: [empty; MAX_MAPPINGS], count: 0 }
    }
}

impl Mappings {
    pub fn regions(&self) -> &[Region] {
        &self.regions[..self.count]
    }

    /// Adds `region`: EINVAL when it is empty, not page-aligned, outside
    /// user space or overlapping another; ENOMEM when the set is full.
    pub fn insert(&mut self, region: Region) -> Result<(), Errno> {
        let aligned = region.start.is_multiple_of(PAGE_SIZE) && region.end.is_multiple_of(PAGE_SIZE);
        if !aligned || region.start >= region.end || region.start < USER_BASE || region.end > USER_TOP {
            return Err(Errno::EINVAL);
        }
        let at = self.regions().partition_point(|existing| existing.end <= region.start);
        if at < self.count && self.regions[at].start < region.end {
            return Err(Errno::EINVAL);
        }
        if self.count == MAX_MAPPINGS {
            return Err(Errno::ENOMEM);
        }
        self.regions.copy_within(at..self.count, at + 1);
        self.regions[at] = region;
        self.count += 1;
        Ok(())
    }

    /// The lowest page-aligned address at or above `floor` with `pages` free
    /// pages below USER_TOP; ENOMEM when there is none, EINVAL for 0 pages.
    pub fn find_free(&self, pages: u64, floor: u64) -> Result<u64, Errno> {
        if pages == 0 {
            return Err(Errno::EINVAL);
        }
        let len = pages.checked_mul(PAGE_SIZE).ok_or(Errno::ENOMEM)?;
        let mut candidate = floor.max(USER_BASE).next_multiple_of(PAGE_SIZE);
        for region in self.regions() {
            if region.end <= candidate {
                continue;
            }
            if candidate.checked_add(len).is_some_and(|end| end <= region.start) {
                return Ok(candidate);
            }
            candidate = region.end;
        }
        match candidate.checked_add(len) {
            Some(end) if end <= USER_TOP => Ok(candidate),
            _ => Err(Errno::ENOMEM),
        }
    }

    /// Removes the region that is exactly `[start, start + len)` (munmap
    /// takes back what one mmap gave); anything else is EINVAL.
    pub fn remove_exact(&mut self, start: u64, len: u64) -> Result<Region, Errno> {
        let index = self
            .regions()
            .iter()
            .position(|region| region.start == start && Some(region.end) == start.checked_add(len))
            .ok_or(Errno::EINVAL)?;
        let region = self.regions[index];
        self.regions.copy_within(index + 1..self.count, index);
        self.count -= 1;
        Ok(region)
    }
}

impl AddressSpace for Mappings {
    fn region_containing(&self, address: u64) -> Option<Region> {
        let at = self.regions().partition_point(|region| region.end <= address);
        self.regions().get(at).copied().filter(|region| region.start <= address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MMAP_BASE;
    use crate::user_range::{Access, UserRange};
    use proptest::prelude::*;

    fn rw(start: u64, end: u64) -> Region {
        Region { start, end, readable: true, writable: true }
    }

    #[test]
    fn inserts_stay_sorted_and_lookups_find_them() {
        let mut mappings = Mappings::default();
        mappings.insert(rw(0x5000, 0x6000)).unwrap();
        mappings.insert(rw(0x1000, 0x3000)).unwrap();
        mappings.insert(rw(0x3000, 0x4000)).unwrap(); // adjacent is fine
        let starts: Vec<u64> = mappings.regions().iter().map(|r| r.start).collect();
        assert_eq!(starts, vec![0x1000, 0x3000, 0x5000]);
        assert_eq!(mappings.region_containing(0x2fff), Some(rw(0x1000, 0x3000)));
        assert_eq!(mappings.region_containing(0x3000), Some(rw(0x3000, 0x4000)));
        assert_eq!(mappings.region_containing(0x4000), None);
        assert_eq!(mappings.region_containing(0x6000), None);
        assert_eq!(mappings.region_containing(0), None);
        assert!(UserRange::check(&mappings, 0x1000, 0x3000, Access::Write).is_ok());
        assert_eq!(UserRange::check(&mappings, 0x1000, 0x3001, Access::Write), Err(Errno::EFAULT));
    }

    #[test]
    fn bad_regions_are_einval_and_a_full_set_enomem() {
        let mut mappings = Mappings::default();
        mappings.insert(rw(0x4000, 0x8000)).unwrap();
        assert_eq!(mappings.insert(rw(0x7000, 0x9000)), Err(Errno::EINVAL)); // overlap
        assert_eq!(mappings.insert(rw(0x3000, 0x5000)), Err(Errno::EINVAL));
        assert_eq!(mappings.insert(rw(0x5000, 0x6000)), Err(Errno::EINVAL)); // inside
        assert_eq!(mappings.insert(rw(0x1000, 0x1800)), Err(Errno::EINVAL)); // misaligned
        assert_eq!(mappings.insert(rw(0, 0x1000)), Err(Errno::EINVAL)); // null page
        assert_eq!(mappings.insert(rw(USER_TOP, USER_TOP + 0x1000)), Err(Errno::EINVAL));
        assert_eq!(mappings.insert(rw(0x9000, 0x9000)), Err(Errno::EINVAL)); // empty
        for index in 1..MAX_MAPPINGS as u64 {
            mappings.insert(rw(0x10_0000 * index, 0x10_0000 * index + 0x1000)).unwrap();
        }
        assert_eq!(mappings.insert(rw(0x9000, 0xa000)), Err(Errno::ENOMEM));
    }

    #[test]
    fn find_free_takes_the_lowest_gap_that_fits() {
        let mut mappings = Mappings::default();
        assert_eq!(mappings.find_free(1, MMAP_BASE), Ok(MMAP_BASE));
        mappings.insert(rw(MMAP_BASE, MMAP_BASE + 0x1000)).unwrap();
        mappings.insert(rw(MMAP_BASE + 0x3000, MMAP_BASE + 0x4000)).unwrap();
        assert_eq!(mappings.find_free(2, MMAP_BASE), Ok(MMAP_BASE + 0x1000)); // exactly fits
        assert_eq!(mappings.find_free(3, MMAP_BASE), Ok(MMAP_BASE + 0x4000));
        assert_eq!(mappings.find_free(1, USER_TOP - 0x1000), Ok(USER_TOP - 0x1000));
        assert_eq!(mappings.find_free(2, USER_TOP - 0x1000), Err(Errno::ENOMEM));
        assert_eq!(mappings.find_free(u64::MAX, MMAP_BASE), Err(Errno::ENOMEM));
        assert_eq!(mappings.find_free(0, MMAP_BASE), Err(Errno::EINVAL));
    }

    #[test]
    fn remove_exact_only_removes_a_whole_region() {
        let mut mappings = Mappings::default();
        mappings.insert(rw(0x1000, 0x3000)).unwrap();
        mappings.insert(rw(0x4000, 0x5000)).unwrap();
        assert_eq!(mappings.remove_exact(0x1000, 0x1000), Err(Errno::EINVAL)); // half
        assert_eq!(mappings.remove_exact(0x2000, 0x1000), Err(Errno::EINVAL));
        assert_eq!(mappings.remove_exact(0x1000, u64::MAX), Err(Errno::EINVAL));
        assert_eq!(mappings.remove_exact(0x1000, 0x2000), Ok(rw(0x1000, 0x3000)));
        assert_eq!(mappings.regions(), &[rw(0x4000, 0x5000)]);
        assert_eq!(mappings.remove_exact(0x1000, 0x2000), Err(Errno::EINVAL));
    }

    proptest! {
        /// mmap/munmap sequences keep the set sorted and disjoint, and every
        /// address found free really was free.
        #[test]
        fn mmap_munmap_sequences_keep_the_set_sound(operations in proptest::collection::vec((any::<bool>(), 1u64..8, 0usize..8), 1..60)) {
            let mut mappings = Mappings::default();
            for (map, pages, pick) in operations {
                if map {
                    if let Ok(start) = mappings.find_free(pages, MMAP_BASE) {
                        let end = start + pages * PAGE_SIZE;
                        prop_assert!((start..end).step_by(PAGE_SIZE as usize).all(|page| mappings.region_containing(page).is_none()));
                        let inserted = mappings.insert(rw(start, end));
                        prop_assert!(inserted.is_ok() || inserted == Err(Errno::ENOMEM));
                    }
                } else if let Some(region) = mappings.regions().get(pick % mappings.regions().len().max(1)).copied() {
                    prop_assert_eq!(mappings.remove_exact(region.start, region.end - region.start), Ok(region));
                }
                prop_assert!(mappings.regions().windows(2).all(|pair| pair[0].end <= pair[1].start));
            }
        }
    }
}
