//! User mode (the `arch::user` contract in arch/mod.rs): per-process Sv39
//! tables, the user register file, and `run`, which enters U-mode with
//! `sret` and comes back at the next trap out of it.
//!
//! Address space. A process root starts as a copy of the kernel root
//! (mmu.rs), whose entries never change after boot: every kernel mapping
//! is shared, U = 0 (unreachable from U-mode), global. The user half is the
//! root slots the kernel leaves empty, below 2^38 (`USER_TOP`); user tables
//! hang there, and user leaves carry U = 1, which S-mode can never execute
//! (privileged spec v1.12, 4.3.1; sstatus.SUM stays 0 so it cannot read
//! them through these addresses either: the kernel copies through the
//! identity map).
//!
//! TLB: no ASIDs. Every process runs with ASID 0; switching satp *to* a
//! process flushes this hart's non-global translations (`sfence.vma` with
//! rs2 = a zero register, which keeps the kernel's global ones), and
//! switching back to the kernel root needs no flush, since the kernel
//! never touches user addresses. ASIDs would only save that flush, and
//! would need per-hart generations or cross-hart shootdowns once processes
//! migrate; under QEMU's TCG (where the speed target is measured) any ASID
//! change flushes the whole software TLB anyway. The syscall round trip
//! writes no satp at all: `run` leaves the space active.
//!
//! Trap path. `run` pushes a `KernelFrame` (callee-saved registers, gp, tp,
//! the hart's trap stack top, the `Registers` pointer) on the task's kernel
//! stack and points sscratch at it; trap.rs's vector swaps sp with
//! sscratch, sees sstatus.SPP = 0 and jumps to `sis_user_trap`, which saves
//! the user registers into `Registers`, puts the trap stack top back into
//! sscratch (S-mode traps work as before) and returns from
//! `sis_user_enter` with scause and stval. The process never moves to
//! another hart while in U-mode, so restoring tp from the frame keeps the
//! CPU index right. FP registers are restored on every entry and saved only
//! when sstatus.FS says U-mode wrote them (entry sets FS = Clean).

use core::alloc::Layout;
use core::arch::{asm, global_asm};
use core::mem::{offset_of, size_of};
use core::sync::atomic::{AtomicUsize, Ordering};

use sis_abi::Errno;
use sis_syscall::limits::{USER_BASE, USER_TOP};

use super::{irq, mmu, trap};
use crate::percpu::MAX_CPUS;
use crate::sync::InterruptsMasked;

/// The satp of the process space each hart translates through, or
/// `KERNEL_TABLES` for the kernel's own root: the scheduler checks it before
/// every switch, and a load is cheaper than a CSR read (under TCG, a trip
/// through QEMU's CSR code). Written only by its hart, interrupts masked.
static ACTIVE: [AtomicUsize; MAX_CPUS] = [const { AtomicUsize::new(KERNEL_TABLES) }; MAX_CPUS];
const KERNEL_TABLES: usize = 0;
use crate::arch::{UserExit, UserFault};

const PAGE_BYTES: usize = 4096;

/// One 4 KiB translation table.
#[repr(C, align(4096))]
struct Table([u64; mmu::ENTRIES]);

const TABLE_LAYOUT: Layout = match Layout::from_size_align(PAGE_BYTES, PAGE_BYTES) {
    Ok(layout) => layout,
    Err(_) => panic!("4 KiB is a valid layout"),
};

/// A zeroed table frame from the heap (identity-mapped: address =
/// physical), or ENOMEM.
fn new_table() -> Result<usize, Errno> {
    // SAFETY: TABLE_LAYOUT has a non-zero size.
    let frame = crate::heap::fallible(|| unsafe { alloc::alloc::alloc_zeroed(TABLE_LAYOUT) });
    if frame.is_null() {
        Err(Errno::ENOMEM)
    } else {
        Ok(frame as usize)
    }
}

/// # Safety
/// `frame` came from `new_table` and nothing refers to it any more.
unsafe fn free_table(frame: usize) {
    // SAFETY: per the contract, with the layout it was allocated with.
    unsafe { alloc::alloc::dealloc(frame as *mut u8, TABLE_LAYOUT) }
}

