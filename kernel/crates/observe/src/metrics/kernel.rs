//! The kernel's metric set: every `sis_*` series `metricsctl` exposes, in one `static`-friendly struct.
//!
//! Names follow the production-readiness plan with one deliberate change:
//! the context-switch percentiles are `sis_ctx_switch_p50_seconds` (p95,
//! p99), not `…_p50_ns`. `promtool check metrics` reports any name ending in
//! `_ns` ("metric names should not contain abbreviated units") and
//! `_nanoseconds` ("use base unit seconds"), and a clean promtool run is the
//! acceptance test. Values are still measured in nanoseconds and written in
//! seconds with nanosecond precision (docs/observability.md).

use core::fmt::{self, Write};

use super::latency::LatencyRecorder;
use super::{write_metrics, Counter, Gauge, Histogram, Label, Metric, MetricFormat, Scale};

/// Chaos mode names as they appear in the `mode` label of
/// `sis_chaos_injections_total`. `sis-chaos` tests that these equal its
/// modes' names (every mode but `none`), in the same order.
pub const CHAOS_MODE_LABELS: [&str; 6] = [
    "disk_full",
    "disk_fail",
    "network_fail",
    "memory_pressure",
    "random_panic",
    "slow_io",
];

const fn chaos_counter(labels: &'static [Label]) -> Counter {
    Counter::new(
        "sis_chaos_injections_total",
        "Faults injected by the chaos subsystem, by mode (stays zero in a build without the chaos feature).",
    )
    .with_labels(labels)
}

/// The `mode` label of each chaos counter, built from [`CHAOS_MODE_LABELS`]
/// so the two cannot disagree.
const CHAOS_LABEL_SETS: [&[Label]; 6] = [
    &[Label::new("mode", CHAOS_MODE_LABELS[0])],
    &[Label::new("mode", CHAOS_MODE_LABELS[1])],
    &[Label::new("mode", CHAOS_MODE_LABELS[2])],
    &[Label::new("mode", CHAOS_MODE_LABELS[3])],
    &[Label::new("mode", CHAOS_MODE_LABELS[4])],
    &[Label::new("mode", CHAOS_MODE_LABELS[5])],
];

/// Buckets of `sis_ctx_switch_duration_seconds`, in nanoseconds.
pub const CONTEXT_SWITCH_BOUNDS_NS: [u64; 11] = [
    250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000,
];

/// Series in [`KernelMetrics::metrics`].
pub const KERNEL_METRIC_COUNT: usize = 26;

/// Heap figures kept by the allocator, mirrored into the metrics on export.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeapFigures {
    pub current_bytes: u64,
    pub peak_bytes: u64,
    pub allocations: u64,
    pub frees: u64,
    pub failed_allocations: u64,
}

/// Every metric the kernel exposes. Put one in a `static`; feed it from the
/// scheduler, allocator, VFS, network, chaos and panic paths; call
/// [`KernelMetrics::refresh`] and then [`KernelMetrics::write`] for `metricsctl`.
#[derive(Debug)]
pub struct KernelMetrics {
    pub context_switches: Counter,
    pub context_switch_p50: Gauge,
    pub context_switch_p95: Gauge,
    pub context_switch_p99: Gauge,
    pub context_switch_duration: Histogram,
    /// The percentile source behind the three gauges above.
    pub context_switch_latency: LatencyRecorder,
    pub heap_current_bytes: Gauge,
    pub heap_peak_bytes: Gauge,
    pub heap_allocations: Counter,
    pub heap_frees: Counter,
    pub heap_failed_allocations: Counter,
    pub net_rx_packets: Counter,
    pub net_tx_packets: Counter,
    pub net_rx_bytes: Counter,
    pub net_tx_bytes: Counter,
    pub vfs_opens: Counter,
    pub vfs_reads: Counter,
    pub vfs_writes: Counter,
    pub uptime: Gauge,
    /// One per [`CHAOS_MODE_LABELS`] entry, same order.
    pub chaos_injections: [Counter; 6],
    pub panics: Counter,
    pub build_info: Gauge,
}

