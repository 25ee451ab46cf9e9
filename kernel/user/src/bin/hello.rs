//! `run hello [ms]`: one line through write(2), then, given a number of
//! milliseconds, sleeps that long (so `ps` can see a live process), then
//! exits 0. A word that is not a number is a usage error: exit 2.
#![no_std]
#![no_main]

fn main(args: &str) -> u8 {
    sis_user::print("hello from user mode\n");
    let Some(word) = args.split_ascii_whitespace().next() else { return 0 };
    match sis_user::parse_decimal(word).map(sis_user::sleep_ms) {
        Some(Ok(_)) => 0,
        _ => {
            sis_user::print("usage: hello [milliseconds, at most 60000]\n");
            2
        }
    }
}

sis_user::entry!(main);
