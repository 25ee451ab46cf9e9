//! The one syscall table: numbers, names and argument counts, the same on
//! aarch64 (`svc #0`, number in x8), riscv64 (`ecall`, number in a7) and
//! x86_64 (`syscall`, number in rax). docs/SYSCALLS.md documents each call.

use sis_abi::Errno;

/// A syscall number the kernel knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Sysno {
    Exit = 0,
    Write = 1,
    Read = 2,
    Open = 3,
    Close = 4,
    Stat = 5,
    Unlink = 6,
    Mkdir = 7,
    Getpid = 8,
    Sleep = 9,
    Yield = 10,
    Mmap = 11,
    Munmap = 12,
    Uptime = 13,
    Getrandom = 14,
    Spawn = 15,
    Wait = 16,
    Progress = 17,
}

impl Sysno {
    /// Every call, in number order (metrics and the fuzzer index by it).
    pub const ALL: [Sysno; 18] = [
        Sysno::Exit,
        Sysno::Write,
        Sysno::Read,
        Sysno::Open,
        Sysno::Close,
        Sysno::Stat,
        Sysno::Unlink,
        Sysno::Mkdir,
        Sysno::Getpid,
        Sysno::Sleep,
        Sysno::Yield,
        Sysno::Mmap,
        Sysno::Munmap,
        Sysno::Uptime,
        Sysno::Getrandom,
        Sysno::Spawn,
        Sysno::Wait,
        Sysno::Progress,
    ];

    /// The call with this number; any other number is ENOSYS.
    pub fn from_raw(number: u64) -> Result<Sysno, Errno> {
        usize::try_from(number).ok().and_then(|index| Sysno::ALL.get(index).copied()).ok_or(Errno::ENOSYS)
    }

    /// Its number, as user programs load it into the syscall register.
    pub const fn number(self) -> u64 {
        self as u64
    }

    /// Its name, as metrics label it.
    pub const fn name(self) -> &'static str {
        match self {
            Sysno::Exit => "exit",
            Sysno::Write => "write",
            Sysno::Read => "read",
            Sysno::Open => "open",
            Sysno::Close => "close",
            Sysno::Stat => "stat",
            Sysno::Unlink => "unlink",
            Sysno::Mkdir => "mkdir",
            Sysno::Getpid => "getpid",
            Sysno::Sleep => "sleep",
            Sysno::Yield => "yield",
            Sysno::Mmap => "mmap",
            Sysno::Munmap => "munmap",
            Sysno::Uptime => "uptime",
            Sysno::Getrandom => "getrandom",
            Sysno::Spawn => "spawn",
            Sysno::Wait => "wait",
            Sysno::Progress => "progress",
        }
    }

    /// How many argument registers it reads; the others are ignored.
    pub const fn arg_count(self) -> usize {
        match self {
            Sysno::Getpid | Sysno::Yield | Sysno::Uptime => 0,
            Sysno::Exit | Sysno::Close | Sysno::Sleep | Sysno::Progress => 1,
            Sysno::Unlink | Sysno::Mkdir | Sysno::Munmap | Sysno::Wait => 2,
            Sysno::Write | Sysno::Read | Sysno::Open | Sysno::Stat | Sysno::Mmap | Sysno::Getrandom => 3,
            Sysno::Spawn => 4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_dense_and_round_trip() {
        for (index, call) in Sysno::ALL.iter().enumerate() {
            assert_eq!(call.number(), index as u64);
            assert_eq!(Sysno::from_raw(index as u64), Ok(*call));
            assert!(call.arg_count() <= 6);
        }
    }

    #[test]
    fn the_first_unknown_number_and_huge_ones_are_enosys() {
        assert_eq!(Sysno::from_raw(Sysno::ALL.len() as u64 - 1), Ok(Sysno::Progress));
        assert_eq!(Sysno::from_raw(Sysno::ALL.len() as u64), Err(Errno::ENOSYS));
        assert_eq!(Sysno::from_raw(u64::MAX), Err(Errno::ENOSYS));
        assert_eq!(Sysno::from_raw(1 << 32), Err(Errno::ENOSYS));
    }

    #[test]
    fn names_are_unique() {
        for (i, a) in Sysno::ALL.iter().enumerate() {
            for b in &Sysno::ALL[i + 1..] {
                assert_ne!(a.name(), b.name());
            }
        }
    }
}
