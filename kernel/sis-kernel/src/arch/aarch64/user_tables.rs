//! Per-process translation tables (`arch::user::AddressSpace`) and which tables each CPU uses.
//!
//! A process's level-1 table starts as a copy of the kernel's (mmu.rs): the
//! same global entries, none reachable from EL0 (no AP[1], UXN on every
//! kernel mapping, and APTable/UXNTable added on the copied table
//! descriptors). User pages go into level-2 and level-3 tables of the
//! process's own, under level-1 slots the kernel does not use: AP[1] set
//! (EL0 may access), nG, PXN always, UXN unless executable. The kernel's
//! level-2 tables are shared and never written here.
//!
//! TLB: no ASIDs. Every space runs with ASID 0 and each CPU remembers whose
//! user translations its TLB may hold (`TLB_OWNER`, by a space id that is
//! never reused); activating a different space flushes this CPU's TLB
//! (`tlbi vmalle1`, local). Why not one ASID per process: under QEMU's TCG
//! an ASID change in TTBR0 flushes the whole TLB anyway (so ASIDs would cost
//! a flush on the way to the kernel tables *and* back), and reused ASIDs
//! would need broadcast invalidations (`tlbi ...is`, a cross-vCPU sync under
//! MTTCG) on unmap and on teardown. Here switching to the kernel tables is
//! one TTBR0 write with no flush (the kernel mappings are global and the same
//! in every space), a process resumed on the CPU it left pays nothing, and
//! unmap invalidates one page locally: the space gets a new id, so every
//! other CPU whose TLB may still hold the old page flushes before it next
//! runs the space. Syscalls change no table at all.
//!
//! A space is active (in TTBR0_EL1) only on the CPU running its process: the
//! scheduler calls `activate_kernel_tables` before every switch, and `Drop`
//! checks that no other CPU still uses the tables it frees.

extern crate alloc;

use core::alloc::Layout;
use core::arch::asm;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use sis_abi::Errno;
use sis_syscall::limits::{USER_BASE, USER_TOP};

use super::irq;
use super::memory::MAX_CPUS;
use super::mmu::{self, Table};
use crate::sync::InterruptsMasked;

/// The level-1 table address in TTBR0_EL1 of each CPU, 0 meaning the
/// kernel's own. Written only by its CPU with interrupts masked.
static ACTIVE: [AtomicUsize; MAX_CPUS] = [const { AtomicUsize::new(0) }; MAX_CPUS];
/// The id of the space whose user translations each CPU's TLB may hold (0:
/// none since the last flush). Written only by its CPU with interrupts masked.
static TLB_OWNER: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
/// Space ids: unique for the life of the kernel (2^64 of them), never 0.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// User page descriptor bits shared by every user page (level 3).
const USER_PAGE: u64 = mmu::VALID_PAGE
    | mmu::ATTRIBUTE_INDEX_NORMAL
    | mmu::INNER_SHAREABLE
    | mmu::ACCESS_FLAG
    | mmu::NOT_GLOBAL
    | mmu::EL0_ACCESS
    | mmu::PRIVILEGED_EXECUTE_NEVER;
/// A table descriptor for a process's own level-2 or level-3 table: user
/// pages below are never executable at EL1 either way.
const USER_TABLE: u64 = mmu::VALID_TABLE | mmu::TABLE_PRIVILEGED_EXECUTE_NEVER;
/// Added to the kernel's table descriptors in a process's copy: EL0 can
/// neither touch nor run anything below them, whatever the lower levels say.
const KERNEL_TABLE_FROM_USER: u64 = mmu::TABLE_NO_EL0_ACCESS | mmu::TABLE_UNPRIVILEGED_EXECUTE_NEVER;

fn table_layout() -> Layout {
    Layout::new::<Table>()
}

/// A zeroed 4 KiB table from the heap (identity-mapped: address = physical).
fn new_table() -> Result<*mut Table, Errno> {
    // SAFETY: the layout has a non-zero size.
    let table = unsafe { alloc::alloc::alloc_zeroed(table_layout()) }.cast::<Table>();
    if table.is_null() {
        Err(Errno::ENOMEM)
    } else {
        Ok(table)
    }
}

/// # Safety
/// `table` came from `new_table` and nothing uses it any more.
unsafe fn free_table(table: *mut Table) {
    // SAFETY: forwarded contract; same layout as allocated.
    unsafe { alloc::alloc::dealloc(table.cast(), table_layout()) };
}

/// The next-level table a valid table descriptor points at.
fn next_table(descriptor: u64) -> *mut Table {
    (descriptor & !mmu::ATTRIBUTE_MASK) as *mut Table
}

fn is_table(descriptor: u64) -> bool {
    descriptor & 0b11 == mmu::VALID_TABLE
}

/// One process's translation tables.
pub struct AddressSpace {
    level1: *mut Table,
    /// Which TLB contents belong to this space (see the module comment):
    /// replaced by a fresh id whenever a page is unmapped.
    id: u64,
}

