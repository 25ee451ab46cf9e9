//! Prints sample kernel output on the host: `cargo run -p sis-observe --example exposition -- <prometheus|json|simple|log>`.
//!
//! The figures in docs/observability.md come from this, and the CLI's
//! parser tests can take fixtures from it. The workload is synthetic and
//! fixed, so the output is the same on every run.

use std::io::Write as _;

use sis_observe::metrics::kernel::HeapFigures;
use sis_observe::metrics::{KernelMetrics, Label, MetricFormat};
use sis_observe::{Format, Level, Record};

static BUILD: [Label; 3] = [
    Label::new("version", "0.1.0"),
    Label::new("commit", "5e6789d"),
    Label::new("arch", "riscv64"),
];
static METRICS: KernelMetrics = KernelMetrics::new(&BUILD);

fn main() {
    let choice = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "prometheus".into());
    if choice == "log" {
        let records = [
            Record::new(1_250, Level::Info, "boot", "arch").with("name", "riscv64"),
            Record::new(2_004, Level::Info, "mem", "heap ready").with("bytes", 8_388_608u64),
            Record::new(9_871, Level::Warn, "fs", "write failed")
                .with("path", "/tmp/a \"b\"")
                .with("errno", "ENOSPC"),
        ];
        let mut out = String::new();
        for format in [Format::Human, Format::Json] {
            for record in &records {
                record
                    .write(&mut out, format)
                    .expect("a String never fails");
                out.push('\n');
            }
        }
        emit(&out);
        return;
    }
    let Some(format) = MetricFormat::parse(&choice) else {
        eprintln!("usage: exposition <prometheus|json|simple|log>");
        std::process::exit(2);
    };
    for step in 0..1_000u64 {
        METRICS.record_context_switch(1_500 + step * 37 % 4_000);
    }
    METRICS.update_heap(HeapFigures {
        current_bytes: 65_536,
        peak_bytes: 131_072,
        allocations: 420,
        frees: 400,
        failed_allocations: 0,
    });
    METRICS.vfs_opens.add(12);
    METRICS.vfs_reads.add(30);
    METRICS.vfs_writes.add(9);
    METRICS.record_chaos_injection("disk_full");
    METRICS.refresh(3_250_000_000);
    let mut out = String::new();
    METRICS
        .write(&mut out, format)
        .expect("a String never fails");
    if format == MetricFormat::Json {
        out.push('\n');
    }
    emit(&out);
}

/// Writes to stdout, quietly stopping if the reader went away (`| head`).
fn emit(text: &str) {
    let _ = std::io::stdout().write_all(text.as_bytes());
}
