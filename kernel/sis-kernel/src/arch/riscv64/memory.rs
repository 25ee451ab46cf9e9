//! Boot-time discovery from the device tree OpenSBI passes in a1: RAM, reserved ranges, harts, timebase.
//!
//! The parsing itself is host-tested in `sis_mem::discover` (RAM from the
//! root's `memory` nodes, firmware ranges from the reservation block and
//! `/reserved-memory` where OpenSBI lists itself, hart ids from
//! `/cpus/cpu@N` `reg`, `timebase-frequency`: Devicetree Specification
//! v0.4, 3.4-3.8 and 5.3). This file only adds what boot needs around it:
//! the RAM bounds that keep backtraces from reading outside memory.

use core::sync::atomic::{AtomicUsize, Ordering};

use sis_mem::discover::{self, DeviceTree, DiscoverError};

/// Where device registers may be: what mmu.rs maps for devices (GiB 0 and
/// 1, everything below RAM, without the null page). Addresses the device
/// tree gives outside it are not used (`arch::mmio_base`).
pub const DEVICE_WINDOW: core::ops::Range<usize> = 0x1000..0x8000_0000;

/// The range `is_ram` accepts: from the kernel image to the end of RAM.
/// Every stack (boot and trap stacks in the image, task stacks on the heap
/// above it) lies there; below the image is OpenSBI's range, which its PMP
/// hides from S-mode, so a read there would fault. Until discovery
/// succeeds, only the image itself is known.
static RAM_START: AtomicUsize = AtomicUsize::new(0);
static RAM_END: AtomicUsize = AtomicUsize::new(0);

/// Whether [start, start + length) lies inside readable kernel RAM.
pub fn is_ram(start: usize, length: usize) -> bool {
    let Some(end) = start.checked_add(length) else { return false };
    start >= RAM_START.load(Ordering::Relaxed) && end <= RAM_END.load(Ordering::Relaxed)
}

/// Record the kernel image [start, end): the known RAM before discovery.
pub fn assume_ram(start: usize, end: usize) {
    RAM_START.store(start, Ordering::Relaxed);
    RAM_END.store(end, Ordering::Relaxed);
}

/// Read the device tree at physical address `device_tree_address`.
///
/// # Safety
/// `device_tree_address` must be the a1 value OpenSBI passed at entry (or
/// 0): memory that holds a device tree header, left untouched for the
/// kernel's lifetime (its range is reserved in the returned map).
pub unsafe fn discover(device_tree_address: usize) -> Result<DeviceTree, DiscoverError> {
    // SAFETY: per this function's contract; device_tree_slice checks the
    // pointer, the magic and the size before making the slice.
    let blob = unsafe { discover::device_tree_slice(device_tree_address as *const u8) }?;
    let tree = discover::from_device_tree(blob)?;
    // Extend the readable range to the end of the RAM region holding the
    // image (virt has one region; the heap is placed above the image).
    let image_start = RAM_START.load(Ordering::Relaxed);
    let holding_image = tree.memory.usable().iter().find(|region| region.start <= image_start && image_start < region.end());
    if let Some(region) = holding_image {
        RAM_END.fetch_max(region.end(), Ordering::Relaxed);
    }
    Ok(tree)
}
