//! Identity map with 1 GiB blocks and the MMU switch-on, shared by all CPUs.
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
//! - GiB 0 (0x0000_0000..0x4000_0000, QEMU virt's devices: GIC, PL011, ...):
//!   Device-nGnRnE, never executable.
//! - each GiB that holds RAM from the device tree: Normal, write-back,
//!   inner shareable. A GiB block can extend past the end of RAM (e.g. with
//!   `-m 128M`); nothing touches that tail on purpose, and an access there is
//!   an external abort, reported like any other data abort.
//! - everything else is unmapped, in particular `UNMAPPED_ADDRESS`.
//! - exception: the 4 KiB guard page under the boot stack (`__stack_guard`,
//!   linker.ld) is unmapped, so its GiB is split into 2 MiB blocks (one level-2
//!   table) and the guard's 2 MiB into 4 KiB pages (one level-3 table).

use core::arch::{asm, global_asm};
use core::ptr::addr_of_mut;

use sis_mem::{MemoryMap, Region};

/// A translation table: 512 descriptors, 4 KiB aligned (a 4 KiB granule table).
#[repr(C, align(4096))]
struct Table([u64; 512]);

/// The level-1 table every CPU uses (TTBR0_EL1). In .bss, so it is zero
/// (all entries invalid) before `build_and_enable` fills it.
#[unsafe(no_mangle)]
static mut __sis_level1_table: Table = Table([0; 512]);
/// Splits the guard page's GiB into 2 MiB blocks.
static mut LEVEL2_TABLE: Table = Table([0; 512]);
/// Splits the guard page's 2 MiB into 4 KiB pages.
static mut LEVEL3_TABLE: Table = Table([0; 512]);

unsafe extern "C" {
    // linker.ld: the unmapped page under the boot stack; only its address is used.
    static __stack_guard: u8;
}

/// Start of the unmapped guard page under the boot CPU's stack.
pub fn stack_guard_address() -> usize {
    core::ptr::addr_of!(__stack_guard) as usize
}

/// Whether `address` lies in the stack guard page: a fault there is a stack overflow.
pub fn is_stack_guard(address: usize) -> bool {
    address.wrapping_sub(stack_guard_address()) < PAGE_BYTES
}

const GIB_SHIFT: u32 = 30;
const TWO_MIB_SHIFT: u32 = 21;
const PAGE_SHIFT: u32 = 12;
const PAGE_BYTES: usize = 1 << PAGE_SHIFT;
const ENTRIES: usize = 512;
/// The last 1 GiB slot of the 39-bit space is never mapped (see `build`).
const UNMAPPED_SLOT: usize = ENTRIES - 1;

/// An address that is guaranteed to translate to nothing: `trigger_fault`
/// reads it to produce a level-1 translation fault.
pub const UNMAPPED_ADDRESS: usize = (UNMAPPED_SLOT << GIB_SHIFT) + 0x0dea_d000;

// Block descriptor fields (Arm ARM DDI 0487, "VMSAv8-64 translation table format descriptors").
const VALID_BLOCK: u64 = 0b01; // level 1 and 2
const VALID_TABLE: u64 = 0b11; // level 1 and 2: points to the next table
const VALID_PAGE: u64 = 0b11; // level 3
const ATTRIBUTE_INDEX_DEVICE: u64 = 0 << 2; // MAIR_EL1 Attr0
const ATTRIBUTE_INDEX_NORMAL: u64 = 1 << 2; // MAIR_EL1 Attr1
const INNER_SHAREABLE: u64 = 0b11 << 8;
const ACCESS_FLAG: u64 = 1 << 10; // set, or the first access faults
const PRIVILEGED_EXECUTE_NEVER: u64 = 1 << 53;
const UNPRIVILEGED_EXECUTE_NEVER: u64 = 1 << 54;

const DEVICE_BLOCK: u64 =
    VALID_BLOCK | ATTRIBUTE_INDEX_DEVICE | ACCESS_FLAG | PRIVILEGED_EXECUTE_NEVER | UNPRIVILEGED_EXECUTE_NEVER;
