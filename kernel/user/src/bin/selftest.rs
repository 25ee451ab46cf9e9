//! `run selftest`: makes every call of the table succeed once (and fail the
//! way docs/SYSCALLS.md says where the kernel's state decides), printing
//! `selftest: <check> ok` or `selftest: <check> FAILED` per check and a last
//! `selftest: <n> checks, <m> failed` line. Exit 0 only when all passed.
//! It spawns `hello` (whose line appears in its output) and `fault` (whose
//! kill line appears too), and copies of itself: `selftest exit N` exits
//! with status N at once, printing nothing (the children it leaves behind
//! unwaited test that the kernel reaps orphans).
#![no_std]
#![no_main]

use sis_user::calls::*;
use sis_user::{print, print_decimal, syscall_number, write, Errno};

const READ: u64 = 1;
const WRITE: u64 = 2;
const CREATE: u64 = 4;
const TRUNCATE: u64 = 8;
const APPEND: u64 = 16;
/// sis_syscall::limits::MMAP_BASE.
const MMAP_BASE: u64 = 0x30_0000_0000;
const PAGE: u64 = 4096;

struct Checks {
    run: u64,
    failed: u64,
}

impl Checks {
    /// One write per line, so a child's output (hello's line, a kill line)
    /// can land between this program's lines but never inside one.
    fn check(&mut self, name: &str, passed: bool) {
        self.run += 1;
        if !passed {
            self.failed += 1;
        }
        let mut line = [0u8; 64];
        let mut len = 0;
        for part in ["selftest: ", name, if passed { " ok\n" } else { " FAILED\n" }] {
            let bytes = &part.as_bytes()[..part.len().min(line.len() - len)];
            line[len..len + bytes.len()].copy_from_slice(bytes);
            len += bytes.len();
        }
        let _ = write(1, &line[..len]);
    }
}

fn main(args: &str) -> u8 {
    let mut words = args.split_ascii_whitespace();
    if words.next() == Some("exit") {
        return words.next().and_then(sis_user::parse_decimal).map_or(2, |status| status as u8);
    }
    let mut checks = Checks { run: 0, failed: 0 };
    process_calls(&mut checks);
    file_calls(&mut checks);
    memory_calls(&mut checks);
    child_calls(&mut checks);
    print("selftest: ");
    print_decimal(checks.run);
    print(" checks, ");
    print_decimal(checks.failed);
    print(" failed\n");
    u8::from(checks.failed != 0)
}

fn process_calls(checks: &mut Checks) {
    checks.check("getpid", getpid().is_ok_and(|pid| pid > 0));
    let before = uptime_ns().unwrap_or(u64::MAX);
    checks.check("yield", yield_now() == Ok(0));
    checks.check("sleep", sis_user::sleep_ms(2) == Ok(0));
    let after = uptime_ns().unwrap_or(0);
    checks.check("uptime", before != u64::MAX && after >= before + 2_000_000);
    checks.check("sleep-too-long", sis_user::sleep_ms(60_001) == Err(Errno::EINVAL));
    checks.check("progress", progress(42) == Ok(0));
    let mut random = [0u8; 64];
    checks.check("getrandom", getrandom(&mut random) == Ok(64) && random.iter().any(|&byte| byte != 0));
    checks.check("unknown-call", sis_user::decode_return(syscall_number(999, 0, 0, 0, 0)) == Err(Errno::ENOSYS));
    let mut byte = [0u8; 1];
    checks.check("read-stdin-eof", read(0, &mut byte) == Ok(0));
    checks.check("read-stdout", read(1, &mut byte) == Err(Errno::EBADF));
    checks.check("write-stdin", write(0, b"x") == Err(Errno::EBADF));
}

