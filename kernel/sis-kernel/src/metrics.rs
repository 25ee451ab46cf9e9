//! The kernel's metrics registry (`sis_observe::KernelMetrics`), fed by the
//! scheduler, allocator, VFS, network and chaos paths, exported by
//! `metricsctl`.

use core::fmt;

use sis_observe::metrics::{KernelMetrics, Label, MetricFormat};
use sis_observe::metrics::kernel::HeapFigures;

use crate::{arch, build_info, fs, heap};

static BUILD_LABELS: [Label; 3] = [
    Label::new("version", env!("CARGO_PKG_VERSION")),
    Label::new("commit", build_info::GIT_COMMIT_SHORT),
    Label::new("arch", arch::NAME),
];

static METRICS: KernelMetrics = KernelMetrics::new(&BUILD_LABELS);

pub fn get() -> &'static KernelMetrics {
    &METRICS
}

pub fn record_context_switch_ns(ns: u64) {
    METRICS.record_context_switch(ns);
}

pub fn count_panic() {
    METRICS.panics.inc();
}

/// Brings the mirrored figures up to date and writes every series.
pub fn write(out: &mut dyn fmt::Write, format: MetricFormat) -> fmt::Result {
    let heap = heap::stats();
    METRICS.update_heap(HeapFigures {
        current_bytes: heap.current_bytes as u64,
        peak_bytes: heap.peak_bytes as u64,
        allocations: heap.allocations,
        frees: heap.frees,
        failed_allocations: heap.failed_allocations,
    });
    if let Ok(vfs) = fs::with(|vfs| Ok(vfs.stats())) {
        METRICS.vfs_opens.raise_to(vfs.opens);
        METRICS.vfs_reads.raise_to(vfs.reads);
        METRICS.vfs_writes.raise_to(vfs.writes);
    }
    METRICS.refresh(arch::monotonic_ns());
    METRICS.write(out, format)
}