// SAFETY: the space owns its tables alone; they are plain memory that any
// CPU may read or write through the identity map. `&AddressSpace` only
// activates them (reads `level1` and `id`).
unsafe impl Send for AddressSpace {}
// SAFETY: as above: no `&self` method writes anything the space owns.
unsafe impl Sync for AddressSpace {}

impl AddressSpace {
    /// The kernel's mappings (global, out of EL0's reach) and no user page.
    pub fn new() -> Result<AddressSpace, Errno> {
        let level1 = new_table()?;
        let kernel = mmu::kernel_level1();
        // SAFETY: `level1` is a fresh table of ours.
        let entries = unsafe { &mut (*level1).0 };
        for (entry, &kernel_entry) in entries.iter_mut().zip(kernel.0.iter()) {
            *entry = if is_table(kernel_entry) { kernel_entry | KERNEL_TABLE_FROM_USER } else { kernel_entry };
        }
        // The table walker reads memory through the inner write-back
        // caches it shares with these stores (TCR_EL1.IRGN0, SH0); the
        // barrier orders them before any walk of this table.
        // SAFETY: a barrier only.
        unsafe { asm!("dsb ishst", options(nostack, preserves_flags)) };
        Ok(AddressSpace { level1, id: NEXT_ID.fetch_add(1, Ordering::Relaxed) })
    }

    /// Maps the page at `virt` onto `frame`: user-readable, writable and
    /// executable (at EL0 only) as asked.
    pub fn map(&mut self, virt: u64, frame: usize, writable: bool, executable: bool) -> Result<(), Errno> {
        if !is_user_page(virt) || frame % mmu::PAGE_BYTES != 0 {
            return Err(Errno::EINVAL);
        }
        let level1_index = level_index(virt, mmu::GIB_SHIFT);
        if mmu::kernel_level1().0[level1_index] != 0 {
            // The kernel maps this GiB (devices or RAM): not the process's.
            return Err(Errno::EINVAL);
        }
        // SAFETY: our own tables (`&mut self`); a level-1 slot the kernel
        // does not use holds only tables of this space (or nothing).
        let level2 = unsafe { table_below(&mut (*self.level1).0[level1_index])? };
        // SAFETY: as above.
        let level3 = unsafe { table_below(&mut (*level2).0[level_index(virt, mmu::TWO_MIB_SHIFT)])? };
        // SAFETY: as above.
        let entry = unsafe { &mut (*level3).0[level_index(virt, mmu::PAGE_SHIFT)] };
        if *entry != 0 {
            return Err(Errno::EINVAL);
        }
        let mut descriptor = frame as u64 | USER_PAGE;
        if !writable {
            descriptor |= mmu::READ_ONLY;
        }
        if !executable {
            descriptor |= mmu::UNPRIVILEGED_EXECUTE_NEVER;
        }
        // An invalid entry becoming valid needs no TLB maintenance (invalid
        // entries are never cached); the barrier makes the walker see it
        // before the next user access (the eret in `run` synchronises the
        // instruction side).
        *entry = descriptor;
        // SAFETY: a barrier only.
        unsafe { asm!("dsb ishst", options(nostack, preserves_flags)) };
        Ok(())
    }

    /// Unmaps the page at `virt` and returns its frame, with this CPU's TLB
    /// entry for it invalidated; every other CPU flushes before it next runs
    /// this space (the space takes a new id).
    pub fn unmap(&mut self, virt: u64) -> Option<usize> {
        if !is_user_page(virt) {
            return None;
        }
        let level1_index = level_index(virt, mmu::GIB_SHIFT);
        if mmu::kernel_level1().0[level1_index] != 0 {
            return None;
        }
        // SAFETY: our own tables, as in `map`.
        let level1_entry = unsafe { (*self.level1).0[level1_index] };
        if !is_table(level1_entry) {
            return None;
        }
        // SAFETY: a table of this space.
        let level2_entry = unsafe { (*next_table(level1_entry)).0[level_index(virt, mmu::TWO_MIB_SHIFT)] };
        if !is_table(level2_entry) {
            return None;
        }
        // SAFETY: a table of this space.
        let entry = unsafe { &mut (*next_table(level2_entry)).0[level_index(virt, mmu::PAGE_SHIFT)] };
        if *entry & 0b11 != mmu::VALID_PAGE {
            return None;
        }
        let frame = (*entry & !mmu::ATTRIBUTE_MASK) as usize;
        *entry = 0;
        let old_id = self.id;
        self.id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        // One CPU throughout: the page flushed here is the only stale entry
        // of this space this CPU's TLB can hold, so it may keep its claim.
        let were_enabled = irq::interrupts_disable();
        // SAFETY: invalidates this CPU's translation of one user page (ASID
        // 0, VA[55:12] in the operand); the DSBs order the table store
        // before it and it before any later access.
        unsafe {
            asm!(
                "dsb ishst",
                "tlbi vale1, {page}",
                "dsb nsh",
                "isb",
                page = in(reg) virt >> mmu::PAGE_SHIFT,
                options(nostack, preserves_flags),
            );
        }
        let cpu = irq::cpu_index();
        if TLB_OWNER[cpu].load(Ordering::Relaxed) == old_id {
            TLB_OWNER[cpu].store(self.id, Ordering::Relaxed);
        }
        irq::interrupts_restore(were_enabled);
        Some(frame)
    }

