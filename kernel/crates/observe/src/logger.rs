//! The logging facade's core: level filter, format switch and ring in one `static`-friendly struct.
//!
//! The kernel wraps it in its `log_event!`/`log_kv!` macros, which add the
//! timestamp and hand over the console: this struct decides whether a
//! record is emitted, keeps a copy for `dmesg` and the panic report, and
//! formats it. It never blocks: the ring is taken with `try_lock`, and a
//! record logged while the ring is busy (by an interrupted logger, or the
//! panic path) is still printed but not stored, and counted as dropped.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU64, Ordering};

use spin::mutex::SpinMutex;

use crate::control::{Format, LogControl};
use crate::level::Level;
use crate::record::Record;
use crate::ring::LogRing;

/// Log settings plus a ring of the last `SLOTS` records of up to
/// `SLOT_BYTES` bytes each (no heap: usable from the first line of boot).
pub struct Logger<const SLOTS: usize, const SLOT_BYTES: usize> {
    control: LogControl,
    ring: SpinMutex<LogRing<SLOTS, SLOT_BYTES>>,
    dropped: AtomicU64,
}

impl<const SLOTS: usize, const SLOT_BYTES: usize> fmt::Debug for Logger<SLOTS, SLOT_BYTES> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Logger")
            .field("control", &self.control)
            .field("dropped", &self.dropped())
            .finish()
    }
}

impl<const SLOTS: usize, const SLOT_BYTES: usize> Logger<SLOTS, SLOT_BYTES> {
    pub const fn new(format: Format, min_level: Level) -> Self {
        Logger {
            control: LogControl::new(format, min_level),
            ring: SpinMutex::new(LogRing::new()),
            dropped: AtomicU64::new(0),
        }
    }

    /// The `logctl` settings.
    pub fn control(&self) -> &LogControl {
        &self.control
    }

    /// Emits `record` if its level passes the filter: stores a copy in the
    /// ring and writes it to `console` as one line in the current format
    /// (without terminator: the console adds `\r\n` and, when framing is
    /// on, the `\x01sis:log ` prefix). Returns whether it was emitted.
    pub fn log<W: Write + ?Sized>(
        &self,
        record: &Record<'_>,
        console: &mut W,
    ) -> Result<bool, fmt::Error> {
        if !self.control.is_enabled(record.level) {
            return Ok(false);
        }
        match self.ring.try_lock() {
            Some(mut ring) => ring.push(record),
            None => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        record.write(console, self.control.format())?;
        Ok(true)
    }

    /// Records printed but not stored because the ring was busy.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// `dmesg`: every stored record, oldest first, in the current format,
    /// each followed by `\n`. `None` if the ring is busy right now.
    pub fn dmesg<W: Write + ?Sized>(&self, sink: &mut W) -> Option<fmt::Result> {
        self.write_recent(SLOTS, sink)
    }

    /// The newest `count` records (the panic report's "last log records"),
    /// each followed by `\n`. `None`, writing nothing, if the ring is busy
    /// (a panic inside the logger): the caller says so instead of waiting.
    pub fn write_recent<W: Write + ?Sized>(
        &self,
        count: usize,
        sink: &mut W,
    ) -> Option<fmt::Result> {
        let ring = self.ring.try_lock()?;
        let format = self.control.format();
        let result = ring.recent(count).try_for_each(|record| {
            record.write(sink, format)?;
            sink.write_char('\n')
        });
        Some(result)
    }

    /// Records held, records overwritten since boot: for `logctl status`.
    pub fn ring_usage(&self) -> Option<(usize, u64)> {
        let ring = self.ring.try_lock()?;
        Some((ring.len(), ring.overwritten()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    #[test]
    fn filters_stores_and_replays_in_the_current_format() {
        let logger = Logger::<4, 128>::new(Format::Human, Level::Info);
        let mut console = String::new();
        assert_eq!(
            logger.log(&Record::new(1, Level::Debug, "x", "hidden"), &mut console),
            Ok(false)
        );
        assert!(console.is_empty());
        assert_eq!(
            logger.log(
                &Record::new(2, Level::Info, "fs", "mounted").with("blocks", 8u8),
                &mut console
            ),
            Ok(true)
        );
        assert_eq!(console, "[INFO] fs: mounted blocks=8");

        logger.control().set_format(Format::Json);
        let mut replay = String::new();
        logger.dmesg(&mut replay).unwrap().unwrap();
        assert_eq!(replay, "{\"ts\":2,\"level\":\"INFO\",\"subsystem\":\"fs\",\"status\":\"mounted\",\"blocks\":8}\n");
        assert_eq!(logger.ring_usage(), Some((1, 0)));
    }

    #[test]
    fn keeps_only_the_newest_records() {
        let logger = Logger::<2, 64>::new(Format::Human, Level::Trace);
        let mut console = String::new();
        for ts in 0..5 {
            logger
                .log(&Record::new(ts, Level::Info, "t", "tick"), &mut console)
                .unwrap();
        }
        let mut last = String::new();
        logger.write_recent(1, &mut last).unwrap().unwrap();
        assert_eq!(last, "[INFO] t: tick\n");
        assert_eq!(logger.ring_usage(), Some((2, 3)));
    }

    #[test]
    fn a_busy_ring_never_blocks_logging_or_the_panic_report() {
        let logger = Logger::<2, 64>::new(Format::Human, Level::Trace);
        let guard = logger.ring.lock();
        let mut console = String::new();
        assert_eq!(
            logger.log(
                &Record::new(1, Level::Error, "x", "still printed"),
                &mut console
            ),
            Ok(true)
        );
        assert_eq!(console, "[ERROR] x: still printed");
        assert_eq!(logger.dropped(), 1);
        assert!(logger.write_recent(5, &mut String::new()).is_none());
        drop(guard);
        assert_eq!(logger.ring_usage(), Some((0, 0)));
    }
}
