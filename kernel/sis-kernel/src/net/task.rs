//! The `net` task: polls the stack when the NIC interrupts, when the stack's
//! next timer is due (smoltcp's, the HTTP timeouts, the DHCP fallback) and
//! when a shell command queued a packet (`wake`); between those it sleeps.
//!
//! Where the NIC's interrupt could not be routed it polls on a timer
//! instead: 10 ms at a time when idle, 1 ms or less while traffic flows,
//! so a burst of scrapes is answered without waiting for the timer.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use super::{now, render_metrics, STACK};
use crate::{arch, metrics, sched};

/// Poll interval right after traffic (polled NIC).
const BUSY_POLL_NS: u64 = 1_000_000;
/// Poll interval once nothing has moved for `BUSY_WINDOW_NS` (polled NIC).
const IDLE_POLL_NS: u64 = 10_000_000;
const BUSY_WINDOW_NS: u64 = 250_000_000;
/// How long the task sleeps when the stack has no timer pending and the
/// NIC interrupts: an upper bound on the sleep, not a poll interval (the
/// interrupt and `wake` end it).
const NO_TIMER_SLEEP_NS: u64 = 60_000_000_000;

/// Set by a shell command that queued a packet, so the task polls at once.
static WAKE: AtomicBool = AtomicBool::new(false);
/// Set by the NIC's interrupt; cleared by the task before it acknowledges
/// the device, so an interrupt after that is seen by the next check.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// The task's pid, for the wake-ups (`NO_TASK` until it started).
static TASK: AtomicU32 = AtomicU32::new(NO_TASK);
const NO_TASK: u32 = u32::MAX;

/// Starts the task; `interrupt_driven` when the NIC's interrupt is routed.
pub fn start(interrupt_driven: bool) -> Result<(), sched::NoStack> {
    let pid = sched::spawn_with_argument("net", run, usize::from(interrupt_driven))?;
    TASK.store(pid, Ordering::Release);
    Ok(())
}

pub fn wake() {
    WAKE.store(true, Ordering::Release);
    wake_task();
}

/// From the NIC's interrupt (its line masked): only wakes the task.
pub fn on_interrupt() {
    INTERRUPTED.store(true, Ordering::Release);
    wake_task();
}

fn wake_task() {
    let pid = TASK.load(Ordering::Acquire);
    if pid != NO_TASK {
        sched::wake(pid);
    }
}

fn run(interrupt_driven: usize) {
    let interrupt_driven = interrupt_driven != 0;
    let mut last_activity_ns = 0;
    let mut logged_address = None;
    loop {
        INTERRUPTED.store(false, Ordering::Release);
        let (is_active, next, address) = {
            let mut guard = STACK.lock();
            let Some(stack) = guard.as_mut() else { return };
            if interrupt_driven {
                stack.device_mut().acknowledge_interrupt();
            }
            let (is_active, next) = stack.poll(now(), &mut render_metrics);
            metrics::publish_network(stack.link_counters(), stack.service_counters());
            let info = stack.interface_info();
            (is_active, next, info.address.map(|address| (address, info.source)))
        };
        if interrupt_driven {
            // Acknowledged and drained: the next event may interrupt again.
            arch::unmask_device_interrupt();
        }
        if address != logged_address {
            // The lease (or the fallback) arrives after the prompt: say so once.
            if let Some((address, source)) = address {
                let text = alloc::format!("{address}");
                log_event!("net", "address", Info, address = text.as_str(), source = source.name());
            }
            logged_address = address;
        }
        let now_ns = arch::monotonic_ns();
        if is_active {
            last_activity_ns = now_ns;
            sched::yield_now();
            continue;
        }
        if WAKE.swap(false, Ordering::AcqRel) {
            continue;
        }
        let next_ns = next.map(|at| (at.total_micros().max(0) as u64).saturating_mul(1_000));
        if interrupt_driven {
            let deadline = next_ns.unwrap_or(now_ns.saturating_add(NO_TIMER_SLEEP_NS));
            sched::block_until(deadline, || !INTERRUPTED.load(Ordering::Acquire) && !WAKE.load(Ordering::Acquire));
            continue;
        }
        let interval =
            if now_ns.saturating_sub(last_activity_ns) < BUSY_WINDOW_NS { BUSY_POLL_NS } else { IDLE_POLL_NS };
        let until_next = next_ns.map_or(interval, |at_ns| at_ns.saturating_sub(now_ns));
        sched::sleep_ns(until_next.min(interval).max(100_000));
    }
}
