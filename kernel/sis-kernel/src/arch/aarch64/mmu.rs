//! Identity map (1 GiB blocks, 4 KiB pages over the image: W^X, guard pages, no null page) and the MMU switch-on.
//!
//! Why the MMU is on at all: with SCTLR_EL1.M = 0 every data access is
//! Device-nGnRnE (Arm ARM DDI 0487, "The effects of disabling an address
//! translation stage"). Device memory faults on unaligned accesses (the
//! target's +strict-align keeps the compiler from emitting them, but not
//! hand-written or future code), does not support exclusive accesses
//! architecturally (atomics and spin locks use LDXR/STXR on a Cortex-A72,
//! which has no LSE), and `DC ZVA` faults on it. Mapping RAM as Normal
//! write-back memory removes all three, and an identity map means no address
//! changes meaning when the MMU comes on.
//!
//! Layout: 4 KiB granule, T0SZ = 25 (39-bit addresses), so translation starts
//! at level 1 where each of the 512 entries maps 1 GiB:
//! - GiB 0 (QEMU virt's devices: GIC, PL011, ...): Device-nGnRnE, never
//!   executable, in 2 MiB blocks; the first 2 MiB (flash, unused) is left
//!   unmapped so a null-pointer access faults.
//! - each GiB that holds RAM from the device tree: Normal, write-back,
//!   inner shareable, never executable (PXN and UXN). A GiB block can extend
//!   past the end of RAM (e.g. with `-m 128M`); nothing touches that tail on
//!   purpose, and an access there is an external abort, reported as such.
//! - the kernel image in 4 KiB pages, W^X: `.text` read-only and
//!   executable, `.rodata` read-only, the rest (data, bss, stacks) read-write
//!   and never executable. The guard page under the boot stack and the one
//!   under each task stack slot (stacks.rs) are unmapped.
//! - everything else is unmapped, in particular `UNMAPPED_ADDRESS`.
//!
//! Finer tables come from a fixed pool in .bss (`TABLE_POOL`): splitting a
//! block copies its attributes into 512 smaller entries, then single pages
//! are changed. The tables are built once by the boot CPU, before any
//! secondary starts, and never change afterwards (no TLB shootdowns).
//!
//! User processes run on copies of this level-1 table with their own user
//! tables added (user_tables.rs); every kernel entry is global and out of
//! EL0's reach (checked below).

use core::arch::{asm, global_asm};
use core::ptr::addr_of_mut;

use sis_mem::{MemoryMap, Region};

/// A translation table: 512 descriptors, 4 KiB aligned (a 4 KiB granule table).
#[repr(C, align(4096))]
pub(super) struct Table(pub(super) [u64; 512]);

/// The level-1 table every CPU uses (TTBR0_EL1). In .bss, so it is zero
/// (all entries invalid) before `build_and_enable` fills it.
#[unsafe(no_mangle)]
static mut __sis_level1_table: Table = Table([0; 512]);
/// Level-2 and level-3 tables for split blocks: GiB 0, the image's GiB, and
/// the 2 MiB blocks of the image (up to ~10 MiB with the task stacks).
const POOL_TABLES: usize = 10;
static mut TABLE_POOL: [Table; POOL_TABLES] = [const { Table([0; 512]) }; POOL_TABLES];
/// Tables of the pool handed out so far.
static mut POOL_USED: usize = 0;

unsafe extern "C" {
    // linker.ld: only the addresses are used.
    static __stack_guard: u8;
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __task_stacks_start: u8;
    static __task_stacks_end: u8;
}

/// Start of the unmapped guard page under the boot CPU's stack.
pub fn stack_guard_address() -> usize {
    core::ptr::addr_of!(__stack_guard) as usize
}

/// Whether `address` lies in the stack guard page: a fault there is a stack overflow.
pub fn is_stack_guard(address: usize) -> bool {
    address.wrapping_sub(stack_guard_address()) < PAGE_BYTES
}

/// [start, end) of the task stack area (stacks.rs).
pub fn task_stack_area() -> (usize, usize) {
    (core::ptr::addr_of!(__task_stacks_start) as usize, core::ptr::addr_of!(__task_stacks_end) as usize)
}

/// Whether `address` is in the kernel's text (for fault descriptions).
pub fn is_kernel_text(address: usize) -> bool {
    (core::ptr::addr_of!(__text_start) as usize..core::ptr::addr_of!(__text_end) as usize).contains(&address)
}

pub(super) const GIB_SHIFT: u32 = 30;
pub(super) const TWO_MIB_SHIFT: u32 = 21;
pub(super) const PAGE_SHIFT: u32 = 12;
pub(super) const PAGE_BYTES: usize = 1 << PAGE_SHIFT;
pub(super) const ENTRIES: usize = 512;
/// The last 1 GiB slot of the 39-bit space is never mapped (see `build`).
const UNMAPPED_SLOT: usize = ENTRIES - 1;

