//! An injected fault: what the injection point must do, and the log record that reports it.

use sis_abi::Errno;
use sis_observe::{Level, Record};

use crate::mode::{Mode, Point};

/// What the injection point does instead of its normal work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Fail the operation with this errno.
    Fail(Errno),
    /// Wait this many microseconds, then go on normally.
    Delay { delay_us: u32 },
    /// Panic (the panic handler reports it and ends the machine).
    Panic,
}

impl Effect {
    pub const fn name(self) -> &'static str {
        match self {
            Effect::Fail(_) => "fail",
            Effect::Delay { .. } => "delay",
            Effect::Panic => "panic",
        }
    }
}

/// One fault [`crate::Chaos::should_inject`] decided to inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Injection {
    pub mode: Mode,
    pub point: Point,
    pub effect: Effect,
    /// The generator draw that fired: matching checks (of any mode) counted
    /// from 1 since boot, `chaos reset` or `chaos seed`. Two runs that replay
    /// the same commands log the same numbers.
    pub check: u64,
    /// Injections of any mode since the last reset or seed change, from 1.
    pub sequence: u64,
}

impl Injection {
    /// The errno the failing operation reports, if it fails.
    pub const fn errno(&self) -> Option<Errno> {
        match self.effect {
            Effect::Fail(errno) => Some(errno),
            Effect::Delay { .. } | Effect::Panic => None,
        }
    }

    /// The log record that reports this injection: subsystem `chaos`, status
    /// `injected`, level WARN (ERROR for a panic), with the mode, point,
    /// effect, errno or delay, and counters. In JSON:
    /// `{"ts":…,"level":"WARN","subsystem":"chaos","status":"injected","mode":"disk_full","point":"block_write","effect":"fail","errno":"ENOSPC","check":3,"seq":1}`
    pub fn record(&self, ts_us: u64) -> Record<'static> {
        let level = if self.effect == Effect::Panic {
            Level::Error
        } else {
            Level::Warn
        };
        let mut record = Record::new(ts_us, level, "chaos", "injected")
            .with("mode", self.mode.name())
            .with("point", self.point.name())
            .with("effect", self.effect.name());
        match self.effect {
            Effect::Fail(errno) => record = record.with("errno", errno.name()),
            Effect::Delay { delay_us } => record = record.with("delay_us", delay_us),
            Effect::Panic => {}
        }
        record.with("check", self.check).with("seq", self.sequence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    fn json(injection: &Injection) -> serde_json::Value {
        let mut line = String::new();
        injection.record(77).write_json(&mut line).unwrap();
        serde_json::from_str(&line).unwrap()
    }

    #[test]
    fn records_carry_what_a_replay_compares() {
        let failure = Injection {
            mode: Mode::DiskFull,
            point: Point::BlockWrite,
            effect: Effect::Fail(Errno::ENOSPC),
            check: 3,
            sequence: 1,
        };
        let mut line = String::new();
        failure.record(77).write_json(&mut line).unwrap();
        assert_eq!(
            line,
            r#"{"ts":77,"level":"WARN","subsystem":"chaos","status":"injected","mode":"disk_full","point":"block_write","effect":"fail","errno":"ENOSPC","check":3,"seq":1}"#
        );
        assert_eq!(failure.errno(), Some(Errno::ENOSPC));

        let delay = Injection {
            effect: Effect::Delay { delay_us: 1500 },
            mode: Mode::SlowIo,
            point: Point::IoDelay,
            ..failure
        };
        let parsed = json(&delay);
        assert_eq!(parsed["delay_us"], 1500);
        assert!(parsed.get("errno").is_none());
        assert_eq!(delay.errno(), None);

        let panic = Injection {
            effect: Effect::Panic,
            mode: Mode::RandomPanic,
            point: Point::PanicPoint,
            ..failure
        };
        let parsed = json(&panic);
        assert_eq!(parsed["level"], "ERROR");
        assert_eq!(parsed["effect"], "panic");
        let mut human = String::new();
        panic.record(1).write_human(&mut human).unwrap();
        assert_eq!(human, "[ERROR] chaos: injected mode=random_panic point=panic_point effect=panic check=3 seq=1");
    }
}
