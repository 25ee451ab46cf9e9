//! The three metric formats: Prometheus text 0.0.4, one JSON document, and simple `name value` lines.
//!
//! One walk over the series drives all three; the formats differ only in
//! what they write per family and per sample. Multi-line formats end each
//! line with `\n` (the kernel's console turns it into `\r\n`).

use core::fmt::{self, Write};

use super::{Label, Metric, Scale};
use crate::escape::{write_json_str, write_prometheus_text};

/// How `metricsctl --format` prints the metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricFormat {
    /// Prometheus text exposition format 0.0.4 (passes `promtool check metrics`).
    Prometheus,
    /// One JSON document on one line: `{"metrics":[…]}`.
    Json,
    /// One `name value` line per sample (labels, if any, are part of the name).
    Simple,
    /// Only the values, space-separated on one line, in the order `Simple`
    /// lists the samples: a fifth of the bytes, for soaks that scrape every
    /// second over a slow serial port and learn the names once per boot.
    Values,
}

impl MetricFormat {
    pub const fn as_str(self) -> &'static str {
        match self {
            MetricFormat::Prometheus => "prometheus",
            MetricFormat::Json => "json",
            MetricFormat::Simple => "simple",
            MetricFormat::Values => "values",
        }
    }

    /// Parses `prometheus`, `json` or `simple` (exact, as the shell takes them).
    pub fn parse(name: &str) -> Option<MetricFormat> {
        [
            MetricFormat::Prometheus,
            MetricFormat::Json,
            MetricFormat::Simple,
            MetricFormat::Values,
        ]
        .into_iter()
        .find(|format| format.as_str() == name)
    }
}

/// Writes `metrics` in `format`. Series of one family must be adjacent
/// (see [`super::validate`]): HELP and TYPE are written when the name changes.
pub fn write_metrics<W: Write + ?Sized>(
    sink: &mut W,
    metrics: &[Metric<'_>],
    format: MetricFormat,
) -> fmt::Result {
    if format == MetricFormat::Values {
        // The simple lines, each cut down to its value by the adapter.
        let mut values = ValuesOnly { sink, line: [0; VALUES_LINE_BYTES], length: 0, is_first: true };
        // Through `dyn Write`, so this generic function does not instantiate itself forever.
        write_metrics(&mut values as &mut dyn Write, metrics, MetricFormat::Simple)?;
        return values.sink.write_char('\n');
    }
    if format == MetricFormat::Json {
        sink.write_str("{\"metrics\":[")?;
    }
    let mut previous_name = None;
    for metric in metrics {
        let is_new_family = previous_name != Some(metric.name());
        match format {
            // Values was turned into Simple lines above.
            MetricFormat::Prometheus | MetricFormat::Simple | MetricFormat::Values => {
                if is_new_family && format == MetricFormat::Prometheus {
                    write_prometheus_header(sink, metric)?;
                }
                write_text_sample(sink, metric)?;
            }
            MetricFormat::Json => {
                if is_new_family {
                    if previous_name.is_some() {
                        sink.write_str("]},")?;
                    }
                    sink.write_str("{\"name\":")?;
                    write_json_str(sink, metric.name())?;
                    write!(sink, ",\"type\":\"{}\",\"help\":", metric.kind().as_str())?;
                    write_json_str(sink, metric.help())?;
                    sink.write_str(",\"samples\":[")?;
                } else {
                    sink.write_char(',')?;
                }
                write_json_sample(sink, metric)?;
            }
        }
        previous_name = Some(metric.name());
    }
    if format == MetricFormat::Json {
        if previous_name.is_some() {
            sink.write_str("]}")?;
        }
        sink.write_str("]}")?;
    }
    Ok(())
}

/// Longest simple-format line the values adapter holds; the value of a longer
/// line (a huge label set) is still found, from the line's last bytes.
const VALUES_LINE_BYTES: usize = 128;

/// Turns `name{labels} value\n` lines into `value value ...`, without a heap:
/// it keeps the tail of the current line and writes what follows its last space.
struct ValuesOnly<'a, W: Write + ?Sized> {
    sink: &'a mut W,
    line: [u8; VALUES_LINE_BYTES],
    length: usize,
    is_first: bool,
}

