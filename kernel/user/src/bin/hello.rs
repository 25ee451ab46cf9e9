//! `run hello`: one line through write(2), then exit 0.
#![no_std]
#![no_main]

fn main(_args: &str) -> u8 {
    sis_user::print("hello from user mode\n");
    0
}

sis_user::entry!(main);
