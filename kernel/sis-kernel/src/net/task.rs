//! The `net` task: polls the stack when smoltcp asks to, and on a short
//! timer for frames (the NIC runs without interrupts, see docs/NETWORK.md).
//! Idle, the task sleeps 10 ms at a time; while traffic flows, 1 ms or
//! less, so a burst of scrapes is answered without waiting for the timer.

use core::sync::atomic::{AtomicBool, Ordering};

use super::{now, render_metrics, STACK};
use crate::{arch, metrics, sched};

/// Poll interval right after traffic.
const BUSY_POLL_NS: u64 = 1_000_000;
/// Poll interval once nothing has moved for `BUSY_WINDOW_NS`.
const IDLE_POLL_NS: u64 = 10_000_000;
const BUSY_WINDOW_NS: u64 = 250_000_000;

/// Set by a shell command that queued a packet, so the task polls at once.
static WAKE: AtomicBool = AtomicBool::new(false);

pub fn wake() {
    WAKE.store(true, Ordering::Release);
}

pub fn run() {
    let mut last_activity_ns = 0;
    let mut logged_address = None;
    loop {
        let (is_active, next, address) = {
            let mut guard = STACK.lock();
            let Some(stack) = guard.as_mut() else { return };
            let (is_active, next) = stack.poll(now(), &mut render_metrics);
            metrics::publish_network(stack.link_counters(), stack.service_counters());
            let info = stack.interface_info();
            (is_active, next, info.address.map(|address| (address, info.source)))
        };
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
        let interval =
            if now_ns.saturating_sub(last_activity_ns) < BUSY_WINDOW_NS { BUSY_POLL_NS } else { IDLE_POLL_NS };
        let until_next = next.map_or(interval, |at| {
            let at_ns = (at.total_micros().max(0) as u64).saturating_mul(1_000);
            at_ns.saturating_sub(now_ns)
        });
        sched::sleep_ns(until_next.min(interval).max(100_000));
    }
}
