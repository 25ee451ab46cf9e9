//! User mode in ring 3: per-process page tables, the `syscall` entry, the
//! ring-3 trap exit and `run`, the vCPU-style enter/exit of arch/mod.rs.
//!
//! - Boot (`init_this_cpu`, every CPU): EFER.SCE, STAR (kernel CS 0x08,
//!   SYSRET base 0x28: descriptors.rs), LSTAR = `sis_x86_64_syscall_entry`,
//!   FMASK (IF, TF, DF, NT, IOPL, AC cleared on entry); CR4.SMEP and
//!   CR4.SMAP when the CPU has them (the kernel never executes nor touches
//!   a user page: it copies through the identity map), CR4.UMIP likewise
//!   (no `sgdt`/`sidt` leaking kernel addresses to programs); CR0.EM, so
//!   x87/MMX/SSE in user mode fault and no process ever has FPU state to save.
//! - `run` pushes the callee-saved registers on the task's kernel stack and
//!   records that stack pointer in the CPU block (irq.rs, through GS) and in
//!   TSS.RSP0, then enters ring 3 with `sysretq` when rcx and r11 hold rip
//!   and rflags (after a syscall, or at the start), else with `iretq`, which
//!   restores every register (after an interrupt).
//! - `syscall` lands in `sis_x86_64_syscall_entry` with interrupts off
//!   (FMASK): `swapgs`, the user registers into the `Registers` the CPU block
//!   names, back to the saved kernel stack, return from the enter call.
//! - Exceptions and interrupts from ring 3 arrive through trap.rs's common
//!   stub on TSS.RSP0 (that same saved stack): `user_trap_dispatch` saves
//!   the frame into `Registers`, handles an interrupt as the kernel path
//!   does (EOI, scheduler; may switch tasks), and trap.rs returns from the
//!   enter call through the stack under the frame.
//!
//! Page tables (Intel SDM Vol. 3A, 4.5): user space [4 KiB, 256 GiB) lies
//! under PML4 entry 0, which the kernel's identity map (low 4 GiB, PDPT
//! entries 0-3) uses too, so each process has its own PML4 and its own
//! PDPT whose kernel entries copy the kernel's (same page directories, U=0:
//! unreachable from ring 3) and whose other entries lead to its own tables
//! with U=1. Leaves are NX unless executable; CR0.WP makes read-only binding.
//!
//! No PCID: CR3 changes only when a CPU switches between a process and
//! another task, never on the syscall round trip, and QEMU's TCG flushes its
//! whole soft TLB on every CR3 write, PCID or not; tagging would add
//! INVPCID bookkeeping on every unmap and drop for no gain here.

use core::alloc::Layout;
use core::arch::asm;
use core::mem::offset_of;

use sis_abi::Errno;
use sis_syscall::limits::{USER_BASE, USER_TOP};

use super::cpu::{rdmsr, wrmsr};
use super::descriptors::{SYSRET_SELECTOR_BASE, USER_CODE_SELECTOR, USER_DATA_SELECTOR};
use super::irq::{self, CPU_BLOCK_KERNEL_STACK, CPU_BLOCK_RSP0_SLOT, CPU_BLOCK_SCRATCH, CPU_BLOCK_USER_REGISTERS};
use super::paging::kernel_pml4;
use super::trap::{self, TrapFrame};
use crate::arch::{UserExit, UserFault};
use crate::sync::InterruptsMasked;

const PAGE_BYTES: usize = 4096;

// Page-table entry bits (SDM Vol. 3A, tables 4-15 to 4-20).
const PRESENT: u64 = 1 << 0;
const WRITABLE: u64 = 1 << 1;
const USER: u64 = 1 << 2;
const HUGE: u64 = 1 << 7;
const EXECUTE_DISABLE: u64 = 1 << 63;
const ADDRESS_MASK: u64 = 0x000f_ffff_ffff_f000;

// MSRs (SDM Vol. 4, Table 2-2) and their bits.
const MSR_EFER: u32 = 0xC000_0080;
const MSR_STAR: u32 = 0xC000_0081;
const MSR_LSTAR: u32 = 0xC000_0082;
const MSR_FMASK: u32 = 0xC000_0084;
const EFER_SCE: u64 = 1 << 0;
const KERNEL_CODE_SELECTOR: u64 = 0x08;

