//! Memory protection on top of the boot identity map (boot.rs): W^X, the
//! guard pages under the task stacks, and NX everywhere but kernel text.
//!
//! Applied once by the boot CPU before the secondaries start (they load the
//! same PML4, with EFER.NXE set by their trampoline), so no other CPU holds
//! stale translations. Entry bits: Intel SDM Vol. 3A, 4.5 (tables 4-15 to
//! 4-20): present (0), writable (1), page size (7), execute-disable (63, with
//! EFER.NXE). CR0.WP (set at boot) makes read-only pages binding in ring 0.

use core::ptr::addr_of_mut;

use super::cpu::rdmsr;

const PRESENT: u64 = 1 << 0;
const WRITABLE: u64 = 1 << 1;
const EXECUTE_DISABLE: u64 = 1 << 63;
const PAGE_BYTES: usize = 4096;
const TWO_MIB: usize = 2 << 20;
const MSR_EFER: u32 = 0xC000_0080;
const EFER_NXE: u64 = 1 << 11;

#[repr(C, align(4096))]
struct Table([u64; 512]);

/// 4 KiB page tables for the task stack area (4 MiB: two 2 MiB blocks).
static mut TASK_STACK_TABLES: [Table; 2] = [const { Table([0; 512]) }; 2];

extern "C" {
    static boot_pml4: [u64; 512];
    static mut boot_pd: [u64; 2048];
    static mut boot_pt: [u64; 512];
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

/// Physical (= identity) address of the kernel's own PML4 (boot.rs): what
/// CR3 holds outside user processes, and the kernel half every process's
/// tables copy (user.rs).
pub fn kernel_pml4() -> usize {
    core::ptr::addr_of!(boot_pml4) as usize
}

pub fn is_kernel_text(address: usize) -> bool {
    (core::ptr::addr_of!(__text_start) as usize..core::ptr::addr_of!(__text_end) as usize).contains(&address)
}

/// Turns on NX, then rewrites the boot tables: the first 2 MiB (the image)
/// per page by section, every 2 MiB page non-executable, the task stack
/// area in 4 KiB pages without its guard pages. Reloads CR3 to flush.
///
/// # Safety
///
/// Boot CPU only, once, before any secondary starts.
pub unsafe fn protect() {
    // SAFETY: EFER exists on every x86_64 CPU; NXE only gives bit 63 its meaning.
    unsafe {
        let efer = rdmsr(MSR_EFER) | EFER_NXE;
        core::arch::asm!("wrmsr", in("ecx") MSR_EFER, in("eax") efer as u32, in("edx") (efer >> 32) as u32, options(nostack, preserves_flags));
    }
    let text = core::ptr::addr_of!(__text_start) as usize..core::ptr::addr_of!(__text_end) as usize;
    let rodata = core::ptr::addr_of!(__rodata_start) as usize..core::ptr::addr_of!(__rodata_end) as usize;
    let (stacks_start, stacks_end) = task_stack_area();
    // SAFETY: boot-only exclusive access (contract); the boot tables are the
    // live ones, so every change keeps what the running code needs: text
    // stays executable, data and stacks writable.
    unsafe {
        let pt = &mut *addr_of_mut!(boot_pt);
        for (index, entry) in pt.iter_mut().enumerate() {
            if *entry & PRESENT == 0 {
                continue; // page 0, the boot stack guard
            }
            let address = index * PAGE_BYTES;
            if address == super::smp::TRAMPOLINE_PADDR {
                // The secondaries' real-mode entry runs from here and the
                // boot CPU copies it in first: writable and executable until
                // `retire_trampoline` unmaps it.
                continue;
            }
            if text.contains(&address) {
                *entry &= !WRITABLE;
            } else if rodata.contains(&address) {
                *entry = (*entry & !WRITABLE) | EXECUTE_DISABLE;
            } else {
                *entry |= EXECUTE_DISABLE;
            }
        }
        let pd = &mut *addr_of_mut!(boot_pd);
        // Entry 0 points at boot_pt, which holds the text: no NX above it.
        for entry in pd.iter_mut().skip(1) {
            *entry |= EXECUTE_DISABLE;
        }
        let tables = &mut *addr_of_mut!(TASK_STACK_TABLES);
        for (block, table) in (stacks_start..stacks_end).step_by(TWO_MIB).zip(tables.iter_mut()) {
            for (index, entry) in table.0.iter_mut().enumerate() {
                *entry = (block + index * PAGE_BYTES) as u64 | PRESENT | WRITABLE | EXECUTE_DISABLE;
            }
            for guard in crate::stacks::guard_pages(stacks_start).filter(|&guard| guard / TWO_MIB == block / TWO_MIB) {
                table.0[(guard % TWO_MIB) / PAGE_BYTES] = 0;
            }
            pd[block / TWO_MIB] = table as *mut Table as u64 | PRESENT | WRITABLE | EXECUTE_DISABLE;
        }
        core::arch::asm!("mov {tmp}, cr3", "mov cr3, {tmp}", tmp = out(reg) _, options(nostack, preserves_flags));
    }
}

/// Unmaps the secondaries' trampoline page once they all left it, so no
/// page stays both writable and executable.
pub fn retire_trampoline() {
    let address = super::smp::TRAMPOLINE_PADDR;
    // SAFETY: boot CPU, after the secondaries checked in (they run kernel
    // text by then); `invlpg` drops this CPU's translation, and the others
    // never touch the page again.
    unsafe {
        (*addr_of_mut!(boot_pt))[address / PAGE_BYTES] = 0;
        core::arch::asm!("invlpg [{}]", in(reg) address, options(nostack, preserves_flags));
    }
}