impl<W: Write + ?Sized> Write for ValuesOnly<'_, W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for &byte in text.as_bytes() {
            if byte == b'\n' {
                let line = &self.line[..self.length];
                let value = line.rsplit(|&b| b == b' ').next().unwrap_or(line);
                if !self.is_first {
                    self.sink.write_char(' ')?;
                }
                self.is_first = false;
                // Values are ASCII digits, signs, dots, exponents and Inf/NaN.
                for &digit in value {
                    self.sink.write_char(char::from(digit))?;
                }
                self.length = 0;
            } else {
                if self.length == VALUES_LINE_BYTES {
                    // Keep the tail: the value is at the end of the line.
                    self.line.copy_within(VALUES_LINE_BYTES / 2.., 0);
                    self.length = VALUES_LINE_BYTES / 2;
                }
                self.line[self.length] = byte;
                self.length += 1;
            }
        }
        Ok(())
    }
}

fn write_prometheus_header<W: Write + ?Sized>(sink: &mut W, metric: &Metric<'_>) -> fmt::Result {
    write!(sink, "# HELP {} ", metric.name())?;
    write_prometheus_text(sink, metric.help(), false)?;
    writeln!(
        sink,
        "\n# TYPE {} {}",
        metric.name(),
        metric.kind().as_str()
    )
}

/// Prometheus and simple samples: `name{labels} value` lines; a histogram
/// gives its cumulative `_bucket` lines (ending with `le="+Inf"`), `_sum`
/// and `_count` (equal to the `+Inf` bucket by construction).
fn write_text_sample<W: Write + ?Sized>(sink: &mut W, metric: &Metric<'_>) -> fmt::Result {
    let name = metric.name();
    let labels = metric.labels();
    match metric {
        Metric::Counter(counter) => write_text_line(
            sink,
            name,
            "",
            labels,
            None,
            counter.get().into(),
            counter.scale,
        ),
        Metric::Gauge(gauge) => write_text_line(
            sink,
            name,
            "",
            labels,
            None,
            gauge.get().into(),
            gauge.scale,
        ),
        Metric::Histogram(histogram) => {
            let mut total = 0;
            let bounds = histogram.bounds().iter().map(Some).chain([None]);
            for (bound, cumulative) in bounds.zip(histogram.cumulative_counts()) {
                let bound = bound.map(|&bound| (bound, histogram.scale));
                write_text_line(
                    sink,
                    name,
                    "_bucket",
                    labels,
                    Some(bound),
                    cumulative.into(),
                    Scale::Unit,
                )?;
                total = cumulative;
            }
            write_text_line(
                sink,
                name,
                "_sum",
                labels,
                None,
                histogram.sum().into(),
                histogram.scale,
            )?;
            write_text_line(
                sink,
                name,
                "_count",
                labels,
                None,
                total.into(),
                Scale::Unit,
            )
        }
    }
}

/// `le`: `Some(None)` is the `+Inf` bucket.
type LeBound = Option<Option<(u64, Scale)>>;

fn write_text_line<W: Write + ?Sized>(
    sink: &mut W,
    name: &str,
    suffix: &str,
    labels: &[Label],
    le: LeBound,
    value: i128,
    scale: Scale,
) -> fmt::Result {
    write!(sink, "{name}{suffix}")?;
    if !labels.is_empty() || le.is_some() {
        sink.write_char('{')?;
        for (index, label) in labels.iter().enumerate() {
            if index > 0 {
                sink.write_char(',')?;
            }
            write!(sink, "{}=\"", label.name)?;
            write_prometheus_text(sink, label.value, true)?;
            sink.write_char('"')?;
        }
        if let Some(bound) = le {
            if !labels.is_empty() {
                sink.write_char(',')?;
            }
            sink.write_str("le=\"")?;
            write_bound(sink, bound)?;
            sink.write_char('"')?;
        }
        sink.write_char('}')?;
    }
    sink.write_char(' ')?;
    write_number(sink, value, scale)?;
    sink.write_char('\n')
}

fn write_bound<W: Write + ?Sized>(sink: &mut W, bound: Option<(u64, Scale)>) -> fmt::Result {
    match bound {
        Some((bound, scale)) => write_number(sink, bound.into(), scale),
        None => sink.write_str("+Inf"),
    }
}