/// The table at physical `address` (a frame from `new_table`).
///
/// # Safety
/// `address` must be a live table frame that the caller may access
/// exclusively (it belongs to an `AddressSpace` borrowed mutably).
unsafe fn table_at<'a>(address: usize) -> &'a mut Table {
    // SAFETY: per the contract; identity-mapped RAM.
    unsafe { &mut *(address as *mut Table) }
}

/// One process's Sv39 tables: the root frame (its kernel entries copied
/// from the kernel root) and the user tables under its user half.
pub struct AddressSpace {
    root: usize,
}

impl AddressSpace {
    pub fn new() -> Result<AddressSpace, Errno> {
        let root = new_table()?;
        // SAFETY: a fresh frame, ours alone.
        unsafe { table_at(root) }.0 = *mmu::kernel_root_entries();
        Ok(AddressSpace { root })
    }

    /// Maps the 4 KiB page at `virt` onto `frame`, user-readable, writable
    /// and executable as asked (never both: the loader refuses W+X).
    pub fn map(&mut self, virt: u64, frame: usize, writable: bool, executable: bool) -> Result<(), Errno> {
        if !is_user_page(virt) || frame % PAGE_BYTES != 0 {
            return Err(Errno::EINVAL);
        }
        let entry = self.leaf_entry(virt, true)?.ok_or(Errno::EINVAL)?;
        if *entry & mmu::VALID != 0 {
            return Err(Errno::EINVAL);
        }
        // A (and D when writable) preset: no hart ever needs to update them.
        let mut flags = mmu::VALID | mmu::READ | mmu::USER | mmu::ACCESSED;
        if writable {
            flags |= mmu::WRITE | mmu::DIRTY;
        }
        if executable {
            flags |= mmu::EXECUTE;
        }
        *entry = mmu::leaf(frame, flags);
        // The privileged spec lets a hart cache the invalid entry that was
        // there (4.2.1): fence it if this hart runs the space.
        self.flush_page_if_active(virt);
        Ok(())
    }

    /// Removes the page at `virt`; returns its frame.
    pub fn unmap(&mut self, virt: u64) -> Option<usize> {
        if !is_user_page(virt) {
            return None;
        }
        let entry = self.leaf_entry(virt, false).ok()??;
        if *entry & mmu::VALID == 0 {
            return None;
        }
        let frame = mmu::entry_address(*entry);
        *entry = 0;
        self.flush_page_if_active(virt);
        Some(frame)
    }

    /// The level-0 entry for `virt` (a user page address), making the
    /// tables on the way when `create`. Ok(None): no table there (or the
    /// slot is the kernel's).
    fn leaf_entry(&mut self, virt: u64, create: bool) -> Result<Option<&mut u64>, Errno> {
        let root_index = (virt >> mmu::GIB_SHIFT) as usize % mmu::ENTRIES;
        if mmu::kernel_root_entries()[root_index] != 0 {
            return Ok(None);
        }
        let mut table = self.root;
        for shift in [mmu::GIB_SHIFT, mmu::MIB2_SHIFT] {
            let index = (virt >> shift) as usize % mmu::ENTRIES;
            // SAFETY: `table` is this space's root or one of its user
            // tables, and `&mut self` makes the access exclusive.
            let entry = &mut unsafe { table_at(table) }.0[index];
            if *entry & mmu::VALID == 0 {
                if !create {
                    return Ok(None);
                }
                *entry = mmu::table_entry(new_table()?);
            }
            table = mmu::entry_address(*entry);
        }
        let index = (virt >> mmu::PAGE_SHIFT) as usize % mmu::ENTRIES;
        // SAFETY: as above, for the level-0 table.
        Ok(Some(&mut unsafe { table_at(table) }.0[index]))
    }

    fn satp(&self) -> usize {
        mmu::satp_for(self.root)
    }

    /// Whether this hart translates through this space now (interrupts
    /// masked, so the answer stays true for the caller).
    fn is_active_here(&self, _masked: &InterruptsMasked) -> bool {
        ACTIVE[irq::cpu_index()].load(Ordering::Relaxed) == self.satp()
    }

    fn flush_page_if_active(&self, virt: u64) {
        let masked = InterruptsMasked::new();
        if self.is_active_here(&masked) {
            // SAFETY: drops this hart's cached translation of one page;
            // orders the table write before the next walk.
            unsafe { asm!("sfence.vma {}, zero", in(reg) virt, options(nostack)) };
        }
    }

