//! Kernel counters fed by the scheduler, heap and file system (exported by
//! `metricsctl`).

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

static CONTEXT_SWITCHES: AtomicU64 = AtomicU64::new(0);

/// The most recent switch latencies, for percentiles. A ring of the last
/// 1024 samples: recent behaviour is what a soak run wants to see move.
const SAMPLES: usize = 1024;
static SWITCH_NS: [AtomicU64; SAMPLES] = [const { AtomicU64::new(0) }; SAMPLES];
static SWITCH_NEXT: AtomicUsize = AtomicUsize::new(0);

pub fn count_context_switch() {
    CONTEXT_SWITCHES.fetch_add(1, Ordering::Relaxed);
}

pub fn record_context_switch_ns(ns: u64) {
    let slot = SWITCH_NEXT.fetch_add(1, Ordering::Relaxed);
    SWITCH_NS[slot % SAMPLES].store(ns, Ordering::Relaxed);
}

pub fn context_switches() -> u64 {
    CONTEXT_SWITCHES.load(Ordering::Relaxed)
}

/// p50, p95 and p99 of the recorded switch latencies (0 before any switch).
pub fn context_switch_percentiles_ns() -> [u64; 3] {
    let recorded = SWITCH_NEXT.load(Ordering::Relaxed).min(SAMPLES);
    if recorded == 0 {
        return [0; 3];
    }
    let mut sorted = [0u64; SAMPLES];
    for (index, value) in sorted.iter_mut().take(recorded).enumerate() {
        *value = SWITCH_NS[index].load(Ordering::Relaxed);
    }
    let sorted = &mut sorted[..recorded];
    sorted.sort_unstable();
    let at = |percent: usize| sorted[((recorded * percent).div_ceil(100)).clamp(1, recorded) - 1];
    [at(50), at(95), at(99)]
}

static PANICS: AtomicU64 = AtomicU64::new(0);

pub fn count_panic() {
    PANICS.fetch_add(1, Ordering::Relaxed);
}

pub fn panics() -> u64 {
    PANICS.load(Ordering::Relaxed)
}
