//! The validation layer: raw syscall number and argument registers in, a
//! typed [`Call`] whose every fd, pointer, length, flag word and pid has been
//! checked out, or the errno of the first bad argument (checked in argument
//! order, so the errno a fuzzer sees is deterministic).
//!
//! What is left to the kernel after decode is only what needs its state:
//! whether a path exists, a pid names a child, a munmap range was mapped,
//! and the byte-level checks of copied paths ([`crate::path::check_path_bytes`],
//! [`check_args_text`]).

use crate::fd::Fd;
use crate::flags::{check_no_flags, OpenFlags, Protection};
use crate::limits::{ARG_MAX, MAX_ARGS, MAX_IO_LEN, MAX_SLEEP_MS};
use crate::memory::{mmap_pages, munmap_range};
use crate::path::{check_name_len, check_path_len};
use crate::pid::Pid;
use crate::table::Sysno;
use crate::user_range::{Access, AddressSpace, UserRange};
use sis_abi::Errno;

/// Bytes stat writes: file size (u64) then kind (u64: 1 file, 2 directory),
/// little-endian on every arch.
pub const STAT_SIZE: u64 = 16;

/// Bytes wait writes to its status pointer: the exit status as i32.
pub const WAIT_STATUS_SIZE: u64 = 4;

/// What decode needs to know of the calling process.
pub trait Process {
    fn address_space(&self) -> &dyn AddressSpace;
    fn fd_is_open(&self, fd: Fd) -> bool;
}

/// A syscall whose arguments all passed validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    /// Exit with the low 8 bits of the argument as status (as POSIX).
    Exit { status: u8 },
    Write { fd: Fd, buffer: UserRange },
    Read { fd: Fd, buffer: UserRange },
    Open { path: UserRange, flags: OpenFlags },
    Close { fd: Fd },
    Stat { path: UserRange, out: UserRange },
    Unlink { path: UserRange },
    Mkdir { path: UserRange },
    Getpid,
    Sleep { ms: u64 },
    Yield,
    Mmap { pages: u64, protection: Protection },
    Munmap { address: u64, pages: u64 },
    Uptime,
    Getrandom { buffer: UserRange },
    Spawn { name: UserRange, args: UserRange },
    /// `status` is None when the pointer was 0 (the caller does not want it).
    Wait { pid: Pid, status: Option<UserRange> },
    /// The fuzzer's "I am about to make call number `index`".
    Progress { index: u64 },
}

impl Call {
    pub fn sysno(&self) -> Sysno {
        match self {
            Call::Exit { .. } => Sysno::Exit,
            Call::Write { .. } => Sysno::Write,
            Call::Read { .. } => Sysno::Read,
            Call::Open { .. } => Sysno::Open,
            Call::Close { .. } => Sysno::Close,
            Call::Stat { .. } => Sysno::Stat,
            Call::Unlink { .. } => Sysno::Unlink,
            Call::Mkdir { .. } => Sysno::Mkdir,
            Call::Getpid => Sysno::Getpid,
            Call::Sleep { .. } => Sysno::Sleep,
            Call::Yield => Sysno::Yield,
            Call::Mmap { .. } => Sysno::Mmap,
            Call::Munmap { .. } => Sysno::Munmap,
            Call::Uptime => Sysno::Uptime,
            Call::Getrandom { .. } => Sysno::Getrandom,
            Call::Spawn { .. } => Sysno::Spawn,
            Call::Wait { .. } => Sysno::Wait,
            Call::Progress { .. } => Sysno::Progress,
        }
    }
}

fn open_fd(process: &dyn Process, raw: u64) -> Result<Fd, Errno> {
    let fd = Fd::from_raw(raw)?;
    if process.fd_is_open(fd) {
        Ok(fd)
    } else {
        Err(Errno::EBADF)
    }
}

fn io_buffer(process: &dyn Process, address: u64, len: u64, access: Access) -> Result<UserRange, Errno> {
    if len > MAX_IO_LEN {
        return Err(Errno::EINVAL);
    }
    UserRange::check(process.address_space(), address, len, access)
}

fn path(process: &dyn Process, address: u64, len: u64) -> Result<UserRange, Errno> {
    check_path_len(len)?;
    UserRange::check(process.address_space(), address, len, Access::Read)
}

