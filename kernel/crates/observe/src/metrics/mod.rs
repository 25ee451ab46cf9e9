//! Metrics: counters, gauges and fixed-bucket histograms with static names, HELP text and labels.
//!
//! A metric is a `static`-friendly struct of atomics (`const fn` builders),
//! updated from anywhere without a lock. An exposition is a slice of
//! [`Metric`]s written by [`write_metrics`] in one of three formats; series of
//! one family (same name, different labels) sit next to each other in the
//! slice, which [`validate`] checks.

use core::sync::atomic::{AtomicI64, AtomicU64, Ordering};

mod exposition;
pub mod kernel;
pub mod latency;
pub mod network;
pub mod resources;

pub use exposition::{write_metrics, MetricFormat};
pub use kernel::KernelMetrics;
pub use latency::LatencyRecorder;
pub use network::NetworkMetrics;
pub use resources::ResourceMetrics;

/// One `name="value"` label of a series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label {
    pub name: &'static str,
    pub value: &'static str,
}

impl Label {
    pub const fn new(name: &'static str, value: &'static str) -> Self {
        Label { name, value }
    }
}

/// How a stored integer is written. Values are kept as integers (no floats
/// in the kernel's hot paths); Prometheus wants base units, so nanoseconds
/// are written as seconds with up to nine decimals (`2500` → `0.0000025`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// Written as the integer itself.
    Unit,
    /// Stored in nanoseconds, written in seconds.
    NanosToSeconds,
}

/// The three Prometheus metric types we expose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A monotonic count. Its name must end in `_total`.
#[derive(Debug)]
pub struct Counter {
    name: &'static str,
    help: &'static str,
    labels: &'static [Label],
    scale: Scale,
    value: AtomicU64,
}

impl Counter {
    pub const fn new(name: &'static str, help: &'static str) -> Self {
        Counter {
            name,
            help,
            labels: &[],
            scale: Scale::Unit,
            value: AtomicU64::new(0),
        }
    }

    #[must_use]
    pub const fn with_labels(mut self, labels: &'static [Label]) -> Self {
        self.labels = labels;
        self
    }

    /// A counter of time kept in nanoseconds and written in seconds
    /// (`sis_cpu_busy_seconds_total`).
    #[must_use]
    pub const fn with_scale(mut self, scale: Scale) -> Self {
        self.scale = scale;
        self
    }

    pub fn inc(&self) {
        self.add(1);
    }

    pub fn add(&self, amount: u64) {
        self.value.fetch_add(amount, Ordering::Relaxed);
    }

