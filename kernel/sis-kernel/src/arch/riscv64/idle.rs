//! `wait_for_event`: sleep in WFI until a console byte arrives or a deadline passes.
//!
//! Design: sstatus.SIE stays off for the kernel's whole life and no
//! interrupt is ever taken as a trap. The privileged spec (v1.12, 3.3.3
//! "Wait for Interrupt") says WFI resumes when any *enabled* interrupt is
//! pending "regardless of the global interrupt enable", and S-level enables
//! are the bits of sie. So sie.SEIE (PLIC: UART receive) and sie.STIE
//! (SBI timer) are set once at boot; WFI sleeps (QEMU halts the vCPU
//! thread: no host CPU burn), and after waking we acknowledge the PLIC by
//! hand. Not taking traps means no interrupt can land in the middle of the
//! generic kernel's code, which keeps the cooperative scheduler and the
//! lock-free console simple.

use core::arch::asm;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::{plic, timer, uart};

/// sie bit 5: supervisor timer interrupt enable.
const SIE_STIE: usize = 1 << 5;
/// sie bit 9: supervisor external interrupt enable.
const SIE_SEIE: usize = 1 << 9;

/// PLIC context whose requests wake the idle loop (the boot hart's S-mode).
static WAKE_CONTEXT: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Route the UART's receive interrupt to `hart_id` and enable the two wake
/// sources in sie. Called once on the boot hart, after `uart::init`.
pub fn init(hart_id: usize) {
    let context = plic::supervisor_context(hart_id);
    plic::enable(uart::UART_IRQ, context);
    WAKE_CONTEXT.store(context, Ordering::Relaxed);
    // SAFETY: setting sie bits while sstatus.SIE is off only affects which
    // pending interrupts end a WFI; no trap can result (see module comment).
    unsafe { asm!("csrs sie, {}", in(reg) SIE_STIE | SIE_SEIE, options(nomem, nostack)) };
}

/// Idle until a console byte may have arrived or `monotonic_ns()` reached
/// `deadline_ns`. May return early (a spurious wake is harmless).
pub fn wait_for_event(deadline_ns: Option<u64>) {
    if let Some(deadline) = deadline_ns {
        if timer::monotonic_ns() >= deadline {
            return;
        }
    }
    // Program (or cancel) the timer first: this also clears a STIP left
    // pending by an earlier deadline, which would otherwise end WFI at once.
    timer::program_deadline(deadline_ns);
    // A byte may already wait in the UART whose PLIC request an earlier
    // wake claimed (QEMU's PLIC re-pends a level source only when the UART
    // updates its line, i.e. on the next byte or read), so WFI might sleep
    // past it: look at the UART itself. A byte arriving after this check
    // raises a new request, and WFI returns at once.
    if uart::has_received_byte() {
        return;
    }
    // SAFETY: WFI only pauses this hart until (sip & sie) != 0; with
    // sstatus.SIE off no trap follows, execution continues after it.
    unsafe { asm!("wfi", options(nomem, nostack)) };
    let context = WAKE_CONTEXT.load(Ordering::Relaxed);
    if context != usize::MAX {
        plic::acknowledge_all(context);
    }
}
