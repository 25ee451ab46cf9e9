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
    ESRCH = 3,
    EIO = 5,
    E2BIG = 7,
    EBADF = 9,
    ENOMEM = 12,
    EFAULT = 14,
    EBUSY = 16,
    EEXIST = 17,
    ENODEV = 19,
    ENOTDIR = 20,
    EISDIR = 21,
    EINVAL = 22,
    EMFILE = 24,
    EFBIG = 27,
    ENOSPC = 28,
    ENAMETOOLONG = 36,
    ENOSYS = 38,
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
            Errno::ENOSYS => "ENOSYS",
            Errno::EMFILE => "EMFILE",
            Errno::EFAULT => "EFAULT",
            Errno::EBADF => "EBADF",
            Errno::ESRCH => "ESRCH",
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

    /// Every errno, in number order (user programs and the fuzzer's
    /// coverage table index by it).
    pub const ALL: [Errno; 21] = [
        Errno::ENOENT,
        Errno::ESRCH,
        Errno::EIO,
        Errno::E2BIG,
        Errno::EBADF,
        Errno::ENOMEM,
        Errno::EFAULT,
        Errno::EBUSY,
        Errno::EEXIST,
        Errno::ENODEV,
        Errno::ENOTDIR,
        Errno::EISDIR,
        Errno::EINVAL,
        Errno::EMFILE,
        Errno::EFBIG,
        Errno::ENOSPC,
        Errno::ENAMETOOLONG,
        Errno::ENOSYS,
        Errno::ENOTEMPTY,
        Errno::ENETDOWN,
        Errno::ETIMEDOUT,
    ];

    /// The errno with this number, if it is one of ours.
    pub fn from_code(code: u64) -> Option<Errno> {
        Errno::ALL.iter().copied().find(|errno| errno.code() as u64 == code)
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
            Errno::ENOSYS => "function not implemented",
            Errno::EMFILE => "too many open files",
            Errno::EFAULT => "bad address",
            Errno::EBADF => "bad file descriptor",
            Errno::ESRCH => "no such process",
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
        assert_eq!(Errno::EFAULT.code(), 14);
        assert_eq!(Errno::ENOSYS.code(), 38);
    }

    #[test]
    fn all_is_sorted_complete_and_round_trips() {
        for pair in Errno::ALL.windows(2) {
            assert!(pair[0].code() < pair[1].code());
        }
        for errno in Errno::ALL {
            assert_eq!(Errno::from_code(errno.code() as u64), Some(errno));
        }
        assert_eq!(Errno::from_code(0), None);
        // ALL lists every variant: count the enum's `NAME = number,` lines
        // in this very file, so a new errno cannot be left out.
        let source = include_str!("errno.rs");
        let body = &source[source.find("pub enum Errno {").unwrap()..];
        let body = &body[..body.find('}').unwrap()];
        let variants = body.lines().filter(|line| line.trim_start().starts_with('E') && line.contains(" = ")).count();
        assert_eq!(variants, Errno::ALL.len());
        assert_eq!(Errno::from_code(1), None);
    }
}