    /// Mirrors a monotonic count kept elsewhere (the allocator's own
    /// statistics): the counter moves up to `value` and never goes back.
    pub fn raise_to(&self, value: u64) {
        self.value.fetch_max(value, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.value.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down.
#[derive(Debug)]
pub struct Gauge {
    name: &'static str,
    help: &'static str,
    labels: &'static [Label],
    scale: Scale,
    value: AtomicI64,
}

impl Gauge {
    pub const fn new(name: &'static str, help: &'static str) -> Self {
        Gauge {
            name,
            help,
            labels: &[],
            scale: Scale::Unit,
            value: AtomicI64::new(0),
        }
    }

    #[must_use]
    pub const fn with_labels(mut self, labels: &'static [Label]) -> Self {
        self.labels = labels;
        self
    }

    #[must_use]
    pub const fn with_scale(mut self, scale: Scale) -> Self {
        self.scale = scale;
        self
    }

    /// A gauge that starts at `value` (the build-info gauge starts at 1).
    #[must_use]
    pub const fn with_value(self, value: i64) -> Self {
        Gauge {
            value: AtomicI64::new(value),
            ..self
        }
    }

    pub fn set(&self, value: i64) {
        self.value.store(value, Ordering::Relaxed);
    }

    /// Sets from an unsigned figure, saturating at `i64::MAX`.
    pub fn set_unsigned(&self, value: u64) {
        self.set(i64::try_from(value).unwrap_or(i64::MAX));
    }

    pub fn add(&self, amount: i64) {
        self.value.fetch_add(amount, Ordering::Relaxed);
    }

    pub fn get(&self) -> i64 {
        self.value.load(Ordering::Relaxed)
    }
}

/// Most finite buckets a [`Histogram`] has (the `+Inf` bucket comes on top).
pub const MAX_HISTOGRAM_BUCKETS: usize = 16;

/// Observations counted into fixed buckets. `bounds` are the inclusive upper
/// bounds (`le`), strictly increasing, at most [`MAX_HISTOGRAM_BUCKETS`].
#[derive(Debug)]
pub struct Histogram {
    name: &'static str,
    help: &'static str,
    labels: &'static [Label],
    scale: Scale,
    bounds: &'static [u64],
    /// Per-bucket (not cumulative) counts; index `bounds.len()` is `+Inf`.
    counts: [AtomicU64; MAX_HISTOGRAM_BUCKETS + 1],
    sum: AtomicU64,
}

impl Histogram {
    /// # Panics
    /// At compile time (in a `static`/`const`) when there are too many bounds.
    pub const fn new(name: &'static str, help: &'static str, bounds: &'static [u64]) -> Self {
        assert!(
            bounds.len() <= MAX_HISTOGRAM_BUCKETS,
            "too many histogram buckets"
        );
        Histogram {
            name,
            help,
            labels: &[],
            scale: Scale::Unit,
            bounds,
            counts: [const { AtomicU64::new(0) }; MAX_HISTOGRAM_BUCKETS + 1],
            sum: AtomicU64::new(0),
        }
    }

    #[must_use]
    pub const fn with_labels(mut self, labels: &'static [Label]) -> Self {
        self.labels = labels;
        self
    }

    #[must_use]
    pub const fn with_scale(mut self, scale: Scale) -> Self {
        self.scale = scale;
        self
    }

    pub fn observe(&self, value: u64) {
        let bucket = self
            .bounds
            .iter()
            .position(|&bound| value <= bound)
            .unwrap_or(self.bounds.len());
        // `bounds.len() <= MAX_HISTOGRAM_BUCKETS` (checked in `new`), so the
        // index is in range; `get` keeps this panic-free anyway.
        if let Some(count) = self.counts.get(bucket) {
            count.fetch_add(1, Ordering::Relaxed);
        }
        self.sum.fetch_add(value, Ordering::Relaxed);
    }

    pub fn bounds(&self) -> &'static [u64] {
        self.bounds
    }

    /// Cumulative counts per bound, then the `+Inf` bucket (the total count).
    pub fn cumulative_counts(&self) -> impl Iterator<Item = u64> + '_ {
        self.counts[..=self.bounds.len()]
            .iter()
            .scan(0u64, |running, count| {
                *running = running.saturating_add(count.load(Ordering::Relaxed));
                Some(*running)
            })
    }

    pub fn sum(&self) -> u64 {
        self.sum.load(Ordering::Relaxed)
    }
}

/// One series in an exposition.
#[derive(Clone, Copy, Debug)]
pub enum Metric<'a> {
    Counter(&'a Counter),
    Gauge(&'a Gauge),
    Histogram(&'a Histogram),
}

impl Metric<'_> {
    pub fn name(&self) -> &'static str {
        match self {
            Metric::Counter(counter) => counter.name,
            Metric::Gauge(gauge) => gauge.name,
            Metric::Histogram(histogram) => histogram.name,
        }
    }

    pub fn help(&self) -> &'static str {
        match self {
            Metric::Counter(counter) => counter.help,
            Metric::Gauge(gauge) => gauge.help,
            Metric::Histogram(histogram) => histogram.help,
        }
    }

    pub fn labels(&self) -> &'static [Label] {
        match self {
            Metric::Counter(counter) => counter.labels,
            Metric::Gauge(gauge) => gauge.labels,
            Metric::Histogram(histogram) => histogram.labels,
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Metric::Counter(_) => Kind::Counter,
            Metric::Gauge(_) => Kind::Gauge,
            Metric::Histogram(_) => Kind::Histogram,
        }
    }
}

/// Why a set of metrics would not make a clean exposition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Problem {
    pub name: &'static str,
    pub reason: &'static str,
}