/// Validates syscall `number` with argument registers `args` for `process`.
pub fn decode(number: u64, args: [u64; 6], process: &dyn Process) -> Result<Call, Errno> {
    let space = process.address_space();
    let [a0, a1, a2, a3, ..] = args;
    Ok(match Sysno::from_raw(number)? {
        Sysno::Exit => Call::Exit { status: a0 as u8 },
        Sysno::Write => {
            let fd = open_fd(process, a0)?;
            Call::Write { fd, buffer: io_buffer(process, a1, a2, Access::Read)? }
        }
        Sysno::Read => {
            let fd = open_fd(process, a0)?;
            Call::Read { fd, buffer: io_buffer(process, a1, a2, Access::Write)? }
        }
        Sysno::Open => {
            let path = path(process, a0, a1)?;
            Call::Open { path, flags: OpenFlags::from_raw(a2)? }
        }
        Sysno::Close => Call::Close { fd: open_fd(process, a0)? },
        Sysno::Stat => {
            let path = path(process, a0, a1)?;
            Call::Stat { path, out: UserRange::check(space, a2, STAT_SIZE, Access::Write)? }
        }
        Sysno::Unlink => Call::Unlink { path: path(process, a0, a1)? },
        Sysno::Mkdir => Call::Mkdir { path: path(process, a0, a1)? },
        Sysno::Getpid => Call::Getpid,
        Sysno::Sleep if a0 > MAX_SLEEP_MS => return Err(Errno::EINVAL),
        Sysno::Sleep => Call::Sleep { ms: a0 },
        Sysno::Yield => Call::Yield,
        Sysno::Mmap => {
            // The kernel picks the address: a hint is EINVAL, not ignored.
            if a0 != 0 {
                return Err(Errno::EINVAL);
            }
            let pages = mmap_pages(a1)?;
            Call::Mmap { pages, protection: Protection::from_raw(a2)? }
        }
        Sysno::Munmap => Call::Munmap { address: a0, pages: munmap_range(a0, a1)? },
        Sysno::Uptime => Call::Uptime,
        Sysno::Getrandom => {
            let buffer = io_buffer(process, a0, a1, Access::Write)?;
            check_no_flags(a2)?;
            Call::Getrandom { buffer }
        }
        Sysno::Spawn => {
            check_name_len(a1)?;
            let name = UserRange::check(space, a0, a1, Access::Read)?;
            if a3 > ARG_MAX {
                return Err(Errno::E2BIG);
            }
            Call::Spawn { name, args: UserRange::check(space, a2, a3, Access::Read)? }
        }
        Sysno::Wait => {
            let pid = Pid::from_raw(a0)?;
            let status = match a1 {
                0 => None,
                address => Some(UserRange::check(space, address, WAIT_STATUS_SIZE, Access::Write)?),
            };
            Call::Wait { pid, status }
        }
        Sysno::Progress => Call::Progress { index: a0 },
    })
}

