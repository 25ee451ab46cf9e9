//! The kernel heap: talc over the largest free stretch of RAM, wrapped in
//! `CountingAllocator` for statistics and (with `chaos`) failure injection.

use core::alloc::Layout;

use sis_mem::heap::{CountingAllocator, HeapStats};
use sis_mem::Region;
use sis_observe::metrics::resources::HeapSpace;
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

/// Free space and fragmentation. talc counts free bytes and free
/// stretches but does not expose its largest free chunk, so that is
/// measured: a binary search for the largest allocation that succeeds,
/// made on talc directly under its lock (nothing else allocates meanwhile,
/// and the probes bypass the counting wrapper so they skew no statistic).
/// About 30 malloc/free pairs per call; `metricsctl` calls it once per scrape.
pub fn space() -> HeapSpace {
    let mut talc = HEAP.inner().lock();
    let counters = *talc.get_counters();
    let free_bytes = counters.available_bytes;
    let (mut fits, mut fails) = (0usize, free_bytes + 1);
    while fails - fits > 1 {
        let size = fits + (fails - fits) / 2;
        let Ok(layout) = Layout::from_size_align(size, 8) else { break };
        // SAFETY: size > 0 (fits starts at 0, so size >= 1); the block is
        // freed at once with the same layout, before the lock is released.
        match unsafe { talc.malloc(layout) } {
            Ok(block) => {
                // SAFETY: `block` came from this talc with `layout` just now.
                unsafe { talc.free(block, layout) };
                fits = size;
            }
            Err(()) => fails = size,
        }
    }
    HeapSpace {
        size_bytes: HEAP.stats().size_bytes as u64,
        free_bytes: free_bytes as u64,
        largest_free_block_bytes: fits as u64,
        free_fragments: counters.fragment_count as u64,
    }
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