// RFLAGS bits (SDM Vol. 1, 3.4.3).
const RFLAGS_RESERVED_ONE: u64 = 1 << 1;
const RFLAGS_INTERRUPT_ENABLE: u64 = 1 << 9;
/// What `syscall` clears on entry: TF, IF, DF, IOPL, NT, AC.
const SYSCALL_FLAG_MASK: u64 = 0x4_7700;
/// What a program may set itself: CF, PF, AF, ZF, SF, TF, DF, OF, AC, ID.
/// IF is always set for it, IOPL always 0, NT and the rest always clear.
const USER_RFLAGS: u64 = 0x24_0dd5;

const CR0_EMULATION: u64 = 1 << 2;
const CR0_MONITOR_COPROCESSOR: u64 = 1 << 1;
const CR4_SMEP: u64 = 1 << 20;
const CR4_SMAP: u64 = 1 << 21;
const CR4_UMIP: u64 = 1 << 11;

/// `Registers::trap_vector` after a `syscall` (no hardware vector is this high).
const SYSCALL_MARK: u64 = 0x100;
/// User rip at or above this is not canonical: `sysretq` would fault in
/// ring 0 and `iretq` in the kernel too, so `run` reports it instead.
const CANONICAL_LOWER_END: u64 = 1 << 47;

// Exception vectors (SDM Vol. 3A, Table 6-1).
const BREAKPOINT: u64 = 3;
const INVALID_OPCODE: u64 = 6;
const DEVICE_NOT_AVAILABLE: u64 = 7;
const DOUBLE_FAULT: u64 = 8;
const PAGE_FAULT: u64 = 14;
const ALIGNMENT_CHECK: u64 = 17;
const NON_MASKABLE: u64 = 2;
const MACHINE_CHECK: u64 = 18;
const FIRST_INTERRUPT: u64 = 32;

/// The whole user register file (no FPU/SSE: CR0.EM keeps programs off
/// them), plus the last trap: what `run` decodes into a `UserExit`.
/// The assembly below addresses the fields by `offset_of!`.
#[derive(Debug, Clone)]
#[repr(C)]
pub struct Registers {
    rax: u64,
    rbx: u64,
    rcx: u64,
    rdx: u64,
    rsi: u64,
    rdi: u64,
    rbp: u64,
    rsp: u64,
    r8: u64,
    r9: u64,
    r10: u64,
    r11: u64,
    r12: u64,
    r13: u64,
    r14: u64,
    r15: u64,
    rip: u64,
    rflags: u64,
    /// The vector of the last trap out of user mode, `SYSCALL_MARK` for a syscall.
    trap_vector: u64,
    /// Its error code (exceptions that push one).
    trap_error: u64,
    /// CR2 at the trap (the faulting address of a #PF).
    trap_address: u64,
}

impl Registers {
    /// Entry at `entry` with `arg0`, `arg1` in rdi, rsi, and the stack as
    /// after a call (System V: rsp + 8 16-byte aligned) below `stack_top`.
    /// rcx and r11 hold rip and rflags, as after a syscall, so the first
    /// entry takes the `sysretq` path too.
    pub fn new(entry: u64, stack_top: u64, arg0: u64, arg1: u64) -> Registers {
        let rflags = RFLAGS_INTERRUPT_ENABLE | RFLAGS_RESERVED_ONE;
        Registers {
            rax: 0,
            rbx: 0,
            rcx: entry,
            rdx: 0,
            rsi: arg1,
            rdi: arg0,
            rbp: 0,
            rsp: (stack_top & !15).wrapping_sub(8),
            r8: 0,
            r9: 0,
            r10: 0,
            r11: rflags,
            r12: 0,
            r13: 0,
            r14: 0,
            r15: 0,
            rip: entry,
            rflags,
            trap_vector: 0,
            trap_error: 0,
            trap_address: 0,
        }
    }

    /// Number in rax; arguments in rdi, rsi, rdx, r10, r8, r9 (r10 stands
    /// in for rcx, which `syscall` overwrites with the return address).
    pub fn syscall(&self) -> (u64, [u64; 6]) {
        (self.rax, [self.rdi, self.rsi, self.rdx, self.r10, self.r8, self.r9])
    }

    pub fn set_return(&mut self, value: u64) {
        self.rax = value;
    }

    pub fn program_counter(&self) -> u64 {
        self.rip
    }

