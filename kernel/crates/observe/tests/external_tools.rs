//! Checks our output with the reference tools: `jq` for every JSON line and `promtool check metrics` for Prometheus text.
//!
//! Outside CI a test whose tool is missing is compiled as ignored, with the
//! reason (`build.rs` probes the tools); under `CI=true` it runs and fails on
//! the missing tool, since CI installs both. promtool is `$PROMTOOL`, else
//! `promtool` on PATH (`.ci/run` unpacks Debian's package onto PATH).

use std::io::Write as _;
use std::process::{Command, Stdio};

use sis_observe::metrics::kernel::HeapFigures;
use sis_observe::metrics::{KernelMetrics, Label, MetricFormat};
use sis_observe::{Format, Level, LogRing, Record, Value};

/// Runs `program args` with `input` on stdin: (success, stdout, stderr), or
/// `None` when the program cannot be started.
fn run(program: &str, args: &[&str], input: &str) -> Option<(bool, String, String)> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(input.as_bytes()).ok()?;
    let output = child.wait_with_output().ok()?;
    Some((
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

/// promtool as `build.rs` looked for it: `$PROMTOOL`, else `promtool` on PATH.
fn promtool() -> String {
    std::env::var("PROMTOOL").unwrap_or_else(|_| "promtool".into())
}

/// The fix printed when a reference tool cannot be started under CI.
const INSTALL: &str = "install it (apt-get install jq; promtool: .ci/run unpacks Debian's prometheus)";

const NASTY_TEXT: [&str; 10] = [
    "",
    "plain",
    "\"quoted\" and \\backslashed\\",
    "\u{1}sis:end 1 0\r\n",
    "\u{0}\u{7}\u{8}\u{b}\u{c}\u{1b}[31m\u{1f}\u{7f}\u{85}\u{9b}2J",
    "\u{2028}line\u{2029}separators",
    "é €  😀 ǅ",
    "}{\"ts\":0,\"level\":\"FATAL\"}",
    "\\u0000 is not an escape here",
    "key=value with=equals",
];

const NASTY_BYTES: [&[u8]; 5] = [
    b"\xff\xfe",
    b"cut \xe2\x82",
    b"\xed\xa0\x80 surrogate",
    b"\xc0\xaf overlong",
    b"ok\x00nul",
];

/// Records covering every value type and every nasty string in every slot.
fn nasty_records() -> Vec<Record<'static>> {
    let mut records = Vec::new();
    for (index, text) in NASTY_TEXT.iter().enumerate() {
        let bytes = NASTY_BYTES[index % NASTY_BYTES.len()];
        let level = Level::ALL[index % Level::ALL.len()];
        records.push(
            Record::new(index as u64 * 1_000_003, level, text, text)
                .with(text, *text)
                .with("bytes", bytes)
                .with("int", i64::MIN + index as i64)
                .with("uint", u64::MAX - index as u64)
                .with("flag", index % 2 == 0)
                .with("ts", "reserved key"),
        );
        let mut crowded = Record::new(u64::MAX, level, "crowded", text);
        for key in NASTY_TEXT {
            crowded.push(key, Value::Bytes(bytes));
        }
        records.push(crowded);
    }
    records
}

#[test]
#[cfg_attr(missing_jq, ignore = "jq not found (apt-get install jq)")]
fn every_json_log_line_passes_jq() {
    let records = nasty_records();
    // The same records straight from the writer and replayed from a small ring
    // (which cuts many of them), as `dmesg` would print them.
    let mut ring = LogRing::<32, 96>::new();
    let mut lines = Vec::new();
    for record in &records {
        let mut line = String::new();
        record.write(&mut line, Format::Json).unwrap();
        lines.push(line);
        ring.push(record);
    }
    for record in ring.iter() {
        let mut line = String::new();
        record.write(&mut line, Format::Json).unwrap();
        lines.push(line);
    }
    for line in &lines {
        assert!(
            !line.chars().any(char::is_control),
            "a record holds a control character: {line:?}"
        );
        let (ok, stdout, stderr) = run("jq", &["-c", "."], &format!("{line}\n")).expect(INSTALL);
        assert!(ok, "jq rejected {line:?}: {stderr}");
        assert_eq!(
            stdout.lines().count(),
            1,
            "jq saw more than one value in {line:?}"
        );
        // jq 1.6 turns integers beyond 2^53 into doubles: compare as doubles.
        let ours = numbers_as_doubles(serde_json::from_str(line).unwrap());
        let theirs = numbers_as_doubles(serde_json::from_str(stdout.trim_end()).unwrap());
        assert_eq!(ours, theirs);
    }
}

#[test]
#[cfg_attr(missing_promtool, ignore = "promtool not found (set PROMTOOL or unpack Debian's prometheus)")]
fn kernel_metrics_pass_promtool_check_metrics_silently() {
    let promtool = promtool();
    static BUILD: [Label; 3] = [
        Label::new("version", "0.1.0 \"quoted\" \\ back\nslash"),
        Label::new("commit", "0123456789abcdef"),
        Label::new("arch", "x86_64"),
    ];
    let metrics = KernelMetrics::new(&BUILD);
    let empty = render(&metrics, MetricFormat::Prometheus);
    for duration_ns in (1..5_000u64).map(|step| step * 97 % 300_000) {
        metrics.record_context_switch(duration_ns);
    }
    metrics.update_heap(HeapFigures {
        current_bytes: 1 << 20,
        peak_bytes: 1 << 21,
        allocations: 500,
        frees: 480,
        failed_allocations: 3,
    });
    metrics.record_chaos_injection("slow_io");
    metrics.vfs_opens.add(4);
    metrics.refresh(12_345_678_901);
    let busy = render(&metrics, MetricFormat::Prometheus);
    for text in [empty, busy] {
        let (ok, stdout, stderr) = run(&promtool, &["check", "metrics"], &text).expect(INSTALL);
        assert!(
            ok && stdout.is_empty() && stderr.is_empty(),
            "promtool complained:\n{stdout}{stderr}\non:\n{text}"
        );
    }
}

#[test]
fn metrics_json_is_one_document_with_every_family() {
    let text = metrics_json();
    let document: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        document["metrics"].as_array().unwrap().len(),
        21,
        "families"
    );
}

#[test]
#[cfg_attr(missing_jq, ignore = "jq not found (apt-get install jq)")]
fn metrics_json_document_is_one_line_for_jq() {
    let text = metrics_json();
    let (ok, stdout, stderr) = run("jq", &["-c", "."], &text).expect(INSTALL);
    assert!(ok, "{stderr}");
    assert_eq!(stdout.lines().count(), 1);
}

fn numbers_as_doubles(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        Json::Number(number) => Json::from(number.as_f64().unwrap()),
        Json::Array(items) => Json::Array(items.into_iter().map(numbers_as_doubles).collect()),
        Json::Object(map) => Json::Object(
            map.into_iter()
                .map(|(key, item)| (key, numbers_as_doubles(item)))
                .collect(),
        ),
        other => other,
    }
}

/// The metrics JSON document after one context switch, with a hostile build label.
fn metrics_json() -> String {
    static BUILD: [Label; 1] = [Label::new("version", "\u{1}\"x\"")];
    let metrics = KernelMetrics::new(&BUILD);
    metrics.record_context_switch(1234);
    metrics.refresh(1);
    render(&metrics, MetricFormat::Json)
}

fn render(metrics: &KernelMetrics, format: MetricFormat) -> String {
    let mut out = String::new();
    metrics.write(&mut out, format).unwrap();
    out
}
