//! Sv39 paging: an identity map with W^X over the kernel image, the guard
//! pages under the task stacks, and no page at address 0.
//!
//! RISC-V privileged spec v1.12, 4.4 ("Sv39"): three levels of 512 entries,
//! 1 GiB gigapages at the root, 2 MiB megapages, 4 KiB pages. Layout:
//! - GiB 0 and 1 (QEMU virt's devices: CLINT, PLIC, UART, virtio-mmio,
//!   sifive_test, PCIe ECAM and MMIO): read-write, never executable; the
//!   first 4 KiB is left out so a null-pointer access faults.
//! - each GiB holding RAM from the device tree: read-write, never executable.
//! - the kernel image in 4 KiB pages: `.text` read + execute, `.rodata`
//!   read-only, the rest read-write; the guard page under each task stack
//!   slot (stacks.rs) unmapped.
//! Every entry is global with A and D set, so no hart ever needs hardware
//! A/D updates. Built once by the boot hart before the secondaries start;
//! each hart then writes satp (`enable_on_this_hart`). The tables never
//! change afterwards, so a process's root (user.rs) can copy the root's
//! entries once and share everything under them.

use core::arch::asm;
use core::ptr::addr_of_mut;

use sis_mem::MemoryMap;

#[repr(C, align(4096))]
struct Table([u64; 512]);

static mut ROOT: Table = Table([0; 512]);
/// Tables for split gigapages and megapages (GiB 0, the image's GiB, the
/// image's and the task stacks' megapages).
const POOL_TABLES: usize = 12;
static mut TABLE_POOL: [Table; POOL_TABLES] = [const { Table([0; 512]) }; POOL_TABLES];
static mut POOL_USED: usize = 0;

// Sv39 PTE bits (privileged spec v1.12, 4.3.1 "Addressing and Memory Protection").
pub(super) const VALID: u64 = 1 << 0;
pub(super) const READ: u64 = 1 << 1;
pub(super) const WRITE: u64 = 1 << 2;
pub(super) const EXECUTE: u64 = 1 << 3;
/// U: reachable from U-mode and never executable in S-mode (4.3.1).
pub(super) const USER: u64 = 1 << 4;
const GLOBAL: u64 = 1 << 5;
pub(super) const ACCESSED: u64 = 1 << 6;
pub(super) const DIRTY: u64 = 1 << 7;
pub(super) const LEAF_FLAGS: u64 = READ | WRITE | EXECUTE;
const DATA: u64 = VALID | READ | WRITE | GLOBAL | ACCESSED | DIRTY;
const TEXT: u64 = VALID | READ | EXECUTE | GLOBAL | ACCESSED;
const READ_ONLY: u64 = VALID | READ | GLOBAL | ACCESSED;
const FLAG_BITS: u64 = 0x3FF;
pub(super) const PAGE_SHIFT: u32 = 12;
const PAGE_BYTES: usize = 1 << PAGE_SHIFT;
pub(super) const GIB_SHIFT: u32 = 30;
pub(super) const MIB2_SHIFT: u32 = 21;
pub(super) const ENTRIES: usize = 512;
/// Sv39's mode in satp[63:60].
const SATP_MODE_SV39: usize = 8 << 60;
/// Gigapages of devices on QEMU virt: everything below RAM at 2 GiB.
const DEVICE_GIGAPAGES: usize = 2;

extern "C" {
    static __kernel_start: u8;
    static __kernel_end: u8;
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __task_stacks_start: u8;
    static __task_stacks_end: u8;
}

/// [start, end) of the task stack area (stacks.rs).
pub fn task_stack_area() -> (usize, usize) {
    (core::ptr::addr_of!(__task_stacks_start) as usize, core::ptr::addr_of!(__task_stacks_end) as usize)
}

pub fn is_kernel_text(address: usize) -> bool {
    (core::ptr::addr_of!(__text_start) as usize..core::ptr::addr_of!(__text_end) as usize).contains(&address)
}

/// A leaf entry mapping the page, megapage or gigapage at `address`.
pub(super) fn leaf(address: usize, flags: u64) -> u64 {
    ((address >> PAGE_SHIFT) as u64) << 10 | flags
}

fn take_table() -> Option<&'static mut Table> {
    // SAFETY: only `build` (boot hart, once, before the secondaries) gets here.
    unsafe {
        let used = &mut *addr_of_mut!(POOL_USED);
        let table = (*addr_of_mut!(TABLE_POOL)).get_mut(*used)?;
        *used += 1;
        Some(table)
    }
}

