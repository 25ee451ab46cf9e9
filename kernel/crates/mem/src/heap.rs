//! Where the heap goes, and an allocator wrapper that keeps its statistics.

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::{MemoryMap, Region};

/// Heap boundaries are page aligned.
pub const PAGE_BYTES: usize = 4096;

const fn align_up(value: usize, align: usize) -> usize {
    match value.checked_add(align - 1) {
        Some(sum) => sum & !(align - 1),
        None => usize::MAX & !(align - 1),
    }
}

const fn align_down(value: usize, align: usize) -> usize {
    value & !(align - 1)
}

/// The largest page-aligned stretch of usable RAM above `kernel_end` that
/// overlaps no reserved range; `None` when there is none.
pub fn heap_region(map: &MemoryMap, kernel_end: usize) -> Option<Region> {
    let mut best: Option<Region> = None;
    for usable in map.usable() {
        let start = usable.start.max(kernel_end);
        if start >= usable.end() {
            continue;
        }
        // Walk the gaps between reserved ranges inside [start, end).
        let mut cursor = start;
        loop {
            // The reserved range that starts first at or overlapping the cursor.
            let next = map
                .reserved()
                .iter()
                .filter(|r| r.end() > cursor && r.start < usable.end())
                .min_by_key(|r| r.start);
            let gap_end = next.map_or(usable.end(), |r| r.start.max(cursor));
            let gap = Region::new(align_up(cursor, PAGE_BYTES), 0);
            let gap_end = align_down(gap_end, PAGE_BYTES);
            if gap_end > gap.start {
                let candidate = Region::new(gap.start, gap_end - gap.start);
                if best.map_or(true, |b| candidate.size > b.size) {
                    best = Some(candidate);
                }
            }
            match next {
                Some(reserved) => cursor = reserved.end(),
                None => break,
            }
            if cursor >= usable.end() {
                break;
            }
        }
    }
    best
}

/// A snapshot of the heap's counters, as `memstats` and the metrics show them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeapStats {
    pub size_bytes: usize,
    pub allocations: u64,
    pub frees: u64,
    pub current_bytes: usize,
    pub peak_bytes: usize,
    pub failed_allocations: u64,
    /// Failures injected on purpose (chaos memory_pressure); included in `failed_allocations`.
    pub injected_failures: u64,
}

/// Decides whether an allocation made inside a fallible section fails on
/// purpose (the chaos memory_pressure injection point).
pub type FailureHook = fn(Layout) -> bool;

/// Wraps a global allocator and counts what goes through it.
///
/// Injected failures only ever hit allocations made inside [`fallible`],
/// where the caller handles a failed allocation (for example with
/// `Vec::try_reserve` turned into ENOMEM); an infallible allocation that
/// failed would abort the kernel.
///
/// [`fallible`]: CountingAllocator::fallible
pub struct CountingAllocator<A> {
    inner: A,
    size_bytes: AtomicUsize,
    allocations: AtomicU64,
    frees: AtomicU64,
    current_bytes: AtomicUsize,
    peak_bytes: AtomicUsize,
    failed: AtomicU64,
    injected: AtomicU64,
    /// Depth of nested fallible sections. The kernel runs its tasks on one
    /// CPU, so one counter (not one per CPU) is exact.
    fallible_depth: AtomicUsize,
    /// A `FailureHook` stored as an address; 0 means none.
    failure_hook: AtomicUsize,
}

impl<A> CountingAllocator<A> {
    pub const fn new(inner: A) -> Self {
        CountingAllocator {
            inner,
            size_bytes: AtomicUsize::new(0),
            allocations: AtomicU64::new(0),
            frees: AtomicU64::new(0),
            current_bytes: AtomicUsize::new(0),
            peak_bytes: AtomicUsize::new(0),
            failed: AtomicU64::new(0),
            injected: AtomicU64::new(0),
            fallible_depth: AtomicUsize::new(0),
            failure_hook: AtomicUsize::new(0),
        }
    }