const NORMAL_ATTRIBUTES: u64 = ATTRIBUTE_INDEX_NORMAL | INNER_SHAREABLE | ACCESS_FLAG | UNPRIVILEGED_EXECUTE_NEVER;
const NORMAL_BLOCK: u64 = VALID_BLOCK | NORMAL_ATTRIBUTES;
const NORMAL_PAGE: u64 = VALID_PAGE | NORMAL_ATTRIBUTES;

/// Fills the level-1 table for `memory` and turns the MMU on for this CPU.
///
/// # Safety
///
/// Boot CPU only, once, before any secondary runs: the table is written
/// without synchronisation.
pub unsafe fn build_and_enable(memory: &MemoryMap) {
    // SAFETY: exclusive access per this function's contract; the MMU is off,
    // so nothing walks the table while it is written.
    let table = unsafe { &mut *addr_of_mut!(__sis_level1_table) };
    table.0[0] = DEVICE_BLOCK;
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
            table.0[slot] = ((slot as u64) << GIB_SHIFT) | NORMAL_BLOCK;
        }
    }
    // SAFETY: as above; the level-2 and level-3 tables are only used here.
    let (level2, level3) = unsafe { (&mut *addr_of_mut!(LEVEL2_TABLE), &mut *addr_of_mut!(LEVEL3_TABLE)) };
    unmap_guard_page(table, level2, level3, stack_guard_address());
    // The tables were written with the MMU off, i.e. straight to memory;
    // invalidate any stale cached copy so the table walker (which reads
    // through the caches, TCR_EL1.IRGN0) sees what was written.
    let line_bytes = data_cache_line_bytes();
    for written in [&*table, &*level2, &*level3] {
        let start = written as *const Table as usize;
        for line in (start..start + core::mem::size_of::<Table>()).step_by(line_bytes) {
            // SAFETY: invalidating cache lines of our own table; its data is in memory.
            unsafe { asm!("dc ivac, {}", in(reg) line, options(nostack)) };
        }
    }
    // SAFETY: the table maps the code, stack and devices in use (contract above).
    unsafe {
        asm!("dsb sy", options(nostack));
        __sis_enable_mmu();
    }
}

/// The smallest data cache line of this CPU: CTR_EL0.DminLine (bits 19:16)
/// is its log2 in 4-byte words (64 bytes on a Cortex-A72).
fn data_cache_line_bytes() -> usize {
    let cache_type: u64;
    // SAFETY: reading CTR_EL0 has no side effect (and EL1 may always read it).
    unsafe { asm!("mrs {}, ctr_el0", out(reg) cache_type, options(nomem, nostack)) };
    4 << ((cache_type >> 16) & 0xF)
}

/// Replaces the 1 GiB block around `guard` by 2 MiB blocks and the 2 MiB block
/// around it by 4 KiB pages, all with the same attributes, minus the guard
/// page itself. Does nothing if `guard` is not in mapped RAM.
fn unmap_guard_page(level1: &mut Table, level2: &mut Table, level3: &mut Table, guard: usize) {
    let gib = guard >> GIB_SHIFT;
    if gib >= ENTRIES || level1.0[gib] != ((gib as u64) << GIB_SHIFT) | NORMAL_BLOCK {
        return;
    }
    let gib_base = (gib as u64) << GIB_SHIFT;
    for (index, entry) in level2.0.iter_mut().enumerate() {
        *entry = (gib_base + ((index as u64) << TWO_MIB_SHIFT)) | NORMAL_BLOCK;
    }
    let two_mib_index = (guard >> TWO_MIB_SHIFT) % ENTRIES;
    let two_mib_base = gib_base + ((two_mib_index as u64) << TWO_MIB_SHIFT);
    for (index, entry) in level3.0.iter_mut().enumerate() {
        *entry = (two_mib_base + ((index as u64) << PAGE_SHIFT)) | NORMAL_PAGE;
    }
    level3.0[(guard >> PAGE_SHIFT) % ENTRIES] = 0;
    level2.0[two_mib_index] = (level3 as *const Table as u64) | VALID_TABLE;
    level1.0[gib] = (level2 as *const Table as u64) | VALID_TABLE;
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
    "    msr sctlr_el1, x9",
    "    isb",
    "    ret",
);
