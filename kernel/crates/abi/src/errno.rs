//! POSIX errno values the shell reports. Numbers follow Linux so a reader who
//! knows `errno -l` sees familiar codes.

/// An error a kernel operation reports to the shell.
///
/// The shell prints `error: <NAME>: <detail>` and the command's status is the
/// errno number, so the CLI can assert on either.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Errno {
    ENOENT = 2,
    EIO = 5,
    E2BIG = 7,
    ENOMEM = 12,
    EBUSY = 16,
    EEXIST = 17,
    ENODEV = 19,
    ENOTDIR = 20,
    EISDIR = 21,
    EINVAL = 22,
    EFBIG = 27,
    ENOSPC = 28,
    ENAMETOOLONG = 36,
    ENOTEMPTY = 39,
    ENETDOWN = 100,
    ETIMEDOUT = 110,
}

impl Errno {
    /// The symbolic name, as printed on `error:` lines.
    pub const fn name(self) -> &'static str {
        match self {
            Errno::ENOENT => "ENOENT",
            Errno::EIO => "EIO",
            Errno::E2BIG => "E2BIG",
            Errno::ENOMEM => "ENOMEM",
            Errno::EBUSY => "EBUSY",
            Errno::EEXIST => "EEXIST",
            Errno::ENODEV => "ENODEV",
            Errno::ENOTDIR => "ENOTDIR",
            Errno::EISDIR => "EISDIR",
            Errno::EINVAL => "EINVAL",
            Errno::EFBIG => "EFBIG",
            Errno::ENOSPC => "ENOSPC",
            Errno::ENAMETOOLONG => "ENAMETOOLONG",
            Errno::ENOTEMPTY => "ENOTEMPTY",
            Errno::ENETDOWN => "ENETDOWN",
            Errno::ETIMEDOUT => "ETIMEDOUT",
        }
    }

    /// The errno number, which is also the failing command's exit status.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// A short description in the words of `strerror`.
    pub const fn description(self) -> &'static str {
        match self {
            Errno::ENOENT => "no such file or directory",
            Errno::EIO => "input/output error",
            Errno::E2BIG => "argument list too long",
            Errno::ENOMEM => "out of memory",
            Errno::EBUSY => "device or resource busy",
            Errno::EEXIST => "file exists",
            Errno::ENODEV => "no such device",
            Errno::ENOTDIR => "not a directory",
            Errno::EISDIR => "is a directory",
            Errno::EINVAL => "invalid argument",
            Errno::EFBIG => "file too large",
            Errno::ENOSPC => "no space left on device",
            Errno::ENAMETOOLONG => "file name too long",
            Errno::ENOTEMPTY => "directory not empty",
            Errno::ENETDOWN => "network is down",
            Errno::ETIMEDOUT => "timed out",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_variants_and_codes_are_linux_numbers() {
        assert_eq!(Errno::ENOENT.name(), "ENOENT");
        assert_eq!(Errno::ENOENT.code(), 2);
        assert_eq!(Errno::ENOSPC.code(), 28);
        assert_eq!(Errno::ENOTEMPTY.code(), 39);
        assert_eq!(Errno::ENETDOWN.name(), "ENETDOWN");
    }
}