    /// The wrapped allocator (to hand it memory at boot).
    pub fn inner(&self) -> &A {
        &self.inner
    }

    /// Records how many bytes the heap was given.
    pub fn set_size_bytes(&self, bytes: usize) {
        self.size_bytes.store(bytes, Ordering::Relaxed);
    }

    pub fn stats(&self) -> HeapStats {
        HeapStats {
            size_bytes: self.size_bytes.load(Ordering::Relaxed),
            allocations: self.allocations.load(Ordering::Relaxed),
            frees: self.frees.load(Ordering::Relaxed),
            current_bytes: self.current_bytes.load(Ordering::Relaxed),
            peak_bytes: self.peak_bytes.load(Ordering::Relaxed),
            failed_allocations: self.failed.load(Ordering::Relaxed),
            injected_failures: self.injected.load(Ordering::Relaxed),
        }
    }

    /// Installs (or removes) the hook consulted for allocations made inside
    /// fallible sections.
    pub fn set_failure_hook(&self, hook: Option<FailureHook>) {
        self.failure_hook.store(hook.map_or(0, |h| h as usize), Ordering::Release);
    }

    /// Runs `f` as a fallible section: allocations inside it may fail on
    /// purpose, so `f` must handle allocation failure itself.
    pub fn fallible<R>(&self, f: impl FnOnce() -> R) -> R {
        self.fallible_depth.fetch_add(1, Ordering::AcqRel);
        let result = f();
        self.fallible_depth.fetch_sub(1, Ordering::AcqRel);
        result
    }

    fn should_inject(&self, layout: Layout) -> bool {
        if self.fallible_depth.load(Ordering::Acquire) == 0 {
            return false;
        }
        let hook = self.failure_hook.load(Ordering::Acquire);
        if hook == 0 {
            return false;
        }
        // SAFETY: the only non-zero values ever stored come from a
        // `FailureHook` in `set_failure_hook`.
        let hook: FailureHook = unsafe { core::mem::transmute::<usize, FailureHook>(hook) };
        hook(layout)
    }

