//! Memory map and CPU list from the device tree, plus the image bounds.
//!
//! Where the tree is: x0 at entry if it is non-zero (the Linux arm64 boot
//! protocol, and QEMU's for Linux images); for an ELF QEMU leaves x0 = 0 and
//! puts the tree at the start of RAM (QEMU docs/system/arm/virt.rst,
//! "Hardware configuration information for bare-metal programming"), which
//! is why the image is linked 2 MiB into RAM (linker.ld).
//!
//! The parsing itself is `sis_mem::discover` (host-tested); this file only
//! finds the blob, feeds it in and adds what the arch knows (the image).

use core::sync::atomic::{AtomicUsize, Ordering};

use sis_mem::discover::{self, DeviceTree, DiscoverError};
use sis_mem::{MemoryMap, Region};

use super::uart;

/// Most CPUs the kernel brings up (boot CPU included); one boot stack each.
pub use sis_mem::discover::MAX_CPUS;

/// QEMU virt's RAM starts here (hw/arm/virt.c `VIRT_MEM`); its default size
/// is 128 MiB. Used only when the device tree is unusable.
const FALLBACK_RAM: Region = Region::new(0x4000_0000, 128 << 20);

/// Where device registers may be: what mmu.rs maps as Device memory (GiB 0
/// without its first 2 MiB, which stay unmapped for null pointers).
/// Addresses the device tree gives outside it are not used (`arch::mmio_base`).
pub const DEVICE_WINDOW: core::ops::Range<usize> = 0x20_0000..0x4000_0000;

/// Lowest and highest usable RAM addresses, for `frame_record`'s bounds check.
static RAM_START: AtomicUsize = AtomicUsize::new(0);
static RAM_END: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" {
    // Linker script symbols: only their addresses mean something.
    static __kernel_start: u8;
    static __kernel_end: u8;
}

/// Physical address of the first byte after the image and its boot stacks.
pub fn kernel_end() -> usize {
    // Only the symbol's address is taken, never its (nonexistent) value.
    core::ptr::addr_of!(__kernel_end) as usize
}

/// Physical address of the image's first byte (the stack guard page).
pub fn kernel_start() -> usize {
    core::ptr::addr_of!(__kernel_start) as usize
}

/// Whether `[address, address + length)` lies in usable RAM as discovered.
pub fn is_ram(address: usize, length: usize) -> bool {
    let Some(end) = address.checked_add(length) else { return false };
    address >= RAM_START.load(Ordering::Relaxed) && end <= RAM_END.load(Ordering::Relaxed)
}

/// Reads the device tree at `entry_x0` or else at the start of RAM. Never fails:
/// with no usable tree it says so on the console and assumes QEMU's default
/// 128 MiB and a single CPU, which is enough to reach the shell.
pub fn discover(entry_x0: usize) -> DeviceTree {
    let device_tree_address = if entry_x0 != 0 { entry_x0 } else { FALLBACK_RAM.start };
    let mut tree = read_device_tree(device_tree_address).unwrap_or_else(|error| {
        uart::write_bytes(b"aarch64: no usable device tree (x0, start of RAM): ");
        uart::write_bytes(error_name(error).as_bytes());
        uart::write_bytes(b"; assuming 128 MiB RAM at 0x40000000, 1 CPU\r\n");
        let mut memory = MemoryMap::new();
        memory.add_usable(FALLBACK_RAM);
        DeviceTree {
            memory,
            cpu_ids: [0; MAX_CPUS],
            cpu_count: 0,
            timebase_hz: None,
            virtio_mmio: [Region::new(0, 0); discover::MAX_VIRTIO_MMIO],
            virtio_mmio_interrupts: [None; discover::MAX_VIRTIO_MMIO],
            virtio_mmio_count: 0,
            devices: discover::Devices::default(),
        }
    });
    tree.memory.add_reserved(Region::new(kernel_start(), kernel_end() - kernel_start()));
    let usable = tree.memory.usable();
    RAM_START.store(usable.iter().map(|region| region.start).min().unwrap_or(0), Ordering::Relaxed);
    RAM_END.store(usable.iter().map(Region::end).max().unwrap_or(0), Ordering::Relaxed);
    tree
}

fn read_device_tree(address: usize) -> Result<DeviceTree, DiscoverError> {
    // Only addresses in QEMU virt's RAM are dereferenced: anything else in x0
    // is not a tree this machine could have passed.
    if address < FALLBACK_RAM.start {
        return Err(DiscoverError::BadPointer);
    }
    // SAFETY: the address is in RAM (above), where the header is readable;
    // `device_tree_slice` checks the magic before trusting `totalsize`, and
    // the blob stays in place for good (discovery reserves it).
    let blob = unsafe { discover::device_tree_slice(address as *const u8) }?;
    discover::from_device_tree(blob)
}

fn error_name(error: DiscoverError) -> &'static str {
    match error {
        DiscoverError::BadPointer => "bad pointer",
        DiscoverError::BadMagic => "no FDT magic",
        DiscoverError::BadSize => "implausible size",
        DiscoverError::Malformed => "malformed",
        DiscoverError::NoMemory => "no /memory node",
    }
}
