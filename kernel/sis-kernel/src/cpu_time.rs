//! CPU busy and idle time for `sis_cpu_{busy,idle}_seconds_total`.
//!
//! Every CPU runs tasks (docs/kernel-smp.md); a CPU's idle time is the time
//! its idle task spends in `arch::wait_for_event` ([`idle_section`]), the
//! wait in progress included, and the rest of its uptime is busy. A
//! secondary that never reached its idle loop (parked: no GIC interface,
//! say) counts as idle for all of it. The `cpus` command shows the same
//! figures.

use core::sync::atomic::{fence, AtomicU64, Ordering};

use sis_observe::metrics::resources::MAX_CPUS;

use crate::arch;

/// Idle time of each CPU's finished waits.
static IDLE_NS: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
/// When each CPU's wait in progress began; `AWAKE` while it is not waiting.
/// Without it a CPU asleep since its last wake-up would read as busy.
static IDLE_SINCE: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(AWAKE) }; MAX_CPUS];
const AWAKE: u64 = u64::MAX;
/// A sequence lock over each CPU's two figures: odd while the CPU (their
/// only writer) updates them, so a reader retries instead of seeing the
/// finished wait both in `IDLE_NS` and in `IDLE_SINCE` (the counters must
/// never go back).
static SEQUENCE: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static RUNS_TASKS: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

/// Runs `wait` (the CPU sleeping until an event) and counts its time as
/// idle time of `cpu`. Called by `cpu` itself with interrupts masked, so
/// no reader on this CPU can interrupt an update.
pub fn idle_section(cpu: usize, wait: impl FnOnce()) {
    let started = arch::monotonic_ns();
    update(cpu, |_, since| since.store(started, Ordering::Relaxed));
    wait();
    let ended = arch::monotonic_ns();
    update(cpu, |idle, since| {
        idle.fetch_add(ended.saturating_sub(started), Ordering::Relaxed);
        since.store(AWAKE, Ordering::Relaxed);
    });
    if let Some(runs) = RUNS_TASKS.get(cpu) {
        runs.store(1, Ordering::Relaxed);
    }
}

/// The writer's half of the sequence lock.
fn update(cpu: usize, write: impl FnOnce(&AtomicU64, &AtomicU64)) {
    let (Some(sequence), Some(idle), Some(since)) = (SEQUENCE.get(cpu), IDLE_NS.get(cpu), IDLE_SINCE.get(cpu)) else {
        return;
    };
    let start = sequence.load(Ordering::Relaxed);
    sequence.store(start.wrapping_add(1), Ordering::Relaxed);
    fence(Ordering::Release);
    write(idle, since);
    sequence.store(start.wrapping_add(2), Ordering::Release);
}

/// (busy, idle) nanoseconds of `cpu` since boot, at `now_ns`.
pub fn times(cpu: usize, now_ns: u64) -> (u64, u64) {
    let (Some(sequence), Some(idle), Some(since), Some(runs)) =
        (SEQUENCE.get(cpu), IDLE_NS.get(cpu), IDLE_SINCE.get(cpu), RUNS_TASKS.get(cpu))
    else {
        return (0, now_ns);
    };
    if cpu != 0 && runs.load(Ordering::Relaxed) == 0 {
        // Parked since boot.
        return (0, now_ns);
    }
    let idle = loop {
        let before = sequence.load(Ordering::Acquire);
        if before % 2 == 1 {
            core::hint::spin_loop();
            continue;
        }
        let (finished, waiting_since) = (idle.load(Ordering::Relaxed), since.load(Ordering::Relaxed));
        fence(Ordering::Acquire);
        if sequence.load(Ordering::Relaxed) == before {
            let waiting = if waiting_since == AWAKE { 0 } else { now_ns.saturating_sub(waiting_since) };
            break finished.saturating_add(waiting).min(now_ns);
        }
    };
    (now_ns - idle, idle)
}
