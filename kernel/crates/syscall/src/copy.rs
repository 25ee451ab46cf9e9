//! copy_from_user / copy_to_user over a process's page map: a checked
//! [`UserRange`] is cut at page ends ([`UserRange::pieces`]) and each piece
//! is read or written in the frame its page maps to, never through the user
//! address itself. The kernel implements [`UserPages`] over its page ->
//! frame map; the host tests over a map of boxed pages.

use crate::limits::PAGE_SIZE;
use crate::user_range::UserRange;
use sis_abi::Errno;

/// Bytes of one page.
pub type PageBytes = [u8; PAGE_SIZE as usize];

/// A process's pages, by page-aligned user address.
pub trait UserPages {
    fn page(&self, page: u64) -> Option<&PageBytes>;
    fn page_mut(&mut self, page: u64) -> Option<&mut PageBytes>;
}

/// Calls `visit` with each page's part of `range`, in address order.
/// EFAULT (and nothing visited past it) at a page the map does not have:
/// a range that passed `UserRange::check` never meets one unless the map and
/// the mappings disagree.
pub fn for_each_chunk<P: UserPages + ?Sized>(
    pages: &P,
    range: UserRange,
    mut visit: impl FnMut(&[u8]) -> Result<(), Errno>,
) -> Result<(), Errno> {
    for piece in range.pieces() {
        let bytes = pages.page(piece.page).ok_or(Errno::EFAULT)?;
        visit(&bytes[piece.page_offset..piece.page_offset + piece.len])?;
    }
    Ok(())
}

/// As [`for_each_chunk`], writable.
pub fn for_each_chunk_mut<P: UserPages + ?Sized>(
    pages: &mut P,
    range: UserRange,
    mut visit: impl FnMut(&mut [u8]),
) -> Result<(), Errno> {
    for piece in range.pieces() {
        let bytes = pages.page_mut(piece.page).ok_or(Errno::EFAULT)?;
        visit(&mut bytes[piece.page_offset..piece.page_offset + piece.len]);
    }
    Ok(())
}

/// Copies `range` into `out`, which must be exactly `range.len` bytes (EINVAL).
pub fn copy_from_user<P: UserPages + ?Sized>(pages: &P, range: UserRange, out: &mut [u8]) -> Result<(), Errno> {
    if out.len() as u64 != range.len {
        return Err(Errno::EINVAL);
    }
    let mut at = 0;
    for_each_chunk(pages, range, |chunk| {
        out[at..at + chunk.len()].copy_from_slice(chunk);
        at += chunk.len();
        Ok(())
    })
}

/// Copies `bytes` (exactly `range.len` of them, else EINVAL) to `range`.
pub fn copy_to_user<P: UserPages + ?Sized>(pages: &mut P, range: UserRange, bytes: &[u8]) -> Result<(), Errno> {
    if bytes.len() as u64 != range.len {
        return Err(Errno::EINVAL);
    }
    let mut at = 0;
    for_each_chunk_mut(pages, range, |chunk| {
        let len = chunk.len();
        chunk.copy_from_slice(&bytes[at..at + len]);
        at += len;
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// Pages at 0x10000, 0x11000 and 0x13000 (a hole at 0x12000).
    #[derive(Default)]
    struct Pages(BTreeMap<u64, Box<PageBytes>>);

    impl UserPages for Pages {
        fn page(&self, page: u64) -> Option<&PageBytes> {
            self.0.get(&page).map(|bytes| &**bytes)
        }
        fn page_mut(&mut self, page: u64) -> Option<&mut PageBytes> {
            self.0.get_mut(&page).map(|bytes| &mut **bytes)
        }
    }

    fn sample() -> Pages {
        let mut pages = Pages::default();
        for (index, page) in [0x10000u64, 0x11000, 0x13000].into_iter().enumerate() {
            pages.0.insert(page, Box::new([index as u8 + 1; PAGE_SIZE as usize]));
        }
        pages
    }

    #[test]
    fn a_copy_across_a_page_end_reads_both_frames() {
        let pages = sample();
        let mut out = [0u8; 8];
        copy_from_user(&pages, UserRange { address: 0x10ffc, len: 8 }, &mut out).unwrap();
        assert_eq!(out, [1, 1, 1, 1, 2, 2, 2, 2]);
    }

    #[test]
    fn a_write_lands_in_the_frames_and_reads_back() {
        let mut pages = sample();
        let range = UserRange { address: 0x10ff0, len: 0x20 };
        let data: Vec<u8> = (0..0x20).collect();
        copy_to_user(&mut pages, range, &data).unwrap();
        assert_eq!(&pages.0[&0x10000][0xff0..], &data[..0x10]);
        assert_eq!(&pages.0[&0x11000][..0x10], &data[0x10..]);
        let mut back = vec![0u8; 0x20];
        copy_from_user(&pages, range, &mut back).unwrap();
        assert_eq!(back, data);
    }

    #[test]
    fn a_missing_page_is_efault_and_a_wrong_buffer_einval() {
        let mut pages = sample();
        let mut out = [0u8; 16];
        assert_eq!(copy_from_user(&pages, UserRange { address: 0x11ff8, len: 16 }, &mut out), Err(Errno::EFAULT));
        assert_eq!(copy_to_user(&mut pages, UserRange { address: 0x12000, len: 16 }, &out), Err(Errno::EFAULT));
        assert_eq!(copy_from_user(&pages, UserRange { address: 0x10000, len: 15 }, &mut out), Err(Errno::EINVAL));
        assert_eq!(copy_from_user(&pages, UserRange { address: 0x10000, len: 0 }, &mut []), Ok(()));
    }

    #[test]
    fn chunks_stop_at_the_first_error_of_the_visitor() {
        let pages = sample();
        let mut seen = 0;
        let result = for_each_chunk(&pages, UserRange { address: 0x10000, len: 0x2000 }, |chunk| {
            seen += chunk.len();
            Err(Errno::EIO)
        });
        assert_eq!((result, seen), (Err(Errno::EIO), 0x1000));
    }

    proptest! {
        /// Whatever range inside the two adjacent pages, a write then a read
        /// round-trips and touches no byte outside the range.
        #[test]
        fn round_trip_inside_mapped_pages(offset in 0u64..0x2000, len in 0u64..0x1000) {
            let len = len.min(0x2000 - offset);
            let mut pages = sample();
            let before = sample();
            let range = UserRange { address: 0x10000 + offset, len };
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            copy_to_user(&mut pages, range, &data).unwrap();
            let mut back = vec![0u8; len as usize];
            copy_from_user(&pages, range, &mut back).unwrap();
            prop_assert_eq!(&back, &data);
            for page in [0x10000u64, 0x11000] {
                for (index, (&now, &was)) in pages.0[&page].iter().zip(before.0[&page].iter()).enumerate() {
                    let address = page + index as u64;
                    if address < range.address || address >= range.address + len {
                        prop_assert_eq!(now, was);
                    }
                }
            }
        }
    }
}
