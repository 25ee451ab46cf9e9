//! The SIS kernel: boots on aarch64, riscv64 and x86_64 to the `sis> ` shell.
#![no_std]
#![no_main]

mod arch;
pub mod panic;

use arch::BootInfo;

/// Called by the arch entry code once the console, clock and memory map are up.
pub fn kernel_main(boot: BootInfo) -> ! {
    arch::console_write(b"SIS kernel booting on ");
    arch::console_write(arch::NAME.as_bytes());
    arch::console_write(b"\r\n");
    let _ = boot;
    arch::console_write(b"sis> ");
    loop {
        match arch::console_read() {
            Some(b'\r') => arch::console_write(b"\r\nsis> "),
            Some(byte) => arch::console_write(&[byte]),
            None => arch::wait_for_event(None),
        }
    }
}
