//! riscv64 (QEMU virt, OpenSBI): placeholder entry, to be completed.

use crate::arch::BootInfo;

pub const NAME: &str = "riscv64";
const UART_BASE: usize = 0x1000_0000;

core::arch::global_asm!(
    ".section .text.boot",
    ".globl _start",
    "_start:",
    "la sp, __boot_stack_top",
    "call {entry}",
    entry = sym rust_entry,
);

extern "C" fn rust_entry() -> ! {
    crate::kernel_main(BootInfo { memory: Default::default(), kernel_end: 0 })
}

pub fn console_write(bytes: &[u8]) {
    for &b in bytes {
        // SAFETY: NS16550 at its QEMU virt address; LSR bit 5 = THR empty.
        unsafe {
            while core::ptr::read_volatile((UART_BASE + 5) as *const u8) & 0x20 == 0 {}
            core::ptr::write_volatile(UART_BASE as *mut u8, b);
        }
    }
}
pub fn console_read() -> Option<u8> {
    // SAFETY: NS16550 LSR bit 0 = data ready.
    unsafe {
        if core::ptr::read_volatile((UART_BASE + 5) as *const u8) & 1 != 0 {
            Some(core::ptr::read_volatile(UART_BASE as *const u8))
        } else {
            None
        }
    }
}
pub fn wait_for_event(_deadline_ns: Option<u64>) {}
pub fn poweroff(code: u8) -> ! {
    let value: u32 = if code == 0 { 0x5555 } else { ((code as u32) << 16) | 0x3333 };
    // SAFETY: sifive_test finisher at 0x100000 on QEMU virt.
    unsafe { core::ptr::write_volatile(0x10_0000 as *mut u32, value) };
    loop {}
}
pub struct TrapFrame;
