//! Run-time log settings (`logctl`): the output format and the minimum level, kept in atomics.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU8, Ordering};

use crate::level::Level;

/// The two line formats of a log record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Format {
    /// `[INFO] fs: mounted key=value`: for people at a terminal.
    Human = 0,
    /// One JSON object per line: for `jq` and the `sis` CLI.
    Json = 1,
}

impl Format {
    pub const fn as_str(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
        }
    }

    /// Parses `human` or `json` (exact, lower case, as `logctl` takes them).
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "human" => Some(Format::Human),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// The kernel's log settings, safe to keep in a `static` and to read from
/// any context (including the panic path) without a lock.
#[derive(Debug)]
pub struct LogControl {
    format: AtomicU8,
    min_level: AtomicU8,
}

impl LogControl {
    pub const fn new(format: Format, min_level: Level) -> Self {
        LogControl {
            format: AtomicU8::new(format as u8),
            min_level: AtomicU8::new(min_level as u8),
        }
    }

    pub fn format(&self) -> Format {
        // Only `set_format` stores here, and it stores a valid `Format`.
        if self.format.load(Ordering::Relaxed) == Format::Json as u8 {
            Format::Json
        } else {
            Format::Human
        }
    }

    pub fn set_format(&self, format: Format) {
        self.format.store(format as u8, Ordering::Relaxed);
    }

    pub fn min_level(&self) -> Level {
        Level::from_u8(self.min_level.load(Ordering::Relaxed)).unwrap_or(Level::Trace)
    }

    pub fn set_min_level(&self, level: Level) {
        self.min_level.store(level as u8, Ordering::Relaxed);
    }

    /// True when a record of `level` should be emitted (FATAL always is:
    /// no minimum level lies above it).
    pub fn is_enabled(&self, level: Level) -> bool {
        level >= self.min_level()
    }

    /// The `logctl status` line: `format=json level=INFO`.
    pub fn write_status<W: Write + ?Sized>(&self, sink: &mut W) -> fmt::Result {
        write!(
            sink,
            "format={} level={}",
            self.format().as_str(),
            self.min_level()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    #[test]
    fn settings_switch_at_run_time_and_filter_by_level() {
        let control = LogControl::new(Format::Human, Level::Info);
        assert!(!control.is_enabled(Level::Debug));
        assert!(control.is_enabled(Level::Info));
        control.set_format(Format::Json);
        control.set_min_level(Level::Error);
        assert_eq!(control.format(), Format::Json);
        assert!(!control.is_enabled(Level::Warn));
        assert!(control.is_enabled(Level::Fatal));
        let mut status = String::new();
        control.write_status(&mut status).unwrap();
        assert_eq!(status, "format=json level=ERROR");
    }

    #[test]
    fn format_names_parse_exactly() {
        assert_eq!(Format::parse("json"), Some(Format::Json));
        assert_eq!(Format::parse("human"), Some(Format::Human));
        assert_eq!(Format::parse("JSON"), None);
        assert_eq!(Format::parse(""), None);
    }
}
