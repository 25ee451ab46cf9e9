//! The kernel heap: talc over the largest free stretch of RAM, wrapped in
//! `CountingAllocator` for statistics and (with `chaos`) failure injection.

use sis_mem::heap::{CountingAllocator, HeapStats};
use sis_mem::Region;
use talc::{ErrOnOom, Span, Talc, Talck};

use crate::sync::{rank, RawIrqSpinLock};

/// talc behind an interrupt-masking lock: a task holding the heap is never
/// preempted, so no other task spins on it for a whole slice.
#[global_allocator]
static HEAP: CountingAllocator<Talck<RawIrqSpinLock<{ rank::HEAP }>, ErrOnOom>> =
    CountingAllocator::new(Talc::new(ErrOnOom).lock());

/// Hands `region` to the allocator. Called once, before anything allocates.
///
/// # Safety
/// `region` must be RAM that nothing else uses, now or later.
pub unsafe fn init(region: Region) {
    let span = Span::from_base_size(region.start as *mut u8, region.size);
    // SAFETY: the caller guarantees the memory is ours alone.
    let claimed = unsafe { HEAP.inner().lock().claim(span) };
    if claimed.is_ok() {
        HEAP.set_size_bytes(region.size);
    }
}

pub fn stats() -> HeapStats {
    HEAP.stats()
}

/// Runs `f` as a fallible section (see `CountingAllocator::fallible`):
/// allocations inside it may fail on purpose under chaos memory_pressure.
/// Injections decided inside it are logged when it ends, never from inside
/// `alloc`.
pub fn fallible<R>(f: impl FnOnce() -> R) -> R {
    let result = HEAP.fallible(f);
    #[cfg(feature = "chaos")]
    crate::chaos::log_pending_allocation_injections();
    result
}

/// Installs the chaos hook deciding injected allocation failures.
#[cfg(feature = "chaos")]
pub fn set_failure_hook(hook: Option<sis_mem::heap::FailureHook>) {
    HEAP.set_failure_hook(hook);
}
