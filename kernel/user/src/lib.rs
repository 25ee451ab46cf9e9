//! The runtime of SIS user programs: the syscall instruction of each arch,
//! thin wrappers over the table in sis-syscall, the `_start` every program
//! gets from [`entry!`], and a panic handler that exits with status 101.
//!
//! Entry contract (docs/SYSCALLS.md): the kernel starts `_start` with the
//! argument text's address and length in the first two argument registers
//! and a 16-byte aligned stack as after a call, with nothing above it.
#![no_std]

pub use sis_syscall::limits::USER_TOP;
pub use sis_syscall::{decode_return, Errno, Sysno};

/// The kernel image's first byte on this arch (its linker.ld): a kernel
/// address user mode may not reach (badptr's and escape's default).
#[cfg(target_arch = "aarch64")]
pub const KERNEL_IMAGE: u64 = 0x4020_0000;
#[cfg(target_arch = "riscv64")]
pub const KERNEL_IMAGE: u64 = 0x8020_0000;
#[cfg(target_arch = "x86_64")]
pub const KERNEL_IMAGE: u64 = 0x10_0000;

/// Raw syscall: number and up to four arguments in, the return register out.
#[inline(always)]
pub fn syscall(number: Sysno, a0: u64, a1: u64, a2: u64, a3: u64) -> u64 {
    syscall_number(number.number(), a0, a1, a2, a3)
}

