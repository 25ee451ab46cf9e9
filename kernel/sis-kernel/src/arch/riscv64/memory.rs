//! Boot-time discovery from the device tree OpenSBI passes in a1: RAM, reserved ranges, harts, timebase.
//!
//! Interim parser built on the `fdt` crate until `sis_mem::discover`
//! (host-tested) lands on main; `discover` is the only function to swap.
//! Device tree facts used (Devicetree Specification v0.4): RAM is the
//! `reg` of the root's `memory` nodes (3.4), firmware-owned ranges are the
//! memory reservation block (5.3) and the children of `/reserved-memory`
//! (3.5; OpenSBI lists its own range there), harts are `/cpus/cpu@N` with
//! the hart id in `reg` (3.7, 3.8), and `timebase-frequency` sits on
//! `/cpus` or on each cpu node.

use core::sync::atomic::{AtomicUsize, Ordering};

use sis_mem::{MemoryMap, Region};

use super::boot::MAX_HARTS;

/// What the device tree told us.
#[derive(Debug)]
pub struct Platform {
    pub memory: MemoryMap,
    /// Hart ids of the enabled cpu nodes, in device tree order; at most
    /// `MAX_HARTS` (one boot stack each), the rest are ignored.
    pub hart_ids: [usize; MAX_HARTS],
    pub hart_count: usize,
    pub timebase_hz: Option<u64>,
}

/// Device tree header magic (Devicetree Specification 5.2).
const FDT_MAGIC: u32 = 0xd00d_feed;
/// A blob bigger than this is not a device tree QEMU made: refuse it
/// instead of reading far past it.
const MAX_DEVICE_TREE_BYTES: usize = 1 << 20;

/// Bounds of RAM (lowest start, highest end of the usable regions), for
/// `is_ram`. Before discovery only the kernel image itself is known.
static RAM_START: AtomicUsize = AtomicUsize::new(0);
static RAM_END: AtomicUsize = AtomicUsize::new(0);

/// Whether [start, start + length) lies inside discovered RAM.
pub fn is_ram(start: usize, length: usize) -> bool {
    let Some(end) = start.checked_add(length) else { return false };
    start >= RAM_START.load(Ordering::Relaxed) && end <= RAM_END.load(Ordering::Relaxed)
}

/// Before discovery (or if it fails), RAM known for sure is the image.
pub fn assume_ram(start: usize, end: usize) {
    RAM_START.store(start, Ordering::Relaxed);
    RAM_END.store(end, Ordering::Relaxed);
}

fn push(regions: &mut [Region], count: &mut usize, region: Region) {
    if region.size == 0 {
        return;
    }
    if let Some(slot) = regions.get_mut(*count) {
        *slot = region;
        *count += 1;
    }
}

fn push_reserved(memory: &mut MemoryMap, region: Region) {
    push(&mut memory.reserved, &mut memory.reserved_count, region);
}

/// Read the device tree at physical address `dtb_address`.
///
/// # Safety
/// `dtb_address` must be the a1 value OpenSBI passed at entry, or 0:
/// readable memory holding a device tree whose header is trusted for its
/// size (checked against `MAX_DEVICE_TREE_BYTES`).
pub unsafe fn discover(dtb_address: usize) -> Result<Platform, &'static str> {
    if dtb_address == 0 || dtb_address % 8 != 0 {
        return Err("no device tree pointer in a1");
    }
    // SAFETY: the caller guarantees a readable header at dtb_address; the
    // first two big-endian words are magic and totalsize.
    let (magic, total_size) = unsafe {
        let header = dtb_address as *const u32;
        (
            u32::from_be(core::ptr::read_volatile(header)),
            u32::from_be(core::ptr::read_volatile(header.add(1))) as usize,
        )
    };
    if magic != FDT_MAGIC {
        return Err("a1 does not point at a device tree (bad magic)");
    }
    if total_size > MAX_DEVICE_TREE_BYTES {
        return Err("device tree larger than 1 MiB");
    }
    // SAFETY: the header says the blob is total_size bytes long, and the
    // firmware keeps it in RAM we do not write to during boot.
    let blob = unsafe { core::slice::from_raw_parts(dtb_address as *const u8, total_size) };
    let tree = fdt::Fdt::new(blob).map_err(|_| "device tree header is invalid")?;

    let mut platform = Platform {
        memory: MemoryMap::default(),
        hart_ids: [0; MAX_HARTS],
        hart_count: 0,
        timebase_hz: None,
    };

    let root = tree.find_node("/").ok_or("device tree has no root node")?;
    let mut ram_start = usize::MAX;
    let mut ram_end = 0;
    for node in root.children() {
        let is_memory = node.name == "memory" || node.name.starts_with("memory@");
        let Some(regions) = node.reg().filter(|_| is_memory) else { continue };
        for region in regions {
            let region = Region { start: region.starting_address as usize, size: region.size.unwrap_or(0) };
            if region.size == 0 {
                continue;
            }
            ram_start = ram_start.min(region.start);
            ram_end = ram_end.max(region.start.saturating_add(region.size));
            let memory = &mut platform.memory;
            push(&mut memory.usable, &mut memory.usable_count, region);
        }
    }
    if platform.memory.usable_count == 0 {
        return Err("device tree has no /memory node with a size");
    }
    assume_ram(ram_start, ram_end);

    for reservation in tree.memory_reservations() {
        push_reserved(
            &mut platform.memory,
            Region { start: reservation.address() as usize, size: reservation.size() },
        );
    }
    if let Some(reserved_memory) = tree.find_node("/reserved-memory") {
        for child in reserved_memory.children() {
            for region in child.reg().into_iter().flatten() {
                push_reserved(
                    &mut platform.memory,
                    Region { start: region.starting_address as usize, size: region.size.unwrap_or(0) },
                );
            }
        }
    }
    // The blob itself: QEMU puts it near the top of RAM, where a heap
    // would otherwise grow over it while we may still want to read it.
    push_reserved(&mut platform.memory, Region { start: dtb_address, size: total_size });

    let cpus = tree.find_node("/cpus").ok_or("device tree has no /cpus node")?;
    platform.timebase_hz = cpus.property("timebase-frequency").and_then(|p| p.as_usize()).map(|hz| hz as u64);
    for cpu in cpus.children() {
        let is_cpu = cpu.name == "cpu" || cpu.name.starts_with("cpu@");
        let is_enabled = cpu
            .property("status")
            .and_then(|status| status.as_str())
            .is_none_or(|status| status == "okay" || status == "ok");
        if !is_cpu || !is_enabled {
            continue;
        }
        let Some(hart_id) = cpu.reg().and_then(|mut reg| reg.next()).map(|r| r.starting_address as usize)
        else {
            continue;
        };
        if platform.timebase_hz.is_none() {
            platform.timebase_hz =
                cpu.property("timebase-frequency").and_then(|p| p.as_usize()).map(|hz| hz as u64);
        }
        if platform.hart_count < MAX_HARTS {
            platform.hart_ids[platform.hart_count] = hart_id;
            platform.hart_count += 1;
        }
    }
    Ok(platform)
}
