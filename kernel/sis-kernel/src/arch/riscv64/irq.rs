//! Interrupts: the entry for interrupts taken from kernel code (on the
//! interrupted task's stack), the sstatus.SIE helpers, the CPU index, and
//! the dispatch of the timer and UART interrupts to the scheduler (also
//! used by user.rs for interrupts taken in user mode).
//!
//! trap.rs's vector sends interrupts (scause bit 63) here before touching
//! the per-hart trap stack: the frame goes on the interrupted task's own
//! stack, so the scheduler may switch tasks inside the handler and the task
//! resumes through this same return path later, on whichever hart picks it
//! up. The frame holds the integer registers but tp (the hart's CPU index,
//! which must stay the running hart's), sepc, sstatus (so SIE/SPIE come back
//! as they were) and all of f0-f31 with fcsr, because riscv64gc code may use
//! the FP registers anywhere and a preempted task must find them unchanged.

use core::arch::{asm, global_asm};

use super::{boot, plic, uart};

/// Bytes of the interrupt frame: x0-x31 slots, sepc, sstatus, f0-f31, fcsr, padding.
pub const IRQ_FRAME_BYTES: usize = 544;

global_asm!(
    ".section .text",
    ".balign 4",
    ".globl sis_interrupt_entry",
    "sis_interrupt_entry:",
    "    addi sp, sp, -{frame}",
    "sd x1, 8(sp)",
    "sd x3, 24(sp)",
    "sd x5, 40(sp)",
    "sd x6, 48(sp)",
    "sd x7, 56(sp)",
    "sd x8, 64(sp)",
    "sd x9, 72(sp)",
    "sd x10, 80(sp)",
    "sd x11, 88(sp)",
    "sd x12, 96(sp)",
    "sd x13, 104(sp)",
    "sd x14, 112(sp)",
    "sd x15, 120(sp)",
    "sd x16, 128(sp)",
    "sd x17, 136(sp)",
    "sd x18, 144(sp)",
    "sd x19, 152(sp)",
    "sd x20, 160(sp)",
    "sd x21, 168(sp)",
    "sd x22, 176(sp)",
    "sd x23, 184(sp)",
    "sd x24, 192(sp)",
    "sd x25, 200(sp)",
    "sd x26, 208(sp)",
    "sd x27, 216(sp)",
    "sd x28, 224(sp)",
    "sd x29, 232(sp)",
    "sd x30, 240(sp)",
    "sd x31, 248(sp)",
    "    csrr t0, sepc",
    "    sd t0, 256(sp)",
    "    csrr t0, sstatus",
    "    sd t0, 264(sp)",
    ".option push",
    ".option arch, +d",
    "fsd f0, 272(sp)",
    "fsd f1, 280(sp)",
    "fsd f2, 288(sp)",
    "fsd f3, 296(sp)",
    "fsd f4, 304(sp)",
    "fsd f5, 312(sp)",
    "fsd f6, 320(sp)",
    "fsd f7, 328(sp)",
    "fsd f8, 336(sp)",
    "fsd f9, 344(sp)",
    "fsd f10, 352(sp)",
    "fsd f11, 360(sp)",
    "fsd f12, 368(sp)",
    "fsd f13, 376(sp)",
    "fsd f14, 384(sp)",
    "fsd f15, 392(sp)",
    "fsd f16, 400(sp)",
    "fsd f17, 408(sp)",
    "fsd f18, 416(sp)",
    "fsd f19, 424(sp)",
    "fsd f20, 432(sp)",
    "fsd f21, 440(sp)",
    "fsd f22, 448(sp)",
    "fsd f23, 456(sp)",
    "fsd f24, 464(sp)",
    "fsd f25, 472(sp)",
    "fsd f26, 480(sp)",
    "fsd f27, 488(sp)",
    "fsd f28, 496(sp)",
    "fsd f29, 504(sp)",
    "fsd f30, 512(sp)",
    "fsd f31, 520(sp)",
    "    frcsr t0",
    "    sd t0, 528(sp)",
    ".option pop",
    "    call {handler}",
    ".option push",
    ".option arch, +d",
    "    ld t0, 528(sp)",
    "    fscsr t0",
    "fld f0, 272(sp)",
    "fld f1, 280(sp)",
    "fld f2, 288(sp)",
    "fld f3, 296(sp)",
    "fld f4, 304(sp)",
    "fld f5, 312(sp)",
    "fld f6, 320(sp)",
    "fld f7, 328(sp)",
    "fld f8, 336(sp)",
    "fld f9, 344(sp)",
    "fld f10, 352(sp)",
    "fld f11, 360(sp)",
    "fld f12, 368(sp)",
    "fld f13, 376(sp)",
    "fld f14, 384(sp)",
    "fld f15, 392(sp)",
    "fld f16, 400(sp)",
    "fld f17, 408(sp)",
    "fld f18, 416(sp)",
    "fld f19, 424(sp)",
    "fld f20, 432(sp)",
    "fld f21, 440(sp)",
    "fld f22, 448(sp)",
    "fld f23, 456(sp)",
    "fld f24, 464(sp)",
    "fld f25, 472(sp)",
    "fld f26, 480(sp)",
    "fld f27, 488(sp)",
    "fld f28, 496(sp)",
    "fld f29, 504(sp)",
    "fld f30, 512(sp)",
    "fld f31, 520(sp)",
    ".option pop",
    "    ld t0, 256(sp)",
    "    csrw sepc, t0",
    "    ld t0, 264(sp)",
    "    csrw sstatus, t0",
    "ld x1, 8(sp)",
    "ld x3, 24(sp)",
    "ld x5, 40(sp)",
    "ld x6, 48(sp)",
    "ld x7, 56(sp)",
    "ld x8, 64(sp)",
    "ld x9, 72(sp)",
    "ld x10, 80(sp)",
    "ld x11, 88(sp)",
    "ld x12, 96(sp)",
    "ld x13, 104(sp)",
    "ld x14, 112(sp)",
    "ld x15, 120(sp)",
    "ld x16, 128(sp)",
    "ld x17, 136(sp)",
    "ld x18, 144(sp)",
    "ld x19, 152(sp)",
    "ld x20, 160(sp)",
    "ld x21, 168(sp)",
    "ld x22, 176(sp)",
    "ld x23, 184(sp)",
    "ld x24, 192(sp)",
    "ld x25, 200(sp)",
    "ld x26, 208(sp)",
    "ld x27, 216(sp)",
    "ld x28, 224(sp)",
    "ld x29, 232(sp)",
    "ld x30, 240(sp)",
    "ld x31, 248(sp)",
    "    addi sp, sp, {frame}",
    "    sret",
    frame = const IRQ_FRAME_BYTES,
    handler = sym interrupt_handler,
);

