//! CPU busy and idle time for `sis_cpu_{busy,idle}_seconds_total`.
//!
//! Every CPU runs tasks (docs/kernel-smp.md); a CPU's idle time is the time
//! its idle task spends in `arch::wait_for_event` ([`idle_section`]), and
//! the rest of its uptime is busy. A secondary that never reached its idle
//! loop (parked: no GIC interface, say) counts as idle for all of it. The
//! `cpus` command shows the same figures.

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