/// `{"labels":{…},"value":v}` or, for a histogram,
/// `{"labels":{…},"buckets":[{"le":"…","count":c},…],"sum":s,"count":n}`.
/// `le` is a string because `+Inf` is not a JSON number.
fn write_json_sample<W: Write + ?Sized>(sink: &mut W, metric: &Metric<'_>) -> fmt::Result {
    sink.write_str("{\"labels\":{")?;
    for (index, label) in metric.labels().iter().enumerate() {
        if index > 0 {
            sink.write_char(',')?;
        }
        write_json_str(sink, label.name)?;
        sink.write_char(':')?;
        write_json_str(sink, label.value)?;
    }
    sink.write_str("},")?;
    match metric {
        Metric::Counter(counter) => {
            sink.write_str("\"value\":")?;
            write_number(sink, counter.get().into(), counter.scale)?;
        }
        Metric::Gauge(gauge) => {
            sink.write_str("\"value\":")?;
            write_number(sink, gauge.get().into(), gauge.scale)?;
        }
        Metric::Histogram(histogram) => {
            sink.write_str("\"buckets\":[")?;
            let mut total = 0;
            let bounds = histogram.bounds().iter().map(Some).chain([None]);
            for (index, (bound, cumulative)) in
                bounds.zip(histogram.cumulative_counts()).enumerate()
            {
                if index > 0 {
                    sink.write_char(',')?;
                }
                sink.write_str("{\"le\":\"")?;
                write_bound(sink, bound.map(|&bound| (bound, histogram.scale)))?;
                write!(sink, "\",\"count\":{cumulative}}}")?;
                total = cumulative;
            }
            sink.write_str("],\"sum\":")?;
            write_number(sink, histogram.sum().into(), histogram.scale)?;
            write!(sink, ",\"count\":{total}")?;
        }
    }
    sink.write_char('}')
}

