//! Interrupt flag helpers and the per-CPU block the GS base points at (the
//! CPU index, and what the user-mode entry in user.rs needs per CPU).
//!
//! Interrupts from kernel code arrive through trap.rs's common stub on the
//! interrupted task's own stack (interrupt gates without IST, same
//! privilege level: SDM Vol. 3A 6.12.1), and the target has no red zone
//! and no SSE state (x86_64-unknown-none is soft-float), so the stub's
//! frame is the whole interrupted state and the scheduler may switch tasks
//! from inside the handler.

use core::arch::asm;

use crate::percpu::MAX_CPUS;

/// RFLAGS.IF.
const RFLAGS_INTERRUPT_ENABLE: u64 = 1 << 9;
/// IA32_GS_BASE and IA32_KERNEL_GS_BASE (SDM Vol. 4, Table 2-2).
const MSR_GS_BASE: u32 = 0xC000_0101;
const MSR_KERNEL_GS_BASE: u32 = 0xC000_0102;

/// One CPU's block, where its GS base points while it runs kernel code.
/// `cpu_index` is a single `mov` from gs:0; the other fields are the user
/// entry's (user.rs), which finds them with `swapgs` (the offsets are
/// `CPU_BLOCK_*` below, used by its assembly).
#[repr(C)]
pub struct CpuBlock {
    /// This CPU's index.
    index: usize,
    /// The `user::Registers` of the process this CPU runs in user mode.
    user_registers: u64,
    /// The kernel stack pointer `user::run` saved before entering user mode.
    kernel_stack: u64,
    /// Scratch for the `syscall` entry (the user stack pointer).
    scratch: u64,
    /// Address of this CPU's TSS.RSP0 (descriptors.rs): where the CPU
    /// finds its kernel stack on a trap from ring 3.
    rsp0_slot: u64,
}

pub const CPU_BLOCK_USER_REGISTERS: usize = 8;
pub const CPU_BLOCK_KERNEL_STACK: usize = 16;
pub const CPU_BLOCK_SCRATCH: usize = 24;
pub const CPU_BLOCK_RSP0_SLOT: usize = 32;

static mut CPU_BLOCKS: [CpuBlock; MAX_CPUS] =
    [const { CpuBlock { index: 0, user_registers: 0, kernel_stack: 0, scratch: 0, rsp0_slot: 0 } }; MAX_CPUS];

/// Fills this CPU's block and points its GS base at it. First thing on
/// every CPU: every lock reads the index. The kernel GS base MSR (what
/// `swapgs` exchanges with, the user's GS base) starts at 0.
pub fn set_cpu_index(index: usize) {
    let slot = index.min(MAX_CPUS - 1);
    // SAFETY: each CPU writes only its own block, before anything reads it.
    let address = unsafe {
        let block = core::ptr::addr_of_mut!(CPU_BLOCKS[slot]);
        (*block).index = index;
        block as u64
    };
    // SAFETY: both MSRs exist on every x86_64 CPU; the kernel uses GS for
    // this block only.
    unsafe {
        asm!(
            "wrmsr",
            in("ecx") MSR_GS_BASE,
            in("eax") address as u32,
            in("edx") (address >> 32) as u32,
            options(nomem, nostack, preserves_flags),
        );
        asm!("wrmsr", in("ecx") MSR_KERNEL_GS_BASE, in("eax") 0, in("edx") 0, options(nomem, nostack, preserves_flags));
    };
}

/// Records where this CPU's TSS.RSP0 lives (descriptors.rs, after
/// `set_cpu_index`).
pub fn set_rsp0_slot(slot: *mut u64) {
    // SAFETY: gs:0 is this CPU's block; only this CPU writes it.
    unsafe {
        asm!("mov gs:[{offset}], {slot}", offset = const CPU_BLOCK_RSP0_SLOT, slot = in(reg) slot, options(nostack, preserves_flags))
    };
}

pub fn cpu_index() -> usize {
    let index: usize;
    // SAFETY: gs:0 is this CPU's block in CPU_BLOCKS (`set_cpu_index` ran
    // first on every CPU; user entries `swapgs` back before any Rust code).
    unsafe { asm!("mov {}, gs:[0]", out(reg) index, options(readonly, nostack, preserves_flags)) };
    index
}

/// Clears RFLAGS.IF; returns whether it was set.
pub fn interrupts_disable() -> bool {
    let flags: u64;
    // SAFETY: reads RFLAGS and masks interrupts on this CPU; not `nomem`, so
    // the compiler keeps memory accesses on their side of it.
    unsafe { asm!("pushfq", "pop {}", "cli", out(reg) flags, options(preserves_flags)) };
    flags & RFLAGS_INTERRUPT_ENABLE != 0
}

pub fn interrupts_enable() {
    // SAFETY: the IDT handles every vector (trap.rs).
    unsafe { asm!("sti", options(nostack, preserves_flags)) };
}

pub fn interrupts_restore(were_enabled: bool) {
    if were_enabled {
        interrupts_enable();
    }
}
