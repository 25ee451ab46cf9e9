//! Interrupts: the IRQ entry (on the interrupted task's stack), the PSTATE.I
//! helpers, and the dispatch of the timer and UART interrupts to the scheduler.
//!
//! An IRQ taken from kernel code (vector "current EL with SP_EL0") switches
//! back to SP_EL0 before saving anything, so the frame lives on the
//! interrupted task's stack: the scheduler may switch tasks from inside the
//! handler, and the task resumes through this same return path later, on
//! whichever CPU picks it up. The frame holds every general register,
//! ELR/SPSR, and all of v0-v31 with FPCR/FPSR, since the +neon target uses
//! the vector registers anywhere (memcpy included) and a preempted task must
//! find them as it left them.

use core::arch::{asm, global_asm};

use super::{gic, timer, uart};

/// Bytes of the IRQ frame: x0-x30, ELR, SPSR, FPCR, FPSR, padding, q0-q31.
pub const IRQ_FRAME_BYTES: usize = 800;

global_asm!(
    ".section .text",
    ".balign 4",
    ".globl __sis_irq_entry",
    "__sis_irq_entry:",
    "    sub sp, sp, #{frame}",
    "    stp x0, x1, [sp, #0]",
    "    stp x2, x3, [sp, #16]",
    "    stp x4, x5, [sp, #32]",
    "    stp x6, x7, [sp, #48]",
    "    stp x8, x9, [sp, #64]",
    "    stp x10, x11, [sp, #80]",
    "    stp x12, x13, [sp, #96]",
    "    stp x14, x15, [sp, #112]",
    "    stp x16, x17, [sp, #128]",
    "    stp x18, x19, [sp, #144]",
    "    stp x20, x21, [sp, #160]",
    "    stp x22, x23, [sp, #176]",
    "    stp x24, x25, [sp, #192]",
    "    stp x26, x27, [sp, #208]",
    "    stp x28, x29, [sp, #224]",
    "    mrs x0, elr_el1",
    "    stp x30, x0, [sp, #240]",
    "    mrs x1, spsr_el1",
    "    mrs x2, fpcr",
    "    stp x1, x2, [sp, #256]",
    "    mrs x3, fpsr",
    "    str x3, [sp, #272]",
    "    stp q0, q1, [sp, #288]",
    "    stp q2, q3, [sp, #320]",
    "    stp q4, q5, [sp, #352]",
    "    stp q6, q7, [sp, #384]",
    "    stp q8, q9, [sp, #416]",
    "    stp q10, q11, [sp, #448]",
    "    stp q12, q13, [sp, #480]",
    "    stp q14, q15, [sp, #512]",
    "    stp q16, q17, [sp, #544]",
    "    stp q18, q19, [sp, #576]",
    "    stp q20, q21, [sp, #608]",
    "    stp q22, q23, [sp, #640]",
    "    stp q24, q25, [sp, #672]",
    "    stp q26, q27, [sp, #704]",
    "    stp q28, q29, [sp, #736]",
    "    stp q30, q31, [sp, #768]",
    // A frame record {interrupted x29, interrupted pc}: a backtrace taken in
    // the handler continues into the interrupted code.
    "    stp x29, x0, [sp, #-16]!",
    "    mov x29, sp",
    "    bl {handler}",
    "    add sp, sp, #16",
    "    ldp q0, q1, [sp, #288]",
    "    ldp q2, q3, [sp, #320]",
    "    ldp q4, q5, [sp, #352]",
    "    ldp q6, q7, [sp, #384]",
    "    ldp q8, q9, [sp, #416]",
    "    ldp q10, q11, [sp, #448]",
    "    ldp q12, q13, [sp, #480]",
    "    ldp q14, q15, [sp, #512]",
    "    ldp q16, q17, [sp, #544]",
    "    ldp q18, q19, [sp, #576]",
    "    ldp q20, q21, [sp, #608]",
    "    ldp q22, q23, [sp, #640]",
    "    ldp q24, q25, [sp, #672]",
    "    ldp q26, q27, [sp, #704]",
    "    ldp q28, q29, [sp, #736]",
    "    ldp q30, q31, [sp, #768]",
    "    ldp x30, x0, [sp, #240]",
    "    msr elr_el1, x0",
    "    ldp x1, x2, [sp, #256]",
    "    msr spsr_el1, x1",
    "    msr fpcr, x2",
    "    ldr x3, [sp, #272]",
    "    msr fpsr, x3",
    "    ldp x0, x1, [sp, #0]",
    "    ldp x2, x3, [sp, #16]",
    "    ldp x4, x5, [sp, #32]",
    "    ldp x6, x7, [sp, #48]",
    "    ldp x8, x9, [sp, #64]",
    "    ldp x10, x11, [sp, #80]",
    "    ldp x12, x13, [sp, #96]",
    "    ldp x14, x15, [sp, #112]",
    "    ldp x16, x17, [sp, #128]",
    "    ldp x18, x19, [sp, #144]",
    "    ldp x20, x21, [sp, #160]",
    "    ldp x22, x23, [sp, #176]",
    "    ldp x24, x25, [sp, #192]",
    "    ldp x26, x27, [sp, #208]",
    "    ldp x28, x29, [sp, #224]",
    "    add sp, sp, #{frame}",
    // SPSR says EL1t: ERET goes back to SP_EL0 and the interrupted IRQ mask.
    "    eret",
    frame = const IRQ_FRAME_BYTES,
    handler = sym irq_handler,
);

