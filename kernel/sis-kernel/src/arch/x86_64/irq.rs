//! Interrupt flag helpers and the CPU index (through the GS base).
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
/// IA32_GS_BASE (SDM Vol. 4, Table 2-2).
const MSR_GS_BASE: u32 = 0xC000_0101;

/// Each CPU's GS base points at its entry here, which holds its index:
/// `cpu_index` is a single `mov` from gs:0.
static CPU_INDEX_SLOTS: [usize; MAX_CPUS] = {
    let mut slots = [0; MAX_CPUS];
    let mut index = 0;
    while index < MAX_CPUS {
        slots[index] = index;
        index += 1;
    }
    slots
};

/// Points this CPU's GS base at its index slot. First thing on every CPU:
/// every lock reads the index.
pub fn set_cpu_index(index: usize) {
    let address = core::ptr::addr_of!(CPU_INDEX_SLOTS[index.min(MAX_CPUS - 1)]) as u64;
    // SAFETY: IA32_GS_BASE exists on every x86_64 CPU; the kernel uses GS
    // for nothing else.
    unsafe {
        asm!(
            "wrmsr",
            in("ecx") MSR_GS_BASE,
            in("eax") address as u32,
            in("edx") (address >> 32) as u32,
            options(nomem, nostack, preserves_flags),
        )
    };
}

pub fn cpu_index() -> usize {
    let index: usize;
    // SAFETY: gs:0 is this CPU's slot in CPU_INDEX_SLOTS (`set_cpu_index`
    // ran first on every CPU).
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
