//! This CPU's timer deadline, the same on every arch: `CpuTimer` (the
//! `sis_hal::Timer` over the arch's `timer::program_deadline`), the arch
//! contract's `set_timer_deadline`, and `arm_timer_by`, which reprograms
//! the timer only when an earlier deadline is not already armed.
//!
//! Why `arm_timer_by`: the scheduler wants a timer interrupt by the end of
//! every slice, so it asked for one on every context switch. Programming
//! the timer is a trip through QEMU's device model (LAPIC registers, a
//! CVAL/CTL pair, an SBI call) that cost more than the whole rest of a
//! switch (x86_64: 2.4 us per switch with it, 0.6 us without; bench
//! `spin --yield`). Every timer interrupt handler re-checks what it is for
//! (slice over? sleeper due?) and arms the next deadline, so an interrupt
//! that comes earlier than asked costs one check, never a missed event.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::percpu::MAX_CPUS;

use super::imp::program_deadline;

/// What each CPU's timer is armed for (`DISARMED` when nothing is): every
/// arm and disarm of a CPU timer goes through this file, so it matches the
/// hardware. A deadline at or before `monotonic_ns()` has fired (or is
/// about to), so it counts as no deadline.
static ARMED_NS: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(DISARMED) }; MAX_CPUS];
const DISARMED: u64 = u64::MAX;

fn armed_ns() -> &'static AtomicU64 {
    &ARMED_NS[super::cpu_index().min(MAX_CPUS - 1)]
}

/// This CPU's timer as a `sis_hal::Timer`: `now_ns` is the clock all CPUs
/// share, the deadline is this CPU's own (EL1 virtual timer, SBI timer,
/// local APIC timer). Callers run with interrupts masked, so the CPU
/// cannot change under them.
pub struct CpuTimer;

impl sis_hal::Timer for CpuTimer {
    fn now_ns(&self) -> u64 {
        super::monotonic_ns()
    }

    fn set_deadline_ns(&mut self, deadline_ns: u64) -> Result<(), sis_hal::DeviceError> {
        program_deadline(Some(deadline_ns));
        armed_ns().store(deadline_ns, Ordering::Relaxed);
        Ok(())
    }

    fn cancel_deadline(&mut self) {
        program_deadline(None);
        armed_ns().store(DISARMED, Ordering::Relaxed);
    }
}

/// The arch contract's form of [`CpuTimer`]: `None` disarms.
pub fn set_timer_deadline(deadline_ns: Option<u64>) {
    use sis_hal::Timer;
    match deadline_ns {
        // Never fails: every deadline is representable (late ones saturate).
        Some(deadline) => {
            let _ = CpuTimer.set_deadline_ns(deadline);
        }
        None => CpuTimer.cancel_deadline(),
    }
}

/// Makes sure this CPU's timer interrupt comes no later than `deadline_ns`:
/// a pending deadline that is earlier stays (see the file comment), any
/// other is replaced. `now_ns` is the caller's recent `monotonic_ns()`
/// (every caller has just read it; a clock read is a trip out of TCG's
/// translated code). With interrupts masked.
pub fn arm_timer_by(deadline_ns: u64, now_ns: u64) {
    let armed = armed_ns().load(Ordering::Relaxed);
    let armed = (armed != DISARMED).then_some(armed);
    if sis_sched::armed_timer_covers(armed, deadline_ns, now_ns) {
        return;
    }
    set_timer_deadline(Some(deadline_ns));
}
