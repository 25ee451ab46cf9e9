//! Resource series a soak watches beyond [`super::KernelMetrics`]: CPU time, heap free space and fragmentation, tasks, VFS usage and the stress workload.
//!
//! Kept apart from `KernelMetrics` so the kernel exports them after it
//! (families stay adjacent) and a soak's leak verdicts have their inputs:
//! `sis_heap_current_bytes` with its limit `sis_heap_size_bytes`,
//! `sis_tasks`, `sis_vfs_used_bytes` with `sis_vfs_capacity_bytes`
//! (docs/SOAK.md). CPU time is a counter per CPU in seconds, so a rate of
//! `sis_cpu_busy_seconds_total` is that CPU's utilisation.

use super::{Counter, Gauge, Label, Metric, Scale};

/// CPUs with their own `cpu` label; CPUs beyond it are not exported.
pub const MAX_CPUS: usize = 8;

const CPU_LABELS: [&[Label]; MAX_CPUS] = [
    &[Label::new("cpu", "0")],
    &[Label::new("cpu", "1")],
    &[Label::new("cpu", "2")],
    &[Label::new("cpu", "3")],
    &[Label::new("cpu", "4")],
    &[Label::new("cpu", "5")],
    &[Label::new("cpu", "6")],
    &[Label::new("cpu", "7")],
];

const fn cpu_busy(cpu: usize) -> Counter {
    Counter::new(
        "sis_cpu_busy_seconds_total",
        "Time the CPU ran tasks or the kernel since boot (a parked CPU is idle).",
    )
    .with_labels(CPU_LABELS[cpu])
    .with_scale(Scale::NanosToSeconds)
}

const fn cpu_idle(cpu: usize) -> Counter {
    Counter::new(
        "sis_cpu_idle_seconds_total",
        "Time the CPU slept waiting for work since boot (a parked CPU is idle).",
    )
    .with_labels(CPU_LABELS[cpu])
    .with_scale(Scale::NanosToSeconds)
}

/// Heap space and fragmentation as the allocator sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeapSpace {
    pub size_bytes: u64,
    pub free_bytes: u64,
    pub largest_free_block_bytes: u64,
    pub free_fragments: u64,
}

/// Task figures from the scheduler.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskFigures {
    pub live: u64,
    pub spawned: u64,
    pub reaped: u64,
}

/// VFS usage figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VfsUsage {
    pub used_bytes: u64,
    pub capacity_bytes: u64,
    pub files: u64,
}

/// Every resource series. Put one in a `static`; update it right before an
/// export; write it after `KernelMetrics` with [`ResourceMetrics::metrics`].
#[derive(Debug)]
pub struct ResourceMetrics {
    pub cpu_busy: [Counter; MAX_CPUS],
    pub cpu_idle: [Counter; MAX_CPUS],
    pub heap_size_bytes: Gauge,
    pub heap_free_bytes: Gauge,
    pub heap_largest_free_block_bytes: Gauge,
    pub heap_free_fragments: Gauge,
    pub tasks: Gauge,
    pub tasks_spawned: Counter,
    pub tasks_reaped: Counter,
    pub vfs_used_bytes: Gauge,
    pub vfs_capacity_bytes: Gauge,
    pub vfs_files: Gauge,
    pub stress_iterations: Counter,
}

impl Default for ResourceMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl ResourceMetrics {
    pub const fn new() -> Self {
        ResourceMetrics {
            cpu_busy: [cpu_busy(0), cpu_busy(1), cpu_busy(2), cpu_busy(3), cpu_busy(4), cpu_busy(5), cpu_busy(6), cpu_busy(7)],
            cpu_idle: [cpu_idle(0), cpu_idle(1), cpu_idle(2), cpu_idle(3), cpu_idle(4), cpu_idle(5), cpu_idle(6), cpu_idle(7)],
            heap_size_bytes: Gauge::new("sis_heap_size_bytes", "Bytes the heap manages in all."),
            heap_free_bytes: Gauge::new("sis_heap_free_bytes", "Heap bytes free for allocation now."),
            heap_largest_free_block_bytes: Gauge::new(
                "sis_heap_largest_free_block_bytes",
                "Largest single allocation the heap can satisfy now (fragmentation shows as this falling below the free bytes).",
            ),
            heap_free_fragments: Gauge::new("sis_heap_free_fragments", "Separate free stretches of the heap now."),
            tasks: Gauge::new("sis_tasks", "Tasks that exist now, the idle task included (exited tasks are freed)."),
            tasks_spawned: Counter::new("sis_tasks_spawned_total", "Tasks started since boot."),
            tasks_reaped: Counter::new("sis_tasks_reaped_total", "Exited tasks whose stack and record were freed since boot."),
            vfs_used_bytes: Gauge::new("sis_vfs_used_bytes", "Bytes of allocated file system blocks."),
            vfs_capacity_bytes: Gauge::new("sis_vfs_capacity_bytes", "Bytes of all file system blocks."),
            vfs_files: Gauge::new("sis_vfs_files", "Files in the file system."),
            stress_iterations: Counter::new(
                "sis_stress_iterations_total",
                "Iterations of the stress workload since boot (stays zero in a build without the stress feature).",
            ),
        }
    }