/// The IRQ entry's handler (kernel code interrupted).
extern "C" fn irq_handler() {
    dispatch();
}

/// Acknowledges one interrupt, ends it at the GIC, then lets the scheduler
/// act on it (which may switch tasks: the GIC must be done with it first).
/// With IRQs masked, on the interrupted task's stack: from the IRQ entry
/// above, or from `user::run` when user mode was interrupted.
pub fn dispatch() {
    let Some(interrupt) = gic::acknowledge() else { return };
    if interrupt.intid == timer::VIRTUAL_TIMER_INTID.get() {
        // Level triggered: disarm before EOI, or it fires again at once.
        crate::arch::deadline::set_timer_deadline(None);
        gic::end_of_interrupt(interrupt);
        crate::sched::on_timer_interrupt();
    } else if interrupt.intid == uart::INTID.get() {
        gic::end_of_interrupt(interrupt);
        crate::sched::on_console_interrupt();
    } else if crate::arch::device_interrupt::is_device_interrupt(interrupt.intid) {
        // One-shot (arch/device_interrupt.rs): masked until the driver
        // has acknowledged the device.
        crate::arch::device_interrupt::mask_device_interrupt();
        gic::end_of_interrupt(interrupt);
        crate::net::on_interrupt();
    } else {
        // The scheduler's wake-up (smp::wake_cpu): it only ends the idle
        // wait, whose loop then looks at the run queue.
        gic::end_of_interrupt(interrupt);
    }
}

/// PSTATE.I (DAIF bit 7) clear: IRQs are taken.
/// Writes DAIF only when IRQs are unmasked: under QEMU's TCG a DAIF write
/// ends the translation block, and most callers (nested locks, the switch
/// path) already run masked.
pub fn interrupts_disable() -> bool {
    let daif: u64;
    // SAFETY: reading DAIF has no side effect.
    unsafe { asm!("mrs {}, daif", out(reg) daif, options(nomem, nostack, preserves_flags)) };
    let were_enabled = daif & (1 << 7) == 0;
    if were_enabled {
        // SAFETY: masking IRQs affects only this CPU's PSTATE; not `nomem`,
        // so memory accesses stay on their side of it.
        unsafe { asm!("msr daifset, #2", options(nostack, preserves_flags)) };
    }
    were_enabled
}

pub fn interrupts_enable() {
    // SAFETY: unmasking IRQs; the vectors and the IRQ entry are installed.
    // Not `nomem`: memory accesses must not move across it.
    unsafe { asm!("msr daifclr, #2", options(nostack, preserves_flags)) };
}

pub fn interrupts_restore(were_enabled: bool) {
    if were_enabled {
        interrupts_enable();
    }
}

/// This CPU's index (0 = boot CPU), kept in TPIDR_EL1 from boot on.
pub fn cpu_index() -> usize {
    let index: usize;
    // SAFETY: reading TPIDR_EL1 has no side effect; boot.rs/smp.rs set it.
    unsafe { asm!("mrs {}, tpidr_el1", out(reg) index, options(nomem, nostack, preserves_flags)) };
    index
}

pub fn set_cpu_index(index: usize) {
    // SAFETY: TPIDR_EL1 is a software thread register; nothing else uses it.
    unsafe { asm!("msr tpidr_el1, {}", in(reg) index, options(nomem, nostack, preserves_flags)) };
}