/// An address that is guaranteed to translate to nothing: `trigger_fault`
/// reads it to produce a level-1 translation fault.
pub const UNMAPPED_ADDRESS: usize = (UNMAPPED_SLOT << GIB_SHIFT) + 0x0dea_d000;

// Block descriptor fields (Arm ARM DDI 0487, "VMSAv8-64 translation table format descriptors").
pub(super) const VALID_BLOCK: u64 = 0b01; // level 1 and 2
pub(super) const VALID_TABLE: u64 = 0b11; // level 1 and 2: points to the next table
pub(super) const VALID_PAGE: u64 = 0b11; // level 3
const ATTRIBUTE_INDEX_DEVICE: u64 = 0 << 2; // MAIR_EL1 Attr0
pub(super) const ATTRIBUTE_INDEX_NORMAL: u64 = 1 << 2; // MAIR_EL1 Attr1
/// AP[1]: EL0 may access the page (user pages only; no kernel mapping has it).
pub(super) const EL0_ACCESS: u64 = 1 << 6;
pub(super) const READ_ONLY: u64 = 1 << 7; // AP[2]: no writes at EL1 (and none at EL0: AP[1] = 0)
pub(super) const INNER_SHAREABLE: u64 = 0b11 << 8;
pub(super) const ACCESS_FLAG: u64 = 1 << 10; // set, or the first access faults
/// nG: the translation belongs to the current address space only (user
/// pages); kernel mappings are global, the same in every space.
pub(super) const NOT_GLOBAL: u64 = 1 << 11;
pub(super) const PRIVILEGED_EXECUTE_NEVER: u64 = 1 << 53;
pub(super) const UNPRIVILEGED_EXECUTE_NEVER: u64 = 1 << 54;
// Table descriptor limits on everything below them (level 1 and 2).
/// PXNTable: nothing below is executable at EL1.
pub(super) const TABLE_PRIVILEGED_EXECUTE_NEVER: u64 = 1 << 59;
/// UXNTable: nothing below is executable at EL0.
pub(super) const TABLE_UNPRIVILEGED_EXECUTE_NEVER: u64 = 1 << 60;
/// APTable = 0b01: nothing below is accessible from EL0.
pub(super) const TABLE_NO_EL0_ACCESS: u64 = 1 << 61;
/// Bits that are not the output address (low attributes, and the upper ones).
pub(super) const ATTRIBUTE_MASK: u64 = 0xFFF | (0xFFF << 52);

const DEVICE_ATTRIBUTES: u64 = ATTRIBUTE_INDEX_DEVICE | ACCESS_FLAG | PRIVILEGED_EXECUTE_NEVER | UNPRIVILEGED_EXECUTE_NEVER;
const NORMAL_ATTRIBUTES: u64 =
    ATTRIBUTE_INDEX_NORMAL | INNER_SHAREABLE | ACCESS_FLAG | PRIVILEGED_EXECUTE_NEVER | UNPRIVILEGED_EXECUTE_NEVER;
/// Kernel text: executable at EL1, read-only.
const TEXT_ATTRIBUTES: u64 = ATTRIBUTE_INDEX_NORMAL | INNER_SHAREABLE | ACCESS_FLAG | UNPRIVILEGED_EXECUTE_NEVER | READ_ONLY;

// Every kernel mapping is out of user mode's reach in every process's
// tables (which share these entries, user_tables.rs): no EL0 access (AP[1]
// clear) and never executable at EL0 (UXN; EL0 execute is governed by UXN,
// not by AP), kernel text included.
const _: () = {
    let kernel_mappings = [DEVICE_ATTRIBUTES, NORMAL_ATTRIBUTES, NORMAL_ATTRIBUTES | READ_ONLY, TEXT_ATTRIBUTES];
    let mut index = 0;
    while index < kernel_mappings.len() {
        assert!(kernel_mappings[index] & EL0_ACCESS == 0);
        assert!(kernel_mappings[index] & UNPRIVILEGED_EXECUTE_NEVER != 0);
        assert!(kernel_mappings[index] & NOT_GLOBAL == 0);
        index += 1;
    }
};

/// The kernel's level-1 table: every process's tables start as a copy of
/// it (user_tables.rs), and TTBR0_EL1 holds it whenever no process's do.
/// Written only by `build_and_enable`, before any secondary starts.
pub(super) fn kernel_level1() -> &'static Table {
    // SAFETY: after boot nothing writes the table (module comment); shared
    // reads are fine.
    unsafe { &*core::ptr::addr_of!(__sis_level1_table) }
}