    /// Records a CPU's busy and idle time since boot; CPUs past [`MAX_CPUS`] are ignored.
    pub fn set_cpu_time(&self, cpu: usize, busy_ns: u64, idle_ns: u64) {
        if let (Some(busy), Some(idle)) = (self.cpu_busy.get(cpu), self.cpu_idle.get(cpu)) {
            busy.raise_to(busy_ns);
            idle.raise_to(idle_ns);
        }
    }

    pub fn update_heap(&self, heap: HeapSpace) {
        self.heap_size_bytes.set_unsigned(heap.size_bytes);
        self.heap_free_bytes.set_unsigned(heap.free_bytes);
        self.heap_largest_free_block_bytes.set_unsigned(heap.largest_free_block_bytes);
        self.heap_free_fragments.set_unsigned(heap.free_fragments);
    }

    pub fn update_tasks(&self, tasks: TaskFigures) {
        self.tasks.set_unsigned(tasks.live);
        self.tasks_spawned.raise_to(tasks.spawned);
        self.tasks_reaped.raise_to(tasks.reaped);
    }

    pub fn update_vfs(&self, vfs: VfsUsage) {
        self.vfs_used_bytes.set_unsigned(vfs.used_bytes);
        self.vfs_capacity_bytes.set_unsigned(vfs.capacity_bytes);
        self.vfs_files.set_unsigned(vfs.files);
    }

    /// The series of the first `cpus` CPUs and the rest, families adjacent.
    pub fn metrics(&self, cpus: usize) -> impl Iterator<Item = Metric<'_>> {
        let cpus = cpus.clamp(1, MAX_CPUS);
        let busy = self.cpu_busy[..cpus].iter().map(Metric::Counter);
        let idle = self.cpu_idle[..cpus].iter().map(Metric::Counter);
        let rest = [
            Metric::Gauge(&self.heap_size_bytes),
            Metric::Gauge(&self.heap_free_bytes),
            Metric::Gauge(&self.heap_largest_free_block_bytes),
            Metric::Gauge(&self.heap_free_fragments),
            Metric::Gauge(&self.tasks),
            Metric::Counter(&self.tasks_spawned),
            Metric::Counter(&self.tasks_reaped),
            Metric::Gauge(&self.vfs_used_bytes),
            Metric::Gauge(&self.vfs_capacity_bytes),
            Metric::Gauge(&self.vfs_files),
            Metric::Counter(&self.stress_iterations),
        ];
        busy.chain(idle).chain(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{validate, write_metrics, KernelMetrics, MetricFormat};
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    static BUILD: [Label; 3] = [
        Label::new("version", "0.1.0"),
        Label::new("commit", "abc1234"),
        Label::new("arch", "x86_64"),
    ];

    #[test]
    fn kernel_and_resource_series_together_are_valid_for_any_cpu_count() {
        let kernel = KernelMetrics::new(&BUILD);
        let resources = ResourceMetrics::new();
        for cpus in [0, 1, 4, MAX_CPUS, 64] {
            let mut all: Vec<Metric<'_>> = kernel.metrics().to_vec();
            all.extend(resources.metrics(cpus));
            assert_eq!(validate(&all), Ok(()), "{cpus} CPUs");
        }
    }

    #[test]
    fn cpu_time_is_written_in_seconds_per_cpu_label() {
        let resources = ResourceMetrics::new();
        resources.set_cpu_time(0, 1_500_000_000, 250_000_000);
        resources.set_cpu_time(1, 0, 2_000_000_000);
        resources.set_cpu_time(99, 1, 1);
        resources.update_heap(HeapSpace { size_bytes: 100, free_bytes: 60, largest_free_block_bytes: 40, free_fragments: 3 });
        resources.update_tasks(TaskFigures { live: 3, spawned: 10, reaped: 8 });
        let all: Vec<Metric<'_>> = resources.metrics(2).collect();
        let mut text = String::new();
        write_metrics(&mut text, &all, MetricFormat::Simple).unwrap();
        for line in [
            "sis_cpu_busy_seconds_total{cpu=\"0\"} 1.5",
            "sis_cpu_idle_seconds_total{cpu=\"0\"} 0.25",
            "sis_cpu_idle_seconds_total{cpu=\"1\"} 2",
            "sis_heap_largest_free_block_bytes 40",
            "sis_tasks 3",
            "sis_tasks_reaped_total 8",
        ] {
            assert!(text.lines().any(|candidate| candidate == line), "missing {line:?} in\n{text}");
        }
        assert!(!text.contains("cpu=\"2\""));
    }
}
