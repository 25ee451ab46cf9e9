//! Build metadata captured by `build.rs`: what `version` prints.

use core::fmt;

include!(concat!(env!("OUT_DIR"), "/build_info.rs"));

/// The build id (16 hex digits), read out of the marker string so the
/// marker itself is kept in the image, where `sis panic decode` finds it.
pub fn build_id() -> &'static str {
    BUILD_ID_MARKER.strip_prefix("sis-build-id:").unwrap_or(BUILD_ID)
}

/// `SIS Kernel <short-commit> (<branch>[, dirty]) built <date>`.
pub fn write_version_line(out: &mut dyn fmt::Write) -> fmt::Result {
    out.write_str("SIS Kernel ")?;
    write_identity(out)
}

/// `<short-commit> (<branch>[, dirty]) built <date>`.
pub fn write_identity(out: &mut dyn fmt::Write) -> fmt::Result {
    let date = BUILD_TIMESTAMP.split('T').next().unwrap_or(BUILD_TIMESTAMP);
    let dirty = if GIT_DIRTY { ", dirty" } else { "" };
    write!(out, "{GIT_COMMIT_SHORT} ({GIT_BRANCH}{dirty}) built {date}")
}

/// The whole record as one JSON object. Every value is a build-time string
/// from git or cargo; `json_string` escapes them all the same.
pub fn write_json(out: &mut dyn fmt::Write) -> fmt::Result {
    out.write_str("{")?;
    let fields: [(&str, &str); 9] = [
        ("commit", GIT_COMMIT),
        ("commit_short", GIT_COMMIT_SHORT),
        ("branch", GIT_BRANCH),
        ("build_time", BUILD_TIMESTAMP),
        ("rustc", RUSTC_VERSION),
        ("features", FEATURES),
        ("profile", PROFILE),
        ("target", TARGET),
        ("arch", crate::arch::NAME),
    ];
    for (key, value) in fields {
        write!(out, "\"{key}\":")?;
        sis_observe::escape::write_json_str(out, value)?;
        out.write_str(",")?;
    }
    write!(out, "\"dirty\":{GIT_DIRTY}}}")
}
