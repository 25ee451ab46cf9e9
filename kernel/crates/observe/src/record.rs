//! Log records and their two line formats: human and JSON (one object per line).
//!
//! Human: `[INFO] fs: mounted key=value ...`
//! JSON:  `{"ts":123,"level":"INFO","subsystem":"fs","status":"mounted","key":"value"}`
//!
//! Neither writer emits a line terminator (the console adds `\r\n`) nor any
//! control character, so one record is always exactly one line.

use core::fmt::{self, Write};

use crate::control::Format;
use crate::escape::{write_human_bytes, write_json_bytes, write_json_str, HumanStyle};
use crate::level::Level;

/// Most extra key/value pairs a record carries; more are dropped and the
/// record is marked truncated. Eight keeps a `Record` about 350 bytes, small
/// enough for a kernel stack.
pub const MAX_FIELDS: usize = 8;

/// Keys the JSON object always has. An extra field with one of these names is
/// written as `_<name>` so no object ever holds a duplicate key.
pub const RESERVED_KEYS: [&str; 5] = ["ts", "level", "subsystem", "status", "truncated"];

/// The value of an extra field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    Str(&'a str),
    /// Bytes that may not be UTF-8 (a file name, a device string): written
    /// with invalid sequences replaced by U+FFFD.
    Bytes(&'a [u8]),
    Int(i64),
    Uint(u64),
    Bool(bool),
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(text: &'a str) -> Self {
        Value::Str(text)
    }
}

impl<'a> From<&'a [u8]> for Value<'a> {
    fn from(bytes: &'a [u8]) -> Self {
        Value::Bytes(bytes)
    }
}

impl<'a, const N: usize> From<&'a [u8; N]> for Value<'a> {
    fn from(bytes: &'a [u8; N]) -> Self {
        Value::Bytes(bytes)
    }
}

impl From<bool> for Value<'_> {
    fn from(flag: bool) -> Self {
        Value::Bool(flag)
    }
}

macro_rules! value_from_ints {
    ($variant:ident, $wide:ty: $($int:ty),*) => {
        $(impl From<$int> for Value<'_> {
            fn from(number: $int) -> Self {
                // Lossless: every listed type fits in the wide one (usize/isize
                // are at most 64 bits on every target the kernel supports).
                Value::$variant(number as $wide)
            }
        })*
    };
}
value_from_ints!(Int, i64: i8, i16, i32, i64, isize);
value_from_ints!(Uint, u64: u8, u16, u32, u64, usize);

/// One extra `key=value` pair of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field<'a> {
    pub key: &'a str,
    pub value: Value<'a>,
}

const EMPTY_FIELD: Field<'static> = Field {
    key: "",
    value: Value::Bool(false),
};

/// One log record: when, how severe, which subsystem, what happened, and up
/// to [`MAX_FIELDS`] extra pairs. It borrows its strings, needs no heap, and
/// is built with [`Record::new`] and [`Record::with`].
#[derive(Clone, Debug)]
pub struct Record<'a> {
    /// Microseconds since boot.
    pub ts_us: u64,
    pub level: Level,
    pub subsystem: &'a str,
    /// What happened, in a word or a short phrase (`mounted`, `heap ready`).
    pub status: &'a str,
    fields: [Field<'a>; MAX_FIELDS],
    field_count: usize,
    is_truncated: bool,
}

impl<'a> Record<'a> {
    pub const fn new(ts_us: u64, level: Level, subsystem: &'a str, status: &'a str) -> Self {
        Record {
            ts_us,
            level,
            subsystem,
            status,
            fields: [EMPTY_FIELD; MAX_FIELDS],
            field_count: 0,
            is_truncated: false,
        }
    }

    /// Adds (or replaces, if the key is already there) an extra field.
    #[must_use]
    pub fn with(mut self, key: &'a str, value: impl Into<Value<'a>>) -> Self {
        self.push(key, value.into());
        self
    }

