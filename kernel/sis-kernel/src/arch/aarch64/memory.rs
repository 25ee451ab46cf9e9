//! Memory map and CPU list from the device tree, plus the image bounds.
//!
//! Where the tree is: x0 at entry if it is non-zero (the Linux arm64 boot
//! protocol, and QEMU's for Linux images); for an ELF QEMU leaves x0 = 0 and
//! puts the tree at the start of RAM (QEMU docs/system/arm/virt.rst,
//! "Hardware configuration information for bare-metal programming"), which
//! is why the image is linked 2 MiB into RAM (linker.ld).
//!
//! The parsing itself belongs to `sis_mem::discover` (host-tested); this file
//! only feeds it the blob and adds what the arch knows (the kernel image).

use core::sync::atomic::{AtomicUsize, Ordering};

use sis_mem::{MemoryMap, Region};

use super::uart;

/// Most CPUs the kernel brings up (boot CPU included); one boot stack each.
pub const MAX_CPUS: usize = 8;

/// QEMU virt's RAM starts here (hw/arm/virt.c `VIRT_MEM`); its default size
/// is 128 MiB. Used only when the device tree is unusable.
const FALLBACK_RAM: Region = Region { start: 0x4000_0000, size: 128 << 20 };

/// Lowest and highest usable RAM addresses, for `frame_record`'s bounds check.
static RAM_START: AtomicUsize = AtomicUsize::new(0);
static RAM_END: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" {
    // Linker script symbols: only their addresses mean something.
    static __kernel_start: u8;
    static __kernel_end: u8;
}

/// What the device tree said.
pub struct Discovered {
    pub memory: MemoryMap,
    cpu_ids: [u64; MAX_CPUS],
    cpu_count: usize,
}

impl Discovered {
    /// MPIDR affinity values of the CPUs in `/cpus` (boot CPU included).
    pub fn cpu_ids(&self) -> &[u64] {
        &self.cpu_ids[..self.cpu_count]
    }
}

/// Physical address of the first byte after the image and its boot stacks.
pub fn kernel_end() -> usize {
    // Only the symbol's address is taken, never its (nonexistent) value.
    core::ptr::addr_of!(__kernel_end) as usize
}

fn kernel_start() -> usize {
    core::ptr::addr_of!(__kernel_start) as usize
}

/// The usable RAM regions of `memory` (one place to follow `MemoryMap`'s API).
pub fn usable(memory: &MemoryMap) -> &[Region] {
    &memory.usable[..memory.usable_count]
}

/// Whether `[address, address + length)` lies in usable RAM as discovered.
pub fn is_ram(address: usize, length: usize) -> bool {
    let Some(end) = address.checked_add(length) else { return false };
    address >= RAM_START.load(Ordering::Relaxed) && end <= RAM_END.load(Ordering::Relaxed)
}

/// Reads the device tree at `entry_x0` or else at the start of RAM. Never fails: with no
/// usable tree it reports so on the console and assumes QEMU's default
/// 128 MiB and a single CPU, which is enough to reach the shell.
pub fn discover(entry_x0: usize) -> Discovered {
    let device_tree_address = if entry_x0 != 0 { entry_x0 } else { FALLBACK_RAM.start };
    let mut discovered = match parse(device_tree_address) {
        Some(discovered) => discovered,
        None => {
            uart::write_bytes(b"aarch64: no usable device tree (x0, start of RAM); assuming 128 MiB RAM at 0x40000000, 1 CPU\r\n");
            let mut memory = MemoryMap::default();
            push(&mut memory.usable, &mut memory.usable_count, FALLBACK_RAM);
            Discovered { memory, cpu_ids: [0; MAX_CPUS], cpu_count: 0 }
        }
    };
    let image = Region { start: kernel_start(), size: kernel_end() - kernel_start() };
    push(&mut discovered.memory.reserved, &mut discovered.memory.reserved_count, image);
    let usable = usable(&discovered.memory);
    let start = usable.iter().map(|region| region.start).min().unwrap_or(0);
    let end = usable.iter().map(|region| region.start.saturating_add(region.size)).max().unwrap_or(0);
    RAM_START.store(start, Ordering::Relaxed);
    RAM_END.store(end, Ordering::Relaxed);
    discovered
}

fn push(slots: &mut [Region], count: &mut usize, region: Region) {
    if region.size != 0 && *count < slots.len() {
        slots[*count] = region;
        *count += 1;
    }
}

/// Interim reader, replaced by `sis_mem::discover::from_device_tree` when it lands.
fn parse(device_tree_address: usize) -> Option<Discovered> {
    // The tree must sit in RAM, 8-byte aligned (Devicetree Specification
    // v0.4, 5.1); anything else is not a tree and is not dereferenced.
    if device_tree_address < FALLBACK_RAM.start || device_tree_address % 8 != 0 {
        return None;
    }
    // SAFETY: the address is in QEMU virt's RAM; `from_ptr` reads the header,
    // checks the magic and then trusts `totalsize`, which QEMU wrote.
    let tree = unsafe { fdt::Fdt::from_ptr(device_tree_address as *const u8) }.ok()?;
    let mut memory = MemoryMap::default();
    // Memory nodes are children of the root (Devicetree Specification 3.4);
    // walking only those is much cheaper than `all_nodes`.
    for node in tree.find_node("/")?.children() {
        let is_memory = node.property("device_type").and_then(|property| property.as_str()) == Some("memory");
        if !is_memory {
            continue;
        }
        for region in node.reg().into_iter().flatten() {
            let size = region.size.unwrap_or(0);
            push(&mut memory.usable, &mut memory.usable_count, Region { start: region.starting_address as usize, size });
        }
    }
    if memory.usable_count == 0 {
        return None;
    }
    let blob = Region { start: device_tree_address, size: tree.total_size() };
    push(&mut memory.reserved, &mut memory.reserved_count, blob);
    let mut cpu_ids = [0; MAX_CPUS];
    let mut cpu_count = 0;
    if let Some(cpus) = tree.find_node("/cpus") {
        for cpu in cpus.children() {
            if cpu.property("device_type").and_then(|property| property.as_str()) != Some("cpu") {
                continue;
            }
            let Some(id) = cpu.property("reg").and_then(|property| property.as_usize()) else { continue };
            if cpu_count < MAX_CPUS {
                cpu_ids[cpu_count] = id as u64;
                cpu_count += 1;
            }
        }
    }
    Some(Discovered { memory, cpu_ids, cpu_count })
}
