//! Log levels, from TRACE (most verbose) to FATAL.

use core::fmt;
use core::str::FromStr;

/// How severe a log record is. Ordered: `Trace < Debug < … < Fatal`, so a
/// minimum level filters with `>=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
    /// Every level, least severe first.
    pub const ALL: [Level; 6] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Fatal,
    ];

    /// The upper-case name written in both log formats.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
            Level::Fatal => "FATAL",
        }
    }

    /// The level with this `repr(u8)` number, for levels kept in atomics.
    pub const fn from_u8(number: u8) -> Option<Level> {
        match number {
            0 => Some(Level::Trace),
            1 => Some(Level::Debug),
            2 => Some(Level::Info),
            3 => Some(Level::Warn),
            4 => Some(Level::Error),
            5 => Some(Level::Fatal),
            _ => None,
        }
    }

    /// Parses a level name in any letter case (`info`, `Info`, `INFO`).
    pub fn parse(name: &str) -> Option<Level> {
        Level::ALL
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Level {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The string named no level; the shell reports it as `EINVAL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseLevelError;

impl fmt::Display for ParseLevelError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("expected one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL")
    }
}

impl FromStr for Level {
    type Err = ParseLevelError;

    fn from_str(name: &str) -> Result<Level, ParseLevelError> {
        Level::parse(name).ok_or(ParseLevelError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_every_name_in_any_case() {
        for level in Level::ALL {
            assert_eq!(Level::parse(level.as_str()), Some(level));
            assert_eq!(Level::parse(&level.as_str().to_lowercase()), Some(level));
        }
        assert_eq!("wArN".parse::<Level>(), Ok(Level::Warn));
    }

    #[test]
    fn parse_rejects_other_strings() {
        for bad in ["", " info", "INFO ", "warning", "inf", "FATALE", "ＩＮＦＯ"] {
            assert_eq!(Level::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn levels_are_ordered_by_severity_and_round_trip_through_u8() {
        assert!(Level::Trace < Level::Debug && Level::Error < Level::Fatal);
        for level in Level::ALL {
            assert_eq!(Level::from_u8(level as u8), Some(level));
        }
        assert_eq!(Level::from_u8(6), None);
    }
}
