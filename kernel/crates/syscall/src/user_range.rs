//! User pointers: a (address, length) pair is accepted only when every byte
//! lies in the calling process's own mappings with the needed access.
//!
//! The checks, in order, each EFAULT: a non-zero length whose end wraps past
//! 2^64; a start below USER_BASE (the null page); an end above USER_TOP (a
//! kernel or non-canonical address); a byte in no mapping, or in one without
//! the access (writing into a read-only page). A zero length is accepted at
//! any user address (nothing is copied) but a kernel address is EFAULT even
//! then. Alignment is never required: the kernel copies bytewise.

use crate::limits::{PAGE_SIZE, USER_BASE, USER_TOP};
use sis_abi::Errno;

/// What the kernel will do with the user's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Copy from the user (write's buffer, a path).
    Read,
    /// Copy to the user (read's buffer, stat's result).
    Write,
}

/// One mapping of a process: `[start, end)` with its permissions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub start: u64,
    pub end: u64,
    pub readable: bool,
    pub writable: bool,
}

impl Region {
    fn allows(&self, access: Access) -> bool {
        match access {
            Access::Read => self.readable,
            Access::Write => self.writable,
        }
    }
}

/// A process's mappings, as the validator sees them.
pub trait AddressSpace {
    /// The mapping that contains `address`, if any.
    fn region_containing(&self, address: u64) -> Option<Region>;
}

/// A user range that passed [`UserRange::check`]: safe to copy through the
/// process's page tables while they stay as they were checked (the kernel
/// validates and copies under the same process lock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserRange {
    pub address: u64,
    pub len: u64,
}

impl UserRange {
    /// Checks `[address, address + len)` against `space` for `access`.
    pub fn check(space: &dyn AddressSpace, address: u64, len: u64, access: Access) -> Result<UserRange, Errno> {
        if address >= USER_TOP {
            return Err(Errno::EFAULT);
        }
        if len == 0 {
            return Ok(UserRange { address, len });
        }
        let end = address.checked_add(len).ok_or(Errno::EFAULT)?;
        if address < USER_BASE || end > USER_TOP {
            return Err(Errno::EFAULT);
        }
        let mut cursor = address;
        while cursor < end {
            let region = space.region_containing(cursor).ok_or(Errno::EFAULT)?;
            // A buggy AddressSpace must not make this loop forever or accept
            // a byte outside the region it returned.
            if !(region.start <= cursor && cursor < region.end && region.allows(access)) {
                return Err(Errno::EFAULT);
            }
            cursor = region.end;
        }
        Ok(UserRange { address, len })
    }

    /// One past the last byte.
    pub fn end(&self) -> u64 {
        self.address + self.len
    }

    /// The range cut at page boundaries, in address order: each piece is
    /// (page address, offset in that page, offset in the range, length),
    /// what a copy through a page -> frame map does one page at a time.
    pub fn pieces(&self) -> impl Iterator<Item = Piece> {
        let end = self.address + self.len;
        let start = self.address;
        let mut cursor = start;
        core::iter::from_fn(move || {
            if cursor >= end {
                return None;
            }
            let page = cursor & !(PAGE_SIZE - 1);
            let len = (page + PAGE_SIZE).min(end) - cursor;
            let piece = Piece {
                page,
                page_offset: (cursor - page) as usize,
                range_offset: (cursor - start) as usize,
                len: len as usize,
            };
            cursor += len;
            Some(piece)
        })
    }
}