    pub fn for_each_register(&self, visit: &mut dyn FnMut(&'static str, u64)) {
        let registers: [(&'static str, u64); 18] = [
            ("rax", self.rax),
            ("rbx", self.rbx),
            ("rcx", self.rcx),
            ("rdx", self.rdx),
            ("rsi", self.rsi),
            ("rdi", self.rdi),
            ("rbp", self.rbp),
            ("rsp", self.rsp),
            ("r8", self.r8),
            ("r9", self.r9),
            ("r10", self.r10),
            ("r11", self.r11),
            ("r12", self.r12),
            ("r13", self.r13),
            ("r14", self.r14),
            ("r15", self.r15),
            ("rip", self.rip),
            ("rflags", self.rflags),
        ];
        for (name, value) in registers {
            visit(name, value);
        }
    }

    /// Everything the CPU and trap.rs saved of a trap from ring 3.
    fn save_trap(&mut self, frame: &TrapFrame) {
        self.rax = frame.rax;
        self.rbx = frame.rbx;
        self.rcx = frame.rcx;
        self.rdx = frame.rdx;
        self.rsi = frame.rsi;
        self.rdi = frame.rdi;
        self.rbp = frame.rbp;
        self.rsp = frame.rsp;
        self.r8 = frame.r8;
        self.r9 = frame.r9;
        self.r10 = frame.r10;
        self.r11 = frame.r11;
        self.r12 = frame.r12;
        self.r13 = frame.r13;
        self.r14 = frame.r14;
        self.r15 = frame.r15;
        self.rip = frame.rip;
        self.rflags = frame.rflags;
        self.trap_vector = frame.vector;
        self.trap_error = frame.error_code;
        self.trap_address = frame.cr2;
    }

    /// Why the last `run` came back.
    fn exit(&self) -> UserExit {
        let rip = self.rip;
        let fault = match self.trap_vector {
            SYSCALL_MARK => return UserExit::Syscall,
            vector if vector >= FIRST_INTERRUPT => return UserExit::Interrupt,
            PAGE_FAULT => UserFault::PageFault { address: self.trap_address },
            // #NM: an x87/MMX instruction, which CR0.EM keeps from programs.
            INVALID_OPCODE | DEVICE_NOT_AVAILABLE => UserFault::IllegalInstruction { address: rip },
            ALIGNMENT_CHECK => UserFault::Misaligned { address: rip },
            // `int3` is a trap: rip is past its one byte.
            BREAKPOINT => UserFault::Breakpoint { address: rip.wrapping_sub(1) },
            // #GP (privileged instruction, non-canonical address, `int n`),
            // #DE, #DB and the rest, by vector.
            vector => UserFault::Other { code: vector, address: rip },
        };
        UserExit::Fault(fault)
    }
}

/// Sets up `syscall` and the protections user mode relies on, on this CPU.
/// Boot and every secondary call it after their descriptors are loaded.
pub fn init_this_cpu() {
    // SAFETY: these MSRs exist on every x86_64 CPU. STAR's selectors match
    // the GDT (descriptors.rs), LSTAR is the entry below, which runs with
    // interrupts off thanks to FMASK.
    unsafe {
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
        wrmsr(MSR_STAR, (u64::from(SYSRET_SELECTOR_BASE) << 48) | (KERNEL_CODE_SELECTOR << 32));
        wrmsr(MSR_LSTAR, syscall_entry as *const () as u64);
        wrmsr(MSR_FMASK, SYSCALL_FLAG_MASK);
    }
    // CPUID leaf 7, sub-leaf 0 (SDM Vol. 2A): EBX bit 7 SMEP, bit 20 SMAP;
    // ECX bit 2 UMIP. Leaf 7 only when leaf 0 says it exists.
    let mut protections = 0;
    if core::arch::x86_64::__cpuid(0).eax >= 7 {
        let features = core::arch::x86_64::__cpuid_count(7, 0);
        for (present, bit) in [
            (features.ebx & (1 << 7), CR4_SMEP),
            (features.ebx & (1 << 20), CR4_SMAP),
            (features.ecx & (1 << 2), CR4_UMIP),
        ] {
            if present != 0 {
                protections |= bit;
            }
        }
    }
    // SAFETY: SMEP/SMAP only forbid what the kernel never does (run or
    // touch a page with U=1; user memory is copied through the identity
    // map), UMIP only makes descriptor-table reads fault in ring 3; EM only
    // makes FPU instructions fault, and the kernel is soft-float.
    unsafe {
        let mut cr4: u64;
        asm!("mov {}, cr4", out(reg) cr4, options(nomem, nostack, preserves_flags));
        cr4 |= protections;
        asm!("mov cr4, {}", in(reg) cr4, options(nostack, preserves_flags));
        let mut cr0: u64;
        asm!("mov {}, cr0", out(reg) cr0, options(nomem, nostack, preserves_flags));
        cr0 = (cr0 | CR0_EMULATION) & !CR0_MONITOR_COPROCESSOR;
        asm!("mov cr0, {}", in(reg) cr0, options(nostack, preserves_flags));
    }
}

fn read_cr3() -> usize {
    let value: usize;
    // SAFETY: reading CR3 has no side effect.
    unsafe { asm!("mov {}, cr3", out(reg) value, options(nomem, nostack, preserves_flags)) };
    value & ADDRESS_MASK as usize
}

/// Loads `pml4` into CR3 (which drops this CPU's non-global translations).
///
/// # Safety
/// `pml4` must be a PML4 whose kernel half maps what the kernel's does.
unsafe fn write_cr3(pml4: usize) {
    // SAFETY: forwarded contract: the running code stays mapped.
    unsafe { asm!("mov cr3, {}", in(reg) pml4, options(nostack, preserves_flags)) };
}

/// Makes this CPU use the kernel's own tables (a no-op when it does).
pub fn activate_kernel_tables(_masked: &InterruptsMasked) {
    let kernel = kernel_pml4();
    if read_cr3() != kernel {
        // SAFETY: the kernel's own PML4.
        unsafe { write_cr3(kernel) };
    }
}

/// One 4 KiB page-table frame from the heap, zeroed.
fn allocate_table() -> Result<*mut [u64; 512], Errno> {
    let layout = Layout::from_size_align(PAGE_BYTES, PAGE_BYTES).map_err(|_| Errno::ENOMEM)?;
    // SAFETY: the layout is non-zero-sized.
    let table = unsafe { alloc::alloc::alloc_zeroed(layout) };
    if table.is_null() {
        return Err(Errno::ENOMEM);
    }
    Ok(table.cast())
}

/// Gives back a frame from `allocate_table`.
///
/// # Safety
/// `table` came from `allocate_table` and nothing uses it any more.
unsafe fn free_table(table: *mut [u64; 512]) {
    // SAFETY: same layout as the allocation (forwarded contract).
    unsafe { alloc::alloc::dealloc(table.cast(), Layout::from_size_align_unchecked(PAGE_BYTES, PAGE_BYTES)) };
}

fn table_at(entry: u64) -> *mut [u64; 512] {
    (entry & ADDRESS_MASK) as usize as *mut [u64; 512]
}

/// The index of `virt` in the table of `level` (3 = PML4 ... 0 = PT).
fn index(virt: u64, level: u32) -> usize {
    ((virt >> (12 + 9 * level)) & 511) as usize
}

/// One process's translation tables: its PML4 frame (see the module doc).
/// Addresses are kept as integers: the tables are reached through the
/// identity map by whichever CPU runs the process.
#[derive(Debug)]
pub struct AddressSpace {
    pml4: usize,
}

impl AddressSpace {
    /// A PML4 and a PDPT that map the kernel exactly as its own tables do
    /// (shared page directories, U=0), and no user page.
    pub fn new() -> Result<AddressSpace, Errno> {
        const { assert!(USER_TOP <= 1 << 39, "user space must fit under PML4 entry 0") };
        let pml4 = allocate_table()?;
        let pdpt = match allocate_table() {
            Ok(table) => table,
            Err(errno) => {
                // SAFETY: just allocated, never published.
                unsafe { free_table(pml4) };
                return Err(errno);
            }
        };
        // SAFETY: the kernel's PML4 and PDPT are never rewritten after boot
        // (paging.rs changes leaves and page directories only); both new
        // tables are ours alone.
        unsafe {
            let kernel = &*(kernel_pml4() as *const [u64; 512]);
            (*pml4).copy_from_slice(kernel);
            if kernel[0] & PRESENT != 0 {
                (*pdpt).copy_from_slice(&*table_at(kernel[0]));
            }
            (*pml4)[0] = pdpt as u64 | PRESENT | WRITABLE | USER;
        }
        Ok(AddressSpace { pml4: pml4 as usize })
    }

    /// Maps one user page onto `frame` (module doc for the bits).
    pub fn map(&mut self, virt: u64, frame: usize, writable: bool, executable: bool) -> Result<(), Errno> {
        let page = PAGE_BYTES as u64;
        if !virt.is_multiple_of(page) || !frame.is_multiple_of(PAGE_BYTES) || !(USER_BASE..USER_TOP).contains(&virt) {
            return Err(Errno::EINVAL);
        }
        let mut table = self.pml4 as *mut [u64; 512];
        for level in (1..=3).rev() {
            // SAFETY: `table` is one of this space's tables (the PML4, or a
            // table reached through a user entry it holds), identity-mapped.
            let entry = unsafe { &mut (*table)[index(virt, level)] };
            if *entry & PRESENT == 0 {
                let next = allocate_table()?;
                *entry = next as u64 | PRESENT | WRITABLE | USER;
            } else if *entry & USER == 0 || *entry & HUGE != 0 {
                // The kernel's identity map (low 4 GiB) owns this range.
                return Err(Errno::EINVAL);
            }
            table = table_at(*entry);
        }
        // SAFETY: a page table of this space (the walk above).
        let leaf = unsafe { &mut (*table)[index(virt, 0)] };
        if *leaf & PRESENT != 0 {
            return Err(Errno::EINVAL);
        }
        let mut bits = PRESENT | USER;
        if writable {
            bits |= WRITABLE;
        }
        if !executable {
            bits |= EXECUTE_DISABLE;
        }
        // Not-present to present needs no invalidation (SDM Vol. 3A 4.10.4.3).
        *leaf = frame as u64 | bits;
        Ok(())
    }

    /// Removes one user page and returns its frame; flushes this CPU's
    /// translation of it. Other CPUs hold none: a space is active only on
    /// the CPU running its process, and leaving it reloads CR3.
    pub fn unmap(&mut self, virt: u64) -> Option<usize> {
        if !virt.is_multiple_of(PAGE_BYTES as u64) || !(USER_BASE..USER_TOP).contains(&virt) {
            return None;
        }
        let mut table = self.pml4 as *mut [u64; 512];
        for level in (1..=3).rev() {
            // SAFETY: as in `map`.
            let entry = unsafe { (*table)[index(virt, level)] };
            if entry & PRESENT == 0 || entry & USER == 0 || entry & HUGE != 0 {
                return None;
            }
            table = table_at(entry);
        }
        // SAFETY: a page table of this space.
        let leaf = unsafe { &mut (*table)[index(virt, 0)] };
        if *leaf & PRESENT == 0 {
            return None;
        }
        let frame = (*leaf & ADDRESS_MASK) as usize;
        *leaf = 0;
        // SAFETY: invlpg only drops a translation.
        unsafe { asm!("invlpg [{}]", in(reg) virt, options(nostack, preserves_flags)) };
        Some(frame)
    }

    /// Makes this CPU use this space (a no-op when it does).
    fn activate(&self) {
        if read_cr3() != self.pml4 {
            // SAFETY: `new` copied the kernel half.
            unsafe { write_cr3(self.pml4) };
        }
    }
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        // Interrupts off: no migration between the check and the switch.
        let masked = InterruptsMasked::new();
        if read_cr3() == self.pml4 {
            activate_kernel_tables(&masked);
        }
        drop(masked);
        let pml4 = self.pml4 as *mut [u64; 512];
        // SAFETY: no CPU uses these tables any more (this one switched away
        // above; the scheduler switched the others before they left the
        // process). Only entries with U=1 lead to this space's own tables;
        // the kernel's (U=0) are shared and stay.
        unsafe {
            let pdpt = table_at((*pml4)[0]);
            for &pdpt_entry in (*pdpt).iter().filter(|&&entry| entry & (PRESENT | USER) == PRESENT | USER) {
                let directory = table_at(pdpt_entry);
                for &directory_entry in (*directory).iter().filter(|&&entry| entry & PRESENT != 0) {
                    free_table(table_at(directory_entry));
                }
                free_table(directory);
            }
            free_table(pdpt);
            free_table(pml4);
        }
    }
}

/// Runs the process in ring 3 until its next trap (arch/mod.rs contract).
pub fn run(registers: &mut Registers, space: &AddressSpace) -> UserExit {
    if registers.rip >= CANONICAL_LOWER_END {
        // The CPU would refuse it in ring 0 (sysretq or iretq #GP).
        return UserExit::Fault(UserFault::Other { code: 13, address: registers.rip });
    }
    // Off until the trap brings us back: from here on the CPU block, TSS.RSP0
    // and CR3 belong to this task, and no switch may take them away.
    let were_enabled = irq::interrupts_disable();
    space.activate();
    let sysret = registers.rcx == registers.rip && registers.r11 == registers.rflags;
    let rflags = (registers.rflags & USER_RFLAGS) | RFLAGS_INTERRUPT_ENABLE | RFLAGS_RESERVED_ONE;
    registers.rflags = rflags;
    if sysret {
        registers.r11 = rflags;
    }
    // SAFETY: `registers` outlives the call (the trap paths write it before
    // the call returns); the space maps the kernel, so the entry and exit
    // code and this stack stay mapped; interrupts are off as the enter path
    // needs.
    unsafe { enter_user(registers, u64::from(sysret)) };
    let exit = registers.exit();
    irq::interrupts_restore(were_enabled);
    exit
}

/// A trap from ring 3, from trap.rs's common stub: saves it into the
/// `Registers` of the process this CPU ran, then handles an interrupt as
/// the kernel path does (which may switch tasks). Exceptions return as they
/// are: `run` turns them into `UserExit::Fault`. An NMI, double fault or
/// machine check is the machine's problem, not the program's: fatal.
pub(super) extern "C" fn user_trap_dispatch(frame: &TrapFrame) {
    let registers: *mut Registers;
    // SAFETY: gs:[CPU_BLOCK_USER_REGISTERS] was set by `enter_user` on this
    // CPU (trap.rs swapped GS back first), and that `Registers` lives until
    // the enter call returns, which is after this function.
    unsafe {
        asm!("mov {}, gs:[{offset}]", out(reg) registers, offset = const CPU_BLOCK_USER_REGISTERS, options(readonly, nostack, preserves_flags));
        (*registers).save_trap(frame);
    }
    match frame.vector {
        NON_MASKABLE | DOUBLE_FAULT | MACHINE_CHECK => trap::fatal(frame),
        vector if vector >= FIRST_INTERRUPT => {
            if !trap::handle_interrupt(vector) {
                trap::fatal(frame)
            }
        }
        _ => {}
    }
}

extern "C" {
    #[link_name = "sis_x86_64_enter_user"]
    fn enter_user(registers: *mut Registers, sysret: u64);
    #[link_name = "sis_x86_64_syscall_entry"]
    fn syscall_entry();
}

// enter_user(registers: rdi, sysret: rsi). The kernel stack after the six
// callee-saved pushes and 8 bytes of padding is 16-byte aligned (entry had
// rsp = 8 mod 16), so as TSS.RSP0 the CPU pushes a trap frame right below it
// without realigning, and trap.rs finds this stack 192 bytes above its frame.
// rdi is loaded last: it addresses `Registers` until then.
core::arch::global_asm!(
    ".pushsection .text.user, \"ax\"",
    ".globl sis_x86_64_enter_user",
    "sis_x86_64_enter_user:",
    "push rbx",
    "push rbp",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "sub rsp, 8",
    "mov gs:[{kernel_stack}], rsp",
    "mov gs:[{user_registers}], rdi",
    "mov rax, gs:[{rsp0_slot}]",
    "mov [rax], rsp",
    "test rsi, rsi",
    "jz 2f",
    // sysretq: rip from rcx, rflags from r11; CS and SS from STAR.
    "mov rcx, [rdi + {rip}]",
    "mov r11, [rdi + {rflags}]",
    "mov rax, [rdi + {rax}]",
    "mov rbx, [rdi + {rbx}]",
    "mov rdx, [rdi + {rdx}]",
    "mov rsi, [rdi + {rsi}]",
    "mov rbp, [rdi + {rbp}]",
    "mov r8, [rdi + {r8}]",
    "mov r9, [rdi + {r9}]",
    "mov r10, [rdi + {r10}]",
    "mov r12, [rdi + {r12}]",
    "mov r13, [rdi + {r13}]",
    "mov r14, [rdi + {r14}]",
    "mov r15, [rdi + {r15}]",
    "mov rsp, [rdi + {rsp}]",
    "mov rdi, [rdi + {rdi}]",
    "swapgs",
    "sysretq",
    // iretq: every register, from a ring-3 frame built here.
    "2:",
    "push {user_data}",
    "push qword ptr [rdi + {rsp}]",
    "push qword ptr [rdi + {rflags}]",
    "push {user_code}",
    "push qword ptr [rdi + {rip}]",
    "mov rax, [rdi + {rax}]",
    "mov rbx, [rdi + {rbx}]",
    "mov rcx, [rdi + {rcx}]",
    "mov rdx, [rdi + {rdx}]",
    "mov rsi, [rdi + {rsi}]",
    "mov rbp, [rdi + {rbp}]",
    "mov r8, [rdi + {r8}]",
    "mov r9, [rdi + {r9}]",
    "mov r10, [rdi + {r10}]",
    "mov r11, [rdi + {r11}]",
    "mov r12, [rdi + {r12}]",
    "mov r13, [rdi + {r13}]",
    "mov r14, [rdi + {r14}]",
    "mov r15, [rdi + {r15}]",
    "mov rdi, [rdi + {rdi}]",
    "swapgs",
    "iretq",
    //
    // `syscall`: rcx = user rip, r11 = user rflags, interrupts off (FMASK),
    // rsp still the user's. Nothing here touches user memory.
    ".globl sis_x86_64_syscall_entry",
    "sis_x86_64_syscall_entry:",
    "swapgs",
    "mov gs:[{scratch}], rsp",
    "mov rsp, gs:[{user_registers}]",
    "mov [rsp + {rax}], rax",
    "mov [rsp + {rbx}], rbx",
    "mov [rsp + {rcx}], rcx",
    "mov [rsp + {rdx}], rdx",
    "mov [rsp + {rsi}], rsi",
    "mov [rsp + {rdi}], rdi",
    "mov [rsp + {rbp}], rbp",
    "mov [rsp + {r8}], r8",
    "mov [rsp + {r9}], r9",
    "mov [rsp + {r10}], r10",
    "mov [rsp + {r11}], r11",
    "mov [rsp + {r12}], r12",
    "mov [rsp + {r13}], r13",
    "mov [rsp + {r14}], r14",
    "mov [rsp + {r15}], r15",
    "mov [rsp + {rip}], rcx",
    "mov [rsp + {rflags}], r11",
    "mov rax, gs:[{scratch}]",
    "mov [rsp + {rsp}], rax",
    "mov qword ptr [rsp + {trap_vector}], {syscall_mark}",
    "mov rsp, gs:[{kernel_stack}]",
    // Return from enter_user, on the stack it saved (trap.rs comes here too).
    ".globl sis_x86_64_user_return",
    "sis_x86_64_user_return:",
    "add rsp, 8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbp",
    "pop rbx",
    "ret",
    ".popsection",
    kernel_stack = const CPU_BLOCK_KERNEL_STACK,
    user_registers = const CPU_BLOCK_USER_REGISTERS,
    rsp0_slot = const CPU_BLOCK_RSP0_SLOT,
    scratch = const CPU_BLOCK_SCRATCH,
    user_data = const USER_DATA_SELECTOR,
    user_code = const USER_CODE_SELECTOR,
    syscall_mark = const SYSCALL_MARK,
    rax = const offset_of!(Registers, rax),
    rbx = const offset_of!(Registers, rbx),
    rcx = const offset_of!(Registers, rcx),
    rdx = const offset_of!(Registers, rdx),
    rsi = const offset_of!(Registers, rsi),
    rdi = const offset_of!(Registers, rdi),
    rbp = const offset_of!(Registers, rbp),
    rsp = const offset_of!(Registers, rsp),
    r8 = const offset_of!(Registers, r8),
    r9 = const offset_of!(Registers, r9),
    r10 = const offset_of!(Registers, r10),
    r11 = const offset_of!(Registers, r11),
    r12 = const offset_of!(Registers, r12),
    r13 = const offset_of!(Registers, r13),
    r14 = const offset_of!(Registers, r14),
    r15 = const offset_of!(Registers, r15),
    rip = const offset_of!(Registers, rip),
    rflags = const offset_of!(Registers, rflags),
    trap_vector = const offset_of!(Registers, trap_vector),
);