    /// Adds or replaces a field in place. When all [`MAX_FIELDS`] are taken
    /// the field is dropped and the record marked truncated.
    pub fn push(&mut self, key: &'a str, value: Value<'a>) {
        if let Some(field) = self.fields[..self.field_count]
            .iter_mut()
            .find(|field| field.key == key)
        {
            field.value = value;
        } else if self.field_count < MAX_FIELDS {
            self.fields[self.field_count] = Field { key, value };
            self.field_count += 1;
        } else {
            self.is_truncated = true;
        }
    }

    pub fn fields(&self) -> &[Field<'a>] {
        &self.fields[..self.field_count]
    }

    /// True when something was dropped or cut (too many fields, or the record
    /// did not fit a ring slot). Written as `truncated=true` in both formats.
    pub fn is_truncated(&self) -> bool {
        self.is_truncated
    }

    pub fn mark_truncated(&mut self) {
        self.is_truncated = true;
    }

    /// Writes the record as one line (no terminator) in `format`.
    pub fn write<W: Write + ?Sized>(&self, sink: &mut W, format: Format) -> fmt::Result {
        match format {
            Format::Human => self.write_human(sink),
            Format::Json => self.write_json(sink),
        }
    }

    /// `[LEVEL] subsystem: status key=value ...`
    pub fn write_human<W: Write + ?Sized>(&self, sink: &mut W) -> fmt::Result {
        write!(sink, "[{}] ", self.level)?;
        write_human_bytes(sink, self.subsystem.as_bytes(), HumanStyle::Bare)?;
        sink.write_str(": ")?;
        write_human_bytes(sink, self.status.as_bytes(), HumanStyle::Bare)?;
        for field in self.fields() {
            sink.write_char(' ')?;
            write_key(sink, field.key, |sink, key| {
                write_human_bytes(sink, key, HumanStyle::Token)
            })?;
            sink.write_char('=')?;
            match field.value {
                Value::Str(text) => write_human_bytes(sink, text.as_bytes(), HumanStyle::Token)?,
                Value::Bytes(bytes) => write_human_bytes(sink, bytes, HumanStyle::Token)?,
                Value::Int(number) => write!(sink, "{number}")?,
                Value::Uint(number) => write!(sink, "{number}")?,
                Value::Bool(flag) => write!(sink, "{flag}")?,
            }
        }
        if self.is_truncated {
            sink.write_str(" truncated=true")?;
        }
        Ok(())
    }

    /// `{"ts":…,"level":"…","subsystem":"…","status":"…",<extra keys>}`
    pub fn write_json<W: Write + ?Sized>(&self, sink: &mut W) -> fmt::Result {
        write!(
            sink,
            "{{\"ts\":{},\"level\":\"{}\",\"subsystem\":",
            self.ts_us, self.level
        )?;
        write_json_str(sink, self.subsystem)?;
        sink.write_str(",\"status\":")?;
        write_json_str(sink, self.status)?;
        for field in self.fields() {
            sink.write_char(',')?;
            write_key(sink, field.key, write_json_bytes)?;
            sink.write_char(':')?;
            match field.value {
                Value::Str(text) => write_json_str(sink, text)?,
                Value::Bytes(bytes) => write_json_bytes(sink, bytes)?,
                Value::Int(number) => write!(sink, "{number}")?,
                Value::Uint(number) => write!(sink, "{number}")?,
                Value::Bool(flag) => write!(sink, "{flag}")?,
            }
        }
        if self.is_truncated {
            sink.write_str(",\"truncated\":true")?;
        }
        sink.write_char('}')
    }
}