/// Checks what `promtool check metrics` would object to, so a bad name or a
/// split family fails a host test instead of a scrape: names and label names
/// match the Prometheus grammar, counters end in `_total`, histogram bounds
/// increase, a family's series are adjacent, share kind and HELP, and differ
/// in their labels.
pub fn validate(metrics: &[Metric<'_>]) -> Result<(), Problem> {
    for (index, metric) in metrics.iter().enumerate() {
        let name = metric.name();
        let problem = |reason| Err(Problem { name, reason });
        if !is_valid_name(name, true) {
            return problem("metric name does not match [a-zA-Z_:][a-zA-Z0-9_:]*");
        }
        if metric.kind() == Kind::Counter && !name.ends_with("_total") {
            return problem("counter name does not end in _total");
        }
        if metric.kind() != Kind::Counter && name.ends_with("_total") {
            return problem("only counters may end in _total");
        }
        for (position, label) in metric.labels().iter().enumerate() {
            if !is_valid_name(label.name, false) || label.name.starts_with("__") {
                return problem("label name is invalid or reserved");
            }
            if metric.kind() == Kind::Histogram && label.name == "le" {
                return problem("histograms may not carry an le label of their own");
            }
            if metric.labels()[..position]
                .iter()
                .any(|earlier| earlier.name == label.name)
            {
                return problem("label name repeats within a series");
            }
        }
        if let Metric::Histogram(histogram) = metric {
            if histogram.bounds.windows(2).any(|pair| pair[0] >= pair[1]) {
                return problem("histogram bounds do not strictly increase");
            }
        }
        let earlier = &metrics[..index];
        let same_family = |other: &&Metric<'_>| other.name() == name;
        if let Some(previous) = earlier.last() {
            if previous.name() != name && earlier.iter().any(|other| same_family(&other)) {
                return problem("series of one family are not adjacent");
            }
        }
        for other in earlier.iter().filter(same_family) {
            if other.kind() != metric.kind() || other.help() != metric.help() {
                return problem("series of one family differ in type or HELP");
            }
            if same_label_set(other.labels(), metric.labels()) {
                return problem("duplicate series (same name and labels)");
            }
        }
    }
    Ok(())
}

fn same_label_set(first: &[Label], second: &[Label]) -> bool {
    first.len() == second.len() && first.iter().all(|label| second.contains(label))
}

/// The Prometheus data model's grammar: metric names may hold `:`, label
/// names may not.
fn is_valid_name(name: &str, allows_colon: bool) -> bool {
    let mut bytes = name.bytes();
    let first_ok = matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_'))
        || (allows_colon && name.starts_with(':'));
    first_ok
        && bytes.all(|byte| {
            byte.is_ascii_alphanumeric() || byte == b'_' || (allows_colon && byte == b':')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    static REQUESTS: Counter = Counter::new("requests_total", "Requests.");
    static DEPTH: Gauge = Gauge::new("queue_depth", "Depth.");
    static SIZES: Histogram = Histogram::new("size_bytes", "Sizes.", &[10, 100]);

    #[test]
    fn counters_only_go_up() {
        let counter = Counter::new("c_total", "c");
        counter.inc();
        counter.add(4);
        counter.raise_to(3);
        assert_eq!(counter.get(), 5);
        counter.raise_to(9);
        assert_eq!(counter.get(), 9);
    }

    #[test]
    fn gauges_move_both_ways_and_saturate_from_unsigned() {
        let gauge = Gauge::new("g", "g").with_value(1);
        gauge.add(-3);
        assert_eq!(gauge.get(), -2);
        gauge.set_unsigned(u64::MAX);
        assert_eq!(gauge.get(), i64::MAX);
    }

    #[test]
    fn histograms_count_into_inclusive_buckets() {
        let histogram = Histogram::new("h", "h", &[10, 100]);
        for value in [0, 10, 11, 100, 101, u64::MAX / 2] {
            histogram.observe(value);
        }
        let counts: std::vec::Vec<u64> = histogram.cumulative_counts().collect();
        assert_eq!(counts, [2, 4, 6]);
        assert_eq!(histogram.sum(), 10 + 11 + 100 + 101 + u64::MAX / 2);
    }

    #[test]
    fn validate_accepts_a_clean_set() {
        let set = [
            Metric::Counter(&REQUESTS),
            Metric::Gauge(&DEPTH),
            Metric::Histogram(&SIZES),
        ];
        assert_eq!(validate(&set), Ok(()));
    }

    #[test]
    fn validate_reports_what_promtool_would() {
        static NO_TOTAL: Counter = Counter::new("requests", "r");
        static BAD_NAME: Gauge = Gauge::new("9lives", "g");
        static GAUGE_TOTAL: Gauge = Gauge::new("x_total", "g");
        static BAD_LABEL: Gauge = Gauge::new("g", "g").with_labels(&[Label::new("__x", "1")]);
        static LE: Histogram = Histogram::new("h", "h", &[1]).with_labels(&[Label::new("le", "1")]);
        static UNSORTED: Histogram = Histogram::new("h", "h", &[5, 5]);
        static A1: Counter = Counter::new("a_total", "a").with_labels(&[Label::new("m", "1")]);
        static A2: Counter = Counter::new("a_total", "a").with_labels(&[Label::new("m", "2")]);
        static A1_AGAIN: Counter =
            Counter::new("a_total", "a").with_labels(&[Label::new("m", "1")]);
        static A_OTHER_HELP: Counter =
            Counter::new("a_total", "other").with_labels(&[Label::new("m", "3")]);
        let cases: [&[Metric<'_>]; 9] = [
            &[Metric::Counter(&NO_TOTAL)],
            &[Metric::Gauge(&BAD_NAME)],
            &[Metric::Gauge(&GAUGE_TOTAL)],
            &[Metric::Gauge(&BAD_LABEL)],
            &[Metric::Histogram(&LE)],
            &[Metric::Histogram(&UNSORTED)],
            &[
                Metric::Counter(&A1),
                Metric::Gauge(&DEPTH),
                Metric::Counter(&A2),
            ],
            &[Metric::Counter(&A1), Metric::Counter(&A1_AGAIN)],
            &[Metric::Counter(&A1), Metric::Counter(&A_OTHER_HELP)],
        ];
        for case in cases {
            assert!(validate(case).is_err(), "{:?}", case[0].name());
        }
        assert_eq!(
            validate(&[Metric::Counter(&A1), Metric::Counter(&A2)]),
            Ok(())
        );
    }
}
