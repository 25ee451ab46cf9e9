//! Chaos modes, injection points, which point each mode fires at, and parsing of the shell's arguments.

use core::fmt;

use sis_abi::Errno;

/// What kind of fault to inject. Names (`disk_full`, …) are what the shell
/// takes and prints, exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Mode {
    /// No faults (the boot default).
    None = 0,
    /// Block writes fail with ENOSPC.
    DiskFull = 1,
    /// Block writes fail with EIO.
    DiskFail = 2,
    /// Network sends fail with ENETDOWN.
    NetworkFail = 3,
    /// Heap allocations fail (callers report ENOMEM).
    MemoryPressure = 4,
    /// Panic points panic.
    RandomPanic = 5,
    /// I/O is delayed by the configured number of microseconds.
    SlowIo = 6,
}

impl Mode {
    /// Every mode, in `repr` order.
    pub const ALL: [Mode; 7] = [
        Mode::None,
        Mode::DiskFull,
        Mode::DiskFail,
        Mode::NetworkFail,
        Mode::MemoryPressure,
        Mode::RandomPanic,
        Mode::SlowIo,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Mode::None => "none",
            Mode::DiskFull => "disk_full",
            Mode::DiskFail => "disk_fail",
            Mode::NetworkFail => "network_fail",
            Mode::MemoryPressure => "memory_pressure",
            Mode::RandomPanic => "random_panic",
            Mode::SlowIo => "slow_io",
        }
    }

    /// Parses a mode name, exactly as [`Mode::name`] prints it.
    pub fn parse(name: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|mode| mode.name() == name)
    }

    pub const fn from_u8(number: u8) -> Option<Mode> {
        if (number as usize) < Mode::ALL.len() {
            Some(Mode::ALL[number as usize])
        } else {
            None
        }
    }

    /// Position in [`Mode::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The only point this mode fires at (`None` fires nowhere).
    pub const fn point(self) -> Option<Point> {
        match self {
            Mode::None => None,
            Mode::DiskFull | Mode::DiskFail => Some(Point::BlockWrite),
            Mode::NetworkFail => Some(Point::NetworkSend),
            Mode::MemoryPressure => Some(Point::Allocation),
            Mode::RandomPanic => Some(Point::PanicPoint),
            Mode::SlowIo => Some(Point::IoDelay),
        }
    }

    /// The errno a failure injected in this mode reports (none for the
    /// delay and panic modes).
    pub const fn errno(self) -> Option<Errno> {
        match self {
            Mode::DiskFull => Some(Errno::ENOSPC),
            Mode::DiskFail => Some(Errno::EIO),
            Mode::NetworkFail => Some(Errno::ENETDOWN),
            Mode::MemoryPressure => Some(Errno::ENOMEM),
            Mode::None | Mode::RandomPanic | Mode::SlowIo => None,
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// A place in the kernel that asks [`crate::Chaos::should_inject`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Point {
    /// The ramfs writing a block to its block device.
    BlockWrite,
    /// The global allocator handing out memory.
    Allocation,
    /// A network device sending a packet.
    NetworkSend,
    /// An I/O operation that may be slowed down.
    IoDelay,
    /// A place where a random panic may be raised.
    PanicPoint,
}

impl Point {
    pub const ALL: [Point; 5] = [
        Point::BlockWrite,
        Point::Allocation,
        Point::NetworkSend,
        Point::IoDelay,
        Point::PanicPoint,
    ];

    /// The name written in injection log records.
    pub const fn name(self) -> &'static str {
        match self {
            Point::BlockWrite => "block_write",
            Point::Allocation => "allocation",
            Point::NetworkSend => "network_send",
            Point::IoDelay => "io_delay",
            Point::PanicPoint => "panic_point",
        }
    }
}

impl fmt::Display for Point {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// A `chaos` argument the shell could not use. Every variant is `EINVAL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChaosError {
    UnknownMode,
    InvalidRate,
    InvalidSeed,
    InvalidDelay,
}

impl ChaosError {
    pub const fn errno(self) -> Errno {
        Errno::EINVAL
    }
}

impl fmt::Display for ChaosError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            ChaosError::UnknownMode => {
                "unknown mode (none, disk_full, disk_fail, network_fail, memory_pressure, random_panic, slow_io)"
            }
            ChaosError::InvalidRate => "rate must be a whole percentage from 0 to 100",
            ChaosError::InvalidSeed => "seed must be a decimal or 0x-prefixed hexadecimal u64",
            ChaosError::InvalidDelay => "delay must be a whole number of microseconds below 2^32",
        })
    }
}