    fn record_alloc(&self, ptr: *mut u8, size: usize) {
        if ptr.is_null() {
            self.failed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.allocations.fetch_add(1, Ordering::Relaxed);
        let current = self.current_bytes.fetch_add(size, Ordering::Relaxed) + size;
        self.peak_bytes.fetch_max(current, Ordering::Relaxed);
    }

    fn record_free(&self, size: usize) {
        self.frees.fetch_add(1, Ordering::Relaxed);
        self.current_bytes.fetch_sub(size, Ordering::Relaxed);
    }

    fn inject_failure(&self) -> *mut u8 {
        self.injected.fetch_add(1, Ordering::Relaxed);
        self.failed.fetch_add(1, Ordering::Relaxed);
        core::ptr::null_mut()
    }
}

// SAFETY: every method forwards to `inner` with the caller's arguments
// unchanged (or returns null, which GlobalAlloc allows), so `inner`'s
// guarantees carry over; the counters are atomics.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAllocator<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.should_inject(layout) {
            return self.inject_failure();
        }
        // SAFETY: forwarded contract.
        let ptr = unsafe { self.inner.alloc(layout) };
        self.record_alloc(ptr, layout.size());
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if self.should_inject(layout) {
            return self.inject_failure();
        }
        // SAFETY: forwarded contract.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        self.record_alloc(ptr, layout.size());
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract.
        unsafe { self.inner.dealloc(ptr, layout) };
        self.record_free(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A growing realloc is an allocation a fallible caller (try_reserve)
        // may see fail, so it is an injection point too.
        if new_size > layout.size() && self.should_inject(layout) {
            return self.inject_failure();
        }
        // SAFETY: forwarded contract.
        let new_ptr = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if new_ptr.is_null() {
            self.failed.fetch_add(1, Ordering::Relaxed);
        } else {
            // Counted as a free of the old block and an allocation of the new one.
            self.record_free(layout.size());
            self.record_alloc(new_ptr, new_size);
        }
        new_ptr
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::System;

    fn map(usable: &[(usize, usize)], reserved: &[(usize, usize)]) -> MemoryMap {
        let mut map = MemoryMap::new();
        for &(start, size) in usable {
            map.add_usable(Region::new(start, size));
        }
        for &(start, size) in reserved {
            map.add_reserved(Region::new(start, size));
        }
        map
    }

    #[test]
    fn heap_region_starts_after_the_kernel_page_aligned() {
        let m = map(&[(0x4000_0000, 0x800_0000)], &[]);
        assert_eq!(heap_region(&m, 0x4012_3456), Some(Region::new(0x4012_4000, 0x4800_0000 - 0x4012_4000)));
    }

    #[test]
    fn heap_region_avoids_reserved_ranges_and_picks_the_largest_gap() {
        // 256 MiB at 2 GiB; the DTB near the top, OpenSBI below the kernel.
        let m = map(&[(0x8000_0000, 0x1000_0000)], &[(0x8000_0000, 0x4_0000), (0x8fe0_0000, 0x2000)]);
        let heap = heap_region(&m, 0x8030_0000).unwrap();
        assert_eq!(heap, Region::new(0x8030_0000, 0x8fe0_0000 - 0x8030_0000));
        for reserved in m.reserved() {
            assert!(heap.end() <= reserved.start || heap.start >= reserved.end());
        }
    }

    #[test]
    fn heap_region_skips_ram_below_the_kernel_and_handles_no_room() {
        let m = map(&[(0, 0x9fc00), (0x10_0000, 0x1ff0_0000)], &[]);
        assert_eq!(heap_region(&m, 0x20_0000), Some(Region::new(0x20_0000, 0x2000_0000 - 0x20_0000)));
        let full = map(&[(0x1000, 0x1000)], &[(0x1000, 0x1000)]);
        assert_eq!(heap_region(&full, 0), None);
        assert_eq!(heap_region(&MemoryMap::new(), 0), None);
    }

    #[test]
    fn counting_allocator_tracks_current_peak_and_counts() {
        let allocator = CountingAllocator::new(System);
        let layout = Layout::from_size_align(100, 8).unwrap();
        // SAFETY: layouts are non-zero; every pointer is freed with its layout.
        unsafe {
            let a = allocator.alloc(layout);
            let b = allocator.alloc_zeroed(layout);
            assert_eq!(allocator.stats().current_bytes, 200);
            allocator.dealloc(a, layout);
            let c = allocator.realloc(b, layout, 300);
            let stats = allocator.stats();
            assert_eq!(stats.current_bytes, 300);
            assert_eq!(stats.peak_bytes, 300);
            assert_eq!(stats.allocations, 3);
            assert_eq!(stats.frees, 2);
            allocator.dealloc(c, Layout::from_size_align(300, 8).unwrap());
            assert_eq!(allocator.stats().current_bytes, 0);
        }
    }

    #[test]
    fn failures_are_injected_only_inside_fallible_sections() {
        let allocator = CountingAllocator::new(System);
        allocator.set_failure_hook(Some(|_| true));
        let layout = Layout::from_size_align(64, 8).unwrap();
        // SAFETY: non-zero layout; the pointer is freed with its layout.
        unsafe {
            let ok = allocator.alloc(layout);
            assert!(!ok.is_null(), "outside a fallible section nothing is injected");
            let failed = allocator.fallible(|| allocator.alloc(layout));
            assert!(failed.is_null());
            allocator.dealloc(ok, layout);
        }
        let stats = allocator.stats();
        assert_eq!(stats.failed_allocations, 1);
        assert_eq!(stats.injected_failures, 1);
        allocator.set_failure_hook(None);
        // SAFETY: as above.
        unsafe {
            let ok = allocator.fallible(|| allocator.alloc(layout));
            assert!(!ok.is_null());
            allocator.dealloc(ok, layout);
        }
    }
}