    /// Makes this CPU translate through this space (cheap when it already
    /// does). Interrupts must be masked: the caller must stay on this CPU
    /// until it enters user mode.
    pub(super) fn activate(&self) {
        let cpu = irq::cpu_index();
        let table = self.level1 as usize;
        if ACTIVE[cpu].load(Ordering::Relaxed) == table {
            return;
        }
        set_translation_table(table);
        ACTIVE[cpu].store(table, Ordering::Relaxed);
        if TLB_OWNER[cpu].load(Ordering::Relaxed) != self.id {
            // SAFETY: drops every EL1&0 translation of this CPU (kernel ones
            // are simply walked again); the DSB completes it, the ISB makes
            // later fetches use the new state.
            unsafe { asm!("tlbi vmalle1", "dsb nsh", "isb", options(nostack, preserves_flags)) };
            TLB_OWNER[cpu].store(self.id, Ordering::Relaxed);
        }
    }
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        let table = self.level1 as usize;
        let masked = InterruptsMasked::new();
        if ACTIVE[irq::cpu_index()].load(Ordering::Relaxed) == table {
            activate_kernel_tables(&masked);
        }
        // A CPU still translating through these tables would walk freed
        // memory: the scheduler's `activate_kernel_tables` before every
        // switch rules that out; a broken caller must stop here, not corrupt
        // memory silently.
        if let Some(cpu) = ACTIVE.iter().position(|active| active.load(Ordering::Relaxed) == table) {
            panic!("address space freed while CPU {cpu} still uses it (missing activate_kernel_tables)");
        }
        drop(masked);
        let kernel = mmu::kernel_level1();
        // SAFETY: our own tables, used by no CPU (checked above); every
        // table below a level-1 slot the kernel does not use is ours. TLB
        // entries other CPUs may hold for this space die at their next
        // activation of any space (its id is never used again).
        unsafe {
            for (index, &entry) in (*self.level1).0.iter().enumerate() {
                if kernel.0[index] != 0 || !is_table(entry) {
                    continue;
                }
                let level2 = next_table(entry);
                for &level2_entry in (*level2).0.iter() {
                    if is_table(level2_entry) {
                        free_table(next_table(level2_entry));
                    }
                }
                free_table(level2);
            }
            free_table(self.level1);
        }
    }
}

/// Makes this CPU translate through the kernel's own tables (no flush: the
/// kernel mappings are global and the same in every space, and the user
/// translations left in the TLB are flushed before another space runs).
pub fn activate_kernel_tables(_masked: &InterruptsMasked) {
    let cpu = irq::cpu_index();
    if ACTIVE[cpu].load(Ordering::Relaxed) != 0 {
        set_translation_table(mmu::kernel_level1() as *const Table as usize);
        ACTIVE[cpu].store(0, Ordering::Relaxed);
    }
}

/// TTBR0_EL1 = `table` with ASID 0.
fn set_translation_table(table: usize) {
    // SAFETY: `table` is the kernel's level-1 table or a process's, which
    // maps every kernel address exactly as the kernel's does, so the code
    // and stack in use stay mapped; the ISB makes the switch effective.
    unsafe { asm!("msr ttbr0_el1, {}", "isb", in(reg) table, options(nostack, preserves_flags)) };
}

/// A page-aligned address in [USER_BASE, USER_TOP).
fn is_user_page(virt: u64) -> bool {
    virt % mmu::PAGE_BYTES as u64 == 0 && (USER_BASE..USER_TOP).contains(&virt)
}

fn level_index(virt: u64, shift: u32) -> usize {
    (virt >> shift) as usize % mmu::ENTRIES
}

/// The table `entry` points at, made (zeroed, linked in) if the entry is empty.
///
/// # Safety
/// `entry` is a level-1 or level-2 entry of a process's own tables.
unsafe fn table_below(entry: &mut u64) -> Result<*mut Table, Errno> {
    if is_table(*entry) {
        return Ok(next_table(*entry));
    }
    let table = new_table()?;
    // The zeroed table must reach memory before the walker can follow the
    // descriptor that links it.
    // SAFETY: a barrier only.
    unsafe { asm!("dsb ishst", options(nostack, preserves_flags)) };
    *entry = table as u64 | USER_TABLE;
    Ok(table)
}
