//! One process's memory: its arch address space, the page -> frame map the
//! kernel translates user addresses through, the mappings the validator
//! checks pointers against (sis_syscall::Mappings), and its mmap budget.
//!
//! `copy_from_user`/`copy_to_user` (sis_syscall::copy, host-tested) never
//! dereference a user address: each page of a range is looked up in the
//! page map and its frame is read or written through the kernel's identity
//! map. The range must have passed `UserRange::check` against the same
//! mappings (sis_syscall::decode).

extern crate alloc;

use alloc::collections::BTreeMap;

use sis_abi::Errno;
use sis_syscall::limits::{MAX_PROCESS_PAGES, PAGE_SIZE};
use sis_syscall::copy::{self, PageBytes, UserPages};
use sis_syscall::{Mappings, MemoryBudget, Region, UserRange};

use super::frames;
use crate::arch::user::AddressSpace;

pub struct UserMemory {
    space: AddressSpace,
    /// User page address -> frame address, for every mapped page.
    pages: BTreeMap<u64, usize>,
    mappings: Mappings,
    /// Pages mapped by mmap (the image, stack and argument page are free).
    budget: MemoryBudget,
}

impl UserMemory {
    pub fn new() -> Result<UserMemory, Errno> {
        Ok(UserMemory {
            space: AddressSpace::new()?,
            pages: BTreeMap::new(),
            mappings: Mappings::default(),
            budget: MemoryBudget::new(MAX_PROCESS_PAGES),
        })
    }

    pub fn space(&self) -> &AddressSpace {
        &self.space
    }

    pub fn mappings(&self) -> &Mappings {
        &self.mappings
    }

    /// Pages mapped in all (frames held).
    pub fn page_count(&self) -> u64 {
        self.pages.len() as u64
    }

    /// Maps `pages` fresh zeroed frames at `start` as one region, all or
    /// nothing: on any failure nothing of it stays mapped.
    pub fn map_fresh(&mut self, start: u64, pages: u64, writable: bool, executable: bool) -> Result<(), Errno> {
        let end = pages.checked_mul(PAGE_SIZE).and_then(|len| start.checked_add(len)).ok_or(Errno::EINVAL)?;
        self.mappings.insert(Region { start, end, readable: true, writable })?;
        let mut mapped = 0;
        let result = (|| {
            for index in 0..pages {
                let page = start + index * PAGE_SIZE;
                let frame = frames::allocate()?;
                if let Err(errno) = self.space.map(page, frame, writable, executable) {
                    // SAFETY: just allocated, mapped nowhere.
                    unsafe { frames::free(frame) };
                    return Err(errno);
                }
                self.pages.insert(page, frame);
                mapped += 1;
            }
            Ok(())
        })();
        if result.is_err() {
            self.unmap_pages(start, mapped);
            let _ = self.mappings.remove_exact(start, end - start);
        }
        result
    }

    /// mmap: `pages` zeroed pages wherever there is room from MMAP_BASE,
    /// charged to the budget (ENOMEM past it). Returns the address.
    pub fn mmap(&mut self, pages: u64, writable: bool) -> Result<u64, Errno> {
        self.budget.charge(pages)?;
        let result = self
            .mappings
            .find_free(pages, sis_syscall::limits::MMAP_BASE)
            .and_then(|start| self.map_fresh(start, pages, writable, false).map(|()| start));
        if result.is_err() {
            self.budget.release(pages);
        }
        result
    }

    /// munmap: removes exactly one earlier mmap region (EINVAL otherwise,
    /// including the image, stack and argument page, which were never
    /// charged: those are not mmap's to take back).
    pub fn munmap(&mut self, start: u64, pages: u64) -> Result<(), Errno> {
        if start < sis_syscall::limits::MMAP_BASE {
            return Err(Errno::EINVAL);
        }
        self.mappings.remove_exact(start, pages * PAGE_SIZE)?;
        self.unmap_pages(start, pages);
        self.budget.release(pages);
        Ok(())
    }

    fn unmap_pages(&mut self, start: u64, pages: u64) {
        for index in 0..pages {
            let page = start + index * PAGE_SIZE;
            if let Some(frame) = self.pages.remove(&page) {
                let unmapped = self.space.unmap(page);
                debug_assert_eq!(unmapped, Some(frame), "page map and tables disagree at {page:#x}");
                // SAFETY: unmapped from the only space that mapped it.
                unsafe { frames::free(frame) };
            }
        }
    }

    /// Writes `bytes` at user `address` before the program runs (the
    /// loader's file bytes and argument text), whatever the pages' user
    /// permissions. EFAULT where a page is not mapped.
    pub fn fill(&mut self, address: u64, bytes: &[u8]) -> Result<(), Errno> {
        self.copy_to_user(UserRange { address, len: bytes.len() as u64 }, bytes)
    }

    /// Calls `visit` with each page's part of `range`, in order, read
    /// through the frames (no copy: write(2) hands these to the console).
    pub fn for_each_user_chunk(&self, range: UserRange, visit: impl FnMut(&[u8]) -> Result<(), Errno>) -> Result<(), Errno> {
        copy::for_each_chunk(self, range, visit)
    }

    /// As `for_each_user_chunk`, writable (getrandom fills in place).
    pub fn for_each_user_chunk_mut(&mut self, range: UserRange, visit: impl FnMut(&mut [u8])) -> Result<(), Errno> {
        copy::for_each_chunk_mut(self, range, visit)
    }

    /// copy_from_user: the checked `range` into `out` (exactly `range.len` bytes).
    pub fn copy_from_user(&self, range: UserRange, out: &mut [u8]) -> Result<(), Errno> {
        copy::copy_from_user(self, range, out)
    }

    /// copy_to_user: `bytes` to the checked `range` (exactly `range.len` bytes).
    pub fn copy_to_user(&mut self, range: UserRange, bytes: &[u8]) -> Result<(), Errno> {
        copy::copy_to_user(self, range, bytes)
    }
}

/// The page map as sis-syscall's copy routines read it: each page's frame
/// through the kernel's identity map.
impl UserPages for UserMemory {
    fn page(&self, page: u64) -> Option<&PageBytes> {
        let frame = *self.pages.get(&page)?;
        // SAFETY: a live frame of this process, whose program is stopped
        // while its own task runs kernel code; the borrow of `self` keeps
        // the frame mapped (and allocated) for the reference's lifetime.
        Some(unsafe { frames::bytes_ref(frame) })
    }

    fn page_mut(&mut self, page: u64) -> Option<&mut PageBytes> {
        let frame = *self.pages.get(&page)?;
        // SAFETY: as in `page`; `&mut self` keeps any other kernel
        // reference to this process's frames out.
        Some(unsafe { frames::bytes(frame) })
    }
}

impl Drop for UserMemory {
    /// Unmaps and frees every user frame; the AddressSpace then frees its
    /// tables (and stops this CPU from using them) when it drops.
    fn drop(&mut self) {
        for (page, frame) in core::mem::take(&mut self.pages) {
            let _ = self.space.unmap(page);
            // SAFETY: unmapped from the only space that mapped it.
            unsafe { frames::free(frame) };
        }
    }
}