impl KernelMetrics {
    /// `build_labels` are the `sis_build_info` labels (the kernel passes
    /// `version`, `commit` and `arch` from its build record).
    pub const fn new(build_labels: &'static [Label]) -> Self {
        KernelMetrics {
            context_switches: Counter::new("sis_ctx_switches_total", "Context switches since boot."),
            context_switch_p50: Gauge::new(
                "sis_ctx_switch_p50_seconds",
                "Median context switch latency since boot (within 1/32 of the exact value).",
            )
            .with_scale(Scale::NanosToSeconds),
            context_switch_p95: Gauge::new(
                "sis_ctx_switch_p95_seconds",
                "95th percentile context switch latency since boot (within 1/32 of the exact value).",
            )
            .with_scale(Scale::NanosToSeconds),
            context_switch_p99: Gauge::new(
                "sis_ctx_switch_p99_seconds",
                "99th percentile context switch latency since boot (within 1/32 of the exact value).",
            )
            .with_scale(Scale::NanosToSeconds),
            context_switch_duration: Histogram::new(
                "sis_ctx_switch_duration_seconds",
                "Context switch latency.",
                &CONTEXT_SWITCH_BOUNDS_NS,
            )
            .with_scale(Scale::NanosToSeconds),
            context_switch_latency: LatencyRecorder::new(),
            heap_current_bytes: Gauge::new("sis_heap_current_bytes", "Heap bytes allocated now."),
            heap_peak_bytes: Gauge::new("sis_heap_peak_bytes", "Most heap bytes allocated at once since boot."),
            heap_allocations: Counter::new("sis_heap_allocations_total", "Heap allocations since boot."),
            heap_frees: Counter::new("sis_heap_frees_total", "Heap frees since boot."),
            heap_failed_allocations: Counter::new(
                "sis_heap_failed_allocations_total",
                "Heap allocations that failed since boot (injected failures included).",
            ),
            net_rx_packets: Counter::new("sis_net_rx_packets_total", "Frames received by the network interface."),
            net_tx_packets: Counter::new("sis_net_tx_packets_total", "Frames sent by the network interface (and the null device of `net send`)."),
            net_rx_bytes: Counter::new("sis_net_rx_bytes_total", "Bytes received by the network interface."),
            net_tx_bytes: Counter::new("sis_net_tx_bytes_total", "Bytes sent by the network interface (and the null device of `net send`)."),
            vfs_opens: Counter::new("sis_vfs_opens_total", "Files opened through the VFS."),
            vfs_reads: Counter::new("sis_vfs_reads_total", "Reads through the VFS."),
            vfs_writes: Counter::new("sis_vfs_writes_total", "Writes through the VFS."),
            uptime: Gauge::new("sis_uptime_seconds", "Time since boot.").with_scale(Scale::NanosToSeconds),
            chaos_injections: [
                chaos_counter(CHAOS_LABEL_SETS[0]),
                chaos_counter(CHAOS_LABEL_SETS[1]),
                chaos_counter(CHAOS_LABEL_SETS[2]),
                chaos_counter(CHAOS_LABEL_SETS[3]),
                chaos_counter(CHAOS_LABEL_SETS[4]),
                chaos_counter(CHAOS_LABEL_SETS[5]),
            ],
            panics: Counter::new("sis_panics_total", "Panics since boot (at most one: a panic ends the machine)."),
            build_info: Gauge::new("sis_build_info", "Build of the running kernel; the value is always 1.")
                .with_labels(build_labels)
                .with_value(1),
        }
    }

    /// Called by the scheduler for every switch, with its duration.
    pub fn record_context_switch(&self, duration_ns: u64) {
        self.context_switches.inc();
        self.context_switch_latency.record(duration_ns);
        self.context_switch_duration.observe(duration_ns);
    }

    /// Counts one injection of the chaos mode named `mode`; false (nothing
    /// counted) for a name that is not in [`CHAOS_MODE_LABELS`].
    pub fn record_chaos_injection(&self, mode: &str) -> bool {
        match CHAOS_MODE_LABELS.iter().position(|&label| label == mode) {
            Some(index) => {
                self.chaos_injections[index].inc();
                true
            }
            None => false,
        }
    }

    /// Mirrors the allocator's own statistics.
    pub fn update_heap(&self, heap: HeapFigures) {
        self.heap_current_bytes.set_unsigned(heap.current_bytes);
        self.heap_peak_bytes.set_unsigned(heap.peak_bytes);
        self.heap_allocations.raise_to(heap.allocations);
        self.heap_frees.raise_to(heap.frees);
        self.heap_failed_allocations
            .raise_to(heap.failed_allocations);
    }

    /// Brings the derived gauges (percentiles, uptime) up to date; call it
    /// right before an export. Percentiles are 0 until a switch was recorded.
    pub fn refresh(&self, uptime_ns: u64) {
        self.uptime.set_unsigned(uptime_ns);
        let gauges = [
            (50, &self.context_switch_p50),
            (95, &self.context_switch_p95),
            (99, &self.context_switch_p99),
        ];
        for (percent, gauge) in gauges {
            gauge.set_unsigned(self.context_switch_latency.percentile(percent).unwrap_or(0));
        }
    }

    /// Every series, families adjacent, in exposition order.
    pub fn metrics(&self) -> [Metric<'_>; KERNEL_METRIC_COUNT] {
        let [c0, c1, c2, c3, c4, c5] = &self.chaos_injections;
        [
            Metric::Gauge(&self.build_info),
            Metric::Gauge(&self.uptime),
            Metric::Counter(&self.context_switches),
            Metric::Gauge(&self.context_switch_p50),
            Metric::Gauge(&self.context_switch_p95),
            Metric::Gauge(&self.context_switch_p99),
            Metric::Histogram(&self.context_switch_duration),
            Metric::Gauge(&self.heap_current_bytes),
            Metric::Gauge(&self.heap_peak_bytes),
            Metric::Counter(&self.heap_allocations),
            Metric::Counter(&self.heap_frees),
            Metric::Counter(&self.heap_failed_allocations),
            Metric::Counter(&self.vfs_opens),
            Metric::Counter(&self.vfs_reads),
            Metric::Counter(&self.vfs_writes),
            Metric::Counter(&self.net_rx_packets),
            Metric::Counter(&self.net_tx_packets),
            Metric::Counter(&self.net_rx_bytes),
            Metric::Counter(&self.net_tx_bytes),
            Metric::Counter(c0),
            Metric::Counter(c1),
            Metric::Counter(c2),
            Metric::Counter(c3),
            Metric::Counter(c4),
            Metric::Counter(c5),
            Metric::Counter(&self.panics),
        ]
    }