/// The entry mapping `address` at `level` (1: its megapage, 0: its page),
/// splitting leaves above it into tables with the same flags. None when
/// `address` is unmapped or the pool ran out.
fn entry_for(address: usize, level: u32) -> Option<&'static mut u64> {
    // Boot-only exclusive access, as in `take_table`.
    let mut table: *mut Table = addr_of_mut!(ROOT);
    for (current, shift) in [(2u32, GIB_SHIFT), (1, MIB2_SHIFT), (0, PAGE_SHIFT)] {
        // SAFETY: `table` is ROOT or a pool table, both static.
        let entry = unsafe { &mut (*table).0[(address >> shift) % ENTRIES] };
        if current == level {
            return Some(entry);
        }
        if *entry & VALID == 0 {
            return None;
        }
        if *entry & LEAF_FLAGS == 0 {
            table = ((*entry >> 10) << PAGE_SHIFT) as *mut Table;
            continue;
        }
        let base = ((*entry >> 10) << PAGE_SHIFT) as usize;
        let flags = *entry & FLAG_BITS;
        let child_shift = if current == 2 { MIB2_SHIFT } else { PAGE_SHIFT };
        let next = take_table()?;
        for (index, child) in next.0.iter_mut().enumerate() {
            *child = leaf(base + (index << child_shift), flags);
        }
        *entry = ((next as *mut Table as usize >> PAGE_SHIFT) as u64) << 10 | VALID;
        table = next;
    }
    None
}

/// Builds the tables for `memory`.
///
/// # Safety
///
/// Boot hart only, once, before any secondary starts and before paging is on.
pub unsafe fn build(memory: &MemoryMap) {
    // SAFETY: exclusive access per the contract.
    let root = unsafe { &mut *addr_of_mut!(ROOT) };
    for gib in 0..DEVICE_GIGAPAGES {
        root.0[gib] = leaf(gib << GIB_SHIFT, DATA);
    }
    let image_start = core::ptr::addr_of!(__kernel_start) as usize;
    let image_end = core::ptr::addr_of!(__kernel_end) as usize;
    let image = sis_mem::Region::new(image_start, image_end - image_start);
    for region in memory.usable().iter().chain(core::iter::once(&image)).filter(|region| region.size > 0) {
        let first = region.start >> GIB_SHIFT;
        let last = (region.start + region.size - 1) >> GIB_SHIFT;
        for gib in first.max(DEVICE_GIGAPAGES)..=last.min(ENTRIES - 1) {
            root.0[gib] = leaf(gib << GIB_SHIFT, DATA);
        }
    }
    if let Some(entry) = entry_for(0, 0) {
        *entry = 0;
    }
    let text = core::ptr::addr_of!(__text_start) as usize..core::ptr::addr_of!(__text_end) as usize;
    let rodata = core::ptr::addr_of!(__rodata_start) as usize..core::ptr::addr_of!(__rodata_end) as usize;
    for page in (image_start..image_end).step_by(PAGE_BYTES) {
        let flags = if text.contains(&page) {
            TEXT
        } else if rodata.contains(&page) {
            READ_ONLY
        } else {
            DATA
        };
        if let Some(entry) = entry_for(page, 0) {
            *entry = leaf(page, flags);
        }
    }
    for guard in crate::stacks::guard_pages(task_stack_area().0) {
        if let Some(entry) = entry_for(guard, 0) {
            *entry = 0;
        }
    }
}

/// The physical address an entry (leaf or table pointer) points at.
pub(super) fn entry_address(entry: u64) -> usize {
    ((entry >> 10) << PAGE_SHIFT) as usize
}

/// An entry pointing at the next-level table at `table`.
pub(super) fn table_entry(table: usize) -> u64 {
    ((table >> PAGE_SHIFT) as u64) << 10 | VALID
}

/// The kernel's root table entries, for a process root to copy.
pub(super) fn kernel_root_entries() -> &'static [u64; ENTRIES] {
    // SAFETY: `build` wrote the root before the first task existed, and
    // nothing writes it afterwards, so shared reads are sound.
    unsafe { &(*core::ptr::addr_of!(ROOT)).0 }
}

/// The satp value that selects the root table at physical `root` (ASID 0:
/// user.rs says why no ASIDs).
pub(super) fn satp_for(root: usize) -> usize {
    SATP_MODE_SV39 | (root >> PAGE_SHIFT)
}

/// The satp value of the kernel's own tables.
pub(super) fn kernel_satp() -> usize {
    satp_for(core::ptr::addr_of!(ROOT) as usize)
}

/// Turns Sv39 on for the calling hart with the tables `build` made.
pub fn enable_on_this_hart() {
    // SAFETY: the tables identity-map everything this hart runs and touches
    // (code, stacks, data, devices), so execution continues unchanged; the
    // fences order the table writes before the first walk.
    unsafe {
        asm!(
            "sfence.vma",
            "csrw satp, {satp}",
            "sfence.vma",
            satp = in(reg) kernel_satp(),
            options(nostack),
        );
    }
}