/// Parses `chaos rate <0-100>`: a decimal percentage.
pub fn parse_rate(text: &str) -> Result<u8, ChaosError> {
    match parse_decimal(text).and_then(|rate| u8::try_from(rate).ok()) {
        Some(rate) if rate <= 100 => Ok(rate),
        _ => Err(ChaosError::InvalidRate),
    }
}

/// Parses `chaos seed <n>`: decimal, or hexadecimal after `0x`.
pub fn parse_seed(text: &str) -> Result<u64, ChaosError> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) if !hex.is_empty() && hex.bytes().all(|byte| byte.is_ascii_hexdigit()) => {
            u64::from_str_radix(hex, 16).ok()
        }
        Some(_) => None,
        None => parse_decimal(text),
    };
    parsed.ok_or(ChaosError::InvalidSeed)
}

/// Parses `chaos delay <µs>`: the slow_io delay in microseconds.
pub fn parse_delay_us(text: &str) -> Result<u32, ChaosError> {
    parse_decimal(text)
        .and_then(|delay| u32::try_from(delay).ok())
        .ok_or(ChaosError::InvalidDelay)
}

/// Digits only: `u64::from_str` would also take a leading `+`.
fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_names_round_trip_exactly() {
        for mode in Mode::ALL {
            assert_eq!(Mode::parse(mode.name()), Some(mode));
            assert_eq!(Mode::from_u8(mode as u8), Some(mode));
            assert_eq!(Mode::ALL[mode.index()], mode);
        }
        for bad in [
            "",
            "DISK_FULL",
            "disk-full",
            "diskfull",
            " none",
            "slow_io ",
            "random",
        ] {
            assert_eq!(Mode::parse(bad), None, "{bad:?}");
        }
        assert_eq!(Mode::from_u8(7), None);
        assert_eq!(std::format!("{}", Mode::MemoryPressure), "memory_pressure");
    }

    #[test]
    fn each_mode_fires_at_its_point_with_its_errno() {
        let expected = [
            (Mode::None, None, None),
            (Mode::DiskFull, Some(Point::BlockWrite), Some(Errno::ENOSPC)),
            (Mode::DiskFail, Some(Point::BlockWrite), Some(Errno::EIO)),
            (
                Mode::NetworkFail,
                Some(Point::NetworkSend),
                Some(Errno::ENETDOWN),
            ),
            (
                Mode::MemoryPressure,
                Some(Point::Allocation),
                Some(Errno::ENOMEM),
            ),
            (Mode::RandomPanic, Some(Point::PanicPoint), None),
            (Mode::SlowIo, Some(Point::IoDelay), None),
        ];
        for (mode, point, errno) in expected {
            assert_eq!((mode.point(), mode.errno()), (point, errno), "{mode}");
        }
    }

    #[test]
    fn mode_names_match_the_metric_labels() {
        let labels = sis_observe::metrics::kernel::CHAOS_MODE_LABELS;
        let names: std::vec::Vec<&str> = Mode::ALL[1..].iter().map(|mode| mode.name()).collect();
        assert_eq!(names, labels);
    }

    #[test]
    fn arguments_parse_strictly() {
        assert_eq!(parse_rate("0"), Ok(0));
        assert_eq!(parse_rate("100"), Ok(100));
        assert_eq!(parse_rate("007"), Ok(7));
        for bad in [
            "101",
            "-1",
            "+5",
            "",
            "1.5",
            "256",
            "99999999999999999999999",
            "ten",
        ] {
            assert_eq!(parse_rate(bad), Err(ChaosError::InvalidRate), "{bad:?}");
        }
        assert_eq!(parse_seed("42"), Ok(42));
        assert_eq!(parse_seed("0xDEADbeef"), Ok(0xdead_beef));
        assert_eq!(parse_seed("18446744073709551615"), Ok(u64::MAX));
        for bad in [
            "",
            "0x",
            "0x+1",
            "18446744073709551616",
            "-1",
            "+1",
            "0xg",
            "1e3",
        ] {
            assert_eq!(parse_seed(bad), Err(ChaosError::InvalidSeed), "{bad:?}");
        }
        assert_eq!(parse_delay_us("1500"), Ok(1500));
        assert_eq!(parse_delay_us("4294967296"), Err(ChaosError::InvalidDelay));
        assert_eq!(ChaosError::InvalidRate.errno(), Errno::EINVAL);
    }
}
