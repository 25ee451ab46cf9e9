//! `run badptr`: hands write(2) pointers it must refuse — the kernel image,
//! the null page, a range that wraps — and prints each errno. Exit 0 when
//! every one was EFAULT, 1 otherwise.
#![no_std]
#![no_main]

use sis_user::{print, print_hex, write_raw, Errno, KERNEL_IMAGE};

fn main(_args: &str) -> u8 {
    let mut failures = 0;
    for (address, len) in [(KERNEL_IMAGE, 16), (0, 16), (sis_user::USER_TOP - 8, 16), (u64::MAX - 7, 16)] {
        print("badptr: write(1, ");
        print_hex(address);
        print(", 16) = ");
        match write_raw(1, address, len) {
            Err(errno) => {
                print(errno.name());
                if errno != Errno::EFAULT {
                    failures += 1;
                }
            }
            Ok(_) => {
                print("success");
                failures += 1;
            }
        }
        print("\n");
    }
    if failures == 0 {
        0
    } else {
        1
    }
}

sis_user::entry!(main);
