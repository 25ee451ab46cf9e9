//! CPU busy and idle time for `sis_cpu_{busy,idle}_seconds_total`.
//!
//! The boot CPU runs every task; its idle time is the time the idle task
//! spends in `arch::wait_for_event`, and the rest of its uptime is busy.
//! Secondary CPUs are parked after boot (docs/BOOT.md) and do no work: they
//! count as idle for all of their uptime. A scheduler that runs tasks on
//! them reports their idle time here too, through [`idle_section`].

use core::sync::atomic::{AtomicU64, Ordering};

use sis_observe::metrics::resources::MAX_CPUS;

use crate::arch;

static IDLE_NS: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static RUNS_TASKS: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

/// Runs `wait` (the CPU sleeping until an event) and counts its time as idle time of `cpu`.
pub fn idle_section(cpu: usize, wait: impl FnOnce()) {
    let started = arch::monotonic_ns();
    wait();
    if let (Some(idle), Some(runs)) = (IDLE_NS.get(cpu), RUNS_TASKS.get(cpu)) {
        idle.fetch_add(arch::monotonic_ns().saturating_sub(started), Ordering::Relaxed);
        runs.store(1, Ordering::Relaxed);
    }
}

/// (busy, idle) nanoseconds of `cpu` since boot, at `now_ns`.
pub fn times(cpu: usize, now_ns: u64) -> (u64, u64) {
    let (Some(idle), Some(runs)) = (IDLE_NS.get(cpu), RUNS_TASKS.get(cpu)) else { return (0, now_ns) };
    if cpu != 0 && runs.load(Ordering::Relaxed) == 0 {
        // Parked since boot.
        return (0, now_ns);
    }
    let idle = idle.load(Ordering::Relaxed).min(now_ns);
    (now_ns - idle, idle)
}