    /// Writes every series in `format` (call [`KernelMetrics::refresh`] first).
    pub fn write<W: Write + ?Sized>(&self, sink: &mut W, format: MetricFormat) -> fmt::Result {
        write_metrics(sink, &self.metrics(), format)
    }
}

#[cfg(test)]
mod tests {
    use super::super::validate;
    use super::*;
    use std::string::String;

    static BUILD: [Label; 3] = [
        Label::new("version", "0.1.0"),
        Label::new("commit", "abc1234"),
        Label::new("arch", "riscv64"),
    ];

    fn render(metrics: &KernelMetrics, format: MetricFormat) -> String {
        let mut out = String::new();
        metrics.write(&mut out, format).unwrap();
        out
    }

    #[test]
    fn the_kernel_set_is_valid_and_has_every_planned_name() {
        let metrics = KernelMetrics::new(&BUILD);
        assert_eq!(validate(&metrics.metrics()), Ok(()));
        let text = render(&metrics, MetricFormat::Prometheus);
        let planned = [
            "sis_ctx_switch_p50_seconds",
            "sis_ctx_switch_p95_seconds",
            "sis_ctx_switch_p99_seconds",
            "sis_ctx_switches_total",
            "sis_heap_current_bytes",
            "sis_heap_peak_bytes",
            "sis_heap_allocations_total",
            "sis_heap_frees_total",
            "sis_heap_failed_allocations_total",
            "sis_net_rx_packets_total",
            "sis_net_tx_packets_total",
            "sis_net_rx_bytes_total",
            "sis_net_tx_bytes_total",
            "sis_vfs_opens_total",
            "sis_vfs_reads_total",
            "sis_vfs_writes_total",
            "sis_uptime_seconds",
            "sis_chaos_injections_total",
            "sis_panics_total",
            "sis_build_info",
        ];
        for name in planned {
            assert!(
                text.contains(&format!("\n# TYPE {name} "))
                    || text.starts_with(&format!("# HELP {name} ")),
                "{name}"
            );
        }
        assert!(text
            .contains("sis_build_info{version=\"0.1.0\",commit=\"abc1234\",arch=\"riscv64\"} 1\n"));
        for mode in CHAOS_MODE_LABELS {
            assert!(text.contains(&format!(
                "sis_chaos_injections_total{{mode=\"{mode}\"}} 0\n"
            )));
        }
    }

    #[test]
    fn values_move_as_the_kernel_reports_work() {
        let metrics = KernelMetrics::new(&BUILD);
        for duration_ns in [1_000, 2_000, 3_000, 4_000, 100_000] {
            metrics.record_context_switch(duration_ns);
        }
        metrics.update_heap(HeapFigures {
            current_bytes: 4096,
            peak_bytes: 8192,
            allocations: 10,
            frees: 7,
            failed_allocations: 1,
        });
        metrics.vfs_writes.add(3);
        assert!(metrics.record_chaos_injection("disk_full"));
        assert!(!metrics.record_chaos_injection("none"));
        assert!(!metrics.record_chaos_injection("bogus"));
        metrics.refresh(2_500_000_000);
        let text = render(&metrics, MetricFormat::Simple);
        for line in [
            "sis_ctx_switches_total 5",
            // 3000 ns sits in the 128 ns wide bucket [2944, 3072): its middle.
            "sis_ctx_switch_p50_seconds 0.000003007",
            "sis_ctx_switch_p99_seconds 0.0001",
            "sis_ctx_switch_duration_seconds_bucket{le=\"0.0000025\"} 2",
            "sis_ctx_switch_duration_seconds_count 5",
            "sis_heap_current_bytes 4096",
            "sis_heap_failed_allocations_total 1",
            "sis_vfs_writes_total 3",
            "sis_uptime_seconds 2.5",
            "sis_chaos_injections_total{mode=\"disk_full\"} 1",
            "sis_chaos_injections_total{mode=\"disk_fail\"} 0",
        ] {
            assert!(
                text.lines().any(|candidate| candidate == line),
                "missing {line:?} in\n{text}"
            );
        }
        // Mirrored counters never go back, even if the source restarts.
        metrics.update_heap(HeapFigures::default());
        assert_eq!(metrics.heap_allocations.get(), 10);
        assert_eq!(metrics.heap_current_bytes.get(), 0);
    }

    #[test]
    fn simple_format_is_one_name_value_pair_per_line() {
        let metrics = KernelMetrics::new(&BUILD);
        for line in render(&metrics, MetricFormat::Simple).lines() {
            let (name, value) = line.rsplit_once(' ').unwrap();
            assert!(name.starts_with("sis_"), "{line}");
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
