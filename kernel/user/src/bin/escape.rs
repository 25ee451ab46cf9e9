//! `run escape <misdeed> [address]`: one attempt to break out of user mode,
//! which the kernel must end with one kill line (docs/SYSCALLS.md). Before
//! the misdeed it prints `escape: <misdeed> at <address>`, the address the
//! kill report must name; if the misdeed is not stopped it says so and exits 1.
//!
//! Misdeeds: `text` jumps into kernel text, `readk` reads a kernel address
//! (both at `address`, hexadecimal, default the kernel image's start),
//! `wtext` writes into its own text, `xdata` executes an instruction on its
//! own stack, `illegal` runs an undefined instruction, `priv` a privileged
//! one, `spin` loops forever without a syscall (end it with `kill`).
#![no_std]
#![no_main]

use sis_user::{print, print_hex, KERNEL_IMAGE};

// The two instructions user mode must not run, each at its own symbol so the
// program can print the address the kill report must name. The `ret` after
// each is reached only if the kernel let the instruction run.
#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".section .text.escape, \"ax\"",
    ".p2align 2",
    ".global escape_illegal",
    "escape_illegal: udf #0",
    "ret",
    // Masking IRQs from EL0: SCTLR_EL1.UMA is 0, so it traps (EC 0x18).
    ".global escape_privileged",
    "escape_privileged: msr daifset, #2",
    "ret",
);
#[cfg(target_arch = "riscv64")]
core::arch::global_asm!(
    ".section .text.escape, \"ax\"",
    ".p2align 2",
    ".global escape_illegal",
    "escape_illegal: unimp",
    "ret",
    // A supervisor CSR from U-mode: illegal instruction.
    ".global escape_privileged",
    "escape_privileged: csrr t0, sstatus",
    "ret",
);
#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".section .text.escape, \"ax\"",
    ".global escape_illegal",
    "escape_illegal: ud2",
    "ret",
    // hlt at CPL 3: #GP.
    ".global escape_privileged",
    "escape_privileged: hlt",
    "ret",
);

extern "C" {
    fn escape_illegal();
    fn escape_privileged();
}

/// `ret` in this arch's encoding, as bytes to put on the stack: if the
/// stack were executable, calling it would simply return.
#[cfg(target_arch = "aarch64")]
const RETURN: [u8; 4] = 0xd65f_03c0u32.to_le_bytes();
#[cfg(target_arch = "riscv64")]
const RETURN: [u8; 4] = 0x0000_8067u32.to_le_bytes(); // jalr x0, 0(ra)
#[cfg(target_arch = "x86_64")]
const RETURN: [u8; 4] = [0xc3, 0, 0, 0];

fn announce(misdeed: &str, address: u64) {
    print("escape: ");
    print(misdeed);
    print(" at ");
    print_hex(address);
    print("\n");
}

/// Says the kernel let the misdeed through; the exit status 1 is the failure.
fn not_stopped(misdeed: &str) -> u8 {
    print("escape: ");
    print(misdeed);
    print(" was not stopped\n");
    1
}

/// `0x`-prefixed or bare hexadecimal, or None.
fn parse_hex(text: &str) -> Option<u64> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    digits.bytes().try_fold(0u64, |value, byte| {
        let digit = (byte as char).to_digit(16)?;
        Some(value << 4 | u64::from(digit))
    })
}

/// Calls the code at `address` as a function without arguments.
fn call(address: u64) {
    // SAFETY: deliberately unsound: the point is that the kernel stops the
    // jump (a kernel page, a non-executable page, a refused instruction).
    let function: extern "C" fn() = unsafe { core::mem::transmute(address as usize) };
    function();
}

fn main(args: &str) -> u8 {
    let mut words = args.split(' ').filter(|word| !word.is_empty());
    let misdeed = words.next().unwrap_or("");
    let kernel_address = match words.next() {
        None => KERNEL_IMAGE,
        Some(word) => match parse_hex(word) {
            Some(address) => address,
            None => {
                print("escape: the address must be hexadecimal, e.g. 0x40200000\n");
                return 2;
            }
        },
    };
    match misdeed {
        "text" => {
            announce(misdeed, kernel_address);
            call(kernel_address);
        }
        "readk" => {
            announce(misdeed, kernel_address);
            // SAFETY: deliberately unsound; volatile so it is not elided.
            let value = unsafe { core::ptr::read_volatile(kernel_address as *const u8) };
            core::hint::black_box(value);
        }
        "wtext" => {
            let target = main as *const () as *mut u8;
            announce(misdeed, target as u64);
            // SAFETY: deliberately unsound: text is mapped r-x. Writing the
            // byte that is there changes nothing if the kernel allowed it.
            unsafe { core::ptr::write_volatile(target, core::ptr::read_volatile(target)) };
        }
        "xdata" => {
            // u32 alignment: every arch's instruction fetch is happy with it.
            let code = core::hint::black_box(u32::from_ne_bytes(RETURN));
            let address = &code as *const u32 as u64;
            announce(misdeed, address);
            call(address);
        }
        "illegal" => {
            announce(misdeed, escape_illegal as *const () as u64);
            // SAFETY: deliberately unsound: the instruction must trap.
            unsafe { escape_illegal() };
        }
        "priv" => {
            announce(misdeed, escape_privileged as *const () as u64);
            // SAFETY: deliberately unsound: the instruction must trap.
            unsafe { escape_privileged() };
        }
        "spin" => loop {
            core::hint::spin_loop();
        },
        _ => {
            print("usage: escape text|readk [address] | wtext | xdata | illegal | priv | spin\n");
            return 2;
        }
    }
    not_stopped(misdeed)
}

sis_user::entry!(main);