/// Fills the tables for `memory` and turns the MMU on for this CPU.
///
/// # Safety
///
/// Boot CPU only, once, before any secondary runs: the tables are written
/// without synchronisation.
pub unsafe fn build_and_enable(memory: &MemoryMap) {
    // SAFETY: exclusive access per this function's contract; the MMU is off,
    // so nothing walks the tables while they are written.
    let table = unsafe { &mut *addr_of_mut!(__sis_level1_table) };
    table.0[0] = VALID_BLOCK | DEVICE_ATTRIBUTES;
    // The image (code, stacks, tables) is mapped even if a bogus device tree
    // left it out of RAM: otherwise the first fetch after the switch would
    // fault, and so would the vector fetch, for ever.
    let image = Region::new(super::memory::kernel_start(), super::memory::kernel_end() - super::memory::kernel_start());
    for region in memory.usable().iter().chain(core::iter::once(&image)) {
        if region.size == 0 {
            continue;
        }
        let first = region.start >> GIB_SHIFT;
        let last = (region.start.saturating_add(region.size - 1)) >> GIB_SHIFT;
        // Slot 0 stays Device (RAM is never there on QEMU virt); slots past
        // the 39-bit space or the reserved unmapped one are not mapped.
        for slot in first.max(1)..=last.min(UNMAPPED_SLOT - 1) {
            table.0[slot] = ((slot as u64) << GIB_SHIFT) | VALID_BLOCK | NORMAL_ATTRIBUTES;
        }
    }
    // Null pointers: the first 2 MiB of GiB 0 translate to nothing.
    if let Some(entry) = entry_for(table, 0, 2) {
        *entry = 0;
    }
    // W^X over the image, page by page.
    let text = core::ptr::addr_of!(__text_start) as usize..core::ptr::addr_of!(__text_end) as usize;
    let rodata = core::ptr::addr_of!(__rodata_start) as usize..core::ptr::addr_of!(__rodata_end) as usize;
    for page in (image.start..image.end()).step_by(PAGE_BYTES) {
        let attributes = if text.contains(&page) {
            TEXT_ATTRIBUTES
        } else if rodata.contains(&page) {
            NORMAL_ATTRIBUTES | READ_ONLY
        } else {
            NORMAL_ATTRIBUTES
        };
        if let Some(entry) = entry_for(table, page, 3) {
            *entry = page as u64 | VALID_PAGE | attributes;
        }
    }
    // Guard pages: under the boot stack and under every task stack slot.
    let (task_stacks, _) = task_stack_area();
    for guard in core::iter::once(stack_guard_address()).chain(crate::stacks::guard_pages(task_stacks)) {
        if let Some(entry) = entry_for(table, guard, 3) {
            *entry = 0;
        }
    }
    // The tables were written with the MMU off, i.e. straight to memory;
    // invalidate any stale cached copy so the table walker (which reads
    // through the caches, TCR_EL1.IRGN0) sees what was written.
    let line_bytes = data_cache_line_bytes();
    // SAFETY: as above; the pool is only written here.
    let pool = unsafe { &*addr_of_mut!(TABLE_POOL) };
    for written in core::iter::once(&*table).chain(pool.iter()) {
        let start = written as *const Table as usize;
        for line in (start..start + core::mem::size_of::<Table>()).step_by(line_bytes) {
            // SAFETY: invalidating cache lines of our own table; its data is in memory.
            unsafe { asm!("dc ivac, {}", in(reg) line, options(nostack)) };
        }
    }
    // SAFETY: the tables map the code, stack and devices in use (contract above).
    unsafe {
        asm!("dsb sy", options(nostack));
        __sis_enable_mmu();
    }
}

/// A fresh table from the pool, or None when it is used up.
fn take_table() -> Option<&'static mut Table> {
    // SAFETY: only `build_and_enable` (boot CPU, once) gets here.
    unsafe {
        let used = &mut *addr_of_mut!(POOL_USED);
        let pool = &mut *addr_of_mut!(TABLE_POOL);
        let table = pool.get_mut(*used)?;
        *used += 1;
        Some(table)
    }
}