/// scause codes of the supervisor interrupts (privileged spec 4.1.9).
const INTERRUPT_SUPERVISOR_SOFTWARE: u64 = 1;
const INTERRUPT_SUPERVISOR_TIMER: u64 = 5;
const INTERRUPT_SUPERVISOR_EXTERNAL: u64 = 9;
/// sip bit 1: SSIP, the only sip bit S-mode may clear itself.
const SIP_SSIP: usize = 1 << 1;
/// sstatus bit 1: SIE, supervisor interrupts enabled.
const SSTATUS_SIE: usize = 1 << 1;

extern "C" fn interrupt_handler() {
    let scause: u64;
    // SAFETY: reading scause has no side effect; interrupts are masked here.
    unsafe { asm!("csrr {}, scause", out(reg) scause, options(nomem, nostack)) };
    dispatch(scause);
}

/// Acknowledges the interrupt `scause` names and hands it to the scheduler
/// (which may switch tasks). With interrupts masked: from the kernel-mode
/// entry above, and from user.rs for an interrupt taken in user mode.
pub(super) fn dispatch(scause: u64) {
    match scause & !(1 << 63) {
        INTERRUPT_SUPERVISOR_TIMER => {
            // STIP stays pending until the timer is set again: cancel it first.
            crate::arch::deadline::set_timer_deadline(None);
            crate::sched::on_timer_interrupt();
        }
        INTERRUPT_SUPERVISOR_EXTERNAL => {
            let device = plic::acknowledge_all(plic::supervisor_context(boot::boot_hart_id()));
            if device {
                crate::net::on_interrupt();
            }
            if uart::has_received_byte() {
                crate::sched::on_console_interrupt();
            }
        }
        // The scheduler's wake-up IPI (smp::wake_cpu): it only ends the
        // idle wait, whose loop then looks at the run queue.
        // SAFETY: clearing SSIP only drops the pending software interrupt.
        INTERRUPT_SUPERVISOR_SOFTWARE => unsafe { asm!("csrc sip, {}", in(reg) SIP_SSIP, options(nomem, nostack)) },
        _ => {}
    }
}

/// Clears sstatus.SIE; returns whether it was set.
/// Writes sstatus only when SIE is set: under QEMU's TCG a write to
/// sstatus ends the translation block, and most callers (nested locks, the
/// switch path) already run masked.
pub fn interrupts_disable() -> bool {
    let status: usize;
    // SAFETY: reading sstatus has no side effect.
    unsafe { asm!("csrr {}, sstatus", out(reg) status, options(nomem, nostack)) };
    let were_enabled = status & SSTATUS_SIE != 0;
    if were_enabled {
        // SAFETY: masking supervisor interrupts on this hart only; not
        // `nomem`, so memory accesses stay on their side of it.
        unsafe { asm!("csrci sstatus, 2", options(nostack)) };
    }
    were_enabled
}

pub fn interrupts_enable() {
    // SAFETY: stvec routes interrupts to sis_interrupt_entry; not `nomem`,
    // so memory accesses stay on their side of it.
    unsafe { asm!("csrsi sstatus, 2", options(nostack)) };
}

pub fn interrupts_restore(were_enabled: bool) {
    if were_enabled {
        interrupts_enable();
    }
}

/// This hart's CPU index (0 = boot hart), kept in tp from boot on (the
/// kernel has no thread-local storage, so tp is free; the interrupt path
/// never restores it).
pub fn cpu_index() -> usize {
    let index: usize;
    // SAFETY: reads tp.
    unsafe { asm!("mv {}, tp", out(reg) index, options(nomem, nostack, preserves_flags)) };
    index
}

pub fn set_cpu_index(index: usize) {
    // SAFETY: tp is reserved for this (see `cpu_index`).
    unsafe { asm!("mv tp, {}", in(reg) index, options(nomem, nostack, preserves_flags)) };
}
