//! The kernel's metrics registry (`sis_observe::KernelMetrics`), fed by the
//! scheduler, allocator, VFS, network and chaos paths, exported by
//! `metricsctl`.

extern crate alloc;

use alloc::vec::Vec;
use core::fmt;

use sis_observe::metrics::kernel::HeapFigures;
use sis_observe::metrics::resources::{TaskFigures, VfsUsage};
use sis_observe::metrics::{
    write_metrics, KernelMetrics, Label, Metric, MetricFormat, NetworkMetrics, ResourceMetrics,
};
use spin::Mutex;

use crate::{arch, build_info, cpu_time, fs, heap, sched};

static BUILD_LABELS: [Label; 3] = [
    Label::new("version", env!("CARGO_PKG_VERSION")),
    Label::new("commit", build_info::GIT_COMMIT_SHORT),
    Label::new("arch", arch::NAME),
];

static METRICS: KernelMetrics = KernelMetrics::new(&BUILD_LABELS);
static NETWORK: NetworkMetrics = NetworkMetrics::new();
/// The NIC's frame counters as last published, so only the difference is
/// added to `sis_net_*_total` (which the null device feeds too).
static PUBLISHED_LINK: Mutex<sis_net::LinkCounters> = Mutex::new(sis_net::LinkCounters {
    rx_packets: 0,
    rx_bytes: 0,
    rx_errors: 0,
    rx_dropped: 0,
    tx_packets: 0,
    tx_bytes: 0,
    tx_errors: 0,
    tx_dropped: 0,
});

/// CPU time, heap space, tasks, VFS usage and stress progress (docs/SOAK.md).
static RESOURCES: ResourceMetrics = ResourceMetrics::new();

pub fn get() -> &'static KernelMetrics {
    &METRICS
}

pub fn resources() -> &'static ResourceMetrics {
    &RESOURCES
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
        RESOURCES.update_vfs(VfsUsage {
            used_bytes: vfs.used_bytes,
            capacity_bytes: vfs.capacity_bytes,
            files: vfs.files,
        });
    }
    let now = arch::monotonic_ns();
    let cpus = arch::cpus_online();
    for cpu in 0..cpus {
        let (busy, idle) = cpu_time::times(cpu, now);
        RESOURCES.set_cpu_time(cpu, busy, idle);
    }
    RESOURCES.update_heap(heap::space());
    let (live, spawned, reaped) = sched::task_counts();
    RESOURCES.update_tasks(TaskFigures { live, spawned, reaped });
    METRICS.refresh(now);
    let mut all: Vec<Metric<'_>> = Vec::with_capacity(64);
    all.extend(METRICS.metrics());
    all.extend(RESOURCES.metrics(cpus));
    all.extend(NETWORK.metrics());
    write_metrics(out, &all, format)
}

/// Mirrors the network stack's counters into the metrics (the `net` task
/// calls it after every poll).
pub fn publish_network(link: sis_net::LinkCounters, services: sis_net::ServiceCounters) {
    let mut published = PUBLISHED_LINK.lock();
    METRICS.net_rx_packets.add(link.rx_packets.saturating_sub(published.rx_packets));
    METRICS.net_rx_bytes.add(link.rx_bytes.saturating_sub(published.rx_bytes));
    METRICS.net_tx_packets.add(link.tx_packets.saturating_sub(published.tx_packets));
    METRICS.net_tx_bytes.add(link.tx_bytes.saturating_sub(published.tx_bytes));
    *published = link;
    NETWORK.rx_errors.raise_to(link.rx_errors);
    NETWORK.tx_errors.raise_to(link.tx_errors);
    NETWORK.rx_dropped.raise_to(link.rx_dropped);
    NETWORK.tx_dropped.raise_to(link.tx_dropped);
    NETWORK.tcp_accepted.raise_to(services.tcp_accepted);
    for (counter, count) in NETWORK.http_requests.iter().zip(services.http.responses) {
        counter.raise_to(count);
    }
}
