//! The kernel's logging facade: `log_event!` and `log_kv!` build a record
//! and hand it to `emit`, which prints it in the current format, on a line
//! of its own (prefixed `\x01sis:log ` in machine mode).

use core::fmt;
use core::sync::atomic::{AtomicU8, Ordering};

use crate::{arch, console};

/// Severity of a record, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
    Fatal = 5,
}

impl Level {
    pub const fn name(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
            Level::Fatal => "FATAL",
        }
    }
}

static MIN_LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);

pub fn enabled(level: Level) -> bool {
    level as u8 >= MIN_LEVEL.load(Ordering::Relaxed)
}

/// Microseconds since boot, the `ts` of every record.
pub fn timestamp_us() -> u64 {
    arch::monotonic_ns() / 1_000
}

/// Prints one record: `[LEVEL] subsystem: status key=value ...`.
pub fn emit(level: Level, subsystem: &str, status: &str, fields: &[(&str, &dyn fmt::Display)]) {
    if !enabled(level) {
        return;
    }
    console::finish_line();
    if console::is_framed() {
        console::write_bytes(&[sis_abi::frame::MARK]);
        console::write_str(sis_abi::frame::LOG);
        console::write_str(" ");
    }
    crate::print!("[{}] {}: {}", level.name(), subsystem, status);
    for (key, value) in fields {
        crate::print!(" {}={}", key, value);
    }
    console::write_str("\n");
}

/// Logs an event: `log_event!("fs", "mounted", Info)`, with optional
/// `key = value` fields after the level.
#[macro_export]
macro_rules! log_event {
    ($subsystem:expr, $status:expr, $level:ident $(, $key:ident = $value:expr)* $(,)?) => {
        $crate::log::emit(
            $crate::log::Level::$level,
            $subsystem,
            $status,
            &[$((stringify!($key), &$value as &dyn core::fmt::Display)),*],
        )
    };
}

/// Logs one key/value: `log_kv!("perf", "ctx_switch_ns", 1234, Info)`.
#[macro_export]
macro_rules! log_kv {
    ($subsystem:expr, $key:expr, $value:expr, $level:ident) => {
        $crate::log::emit(
            $crate::log::Level::$level,
            $subsystem,
            "value",
            &[($key, &$value as &dyn core::fmt::Display)],
        )
    };
}