/// One page's part of a [`UserRange`] (see [`UserRange::pieces`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    /// The page's user address (page-aligned).
    pub page: u64,
    /// Where the piece starts inside the page.
    pub page_offset: usize,
    /// Where the piece starts inside the range (the kernel buffer's offset).
    pub range_offset: usize,
    pub len: usize,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::limits::PAGE_SIZE;
    use proptest::prelude::*;

    /// A sorted list of regions, as a process's mappings.
    pub struct Regions(pub Vec<Region>);

    impl AddressSpace for Regions {
        fn region_containing(&self, address: u64) -> Option<Region> {
            self.0.iter().copied().find(|region| region.start <= address && address < region.end)
        }
    }

    pub fn rw(start: u64, end: u64) -> Region {
        Region { start, end, readable: true, writable: true }
    }

    pub fn ro(start: u64, end: u64) -> Region {
        Region { start, end, readable: true, writable: false }
    }

    /// Code read-only at 0x10000, data and stack writable, a hole between.
    pub fn sample() -> Regions {
        Regions(vec![ro(0x10000, 0x12000), rw(0x12000, 0x14000), rw(0x20000, 0x21000)])
    }

    #[test]
    fn valid_ranges_inside_and_across_adjacent_mappings() {
        let space = sample();
        assert_eq!(UserRange::check(&space, 0x10000, 16, Access::Read), Ok(UserRange { address: 0x10000, len: 16 }));
        // Across the read-only/writable boundary for reading.
        assert!(UserRange::check(&space, 0x11ff0, 0x20, Access::Read).is_ok());
        // Exactly to the end of a mapping.
        assert!(UserRange::check(&space, 0x20000, PAGE_SIZE, Access::Write).is_ok());
    }

    #[test]
    fn boundaries_one_byte_past_a_mapping_or_into_a_hole() {
        let space = sample();
        assert_eq!(UserRange::check(&space, 0x20000, PAGE_SIZE + 1, Access::Write), Err(Errno::EFAULT));
        assert_eq!(UserRange::check(&space, 0x13fff, 2, Access::Read), Err(Errno::EFAULT));
        assert_eq!(UserRange::check(&space, 0xffff, 1, Access::Read), Err(Errno::EFAULT));
        assert!(UserRange::check(&space, 0x13fff, 1, Access::Read).is_ok());
    }

    #[test]
    fn writing_into_read_only_is_efault() {
        let space = sample();
        assert_eq!(UserRange::check(&space, 0x10000, 1, Access::Write), Err(Errno::EFAULT));
        assert_eq!(UserRange::check(&space, 0x11fff, 2, Access::Write), Err(Errno::EFAULT));
    }

    #[test]
    fn null_kernel_and_wrapping_addresses_are_efault() {
        let space = Regions(vec![rw(0, u64::MAX)]); // even a space that claims everything
        assert_eq!(UserRange::check(&space, 0, 1, Access::Read), Err(Errno::EFAULT));
        assert_eq!(UserRange::check(&space, USER_TOP, 1, Access::Read), Err(Errno::EFAULT));
        assert_eq!(UserRange::check(&space, 0xffff_0000_0000_1000, 8, Access::Read), Err(Errno::EFAULT));
        assert_eq!(UserRange::check(&space, USER_TOP - 1, 2, Access::Read), Err(Errno::EFAULT));
        assert_eq!(UserRange::check(&space, 0x1000, u64::MAX, Access::Read), Err(Errno::EFAULT));
        assert_eq!(UserRange::check(&space, USER_TOP - 1, 1, Access::Read), Ok(UserRange { address: USER_TOP - 1, len: 1 }));
    }

    #[test]
    fn zero_length_is_fine_at_user_addresses_but_not_kernel_ones() {
        let space = sample();
        assert!(UserRange::check(&space, 0x50000, 0, Access::Write).is_ok());
        assert!(UserRange::check(&space, 0, 0, Access::Write).is_ok());
        assert_eq!(UserRange::check(&space, u64::MAX, 0, Access::Write), Err(Errno::EFAULT));
    }

    #[test]
    fn pieces_split_at_page_ends() {
        let range = UserRange { address: 0x1ff0, len: 0x1020 };
        let pieces: Vec<Piece> = range.pieces().collect();
        assert_eq!(
            pieces,
            vec![
                Piece { page: 0x1000, page_offset: 0xff0, range_offset: 0, len: 0x10 },
                Piece { page: 0x2000, page_offset: 0, range_offset: 0x10, len: 0x1000 },
                Piece { page: 0x3000, page_offset: 0, range_offset: 0x1010, len: 0x10 },
            ]
        );
        assert_eq!(UserRange { address: 0x5000, len: 0 }.pieces().count(), 0);
        let exact: Vec<Piece> = UserRange { address: 0x5000, len: PAGE_SIZE }.pieces().collect();
        assert_eq!(exact, vec![Piece { page: 0x5000, page_offset: 0, range_offset: 0, len: 4096 }]);
        let last = UserRange { address: USER_TOP - 1, len: 1 }.pieces().collect::<Vec<_>>();
        assert_eq!(last, vec![Piece { page: USER_TOP - PAGE_SIZE, page_offset: 4095, range_offset: 0, len: 1 }]);
    }

    #[test]
    fn a_lying_address_space_cannot_loop_or_widen_a_range() {
        struct Liar;
        impl AddressSpace for Liar {
            fn region_containing(&self, _: u64) -> Option<Region> {
                Some(rw(0x1000, 0x2000))
            }
        }
        assert_eq!(UserRange::check(&Liar, 0x3000, 4, Access::Read), Err(Errno::EFAULT));
    }

    proptest! {
        /// Accepted ranges never wrap, stay in user space, and every byte is
        /// in a mapping that allows the access; rejected ones have a byte that is not.
        #[test]
        fn accepted_iff_every_byte_is_mapped(address in prop_oneof![0u64..0x30000, any::<u64>()], len in prop_oneof![0u64..0x6000, any::<u64>()], write in any::<bool>()) {
            let space = sample();
            let access = if write { Access::Write } else { Access::Read };
            let result = UserRange::check(&space, address, len, access);
            let expected = if address >= USER_TOP {
                false
            } else if len == 0 {
                true
            } else {
                match address.checked_add(len) {
                    None => false,
                    Some(end) if address < USER_BASE || end > USER_TOP => false,
                    // Few enough bytes to check one by one.
                    Some(_) if len <= 0x6000 => (address..address + len).all(|byte| space.region_containing(byte).is_some_and(|region| region.allows(access))),
                    // Longer than all mappings together.
                    Some(_) => false,
                }
            };
            prop_assert_eq!(result.is_ok(), expected, "address {:#x} len {:#x}", address, len);
            if let Ok(range) = result {
                prop_assert!(range.address.checked_add(range.len).is_some_and(|end| end <= USER_TOP));
                // The pieces tile the range exactly, none crossing a page end.
                let mut next = 0usize;
                for piece in range.pieces() {
                    prop_assert_eq!(piece.range_offset, next);
                    prop_assert!(piece.len > 0 && piece.page_offset + piece.len <= PAGE_SIZE as usize);
                    prop_assert_eq!(piece.page + piece.page_offset as u64, range.address + next as u64);
                    next += piece.len;
                }
                prop_assert_eq!(next as u64, range.len);
            } else {
                prop_assert_eq!(result, Err(Errno::EFAULT));
            }
        }
    }
}
