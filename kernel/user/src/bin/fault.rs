//! `run fault`: reads address 0, which is never mapped; the kernel kills
//! the process with `killed: pid N (fault): page fault at 0x0`.
#![no_std]
#![no_main]

fn main(_args: &str) -> u8 {
    // SAFETY: deliberately unsound: the point is the fault. A volatile read
    // so the compiler cannot reason the access away.
    let value = unsafe { core::ptr::read_volatile(core::ptr::null::<u8>()) };
    // Reached only if the kernel mapped page 0: report it as a failure.
    sis_user::print("fault: address 0 was readable\n");
    value.wrapping_add(1)
}

sis_user::entry!(main);