/// spawn's copied argument text: UTF-8 without NUL (EINVAL), at most
/// MAX_ARGS space-separated words (E2BIG).
pub fn check_args_text(bytes: &[u8]) -> Result<&str, Errno> {
    let text = crate::path::check_path_bytes(bytes)?;
    if text.split_ascii_whitespace().count() > MAX_ARGS {
        return Err(Errno::E2BIG);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{MAX_FDS, MAX_MMAP_LEN, PAGE_SIZE, PATH_MAX, USER_TOP};
    use crate::user_range::tests::{sample, Regions};
    use proptest::prelude::*;

    /// The sample mappings with fds 0, 1, 2 open.
    struct Fake(Regions);

    impl Process for Fake {
        fn address_space(&self) -> &dyn AddressSpace {
            &self.0
        }
        fn fd_is_open(&self, fd: Fd) -> bool {
            fd.index() < 3
        }
    }

    const KERNEL: u64 = 0xffff_0000_4008_0000;
    const DATA: u64 = 0x12000;
    const CODE: u64 = 0x10000;

    fn call(number: Sysno, args: &[u64]) -> Result<Call, Errno> {
        let mut registers = [0; 6];
        registers[..args.len()].copy_from_slice(args);
        decode(number.number(), registers, &Fake(sample()))
    }

    #[test]
    fn unknown_numbers_are_enosys() {
        assert_eq!(decode(18, [0; 6], &Fake(sample())), Err(Errno::ENOSYS));
        assert_eq!(decode(u64::MAX, [0; 6], &Fake(sample())), Err(Errno::ENOSYS));
    }

    #[test]
    fn write_checks_fd_then_length_then_pointer() {
        let fd1 = Fd::from_raw(1).unwrap();
        assert_eq!(call(Sysno::Write, &[1, CODE, 5]), Ok(Call::Write { fd: fd1, buffer: UserRange { address: CODE, len: 5 } }));
        assert_eq!(call(Sysno::Write, &[3, CODE, 5]), Err(Errno::EBADF)); // in table, not open
        assert_eq!(call(Sysno::Write, &[MAX_FDS as u64, KERNEL, 5]), Err(Errno::EBADF));
        assert_eq!(call(Sysno::Write, &[u64::MAX, KERNEL, 5]), Err(Errno::EBADF));
        assert_eq!(call(Sysno::Write, &[1, KERNEL, 5]), Err(Errno::EFAULT)); // badptr
        assert_eq!(call(Sysno::Write, &[1, 0, 5]), Err(Errno::EFAULT)); // null
        assert_eq!(call(Sysno::Write, &[1, CODE, MAX_IO_LEN + 1]), Err(Errno::EINVAL));
        assert!(call(Sysno::Write, &[1, CODE, 0]).is_ok());
    }

    #[test]
    fn read_needs_a_writable_buffer() {
        assert!(call(Sysno::Read, &[0, DATA, 16]).is_ok());
        assert_eq!(call(Sysno::Read, &[0, CODE, 16]), Err(Errno::EFAULT));
        // Straddling the end of the data mapping into the hole.
        assert_eq!(call(Sysno::Read, &[0, 0x14000 - 8, 16]), Err(Errno::EFAULT));
    }

    #[test]
    fn path_calls_check_length_before_pointer() {
        assert!(matches!(call(Sysno::Open, &[DATA, 4, OpenFlags::READ]), Ok(Call::Open { .. })));
        assert_eq!(call(Sysno::Open, &[KERNEL, PATH_MAX + 1, 1]), Err(Errno::ENAMETOOLONG));
        assert_eq!(call(Sysno::Open, &[DATA, 0, 1]), Err(Errno::ENOENT));
        assert_eq!(call(Sysno::Open, &[KERNEL, 4, 1]), Err(Errno::EFAULT));
        assert_eq!(call(Sysno::Open, &[DATA, 4, 0]), Err(Errno::EINVAL));
        assert!(call(Sysno::Mkdir, &[DATA, PATH_MAX]).is_ok());
        assert_eq!(call(Sysno::Unlink, &[DATA, PATH_MAX + 1]), Err(Errno::ENAMETOOLONG));
        assert!(call(Sysno::Stat, &[DATA, 3, DATA + 8]).is_ok());
        assert_eq!(call(Sysno::Stat, &[DATA, 3, CODE]), Err(Errno::EFAULT)); // result into read-only
        assert_eq!(call(Sysno::Stat, &[DATA, 3, 0x14000 - STAT_SIZE + 1]), Err(Errno::EFAULT));
    }

    #[test]
    fn close_sleep_and_simple_calls() {
        assert_eq!(call(Sysno::Close, &[2]), Ok(Call::Close { fd: Fd::from_raw(2).unwrap() }));
        assert_eq!(call(Sysno::Close, &[5]), Err(Errno::EBADF));
        assert_eq!(call(Sysno::Sleep, &[MAX_SLEEP_MS]), Ok(Call::Sleep { ms: MAX_SLEEP_MS }));
        assert_eq!(call(Sysno::Sleep, &[MAX_SLEEP_MS + 1]), Err(Errno::EINVAL));
        assert_eq!(call(Sysno::Getpid, &[9, 9, 9]), Ok(Call::Getpid));
        assert_eq!(call(Sysno::Exit, &[0x1_0000_0102]), Ok(Call::Exit { status: 2 }));
        assert_eq!(call(Sysno::Progress, &[u64::MAX]), Ok(Call::Progress { index: u64::MAX }));
    }

    #[test]
    fn mmap_and_munmap_arguments() {
        assert_eq!(call(Sysno::Mmap, &[0, PAGE_SIZE, 3]), Ok(Call::Mmap { pages: 1, protection: Protection { writable: true } }));
        assert_eq!(call(Sysno::Mmap, &[0x40000, PAGE_SIZE, 3]), Err(Errno::EINVAL));
        assert_eq!(call(Sysno::Mmap, &[0, 0, 3]), Err(Errno::EINVAL));
        assert_eq!(call(Sysno::Mmap, &[0, MAX_MMAP_LEN + 1, 3]), Err(Errno::EINVAL));
        assert_eq!(call(Sysno::Mmap, &[0, PAGE_SIZE, 7]), Err(Errno::EINVAL));
        assert_eq!(call(Sysno::Munmap, &[0x40000, PAGE_SIZE]), Ok(Call::Munmap { address: 0x40000, pages: 1 }));
        assert_eq!(call(Sysno::Munmap, &[KERNEL, PAGE_SIZE]), Err(Errno::EINVAL));
    }

    #[test]
    fn getrandom_spawn_and_wait() {
        assert!(call(Sysno::Getrandom, &[DATA, 32, 0]).is_ok());
        assert_eq!(call(Sysno::Getrandom, &[DATA, 32, 1]), Err(Errno::EINVAL));
        assert_eq!(call(Sysno::Getrandom, &[KERNEL, 32, 0]), Err(Errno::EFAULT));
        assert!(call(Sysno::Spawn, &[CODE, 5, DATA, 0]).is_ok());
        assert_eq!(call(Sysno::Spawn, &[CODE, 0, DATA, 0]), Err(Errno::ENOENT));
        assert_eq!(call(Sysno::Spawn, &[CODE, 33, DATA, 0]), Err(Errno::ENAMETOOLONG));
        assert_eq!(call(Sysno::Spawn, &[CODE, 5, DATA, ARG_MAX + 1]), Err(Errno::E2BIG));
        assert_eq!(call(Sysno::Spawn, &[CODE, 5, KERNEL, 4]), Err(Errno::EFAULT));
        assert!(matches!(call(Sysno::Wait, &[4, 0]), Ok(Call::Wait { status: None, .. })));
        assert!(matches!(call(Sysno::Wait, &[4, DATA]), Ok(Call::Wait { status: Some(_), .. })));
        assert_eq!(call(Sysno::Wait, &[0, 0]), Err(Errno::ESRCH));
        assert_eq!(call(Sysno::Wait, &[u64::MAX, 0]), Err(Errno::ESRCH));
        assert_eq!(call(Sysno::Wait, &[4, KERNEL]), Err(Errno::EFAULT));
    }

    #[test]
    fn spawn_argument_text() {
        assert_eq!(check_args_text(b"a b  c"), Ok("a b  c"));
        assert_eq!(check_args_text(b"1 2 3 4 5 6 7 8"), Ok("1 2 3 4 5 6 7 8"));
        assert_eq!(check_args_text(b"1 2 3 4 5 6 7 8 9"), Err(Errno::E2BIG));
        assert_eq!(check_args_text(b"a\0"), Err(Errno::EINVAL));
    }

    proptest! {
        /// Whatever the registers hold, decode returns (never panics), every
        /// range it hands out lies inside user space without wrapping, and the
        /// call it returns is the one asked for.
        #[test]
        fn decode_is_total_and_ranges_are_sound(number in 0u64..20, args in proptest::array::uniform6(prop_oneof![0u64..0x20, 0x10000u64..0x22000, Just(KERNEL), Just(USER_TOP - 1), any::<u64>()])) {
            if let Ok(call) = decode(number, args, &Fake(sample())) {
                prop_assert_eq!(call.sysno().number(), number);
                let ranges: Vec<UserRange> = match call {
                    Call::Write { buffer, .. } | Call::Read { buffer, .. } | Call::Getrandom { buffer } => vec![buffer],
                    Call::Open { path, .. } | Call::Unlink { path } | Call::Mkdir { path } => vec![path],
                    Call::Stat { path, out } => vec![path, out],
                    Call::Spawn { name, args } => vec![name, args],
                    Call::Wait { status, .. } => status.into_iter().collect(),
                    _ => vec![],
                };
                for range in ranges {
                    prop_assert!(range.address < USER_TOP);
                    prop_assert!(range.address.checked_add(range.len).is_some_and(|end| end <= USER_TOP));
                }
            }
        }
    }
}