    /// Makes this hart translate through this space (no-op when it does).
    fn activate(&self, _masked: &InterruptsMasked) {
        let cpu = irq::cpu_index();
        let satp = self.satp();
        if ACTIVE[cpu].load(Ordering::Relaxed) != satp {
            // SAFETY: the kernel half maps exactly what the kernel root
            // does, so the running code and its stack stay mapped. The
            // fence drops this hart's non-global (user) translations of
            // whichever space ran here before, and orders earlier table
            // writes before the walks that follow; rs2 = a zero register
            // (ASID 0) keeps the kernel's global entries.
            unsafe {
                asm!(
                    "csrw satp, {satp}",
                    "sfence.vma zero, {asid}",
                    satp = in(reg) satp,
                    asid = in(reg) 0usize,
                    options(nostack),
                )
            };
            ACTIVE[cpu].store(satp, Ordering::Relaxed);
        }
    }
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        let masked = InterruptsMasked::new();
        if self.is_active_here(&masked) {
            activate_kernel_tables(&masked);
        }
        drop(masked);
        let kernel_root = mmu::kernel_root_entries();
        // SAFETY: the root is ours; no hart uses it any more (above, and
        // the contract: it is active only on the hart running its process).
        let root = unsafe { table_at(self.root) };
        for (index, &entry) in root.0.iter().enumerate() {
            if kernel_root[index] != 0 || entry & mmu::VALID == 0 {
                continue;
            }
            // Only tables hang in the user half (map makes 4 KiB leaves).
            let middle = mmu::entry_address(entry);
            // SAFETY: a user table of this space.
            for &child in unsafe { table_at(middle) }.0.iter() {
                if child & mmu::VALID != 0 {
                    // SAFETY: a level-0 table of this space, unreachable
                    // once its parent goes.
                    unsafe { free_table(mmu::entry_address(child)) };
                }
            }
            // SAFETY: as above.
            unsafe { free_table(middle) };
        }
        // SAFETY: the root, unused now.
        unsafe { free_table(self.root) };
    }
}

/// A page-aligned address inside [USER_BASE, USER_TOP).
fn is_user_page(virt: u64) -> bool {
    virt % PAGE_BYTES as u64 == 0 && (USER_BASE..USER_TOP).contains(&virt)
}

/// Makes this hart use the kernel's own tables (no-op when it does).
pub fn activate_kernel_tables(_masked: &InterruptsMasked) {
    let cpu = irq::cpu_index();
    if ACTIVE[cpu].load(Ordering::Relaxed) != KERNEL_TABLES {
        // SAFETY: the kernel root maps everything the kernel touches. No
        // fence: its entries are global and unchanged, and the process's
        // stale user translations are flushed before any process runs here
        // again (`AddressSpace::activate`).
        unsafe { asm!("csrw satp, {}", in(reg) mmu::kernel_satp(), options(nostack)) };
        ACTIVE[cpu].store(KERNEL_TABLES, Ordering::Relaxed);
    }
}

/// The whole user register file, as `sis_user_trap` saves it.
#[repr(C)]
#[derive(Debug, Clone)]
pub struct Registers {
    /// x0..x31 by number (x0 stays 0).
    x: [u64; 32],
    /// Where the program resumes (sepc).
    pc: u64,
    /// f0..f31, raw bits.
    float: [u64; 32],
    fcsr: u64,
}

/// psABI numbers of the registers the syscall convention uses.
const SP: usize = 2;
const A0: usize = 10;
const A7: usize = 17;
/// `ecall` is always 4 bytes (no compressed form).
const ECALL_BYTES: u64 = 4;

impl Registers {
    /// `_start(arg0, arg1)` at `entry` on the stack ending at `stack_top`;
    /// everything else zero.
    pub fn new(entry: u64, stack_top: u64, arg0: u64, arg1: u64) -> Registers {
        let mut registers = Registers { x: [0; 32], pc: entry, float: [0; 32], fcsr: 0 };
        registers.x[SP] = stack_top;
        registers.x[A0] = arg0;
        registers.x[A0 + 1] = arg1;
        registers
    }

    /// a7 and a0..a5.
    pub fn syscall(&self) -> (u64, [u64; 6]) {
        let mut arguments = [0; 6];
        arguments.copy_from_slice(&self.x[A0..A0 + 6]);
        (self.x[A7], arguments)
    }

    pub fn set_return(&mut self, value: u64) {
        self.x[A0] = value;
    }

