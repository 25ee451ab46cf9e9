//! Fault injection (cargo feature `chaos`; docs/CHAOS.md). The decision is
//! `sis_chaos::Chaos`; this module asks it at the kernel's injection points,
//! logs every injection as a `chaos` record and counts it in the metrics.
//! Without the feature this module and every call into it are compiled out.

use core::alloc::Layout;
use core::sync::atomic::{AtomicU32, AtomicU8, Ordering};

use sis_abi::Errno;
use sis_chaos::{Chaos, Effect, Injection, Mode, Point};

use crate::sync::{rank, IrqMutex};
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

/// Allocation injections decided inside `alloc`, waiting to be logged: the
/// allocator never logs (printing from inside `alloc` would run the console
/// and log paths in the middle of whatever allocated). `heap::fallible`
/// logs them once its section ends. More than fit are counted, not lost.
struct PendingInjections {
    injections: [Option<Injection>; 8],
    overflowed: u64,
}

static PENDING_ALLOCATION: IrqMutex<PendingInjections, { rank::CHAOS_PENDING }> =
    IrqMutex::new(PendingInjections { injections: [None; 8], overflowed: 0 });

/// The allocator's injection point: fails allocations made inside fallible
/// sections while memory_pressure is active. Decides and counts only.
fn allocation_hook(_layout: Layout) -> bool {
    let Some(injection) = CHAOS.should_inject(Point::Allocation) else { return false };
    metrics::get().record_chaos_injection(injection.mode.name());
    let mut pending = PENDING_ALLOCATION.lock();
    match pending.injections.iter_mut().find(|slot| slot.is_none()) {
        Some(slot) => *slot = Some(injection),
        None => pending.overflowed += 1,
    }
    true
}

/// Logs the allocation injections decided since the last call (called by
/// `heap::fallible` after its section, outside the allocator).
pub fn log_pending_allocation_injections() {
    let (injections, overflowed) = {
        let mut pending = PENDING_ALLOCATION.lock();
        let taken = core::mem::replace(&mut pending.injections, [None; 8]);
        (taken, core::mem::take(&mut pending.overflowed))
    };
    for injection in injections.iter().flatten() {
        log::emit(&injection.record(log::timestamp_us()));
    }
    if overflowed > 0 {
        crate::log_event!("chaos", "allocation injections not logged", Warn, count = overflowed);
    }
}

/// The block-write injection point (disk_full, disk_fail): the errno the
/// write fails with, if any.
pub fn block_write_error() -> Option<Errno> {
    if defect() == Defect::Uncounted {
        // A defect on purpose: fail behind the generator's back, so nothing
        // is counted or logged.
        let mode = CHAOS.mode();
        if matches!(mode, Mode::DiskFull | Mode::DiskFail) && UNCOUNTED_WRITES.fetch_add(1, Ordering::Relaxed) % 4 == 3 {
            return mode.errno();
        }
        return None;
    }
    let errno = check(Point::BlockWrite)?.errno()?;
    Some(match (defect(), errno) {
        (Defect::WrongErrno, Errno::ENOSPC) => Errno::EIO,
        (Defect::WrongErrno, _) => Errno::ENOSPC,
        _ => errno,
    })
}

/// Deliberate defects at the block-write point (`chaos break`), so a test
/// can show that the CLI's checker catches a broken injection point in the
/// real kernel. `none` at boot and after `chaos reset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Defect {
    None = 0,
    /// Injected failures carry the other disk errno.
    WrongErrno = 1,
    /// Failures happen without being counted or logged.
    Uncounted = 2,
}

impl Defect {
    pub const fn name(self) -> &'static str {
        match self {
            Defect::None => "none",
            Defect::WrongErrno => "errno",
            Defect::Uncounted => "uncounted",
        }
    }

    pub fn parse(name: &str) -> Option<Defect> {
        match name {
            "none" => Some(Defect::None),
            "errno" => Some(Defect::WrongErrno),
            "uncounted" => Some(Defect::Uncounted),
            _ => None,
        }
    }
}

static DEFECT: AtomicU8 = AtomicU8::new(Defect::None as u8);
static UNCOUNTED_WRITES: AtomicU32 = AtomicU32::new(0);

pub fn defect() -> Defect {
    match DEFECT.load(Ordering::Relaxed) {
        1 => Defect::WrongErrno,
        2 => Defect::Uncounted,
        _ => Defect::None,
    }
}

pub fn set_defect(defect: Defect) {
    DEFECT.store(defect as u8, Ordering::Relaxed);
    UNCOUNTED_WRITES.store(0, Ordering::Relaxed);
}
