//! Tells the reference-tool tests (`tests/external_tools.rs`) which tools are missing.
//!
//! libtest cannot ignore a test at run time, so the decision is made here:
//! outside CI a missing `jq` or `promtool` sets `missing_jq` /
//! `missing_promtool`, and the tests that need it are compiled as ignored
//! with the reason, so `cargo test` reports them as ignored instead of
//! passing without checking anything. Under `CI=true` nothing is set: the
//! tests run and fail on the missing tool (CI must install it).

use std::process::{Command, Stdio};

fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn main() {
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rerun-if-env-changed=PATH");
    println!("cargo::rerun-if-env-changed=PROMTOOL");
    println!("cargo::rustc-check-cfg=cfg(missing_jq, missing_promtool)");
    if std::env::var("CI").is_ok_and(|value| value == "true") {
        return;
    }
    if !runs("jq") {
        println!("cargo::rustc-cfg=missing_jq");
    }
    let promtool = std::env::var("PROMTOOL").unwrap_or_else(|_| "promtool".into());
    if !runs(&promtool) {
        println!("cargo::rustc-cfg=missing_promtool");
    }
}
