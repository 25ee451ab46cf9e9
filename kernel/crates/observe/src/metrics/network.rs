//! The network's metrics beyond the frame counters of `KernelMetrics`:
//! errors and drops per direction, TCP connections accepted, HTTP answers by code.

use super::{Counter, Label, Metric};

/// Status codes of `sis_http_requests_total`, in the order of the kernel's
/// `sis_net::http::Status::ALL` (the kernel maps one onto the other by index).
pub const HTTP_CODE_LABELS: [&str; 7] = ["200", "400", "404", "405", "408", "431", "503"];

const HTTP_LABEL_SETS: [&[Label]; 7] = [
    &[Label::new("code", HTTP_CODE_LABELS[0])],
    &[Label::new("code", HTTP_CODE_LABELS[1])],
    &[Label::new("code", HTTP_CODE_LABELS[2])],
    &[Label::new("code", HTTP_CODE_LABELS[3])],
    &[Label::new("code", HTTP_CODE_LABELS[4])],
    &[Label::new("code", HTTP_CODE_LABELS[5])],
    &[Label::new("code", HTTP_CODE_LABELS[6])],
];

const fn http_counter(labels: &'static [Label]) -> Counter {
    Counter::new("sis_http_requests_total", "HTTP requests the kernel answered, by status code.").with_labels(labels)
}

/// Series in [`NetworkMetrics::metrics`].
pub const NETWORK_METRIC_COUNT: usize = 12;

#[derive(Debug)]
pub struct NetworkMetrics {
    pub rx_errors: Counter,
    pub tx_errors: Counter,
    pub rx_dropped: Counter,
    pub tx_dropped: Counter,
    pub tcp_accepted: Counter,
    pub http_requests: [Counter; 7],
}

impl NetworkMetrics {
    pub const fn new() -> Self {
        NetworkMetrics {
            rx_errors: Counter::new("sis_net_rx_errors_total", "Frames the network device failed to receive."),
            tx_errors: Counter::new("sis_net_tx_errors_total", "Frames the network device refused to send."),
            rx_dropped: Counter::new(
                "sis_net_rx_dropped_total",
                "Received frames dropped at the driver (network_fail fault injection).",
            ),
            tx_dropped: Counter::new(
                "sis_net_tx_dropped_total",
                "Frames dropped at the driver instead of being sent (network_fail fault injection).",
            ),
            tcp_accepted: Counter::new("sis_tcp_connections_accepted_total", "TCP connections the kernel's services accepted."),
            http_requests: [
                http_counter(HTTP_LABEL_SETS[0]),
                http_counter(HTTP_LABEL_SETS[1]),
                http_counter(HTTP_LABEL_SETS[2]),
                http_counter(HTTP_LABEL_SETS[3]),
                http_counter(HTTP_LABEL_SETS[4]),
                http_counter(HTTP_LABEL_SETS[5]),
                http_counter(HTTP_LABEL_SETS[6]),
            ],
        }
    }

    /// Every series, families adjacent.
    pub fn metrics(&self) -> [Metric<'_>; NETWORK_METRIC_COUNT] {
        let [h0, h1, h2, h3, h4, h5, h6] = &self.http_requests;
        [
            Metric::Counter(&self.rx_errors),
            Metric::Counter(&self.tx_errors),
            Metric::Counter(&self.rx_dropped),
            Metric::Counter(&self.tx_dropped),
            Metric::Counter(&self.tcp_accepted),
            Metric::Counter(h0),
            Metric::Counter(h1),
            Metric::Counter(h2),
            Metric::Counter(h3),
            Metric::Counter(h4),
            Metric::Counter(h5),
            Metric::Counter(h6),
        ]
    }
}

impl Default for NetworkMetrics {
    fn default() -> Self {
        NetworkMetrics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::super::{validate, KernelMetrics};
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    #[test]
    fn the_network_set_is_valid_alone_and_after_the_kernel_set() {
        let network = NetworkMetrics::new();
        assert_eq!(validate(&network.metrics()), Ok(()));
        let kernel = KernelMetrics::new(&[]);
        let mut all: Vec<Metric<'_>> = kernel.metrics().to_vec();
        all.extend(network.metrics());
        assert_eq!(validate(&all), Ok(()));
        network.http_requests[2].inc();
        let mut text = String::new();
        super::super::write_metrics(&mut text, &network.metrics(), super::super::MetricFormat::Prometheus).unwrap();
        assert!(text.contains("sis_http_requests_total{code=\"404\"} 1\n"), "{text}");
        assert!(text.contains("# TYPE sis_tcp_connections_accepted_total counter\n"));
    }
}