/// Writes an integer, or nanoseconds as seconds with the trailing zeros of
/// the fraction dropped (`2500` → `0.0000025`, `3_000_000_000` → `3`). Both
/// shapes are valid Prometheus floats and JSON numbers.
fn write_number<W: Write + ?Sized>(sink: &mut W, value: i128, scale: Scale) -> fmt::Result {
    match scale {
        Scale::Unit => write!(sink, "{value}"),
        Scale::NanosToSeconds => {
            const NANOS_PER_SECOND: u128 = 1_000_000_000;
            let magnitude = value.unsigned_abs();
            let (seconds, mut fraction) =
                (magnitude / NANOS_PER_SECOND, magnitude % NANOS_PER_SECOND);
            let sign = if value < 0 { "-" } else { "" };
            write!(sink, "{sign}{seconds}")?;
            if fraction == 0 {
                return Ok(());
            }
            let mut width = 9;
            while fraction % 10 == 0 {
                fraction /= 10;
                width -= 1;
            }
            write!(sink, ".{fraction:0width$}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{validate, Counter, Gauge, Histogram};
    use super::*;
    use std::string::String;

    static MODE_A: [Label; 1] = [Label::new("mode", "a\"b\\c\nd")];
    static MODE_B: [Label; 1] = [Label::new("mode", "plain")];
    static INJECTIONS_A: Counter =
        Counter::new("x_injections_total", "Injections.").with_labels(&MODE_A);
    static INJECTIONS_B: Counter =
        Counter::new("x_injections_total", "Injections.").with_labels(&MODE_B);
    static LATENCY: Gauge = Gauge::new("x_latency_seconds", "Latency.\nSecond \\ line.")
        .with_scale(Scale::NanosToSeconds);
    static DURATION: Histogram =
        Histogram::new("x_duration_seconds", "Durations.", &[500, 1_000_000_000])
            .with_scale(Scale::NanosToSeconds);

    fn render(metrics: &[Metric<'_>], format: MetricFormat) -> String {
        let mut out = String::new();
        write_metrics(&mut out, metrics, format).unwrap();
        out
    }

    #[test]
    fn numbers_in_seconds_drop_trailing_zeros() {
        let cases = [
            (0, "0"),
            (2500, "0.0000025"),
            (1, "0.000000001"),
            (3_000_000_000, "3"),
            (1_500_000_000, "1.5"),
            (-250, "-0.00000025"),
            (i128::from(u64::MAX), "18446744073.709551615"),
        ];
        for (value, expected) in cases {
            let mut out = String::new();
            write_number(&mut out, value, Scale::NanosToSeconds).unwrap();
            assert_eq!(out, expected);
        }
    }

    #[test]
    fn prometheus_writes_help_and_type_once_per_family() {
        INJECTIONS_A.add(2);
        LATENCY.set(2500);
        DURATION.observe(400);
        DURATION.observe(2_000_000_000);
        let metrics = [
            Metric::Counter(&INJECTIONS_A),
            Metric::Counter(&INJECTIONS_B),
            Metric::Gauge(&LATENCY),
            Metric::Histogram(&DURATION),
        ];
        assert_eq!(validate(&metrics), Ok(()));
        let text = render(&metrics, MetricFormat::Prometheus);
        assert_eq!(
            text,
            concat!(
                "# HELP x_injections_total Injections.\n",
                "# TYPE x_injections_total counter\n",
                "x_injections_total{mode=\"a\\\"b\\\\c\\nd\"} 2\n",
                "x_injections_total{mode=\"plain\"} 0\n",
                "# HELP x_latency_seconds Latency.\\nSecond \\\\ line.\n",
                "# TYPE x_latency_seconds gauge\n",
                "x_latency_seconds 0.0000025\n",
                "# HELP x_duration_seconds Durations.\n",
                "# TYPE x_duration_seconds histogram\n",
                "x_duration_seconds_bucket{le=\"0.0000005\"} 1\n",
                "x_duration_seconds_bucket{le=\"1\"} 1\n",
                "x_duration_seconds_bucket{le=\"+Inf\"} 2\n",
                "x_duration_seconds_sum 2.0000004\n",
                "x_duration_seconds_count 2\n",
            )
        );
        let simple = render(&metrics, MetricFormat::Simple);
        assert!(simple.starts_with("x_injections_total{mode=\"a\\\"b\\\\c\\nd\"} 2\nx_injections_total{mode=\"plain\"} 0\n"));
        assert!(simple.contains("\nx_latency_seconds 0.0000025\n"));
        assert!(!simple.contains('#'));
        let values = render(&metrics, MetricFormat::Values);
        let expected: Vec<&str> = simple.lines().map(|line| line.rsplit(' ').next().unwrap()).collect();
        assert_eq!(values, expected.join(" ") + "\n");
        assert_eq!(values, "2 0 0.0000025 1 1 2 2.0000004 2\n");
    }

    #[test]
    fn values_format_finds_the_value_after_a_label_longer_than_its_buffer() {
        static LONG: [Label; 1] = [Label::new("path", "a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g h i j k l m n o p")];
        static WIDE: Gauge = Gauge::new("x_wide", "Wide.").with_labels(&LONG).with_value(-42);
        assert_eq!(render(&[Metric::Gauge(&WIDE), Metric::Gauge(&LATENCY)], MetricFormat::Values), "-42 0.0000025\n");
    }

    #[test]
    fn json_is_one_document_grouped_by_family() {
        let metrics = [
            Metric::Counter(&INJECTIONS_A),
            Metric::Counter(&INJECTIONS_B),
            Metric::Gauge(&LATENCY),
            Metric::Histogram(&DURATION),
        ];
        let text = render(&metrics, MetricFormat::Json);
        assert!(!text.contains('\n'));
        let document: serde_json::Value = serde_json::from_str(&text).unwrap();
        let families = document["metrics"].as_array().unwrap();
        assert_eq!(families.len(), 3);
        assert_eq!(families[0]["name"], "x_injections_total");
        assert_eq!(families[0]["type"], "counter");
        assert_eq!(families[0]["samples"].as_array().unwrap().len(), 2);
        assert_eq!(families[0]["samples"][0]["labels"]["mode"], "a\"b\\c\nd");
        assert_eq!(families[1]["help"], "Latency.\nSecond \\ line.");
        let histogram = &families[2]["samples"][0];
        assert_eq!(
            histogram["buckets"].as_array().unwrap().last().unwrap()["le"],
            "+Inf"
        );
        assert_eq!(histogram["count"], histogram["buckets"][2]["count"]);
        assert_eq!(render(&[], MetricFormat::Json), "{\"metrics\":[]}");
    }

    #[test]
    fn format_names_parse_exactly() {
        assert_eq!(
            MetricFormat::parse("prometheus"),
            Some(MetricFormat::Prometheus)
        );
        assert_eq!(MetricFormat::parse("json"), Some(MetricFormat::Json));
        assert_eq!(MetricFormat::parse("simple"), Some(MetricFormat::Simple));
        assert_eq!(MetricFormat::parse("Prometheus"), None);
        assert_eq!(MetricFormat::parse("text"), None);
    }
}
