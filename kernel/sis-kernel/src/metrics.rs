//! The kernel's metrics registry (`sis_observe::KernelMetrics`), fed by the
//! scheduler, allocator, VFS, network and chaos paths, exported by
//! `metricsctl`.

extern crate alloc;

use alloc::vec::Vec;
use core::fmt;

use sis_observe::metrics::kernel::HeapFigures;
use sis_observe::metrics::resources::{TaskFigures, VfsUsage};
use sis_observe::metrics::{
    write_metrics, Counter, Gauge, KernelMetrics, Label, Metric, MetricFormat, NetworkMetrics, ResourceMetrics,
};
use sis_syscall::{Errno, Outcome, Sysno};

use crate::sync::{rank, IrqMutex};
use crate::{arch, build_info, cpu_time, fs, heap, sched, user};

static BUILD_LABELS: [Label; 3] = [
    Label::new("version", env!("CARGO_PKG_VERSION")),
    Label::new("commit", build_info::GIT_COMMIT_SHORT),
    Label::new("arch", arch::NAME),
];

static METRICS: KernelMetrics = KernelMetrics::new(&BUILD_LABELS);
static NETWORK: NetworkMetrics = NetworkMetrics::new();
/// The NIC's frame counters as last published, so only the difference is
/// added to `sis_net_*_total` (which the null device feeds too). Taken
/// under the network stack's lock; takes nothing.
static PUBLISHED_LINK: IrqMutex<sis_net::LinkCounters, { rank::NET_PUBLISHED }> = IrqMutex::new(sis_net::LinkCounters {
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

/// Only the `stress` workload writes here; without it the series stay zero.
#[cfg_attr(not(feature = "stress"), allow(dead_code))]
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
    let user = UserFigures::now();
    all.extend(user.metrics());
    write_metrics(out, &all, format)
}

/// `{syscall="<name>"}` of every call of the table, then `"unknown"`.
static SYSCALL_LABELS: [[Label; 1]; Sysno::ALL.len() + 1] = {
    let mut labels = [[Label::new("syscall", "unknown")]; Sysno::ALL.len() + 1];
    let mut index = 0;
    while index < Sysno::ALL.len() {
        labels[index] = [Label::new("syscall", Sysno::ALL[index].name())];
        index += 1;
    }
    labels
};

/// `{errno="<NAME>"}` of every errno.
static ERRNO_LABELS: [[Label; 1]; Errno::ALL.len()] = {
    let mut labels = [[Label::new("errno", "")]; Errno::ALL.len()];
    let mut index = 0;
    while index < Errno::ALL.len() {
        labels[index] = [Label::new("errno", Errno::ALL[index].name())];
        index += 1;
    }
    labels
};

/// User-mode series, built at export time from the process table and the
/// syscall counts (docs/SYSCALLS.md): processes alive, user pages, open
/// fds, syscalls by call and failed syscalls by errno.
struct UserFigures {
    processes: Gauge,
    pages: Gauge,
    open_fds: Gauge,
    by_syscall: Vec<Counter>,
    by_errno: Vec<Counter>,
}

impl UserFigures {
    fn now() -> UserFigures {
        let processes = Gauge::new("sis_user_processes", "User processes running now.");
        processes.set_unsigned(user::table::running_count());
        let pages = Gauge::new("sis_user_pages", "4 KiB frames user processes hold now (image, stack, arguments, mmap).");
        pages.set_unsigned(user::user_pages());
        let open_fds = Gauge::new("sis_user_open_fds", "File descriptors open in user processes now.");
        open_fds.set_unsigned(user::table::open_fds());
        let stats = user::stats::snapshot();
        let by_syscall: Vec<Counter> = SYSCALL_LABELS
            .iter()
            .map(|labels| Counter::new("sis_syscalls_total", "Syscalls made since boot, by call (unknown: not in the table).").with_labels(labels))
            .collect();
        let by_errno: Vec<Counter> = ERRNO_LABELS
            .iter()
            .map(|labels| Counter::new("sis_syscall_errors_total", "Syscalls that failed since boot, by errno returned.").with_labels(labels))
            .collect();
        for (name, outcome, count) in stats.cells() {
            let row = Sysno::ALL.iter().position(|call| call.name() == name).unwrap_or(Sysno::ALL.len());
            by_syscall[row].add(count);
            if let Outcome::Failed(errno) = outcome {
                if let Some(column) = Errno::ALL.iter().position(|&known| known == errno) {
                    by_errno[column].add(count);
                }
            }
        }
        UserFigures { processes, pages, open_fds, by_syscall, by_errno }
    }

    fn metrics(&self) -> impl Iterator<Item = Metric<'_>> {
        [Metric::Gauge(&self.processes), Metric::Gauge(&self.pages), Metric::Gauge(&self.open_fds)]
            .into_iter()
            .chain(self.by_syscall.iter().map(Metric::Counter))
            .chain(self.by_errno.iter().map(Metric::Counter))
    }
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
