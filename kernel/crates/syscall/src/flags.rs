//! Flag words: any unknown bit, or a combination that means nothing, is
//! EINVAL, so a future flag can never be silently ignored.

use sis_abi::Errno;

/// open's flags, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenFlags(u64);

impl OpenFlags {
    pub const READ: u64 = 1;
    pub const WRITE: u64 = 2;
    /// Create the file when it is missing.
    pub const CREATE: u64 = 4;
    /// Empty the file on open (needs WRITE, excludes APPEND).
    pub const TRUNCATE: u64 = 8;
    /// Every write goes to the end (needs WRITE, excludes TRUNCATE).
    pub const APPEND: u64 = 16;
    const KNOWN: u64 = Self::READ | Self::WRITE | Self::CREATE | Self::TRUNCATE | Self::APPEND;

    pub fn from_raw(raw: u64) -> Result<OpenFlags, Errno> {
        let writes = raw & Self::WRITE != 0;
        let invalid = raw & !Self::KNOWN != 0
            || raw & (Self::READ | Self::WRITE) == 0
            || (raw & (Self::TRUNCATE | Self::APPEND) != 0 && !writes)
            || raw & (Self::TRUNCATE | Self::APPEND) == Self::TRUNCATE | Self::APPEND;
        if invalid {
            Err(Errno::EINVAL)
        } else {
            Ok(OpenFlags(raw))
        }
    }

    pub fn has(self, flag: u64) -> bool {
        self.0 & flag != 0
    }
}

/// mmap's protection, checked: readable always, writable optionally, never
/// executable (W^X: a process cannot create code at run time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protection {
    pub writable: bool,
}

impl Protection {
    pub const READ: u64 = 1;
    pub const WRITE: u64 = 2;
    pub const EXEC: u64 = 4;

    pub fn from_raw(raw: u64) -> Result<Protection, Errno> {
        match raw {
            Self::READ => Ok(Protection { writable: false }),
            r if r == Self::READ | Self::WRITE => Ok(Protection { writable: true }),
            _ => Err(Errno::EINVAL),
        }
    }
}

/// getrandom's flags: none are defined, so only 0 passes.
pub fn check_no_flags(raw: u64) -> Result<(), Errno> {
    if raw == 0 {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_accepts_meaningful_combinations() {
        for raw in [1, 2, 3, 2 | 4, 1 | 2 | 4 | 8, 2 | 16, 1 | 4] {
            assert!(OpenFlags::from_raw(raw).is_ok(), "{raw}");
        }
        assert!(OpenFlags::from_raw(2 | 4).unwrap().has(OpenFlags::CREATE));
        assert!(!OpenFlags::from_raw(1).unwrap().has(OpenFlags::WRITE));
    }

    #[test]
    fn open_rejects_unknown_bits_and_nonsense() {
        assert_eq!(OpenFlags::from_raw(0), Err(Errno::EINVAL)); // neither read nor write
        assert_eq!(OpenFlags::from_raw(32 | 1), Err(Errno::EINVAL)); // first unknown bit
        assert_eq!(OpenFlags::from_raw(1 << 63 | 1), Err(Errno::EINVAL));
        assert_eq!(OpenFlags::from_raw(1 | 8), Err(Errno::EINVAL)); // truncate read-only
        assert_eq!(OpenFlags::from_raw(1 | 16), Err(Errno::EINVAL)); // append read-only
        assert_eq!(OpenFlags::from_raw(2 | 8 | 16), Err(Errno::EINVAL));
        assert_eq!(OpenFlags::from_raw(u64::MAX), Err(Errno::EINVAL));
    }

    #[test]
    fn protection_is_read_or_read_write_only() {
        assert_eq!(Protection::from_raw(1), Ok(Protection { writable: false }));
        assert_eq!(Protection::from_raw(3), Ok(Protection { writable: true }));
        for raw in [0, 2, 4, 5, 7, 8, u64::MAX] {
            assert_eq!(Protection::from_raw(raw), Err(Errno::EINVAL), "{raw}");
        }
    }

    #[test]
    fn no_flags_means_zero() {
        assert_eq!(check_no_flags(0), Ok(()));
        assert_eq!(check_no_flags(1), Err(Errno::EINVAL));
        assert_eq!(check_no_flags(u64::MAX), Err(Errno::EINVAL));
    }
}
