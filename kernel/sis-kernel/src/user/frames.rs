//! User frames: zeroed 4 KiB-aligned heap blocks, identity-mapped (address =
//! physical), as arch/mod.rs's user-mode contract wants them. The count of
//! frames held is the `sis_user_pages` gauge.

extern crate alloc;

use alloc::alloc::{alloc_zeroed, dealloc, Layout};
use core::sync::atomic::{AtomicU64, Ordering};

use sis_abi::Errno;
use sis_syscall::limits::PAGE_SIZE;

const FRAME_BYTES: usize = PAGE_SIZE as usize;

/// Frames held by processes right now.
static HELD: AtomicU64 = AtomicU64::new(0);

fn layout() -> Layout {
    Layout::from_size_align(FRAME_BYTES, FRAME_BYTES).expect("a page is a valid layout")
}

/// A fresh zeroed frame's address, or ENOMEM (never a panic: a process that
/// asks for too much memory fails its call or its start).
pub fn allocate() -> Result<usize, Errno> {
    // SAFETY: the layout has a non-zero size.
    let frame = crate::heap::fallible(|| unsafe { alloc_zeroed(layout()) });
    if frame.is_null() {
        return Err(Errno::ENOMEM);
    }
    HELD.fetch_add(1, Ordering::Relaxed);
    Ok(frame as usize)
}

/// Gives a frame back to the heap.
///
/// # Safety
/// `frame` came from [`allocate`], is mapped in no address space any more,
/// and is not freed twice.
pub unsafe fn free(frame: usize) {
    HELD.fetch_sub(1, Ordering::Relaxed);
    // SAFETY: the caller guarantees it is a live block of this layout.
    unsafe { dealloc(frame as *mut u8, layout()) };
}

/// The frame's bytes through the kernel's identity map.
///
/// # Safety
/// `frame` is a live frame from [`allocate`], and no other reference to its
/// bytes is alive for the returned lifetime (the user program that maps it
/// is stopped while its own task runs kernel code).
pub unsafe fn bytes<'a>(frame: usize) -> &'a mut [u8; FRAME_BYTES] {
    // SAFETY: per the caller; frames are 4 KiB-aligned identity-mapped RAM.
    unsafe { &mut *(frame as *mut [u8; FRAME_BYTES]) }
}

/// The frame's bytes, read-only, through the kernel's identity map.
///
/// # Safety
/// `frame` is a live frame from [`allocate`] and nothing writes its bytes
/// for the returned lifetime.
pub unsafe fn bytes_ref<'a>(frame: usize) -> &'a [u8; FRAME_BYTES] {
    // SAFETY: per the caller; frames are 4 KiB-aligned identity-mapped RAM.
    unsafe { &*(frame as *const [u8; FRAME_BYTES]) }
}

/// Frames held by processes (user pages, for metrics and `memstats` checks).
pub fn held() -> u64 {
    HELD.load(Ordering::Relaxed)
}
