//! Minimal JSON string writer for the kernel's own records (RFC 8259 §7).

use core::fmt;

/// Writes `value` as a JSON string literal, escaping quotes, backslashes and
/// control characters.
pub fn write_string(out: &mut dyn fmt::Write, value: &str) -> fmt::Result {
    out.write_char('"')?;
    for ch in value.chars() {
        match ch {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            c if (c as u32) < 0x20 || c == '\u{7f}' => write!(out, "\\u{:04x}", c as u32)?,
            c => out.write_char(c)?,
        }
    }
    out.write_char('"')
}