/// As [`syscall`] with any number, known to the table or not (ENOSYS tests).
#[inline(always)]
pub fn syscall_number(number: u64, a0: u64, a1: u64, a2: u64, a3: u64) -> u64 {
    let result: u64;
    // SAFETY: the syscall instruction traps to the kernel, which validates
    // every argument (sis-syscall decode) and touches no user memory that
    // the arguments do not name; only the listed registers change.
    unsafe {
        #[cfg(target_arch = "aarch64")]
        core::arch::asm!("svc #0", in("x8") number, inlateout("x0") a0 => result,
            in("x1") a1, in("x2") a2, in("x3") a3, options(nostack));
        #[cfg(target_arch = "riscv64")]
        core::arch::asm!("ecall", in("a7") number, inlateout("a0") a0 => result,
            in("a1") a1, in("a2") a2, in("a3") a3, options(nostack));
        // syscall clobbers rcx (return address) and r11 (flags).
        #[cfg(target_arch = "x86_64")]
        core::arch::asm!("syscall", inlateout("rax") number => result, in("rdi") a0,
            in("rsi") a1, in("rdx") a2, in("r10") a3, lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    result
}

/// write(2): how many bytes went out, or the errno.
pub fn write(fd: u64, bytes: &[u8]) -> Result<u64, Errno> {
    write_raw(fd, bytes.as_ptr() as u64, bytes.len() as u64)
}

/// write(2) with an arbitrary (possibly invalid) pointer, for programs that
/// test the kernel's validation.
pub fn write_raw(fd: u64, address: u64, len: u64) -> Result<u64, Errno> {
    decode_return(syscall(Sysno::Write, fd, address, len, 0))
}

/// Prints to standard output; errors are ignored as `print!` would panic on
/// them and there is nowhere else to report.
pub fn print(text: &str) {
    let _ = write(1, text.as_bytes());
}

/// Prints `value` in hexadecimal with a 0x prefix (no formatting machinery:
/// core::fmt would triple the image).
pub fn print_hex(value: u64) {
    let mut digits = [0u8; 18];
    digits[0] = b'0';
    digits[1] = b'x';
    let mut len = 2;
    let mut started = false;
    for shift in (0..16).rev() {
        let nibble = ((value >> (shift * 4)) & 0xf) as u8;
        if nibble != 0 || started || shift == 0 {
            started = true;
            digits[len] = if nibble < 10 { b'0' + nibble } else { b'a' + nibble - 10 };
            len += 1;
        }
    }
    let _ = write(1, &digits[..len]);
}

/// sleep(2) for `ms` milliseconds (at most 60,000: more is EINVAL).
pub fn sleep_ms(ms: u64) -> Result<u64, Errno> {
    decode_return(syscall(Sysno::Sleep, ms, 0, 0, 0))
}

/// A decimal number without sign or spaces, or None (no formatting
/// machinery: `str::parse` pulls in core::fmt's error path).
pub fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    text.bytes().try_fold(0u64, |value, byte| {
        let digit = byte.checked_sub(b'0').filter(|digit| *digit < 10)?;
        value.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// Prints `value` in decimal.
pub fn print_decimal(mut value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    let _ = write(1, &digits[start..]);
}

/// Wrappers of the table's other calls (docs/SYSCALLS.md), each returning
/// the value or the errno.
pub mod calls {
    use super::{decode_return, syscall, Errno, Sysno};

    pub fn read(fd: u64, buffer: &mut [u8]) -> Result<u64, Errno> {
        decode_return(syscall(Sysno::Read, fd, buffer.as_mut_ptr() as u64, buffer.len() as u64, 0))
    }
    pub fn open(path: &str, flags: u64) -> Result<u64, Errno> {
        decode_return(syscall(Sysno::Open, path.as_ptr() as u64, path.len() as u64, flags, 0))
    }
    pub fn close(fd: u64) -> Result<u64, Errno> {
        decode_return(syscall(Sysno::Close, fd, 0, 0, 0))
    }
    /// (size, kind: 1 file, 2 directory).
    pub fn stat(path: &str) -> Result<(u64, u64), Errno> {
        let mut out = [0u64; 2];
        decode_return(syscall(Sysno::Stat, path.as_ptr() as u64, path.len() as u64, out.as_mut_ptr() as u64, 0))?;
        Ok((u64::from_le(out[0]), u64::from_le(out[1])))
    }
    pub fn unlink(path: &str) -> Result<u64, Errno> {
        decode_return(syscall(Sysno::Unlink, path.as_ptr() as u64, path.len() as u64, 0, 0))
    }
    pub fn mkdir(path: &str) -> Result<u64, Errno> {
        decode_return(syscall(Sysno::Mkdir, path.as_ptr() as u64, path.len() as u64, 0, 0))
    }
    pub fn getpid() -> Result<u64, Errno> {
        decode_return(syscall(Sysno::Getpid, 0, 0, 0, 0))
    }
    pub fn yield_now() -> Result<u64, Errno> {
        decode_return(syscall(Sysno::Yield, 0, 0, 0, 0))
    }
    pub fn mmap(len: u64, protection: u64) -> Result<u64, Errno> {
        decode_return(syscall(Sysno::Mmap, 0, len, protection, 0))
    }
    pub fn munmap(address: u64, len: u64) -> Result<u64, Errno> {
        decode_return(syscall(Sysno::Munmap, address, len, 0, 0))
    }
    pub fn uptime_ns() -> Result<u64, Errno> {
        decode_return(syscall(Sysno::Uptime, 0, 0, 0, 0))
    }
    pub fn getrandom(buffer: &mut [u8]) -> Result<u64, Errno> {
        decode_return(syscall(Sysno::Getrandom, buffer.as_mut_ptr() as u64, buffer.len() as u64, 0, 0))
    }
    pub fn spawn(name: &str, args: &str) -> Result<u64, Errno> {
        decode_return(syscall(Sysno::Spawn, name.as_ptr() as u64, name.len() as u64, args.as_ptr() as u64, args.len() as u64))
    }
    /// (pid, exit status).
    pub fn wait(pid: u64) -> Result<(u64, i32), Errno> {
        let mut status = 0i32;
        let pid = decode_return(syscall(Sysno::Wait, pid, &mut status as *mut i32 as u64, 0, 0))?;
        Ok((pid, status))
    }
    pub fn progress(index: u64) -> Result<u64, Errno> {
        decode_return(syscall(Sysno::Progress, index, 0, 0, 0))
    }
}

/// Ends the process with `status`.
pub fn exit(status: u8) -> ! {
    syscall(Sysno::Exit, status as u64, 0, 0, 0);
    // exit never returns; if a broken kernel let it, fault rather than run on.
    loop {
        core::hint::spin_loop();
    }
}

/// Defines `_start` for a program whose `main(args: &str) -> u8` returns
/// its exit status.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[unsafe(no_mangle)]
        #[unsafe(link_section = ".text._start")]
        extern "C" fn _start(args: *const u8, len: usize) -> ! {
            // SAFETY: the kernel maps the argument text readable for the
            // process's lifetime and passes its exact length.
            let bytes = unsafe { core::slice::from_raw_parts(args, len) };
            let text = core::str::from_utf8(bytes).unwrap_or("");
            $crate::exit($main(text))
        }
    };
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    let _ = write(2, b"user panic\n");
    exit(101)
}
