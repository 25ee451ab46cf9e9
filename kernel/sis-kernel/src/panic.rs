//! Panic path (placeholder until the full report lands).

use core::panic::PanicInfo;

use crate::arch;

#[panic_handler]
fn on_panic(info: &PanicInfo) -> ! {
    arch::console_write(b"\r\n!!! KERNEL PANIC !!!\r\n");
    let _ = info;
    arch::poweroff(sis_abi::exit::PANIC)
}

/// Called by the arch exception handlers on an unexpected exception.
pub fn fault(description: &str, frame: &arch::TrapFrame) -> ! {
    arch::console_write(b"\r\n!!! KERNEL PANIC: unexpected exception: ");
    arch::console_write(description.as_bytes());
    arch::console_write(b"\r\n");
    let _ = frame;
    arch::poweroff(sis_abi::exit::PANIC)
}
