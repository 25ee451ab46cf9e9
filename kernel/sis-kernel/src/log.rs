//! The kernel's logging facade over `sis_observe::Logger`: `log_event!` and
//! `log_kv!` build a record (timestamp in µs since boot) and `emit` filters
//! it, keeps it in the ring for `dmesg` and the panic report, and prints it
//! on a line of its own (prefixed `\x01sis:log ` in machine mode).
//!
//! Nothing here allocates, so the allocator's own chaos point and early
//! boot may log.

use sis_observe::{Format, Level, Logger, Record};

use crate::{arch, console};

/// 256 records of up to 256 bytes: 64 KiB of recent history without a heap.
static LOGGER: Logger<256, 256> = Logger::new(Format::Human, Level::Info);

pub fn logger() -> &'static Logger<256, 256> {
    &LOGGER
}

/// Microseconds since boot, the `ts` of every record.
pub fn timestamp_us() -> u64 {
    arch::monotonic_ns() / 1_000
}

/// Prints and stores one record.
pub fn emit(record: &Record<'_>) {
    if !LOGGER.control().is_enabled(record.level) {
        return;
    }
    console::locked(|| {
        console::finish_line();
        if console::is_framed() {
            console::write_bytes(&[sis_abi::frame::MARK]);
            console::write_str(sis_abi::frame::LOG);
            console::write_str(" ");
        }
        let _ = LOGGER.log(record, &mut console::Console);
        console::write_str("\n");
    });
}

/// Logs an event: `log_event!("fs", "mounted", Info)`, with optional
/// `key = value` fields (strings, integers, booleans) after the level.
#[macro_export]
macro_rules! log_event {
    ($subsystem:expr, $status:expr, $level:ident $(, $key:ident = $value:expr)* $(,)?) => {
        $crate::log::emit(
            &sis_observe::Record::new(
                $crate::log::timestamp_us(),
                sis_observe::Level::$level,
                $subsystem,
                $status,
            )
            $(.with(stringify!($key), $value))*,
        )
    };
}

/// Logs one key/value: `log_kv!("perf", "ctx_switch_ns", 1234u64, Info)`.
#[macro_export]
macro_rules! log_kv {
    ($subsystem:expr, $key:expr, $value:expr, $level:ident) => {
        $crate::log::emit(
            &sis_observe::Record::new($crate::log::timestamp_us(), sis_observe::Level::$level, $subsystem, "value")
                .with($key, $value),
        )
    };
}
