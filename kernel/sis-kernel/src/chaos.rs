//! Fault injection (cargo feature `chaos`; docs/CHAOS.md). The decision is
//! `sis_chaos::Chaos`; this module asks it at the kernel's injection points,
//! logs every injection as a `chaos` record and counts it in the metrics.
//! Without the feature this module and every call into it are compiled out.

use core::alloc::Layout;

use sis_chaos::{Chaos, Effect, Injection, Point};

use crate::{arch, heap, log, metrics};

static CHAOS: Chaos = Chaos::new();

pub fn get() -> &'static Chaos {
    &CHAOS
}

/// Installs the allocator hook. Called once at boot, after the heap exists.
pub fn init() {
    heap::set_failure_hook(Some(allocation_hook));
}

/// Asks whether to inject at `point`; logs and counts an injection. A
/// delay is served here; a panic happens here. The caller turns a failure
/// into its errno.
pub fn check(point: Point) -> Option<Injection> {
    let injection = CHAOS.should_inject(point)?;
    log::emit(&injection.record(log::timestamp_us()));
    metrics::get().record_chaos_injection(injection.mode.name());
    match injection.effect {
        Effect::Delay { delay_us } => {
            // Busy-wait on the clock: the caller may hold the file system
            // lock, so it must not sleep through the scheduler.
            let until = arch::monotonic_ns().saturating_add(u64::from(delay_us) * 1_000);
            while arch::monotonic_ns() < until {
                core::hint::spin_loop();
            }
            None
        }
        Effect::Panic => panic!("chaos: random panic at {}", injection.point.name()),
        Effect::Fail(_) => Some(injection),
    }
}

/// The allocator's injection point: fails allocations made inside fallible
/// sections while memory_pressure is active.
fn allocation_hook(_layout: Layout) -> bool {
    check(Point::Allocation).is_some()
}