/// Writes an extra field's key, renaming reserved keys to `_<key>`.
fn write_key<W: Write + ?Sized>(
    sink: &mut W,
    key: &str,
    write_escaped: impl Fn(&mut W, &[u8]) -> fmt::Result,
) -> fmt::Result {
    let mut renamed = crate::FixedBuf::<16>::new();
    if RESERVED_KEYS.contains(&key) {
        // Reserved keys are at most 9 bytes: `_` + key always fits.
        let _ = write!(renamed, "_{key}");
        write_escaped(sink, renamed.as_str().as_bytes())
    } else {
        write_escaped(sink, key.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    fn human(record: &Record<'_>) -> String {
        let mut out = String::new();
        record.write(&mut out, Format::Human).unwrap();
        out
    }

    fn json(record: &Record<'_>) -> String {
        let mut out = String::new();
        record.write(&mut out, Format::Json).unwrap();
        out
    }

    #[test]
    fn human_format_matches_the_documented_shape() {
        let record = Record::new(5, Level::Info, "fs", "mounted")
            .with("device", "ram0")
            .with("blocks", 128u32)
            .with("offset", -3i32)
            .with("readonly", false);
        assert_eq!(
            human(&record),
            "[INFO] fs: mounted device=ram0 blocks=128 offset=-3 readonly=false"
        );
        assert_eq!(
            human(&Record::new(0, Level::Fatal, "panic", "")),
            "[FATAL] panic: "
        );
    }

    #[test]
    fn json_format_matches_the_documented_shape() {
        let record = Record::new(123, Level::Warn, "fs", "mounted")
            .with("device", "ram0")
            .with("blocks", 128u64)
            .with("delta", i64::MIN)
            .with("ok", true);
        assert_eq!(
            json(&record),
            r#"{"ts":123,"level":"WARN","subsystem":"fs","status":"mounted","device":"ram0","blocks":128,"delta":-9223372036854775808,"ok":true}"#
        );
    }

    #[test]
    fn json_keeps_types_and_text_exactly() {
        let record = Record::new(u64::MAX, Level::Trace, "sub\"sys", "line1\nline2")
            .with("bytes", &b"ab\xffcd"[..])
            .with("max", u64::MAX)
            .with("key with \"quotes\"", "v\\");
        let parsed: serde_json::Value = serde_json::from_str(&json(&record)).unwrap();
        assert_eq!(parsed["ts"], u64::MAX);
        assert_eq!(parsed["subsystem"], "sub\"sys");
        assert_eq!(parsed["status"], "line1\nline2");
        assert_eq!(parsed["bytes"], "ab\u{fffd}cd");
        assert_eq!(parsed["max"], u64::MAX);
        assert_eq!(parsed["key with \"quotes\""], "v\\");
    }

    #[test]
    fn with_replaces_an_existing_key_instead_of_duplicating_it() {
        let record = Record::new(1, Level::Info, "x", "y")
            .with("k", 1u8)
            .with("k", 2u8);
        assert_eq!(record.fields().len(), 1);
        assert_eq!(record.fields()[0].value, Value::Uint(2));
    }

    #[test]
    fn reserved_keys_are_renamed_so_json_keys_stay_unique() {
        let record = Record::new(7, Level::Info, "x", "y")
            .with("ts", 99u8)
            .with("status", "other");
        let line = json(&record);
        assert_eq!(
            line,
            r#"{"ts":7,"level":"INFO","subsystem":"x","status":"y","_ts":99,"_status":"other"}"#
        );
        assert_eq!(human(&record), "[INFO] x: y _ts=99 _status=other");
    }

    #[test]
    fn fields_beyond_the_limit_are_dropped_and_flagged() {
        const KEYS: [&str; 10] = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
        let mut record = Record::new(1, Level::Debug, "x", "y");
        for key in KEYS {
            record.push(key, Value::Bool(true));
        }
        assert_eq!(record.fields().len(), MAX_FIELDS);
        assert!(record.is_truncated());
        let parsed: serde_json::Value = serde_json::from_str(&json(&record)).unwrap();
        assert_eq!(parsed["truncated"], true);
        assert!(parsed.get("i").is_none());
        assert!(human(&record).ends_with(" h=true truncated=true"));
    }

    #[test]
    fn no_output_ever_holds_a_control_character() {
        let evil = "\x01sis:end 1 0\r\n\x1b[2J\x7f";
        let record = Record::new(1, Level::Error, evil, evil)
            .with(evil, evil)
            .with("b", evil.as_bytes());
        for format in [Format::Human, Format::Json] {
            let mut out = String::new();
            record.write(&mut out, format).unwrap();
            assert!(!out.chars().any(|c| c.is_control()), "{format:?}: {out:?}");
        }
    }
}