    pub fn program_counter(&self) -> u64 {
        self.pc
    }

    /// ra, sp, gp, tp, t0-t6, s0-s11, a0-a7 (as trap.rs reports them), then pc.
    pub fn for_each_register(&self, visit: &mut dyn FnMut(&'static str, u64)) {
        for (name, number) in trap::REGISTER_NAMES {
            visit(name, self.x[number]);
        }
        visit("pc", self.pc);
    }
}

/// What `sis_user_enter` pushes on the task's kernel stack while U-mode runs.
#[repr(C)]
struct KernelFrame {
    ra: u64,
    gp: u64,
    /// The hart's CPU index (irq.rs), which U-mode may overwrite.
    tp: u64,
    saved: [u64; 12],
    saved_float: [u64; 12],
    fcsr: u64,
    /// sscratch in S-mode: the hart's trap stack top (trap.rs).
    trap_stack_top: u64,
    registers: u64,
}

const KERNEL_FRAME_BYTES: usize = size_of::<KernelFrame>();
const _: () = assert!(KERNEL_FRAME_BYTES % 16 == 0, "the psABI wants sp 16-byte aligned");

/// sstatus fields set for U-mode (privileged spec 4.1.1): SPP = 0 (sret
/// goes to U-mode), SPIE = 1 (interrupts on there), FS = Clean (so a trap
/// shows whether U-mode wrote FP state: FS = Dirty).
const SSTATUS_SPIE: u64 = 1 << 5;
const SSTATUS_FS_MASK: u64 = 3 << 13;
const SSTATUS_FS_CLEAN: u64 = 2 << 13;
const SSTATUS_FS_SHIFT: u32 = 13;
const FS_DIRTY: u64 = 3;

// sis_user_enter(registers: *mut Registers) -> Trap: saves the kernel's
// callee-saved state in a KernelFrame, loads the user registers and srets.
// sis_user_trap (from trap.rs's vector, sp = that frame, user t0 at
// -8(sp), user sp in sscratch) saves the user registers, restores the
// kernel's and returns from sis_user_enter.
global_asm!(
    ".section .text",
    ".balign 4",
    ".globl sis_user_enter",
    "sis_user_enter:",
    "addi sp, sp, -{kernel_frame}",
    "sd ra, {k_ra}(sp)",
    "sd gp, {k_gp}(sp)",
    "sd tp, {k_tp}(sp)",
    "sd s0, {k_saved}+0(sp)",
    "sd s1, {k_saved}+8(sp)",
    "sd s2, {k_saved}+16(sp)",
    "sd s3, {k_saved}+24(sp)",
    "sd s4, {k_saved}+32(sp)",
    "sd s5, {k_saved}+40(sp)",
    "sd s6, {k_saved}+48(sp)",
    "sd s7, {k_saved}+56(sp)",
    "sd s8, {k_saved}+64(sp)",
    "sd s9, {k_saved}+72(sp)",
    "sd s10, {k_saved}+80(sp)",
    "sd s11, {k_saved}+88(sp)",
    ".option push",
    ".option arch, +d",
    "fsd fs0, {k_saved_float}+0(sp)",
    "fsd fs1, {k_saved_float}+8(sp)",
    "fsd fs2, {k_saved_float}+16(sp)",
    "fsd fs3, {k_saved_float}+24(sp)",
    "fsd fs4, {k_saved_float}+32(sp)",
    "fsd fs5, {k_saved_float}+40(sp)",
    "fsd fs6, {k_saved_float}+48(sp)",
    "fsd fs7, {k_saved_float}+56(sp)",
    "fsd fs8, {k_saved_float}+64(sp)",
    "fsd fs9, {k_saved_float}+72(sp)",
    "fsd fs10, {k_saved_float}+80(sp)",
    "fsd fs11, {k_saved_float}+88(sp)",
    "frcsr t0",
    "sd t0, {k_fcsr}(sp)",
    "csrr t0, sscratch",
    "sd t0, {k_trap_stack_top}(sp)",
    "sd a0, {k_registers}(sp)",
    "fld f0, {r_float}+0(a0)",
    "fld f1, {r_float}+8(a0)",
    "fld f2, {r_float}+16(a0)",
    "fld f3, {r_float}+24(a0)",
    "fld f4, {r_float}+32(a0)",
    "fld f5, {r_float}+40(a0)",
    "fld f6, {r_float}+48(a0)",
    "fld f7, {r_float}+56(a0)",
    "fld f8, {r_float}+64(a0)",
    "fld f9, {r_float}+72(a0)",
    "fld f10, {r_float}+80(a0)",
    "fld f11, {r_float}+88(a0)",
    "fld f12, {r_float}+96(a0)",
    "fld f13, {r_float}+104(a0)",
    "fld f14, {r_float}+112(a0)",
    "fld f15, {r_float}+120(a0)",
    "fld f16, {r_float}+128(a0)",
    "fld f17, {r_float}+136(a0)",
    "fld f18, {r_float}+144(a0)",
    "fld f19, {r_float}+152(a0)",
    "fld f20, {r_float}+160(a0)",
    "fld f21, {r_float}+168(a0)",
    "fld f22, {r_float}+176(a0)",
    "fld f23, {r_float}+184(a0)",
    "fld f24, {r_float}+192(a0)",
    "fld f25, {r_float}+200(a0)",
    "fld f26, {r_float}+208(a0)",
    "fld f27, {r_float}+216(a0)",
    "fld f28, {r_float}+224(a0)",
    "fld f29, {r_float}+232(a0)",
    "fld f30, {r_float}+240(a0)",
    "fld f31, {r_float}+248(a0)",
    "ld t0, {r_fcsr}(a0)",
    "fscsr t0",
    ".option pop",
    "ld t0, {r_pc}(a0)",
    "csrw sepc, t0",
    "csrr t0, sstatus",
    "li t1, {sstatus_clear}",
    "not t1, t1",
    "and t0, t0, t1",
    "li t1, {sstatus_set}",
    "or t0, t0, t1",
    "csrw sstatus, t0",
    // From here a trap from U-mode lands on this frame. Interrupts stay
    // masked (SIE = 0) until sret copies SPIE into SIE.
    "csrw sscratch, sp",
    "ld x1, 8(a0)",
    "ld x2, 16(a0)",
    "ld x3, 24(a0)",
    "ld x4, 32(a0)",
    "ld x5, 40(a0)",
    "ld x6, 48(a0)",
    "ld x7, 56(a0)",
    "ld x8, 64(a0)",
    "ld x9, 72(a0)",
    "ld x11, 88(a0)",
    "ld x12, 96(a0)",
    "ld x13, 104(a0)",
    "ld x14, 112(a0)",
    "ld x15, 120(a0)",
    "ld x16, 128(a0)",
    "ld x17, 136(a0)",
    "ld x18, 144(a0)",
    "ld x19, 152(a0)",
    "ld x20, 160(a0)",
    "ld x21, 168(a0)",
    "ld x22, 176(a0)",
    "ld x23, 184(a0)",
    "ld x24, 192(a0)",
    "ld x25, 200(a0)",
    "ld x26, 208(a0)",
    "ld x27, 216(a0)",
    "ld x28, 224(a0)",
    "ld x29, 232(a0)",
    "ld x30, 240(a0)",
    "ld x31, 248(a0)",
    "ld x10, 80(a0)",
    "sret",
    "",
    ".balign 4",
    ".globl sis_user_trap",
    "sis_user_trap:",
    "ld t0, {k_registers}(sp)",
    "sd x1, 8(t0)",
    "sd x3, 24(t0)",
    "sd x4, 32(t0)",
    "sd x6, 48(t0)",
    "sd x7, 56(t0)",
    "sd x8, 64(t0)",
    "sd x9, 72(t0)",
    "sd x10, 80(t0)",
    "sd x11, 88(t0)",
    "sd x12, 96(t0)",
    "sd x13, 104(t0)",
    "sd x14, 112(t0)",
    "sd x15, 120(t0)",
    "sd x16, 128(t0)",
    "sd x17, 136(t0)",
    "sd x18, 144(t0)",
    "sd x19, 152(t0)",
    "sd x20, 160(t0)",
    "sd x21, 168(t0)",
    "sd x22, 176(t0)",
    "sd x23, 184(t0)",
    "sd x24, 192(t0)",
    "sd x25, 200(t0)",
    "sd x26, 208(t0)",
    "sd x27, 216(t0)",
    "sd x28, 224(t0)",
    "sd x29, 232(t0)",
    "sd x30, 240(t0)",
    "sd x31, 248(t0)",
    "ld t1, -8(sp)",
    "sd t1, 40(t0)",
    "csrr t1, sscratch",
    "sd t1, 16(t0)",
    "csrr t1, sepc",
    "sd t1, {r_pc}(t0)",
    ".option push",
    ".option arch, +d",
    // fcsr always (its flags may change without FS turning Dirty on some
    // harts); f0-f31 only if U-mode wrote them.
    "frcsr t1",
    "sd t1, {r_fcsr}(t0)",
    "csrr t1, sstatus",
    "srli t1, t1, {fs_shift}",
    "andi t1, t1, 3",
    "li t2, {fs_dirty}",
    "bne t1, t2, 1f",
    "fsd f0, {r_float}+0(t0)",
    "fsd f1, {r_float}+8(t0)",
    "fsd f2, {r_float}+16(t0)",
    "fsd f3, {r_float}+24(t0)",
    "fsd f4, {r_float}+32(t0)",
    "fsd f5, {r_float}+40(t0)",
    "fsd f6, {r_float}+48(t0)",
    "fsd f7, {r_float}+56(t0)",
    "fsd f8, {r_float}+64(t0)",
    "fsd f9, {r_float}+72(t0)",
    "fsd f10, {r_float}+80(t0)",
    "fsd f11, {r_float}+88(t0)",
    "fsd f12, {r_float}+96(t0)",
    "fsd f13, {r_float}+104(t0)",
    "fsd f14, {r_float}+112(t0)",
    "fsd f15, {r_float}+120(t0)",
    "fsd f16, {r_float}+128(t0)",
    "fsd f17, {r_float}+136(t0)",
    "fsd f18, {r_float}+144(t0)",
    "fsd f19, {r_float}+152(t0)",
    "fsd f20, {r_float}+160(t0)",
    "fsd f21, {r_float}+168(t0)",
    "fsd f22, {r_float}+176(t0)",
    "fsd f23, {r_float}+184(t0)",
    "fsd f24, {r_float}+192(t0)",
    "fsd f25, {r_float}+200(t0)",
    "fsd f26, {r_float}+208(t0)",
    "fsd f27, {r_float}+216(t0)",
    "fsd f28, {r_float}+224(t0)",
    "fsd f29, {r_float}+232(t0)",
    "fsd f30, {r_float}+240(t0)",
    "fsd f31, {r_float}+248(t0)",
    "1:",
    "fld fs0, {k_saved_float}+0(sp)",
    "fld fs1, {k_saved_float}+8(sp)",
    "fld fs2, {k_saved_float}+16(sp)",
    "fld fs3, {k_saved_float}+24(sp)",
    "fld fs4, {k_saved_float}+32(sp)",
    "fld fs5, {k_saved_float}+40(sp)",
    "fld fs6, {k_saved_float}+48(sp)",
    "fld fs7, {k_saved_float}+56(sp)",
    "fld fs8, {k_saved_float}+64(sp)",
    "fld fs9, {k_saved_float}+72(sp)",
    "fld fs10, {k_saved_float}+80(sp)",
    "fld fs11, {k_saved_float}+88(sp)",
    "ld t1, {k_fcsr}(sp)",
    "fscsr t1",
    ".option pop",
    "ld t1, {k_trap_stack_top}(sp)",
    "csrw sscratch, t1",
    "ld ra, {k_ra}(sp)",
    "ld gp, {k_gp}(sp)",
    "ld tp, {k_tp}(sp)",
    "ld s0, {k_saved}+0(sp)",
    "ld s1, {k_saved}+8(sp)",
    "ld s2, {k_saved}+16(sp)",
    "ld s3, {k_saved}+24(sp)",
    "ld s4, {k_saved}+32(sp)",
    "ld s5, {k_saved}+40(sp)",
    "ld s6, {k_saved}+48(sp)",
    "ld s7, {k_saved}+56(sp)",
    "ld s8, {k_saved}+64(sp)",
    "ld s9, {k_saved}+72(sp)",
    "ld s10, {k_saved}+80(sp)",
    "ld s11, {k_saved}+88(sp)",
    "csrr a0, scause",
    "csrr a1, stval",
    "addi sp, sp, {kernel_frame}",
    "ret",
    kernel_frame = const KERNEL_FRAME_BYTES,
    k_ra = const offset_of!(KernelFrame, ra),
    k_gp = const offset_of!(KernelFrame, gp),
    k_tp = const offset_of!(KernelFrame, tp),
    k_saved = const offset_of!(KernelFrame, saved),
    k_saved_float = const offset_of!(KernelFrame, saved_float),
    k_fcsr = const offset_of!(KernelFrame, fcsr),
    k_trap_stack_top = const offset_of!(KernelFrame, trap_stack_top),
    k_registers = const offset_of!(KernelFrame, registers),
    r_pc = const offset_of!(Registers, pc),
    r_float = const offset_of!(Registers, float),
    r_fcsr = const offset_of!(Registers, fcsr),
    sstatus_clear = const trap::SSTATUS_SPP | SSTATUS_FS_MASK,
    sstatus_set = const SSTATUS_SPIE | SSTATUS_FS_CLEAN,
    fs_shift = const SSTATUS_FS_SHIFT,
    fs_dirty = const FS_DIRTY,
);

// The asm saves x registers at 8 * number: Registers must start with them.
const _: () = assert!(offset_of!(Registers, x) == 0);

/// How U-mode trapped: scause and stval, returned in a0 and a1.
#[repr(C)]
#[derive(Clone, Copy)]
struct Trap {
    scause: u64,
    stval: u64,
}

extern "C" {
    fn sis_user_enter(registers: *mut Registers) -> Trap;
}

/// Runs the program in `space` from `registers` until its next trap.
pub fn run(registers: &mut Registers, space: &AddressSpace) -> UserExit {
    // Masked before the satp switch: a task switch in between would put the
    // kernel tables back under us.
    let masked = InterruptsMasked::new();
    space.activate(&masked);
    // SAFETY: interrupts are masked and `space` is active, so the frame
    // sis_user_enter pushes stays on this task's stack and hart until the
    // trap; `registers` is a live, exclusive Registers. U-mode reaches only
    // the pages mapped with U = 1, and the trap restores every callee-saved
    // register before returning here.
    let trap = unsafe { sis_user_enter(registers) };
    let exit = exit_for(trap, registers);
    if exit == UserExit::Interrupt {
        // As the kernel-mode path does: acknowledge, then the scheduler
        // (which may run other tasks before this returns).
        irq::dispatch(trap.scause);
    }
    drop(masked);
    exit
}

// scause exception codes (privileged spec v1.12, table 4.2).
const INSTRUCTION_MISALIGNED: u64 = 0;
const INSTRUCTION_ACCESS_FAULT: u64 = 1;
const ILLEGAL_INSTRUCTION: u64 = 2;
const BREAKPOINT: u64 = 3;
const LOAD_MISALIGNED: u64 = 4;
const LOAD_ACCESS_FAULT: u64 = 5;
const STORE_MISALIGNED: u64 = 6;
const STORE_ACCESS_FAULT: u64 = 7;
const ECALL_FROM_U: u64 = 8;
const INSTRUCTION_PAGE_FAULT: u64 = 12;
const LOAD_PAGE_FAULT: u64 = 13;
const STORE_PAGE_FAULT: u64 = 15;

fn exit_for(trap: Trap, registers: &mut Registers) -> UserExit {
    if trap.scause & trap::SCAUSE_INTERRUPT != 0 {
        return UserExit::Interrupt;
    }
    let address = trap.stval;
    let fault = match trap.scause {
        ECALL_FROM_U => {
            registers.pc += ECALL_BYTES;
            return UserExit::Syscall;
        }
        // Access faults are PMP refusals of a mapped page's frame: to the
        // process, a page it may not touch.
        INSTRUCTION_PAGE_FAULT | LOAD_PAGE_FAULT | STORE_PAGE_FAULT | INSTRUCTION_ACCESS_FAULT
        | LOAD_ACCESS_FAULT | STORE_ACCESS_FAULT => UserFault::PageFault { address },
        // stval holds the instruction bits (or 0), not an address.
        ILLEGAL_INSTRUCTION => UserFault::IllegalInstruction { address: registers.pc },
        INSTRUCTION_MISALIGNED | LOAD_MISALIGNED | STORE_MISALIGNED => UserFault::Misaligned { address },
        BREAKPOINT => UserFault::Breakpoint { address: registers.pc },
        code => UserFault::Other { code, address: registers.pc },
    };
    UserExit::Fault(fault)
}
