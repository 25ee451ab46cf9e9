//! Memory arguments and the per-process page budget: mmap lengths, munmap
//! ranges, and the count of pages a process holds (ENOMEM past the limit).

use crate::limits::{MAX_MMAP_LEN, PAGE_SIZE, USER_BASE, USER_TOP};
use sis_abi::Errno;

/// mmap's length in pages: zero or over MAX_MMAP_LEN is EINVAL; anything
/// else rounds up to whole pages.
pub fn mmap_pages(len: u64) -> Result<u64, Errno> {
    if len == 0 || len > MAX_MMAP_LEN {
        return Err(Errno::EINVAL);
    }
    Ok(len.div_ceil(PAGE_SIZE))
}

/// munmap's (address, length): page-aligned, non-empty, inside user space,
/// not wrapping; else EINVAL (munmap never dereferences, so not EFAULT).
/// Returns the length in pages.
pub fn munmap_range(address: u64, len: u64) -> Result<u64, Errno> {
    let pages = mmap_pages(len)?;
    if !address.is_multiple_of(PAGE_SIZE) || address < USER_BASE {
        return Err(Errno::EINVAL);
    }
    match address.checked_add(pages * PAGE_SIZE) {
        Some(end) if end <= USER_TOP => Ok(pages),
        _ => Err(Errno::EINVAL),
    }
}

/// Pages charged to one process against its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryBudget {
    used: u64,
    limit: u64,
}

impl MemoryBudget {
    pub const fn new(limit: u64) -> MemoryBudget {
        MemoryBudget { used: 0, limit }
    }

    /// Takes `pages` from the budget, or ENOMEM and nothing taken.
    pub fn charge(&mut self, pages: u64) -> Result<(), Errno> {
        match self.used.checked_add(pages) {
            Some(total) if total <= self.limit => {
                self.used = total;
                Ok(())
            }
            _ => Err(Errno::ENOMEM),
        }
    }

    /// Gives pages back (munmap, exit). Never below zero: a release of more
    /// than was charged is a kernel bug, caught in debug builds.
    pub fn release(&mut self, pages: u64) {
        debug_assert!(pages <= self.used, "released {pages} of {} pages", self.used);
        self.used = self.used.saturating_sub(pages);
    }

    pub const fn used(&self) -> u64 {
        self.used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mmap_lengths() {
        assert_eq!(mmap_pages(1), Ok(1));
        assert_eq!(mmap_pages(PAGE_SIZE), Ok(1));
        assert_eq!(mmap_pages(PAGE_SIZE + 1), Ok(2));
        assert_eq!(mmap_pages(MAX_MMAP_LEN), Ok(MAX_MMAP_LEN / PAGE_SIZE));
        assert_eq!(mmap_pages(0), Err(Errno::EINVAL));
        assert_eq!(mmap_pages(MAX_MMAP_LEN + 1), Err(Errno::EINVAL));
        assert_eq!(mmap_pages(u64::MAX), Err(Errno::EINVAL));
    }

    #[test]
    fn munmap_ranges() {
        assert_eq!(munmap_range(0x10000, 1), Ok(1));
        assert_eq!(munmap_range(USER_TOP - PAGE_SIZE, PAGE_SIZE), Ok(1));
        assert_eq!(munmap_range(USER_TOP - PAGE_SIZE, PAGE_SIZE + 1), Err(Errno::EINVAL));
        assert_eq!(munmap_range(0x10001, PAGE_SIZE), Err(Errno::EINVAL));
        assert_eq!(munmap_range(0, PAGE_SIZE), Err(Errno::EINVAL));
        assert_eq!(munmap_range(0x10000, 0), Err(Errno::EINVAL));
        assert_eq!(munmap_range(!(PAGE_SIZE - 1), PAGE_SIZE), Err(Errno::EINVAL));
    }

    #[test]
    fn budget_charges_up_to_the_limit_exactly() {
        let mut budget = MemoryBudget::new(4);
        assert_eq!(budget.charge(3), Ok(()));
        assert_eq!(budget.charge(1), Ok(()));
        assert_eq!(budget.charge(1), Err(Errno::ENOMEM));
        assert_eq!(budget.used(), 4);
        budget.release(2);
        assert_eq!(budget.charge(u64::MAX), Err(Errno::ENOMEM)); // overflow
        assert_eq!(budget.used(), 2);
        budget.release(2);
        assert_eq!(budget.used(), 0);
    }
}