fn file_calls(checks: &mut Checks) {
    let made = mkdir("/selftest");
    checks.check("mkdir", made == Ok(0) || made == Err(Errno::EEXIST));
    checks.check("mkdir-exists", mkdir("/selftest") == Err(Errno::EEXIST));
    checks.check("stat-dir", stat("/selftest").is_ok_and(|(_, kind)| kind == 2));
    let path = "/selftest/file";
    let fd = open(path, WRITE | CREATE | TRUNCATE);
    checks.check("open-create", fd.is_ok_and(|fd| fd >= 3));
    let fd = fd.unwrap_or(u64::MAX);
    checks.check("write-file", write(fd, b"abc123") == Ok(6));
    checks.check("close", close(fd) == Ok(0));
    checks.check("close-again", close(fd) == Err(Errno::EBADF));
    checks.check("stat-file", stat(path) == Ok((6, 1)));
    let fd = open(path, READ).unwrap_or(u64::MAX);
    let mut buffer = [0u8; 4];
    let first = read(fd, &mut buffer);
    checks.check("read-file", first == Ok(4) && &buffer == b"abc1");
    let second = read(fd, &mut buffer);
    checks.check("read-rest", second == Ok(2) && &buffer[..2] == b"23");
    checks.check("read-eof", read(fd, &mut buffer) == Ok(0));
    checks.check("write-read-only", write(fd, b"x") == Err(Errno::EBADF));
    let _ = close(fd);
    let fd = open(path, WRITE | APPEND).unwrap_or(u64::MAX);
    checks.check("append", write(fd, b"!") == Ok(1) && stat(path) == Ok((7, 1)));
    let _ = close(fd);
    checks.check("open-missing", open("/selftest/none", READ) == Err(Errno::ENOENT));
    checks.check("open-dir", open("/selftest", READ) == Err(Errno::EISDIR));
    // fds 0-2 are open: 13 more fit, the 14th is EMFILE.
    let mut opened = [u64::MAX; 16];
    let mut count = 0;
    let last = loop {
        match open(path, READ) {
            Ok(fd) if count < opened.len() => {
                opened[count] = fd;
                count += 1;
            }
            other => break other,
        }
    };
    checks.check("emfile", count == 13 && last == Err(Errno::EMFILE));
    for fd in &opened[..count] {
        let _ = close(*fd);
    }
    checks.check("unlink", unlink(path) == Ok(0));
    checks.check("stat-unlinked", stat(path) == Err(Errno::ENOENT));
}

fn memory_calls(checks: &mut Checks) {
    let address = mmap(2 * PAGE, READ | WRITE);
    checks.check("mmap", address.is_ok_and(|address| address >= MMAP_BASE && address % PAGE == 0));
    if let Ok(address) = address {
        // SAFETY: the kernel just mapped these two pages readable and
        // writable for this process; nothing else refers to them.
        let pages = unsafe { core::slice::from_raw_parts_mut(address as *mut u8, 2 * PAGE as usize) };
        let zeroed = pages.iter().all(|&byte| byte == 0);
        pages[0] = 7;
        pages[2 * PAGE as usize - 1] = 9;
        checks.check("mmap-zeroed-writable", zeroed && pages[0] == 7 && pages[2 * PAGE as usize - 1] == 9);
        // The kernel reads what the program wrote there.
        checks.check("write-from-mmap", write(1, &pages[..0]) == Ok(0));
        checks.check("munmap", munmap(address, 2 * PAGE) == Ok(0));
        checks.check("munmap-again", munmap(address, 2 * PAGE) == Err(Errno::EINVAL));
    }
    checks.check("mmap-exec", mmap(PAGE, 4 | READ) == Err(Errno::EINVAL));
    checks.check("mmap-too-much", mmap(2 * 1024 * 1024, READ) == Err(Errno::EINVAL));
}

fn child_calls(checks: &mut Checks) {
    let child = spawn("hello", "");
    checks.check("spawn", child.is_ok_and(|pid| pid > 0));
    let child = child.unwrap_or(0);
    checks.check("wait", wait(child) == Ok((child, 0)));
    checks.check("wait-again", wait(child) == Err(Errno::ESRCH));
    let faulting = spawn("fault", "").unwrap_or(0);
    checks.check("wait-killed", wait(faulting) == Ok((faulting, 139)));
    checks.check("spawn-missing", spawn("nosuch", "") == Err(Errno::ENOENT));
    checks.check("wait-self", wait(getpid().unwrap_or(0)) == Err(Errno::ESRCH));
    checks.check("spawn-args", spawn("hello", "1 2 3 4 5 6 7 8 9") == Err(Errno::E2BIG));
    let copy = spawn("selftest", "exit 7").unwrap_or(0);
    checks.check("wait-status", wait(copy) == Ok((copy, 7)));
    // Two children never waited for: one may have exited before this
    // process does (freed with it), one may still run (freed when it ends).
    checks.check("orphans", spawn("selftest", "exit 0").is_ok() && spawn("selftest", "exit 0").is_ok());
}

sis_user::entry!(main);
