//! `wait_for_event`: sleep in WFI until a console byte arrives, a deadline passes or another interrupt is pending.
//!
//! Called with sstatus.SIE clear (the idle loop masks interrupts around its
//! checks). The privileged spec (v1.12, 3.3.3 "Wait for Interrupt") says WFI
//! resumes when any *enabled* interrupt is pending "regardless of the global
//! interrupt enable", and S-level enables are the bits of sie: sie.SEIE
//! (PLIC: UART receive, boot hart only), sie.STIE (SBI timer, every hart)
//! and sie.SSIE (the scheduler's wake-up IPI, every hart) are set once per
//! hart. So a byte or tick that lands between the checks
//! and the WFI ends it; its handler (irq.rs) runs once the caller unmasks.
//! QEMU halts the vCPU thread in WFI: no host CPU burn.

use core::arch::asm;

use super::{plic, timer, uart};

/// sie bit 5: supervisor timer interrupt enable.
const SIE_STIE: usize = 1 << 5;
/// sie bit 9: supervisor external interrupt enable.
const SIE_SEIE: usize = 1 << 9;
/// sie bit 1: supervisor software interrupt enable (the scheduler's wake-up
/// IPI, `smp::wake_cpu`).
const SIE_SSIE: usize = 1 << 1;

/// Route the UART's receive interrupt to `hart_id` and enable both
/// interrupt sources in sie. Called once on the boot hart, after `uart::init`.
pub fn init(hart_id: usize) {
    plic::enable(uart::IRQ.get(), plic::supervisor_context(hart_id));
    // SAFETY: only selects which pending interrupts trap once sstatus.SIE is
    // set (the idle loop and tasks) and end a WFI; irq.rs handles both.
    unsafe { asm!("csrs sie, {}", in(reg) SIE_STIE | SIE_SEIE | SIE_SSIE, options(nomem, nostack)) };
}

/// A secondary hart takes its timer interrupt and the wake-up IPI.
pub fn init_secondary() {
    // SAFETY: as in `init`, for the timer and the IPI.
    unsafe { asm!("csrs sie, {}", in(reg) SIE_STIE | SIE_SSIE, options(nomem, nostack)) };
}

/// With interrupts masked: idle until a console byte may have arrived,
/// `monotonic_ns()` reached `deadline_ns`, or another interrupt is pending.
/// May return early (a spurious wake is harmless).
pub fn wait_for_event(deadline_ns: Option<u64>) {
    if let Some(deadline) = deadline_ns {
        let now = timer::monotonic_ns();
        if now >= deadline {
            return;
        }
        crate::arch::arm_timer_by(deadline, now);
    }
    // A byte may already wait in the UART whose PLIC request was claimed
    // (QEMU's PLIC re-pends a level source only when the UART updates its
    // line), so WFI might sleep past it: look at the UART itself (the boot
    // hart only: the others never take its interrupt).
    if super::irq::cpu_index() == 0 && uart::has_received_byte() {
        return;
    }
    // SAFETY: WFI only pauses this hart until (sip & sie) != 0; with
    // sstatus.SIE off no trap follows, execution continues after it.
    unsafe { asm!("wfi", options(nomem, nostack)) };
}
