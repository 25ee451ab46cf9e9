//! Real-time clocks: wall-clock time, as opposed to the monotonic [`crate::Timer`].

use crate::DeviceError;

/// A wall clock.
pub trait Rtc {
    /// Seconds since 1970-01-01T00:00:00Z.
    ///
    /// Errors: `Io` if the clock could not be read or holds no valid time
    /// (for example a battery-backed clock that lost power).
    fn unix_seconds(&self) -> Result<u64, DeviceError>;
}

/// A clock that reads whatever it was set to; for tests and for machines
/// without an RTC (it then reports `Io` until someone sets it).
#[derive(Clone, Copy, Debug, Default)]
pub struct FixedRtc {
    seconds: Option<u64>,
}

impl FixedRtc {
    /// A clock showing `seconds`.
    pub const fn new(seconds: u64) -> Self {
        FixedRtc {
            seconds: Some(seconds),
        }
    }

    /// A clock that has no valid time.
    pub const fn unset() -> Self {
        FixedRtc { seconds: None }
    }

    pub fn set(&mut self, seconds: u64) {
        self.seconds = Some(seconds);
    }
}

impl Rtc for FixedRtc {
    fn unix_seconds(&self) -> Result<u64, DeviceError> {
        self.seconds.ok_or(DeviceError::Io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_clock_reports_io_until_set() {
        let mut clock = FixedRtc::unset();
        assert_eq!(clock.unix_seconds(), Err(DeviceError::Io));
        clock.set(1_700_000_000);
        assert_eq!(clock.unix_seconds(), Ok(1_700_000_000));
        assert_eq!(FixedRtc::new(5).unix_seconds(), Ok(5));
    }
}