/// The descriptor that maps `address` at `level` (2: its 2 MiB block, 3: its
/// 4 KiB page), splitting the blocks above it into tables of the same
/// attributes as needed. None if `address` is not mapped at all or the pool
/// ran out (then the finer attributes are simply not applied).
fn entry_for(level1: &mut Table, address: usize, level: u32) -> Option<&'static mut u64> {
    let mut table: *mut Table = level1;
    for (current, shift) in [(1, GIB_SHIFT), (2, TWO_MIB_SHIFT), (3, PAGE_SHIFT)] {
        let index = (address >> shift) % ENTRIES;
        // SAFETY: `table` is the level-1 table or one from the pool, both static.
        let entry = unsafe { &mut (*table).0[index] };
        if current == level {
            return Some(entry);
        }
        if *entry & 0b11 == VALID_TABLE {
            table = (*entry & !ATTRIBUTE_MASK) as *mut Table;
            continue;
        }
        if *entry & 0b11 != VALID_BLOCK {
            return None;
        }
        // Split the block: same attributes, one level finer.
        let base = *entry & !ATTRIBUTE_MASK;
        let attributes = *entry & ATTRIBUTE_MASK & !0b11;
        let next_shift = if current == 1 { TWO_MIB_SHIFT } else { PAGE_SHIFT };
        let descriptor_type = if current == 1 { VALID_BLOCK } else { VALID_PAGE };
        let next = take_table()?;
        for (index, child) in next.0.iter_mut().enumerate() {
            *child = (base + ((index as u64) << next_shift)) | attributes | descriptor_type;
        }
        *entry = (next as *mut Table as u64) | VALID_TABLE;
        table = next;
    }
    None
}

/// The smallest data cache line of this CPU: CTR_EL0.DminLine (bits 19:16)
/// is its log2 in 4-byte words (64 bytes on a Cortex-A72).
fn data_cache_line_bytes() -> usize {
    let cache_type: u64;
    // SAFETY: reading CTR_EL0 has no side effect (and EL1 may always read it).
    unsafe { asm!("mrs {}, ctr_el0", out(reg) cache_type, options(nomem, nostack)) };
    4 << ((cache_type >> 16) & 0xF)
}

unsafe extern "C" {
    /// Programs MAIR/TCR/TTBR0 and sets SCTLR_EL1.M, C and I (below).
    fn __sis_enable_mmu();
}

// Called by the boot CPU (from Rust) and by each secondary (from boot.rs,
// before it has touched memory), with the table already built. Clobbers x9-x11
// only, so the secondary path can keep its values in x19+.
global_asm!(
    ".section .text",
    ".globl __sis_enable_mmu",
    "__sis_enable_mmu:",
    // MAIR_EL1: Attr0 = 0x00 Device-nGnRnE, Attr1 = 0xFF Normal write-back
    // read/write-allocate, inner and outer.
    "    mov x9, #0xff00",
    "    msr mair_el1, x9",
    // TCR_EL1: T0SZ = 25, IRGN0 = ORGN0 = 0b01 (write-back), SH0 = 0b11,
    // TG0 = 4 KiB, EPD1 = 1 (no TTBR1 walks); IPS = the CPU's PARange.
    "    mov x9, #25",
    "    orr x9, x9, #(0b01 << 8)",
    "    orr x9, x9, #(0b01 << 10)",
    "    orr x9, x9, #(0b11 << 12)",
    "    orr x9, x9, #(1 << 23)",
    "    mrs x10, id_aa64mmfr0_el1",
    "    and x10, x10, #0x7",
    "    cmp x10, #5", // 0b110 (52 bits) needs 64 KiB pages: cap at 48
    "    mov x11, #5",
    "    csel x10, x10, x11, ls",
    "    orr x9, x9, x10, lsl #32",
    "    msr tcr_el1, x9",
    "    adrp x9, __sis_level1_table",
    "    add x9, x9, :lo12:__sis_level1_table",
    "    msr ttbr0_el1, x9",
    "    isb",
    "    tlbi vmalle1",
    "    dsb nsh",
    "    isb",
    // SCTLR_EL1: M (bit 0), C (bit 2), I (bit 12) on; A (bit 1, alignment
    // checks) and WXN (bit 19) off.
    "    mrs x9, sctlr_el1",
    "    mov x10, #((1 << 0) | (1 << 2) | (1 << 12))",
    "    orr x9, x9, x10",
    "    bic x9, x9, #(1 << 1)",
    "    bic x9, x9, #(1 << 19)",
    // What user mode (EL0) may do, the same whether the kernel was entered
    // at EL1 or EL2 (whose reset values differ): SA0 (bit 4) checks its
    // stack alignment; nTWI/nTWE (bits 16, 18) let it wait in WFI/WFE (the
    // next interrupt ends the wait and the tick preempts it as usual);
    // UMA (bit 9: DAIF), DZE (14: DC ZVA), UCT (15: CTR_EL0) and UCI (26:
    // cache maintenance) clear, so those trap and kill the process.
    "    mov x10, #(1 << 4)",
    "    movk x10, #((1 << 0) | (1 << 2)), lsl #16",
    "    orr x9, x9, x10",
    "    mov x10, #((1 << 9) | (1 << 14) | (1 << 15))",
    "    movk x10, #(1 << 10), lsl #16",
    "    bic x9, x9, x10",
    "    msr sctlr_el1, x9",
    "    isb",
    "    ret",
);
