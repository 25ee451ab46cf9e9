//! The fuzzer's positive control (Cargo feature `fuzz-break`, test builds
//! only, like `chaos break`): a deliberately broken syscall path that panics
//! on one argument pattern, so `sis fuzz` can show it finds, minimizes and
//! replays a real kernel crash. Without the feature none of this is compiled.
//!
//! The pattern is a `write` to fd 5 from a pointer at page offset 0xffa
//! (the generator's "straddles the end of the buffer" class with a
//! particular slack) of MAX_IO_LEN + 1 bytes: four conditions the generator
//! meets together about once in 160,000 calls (docs/FUZZ.md), so a run
//! finds it in seconds at 20,000 calls/s, yet no single argument class
//! triggers it. The dispatcher calls [`check`] before validation, so the
//! call would otherwise be EINVAL (the length is over the limit).

use sis_syscall::limits::MAX_IO_LEN;
use sis_syscall::Sysno;

/// The fd, page offset and length that trigger the panic.
const BROKEN_FD: u64 = 5;
const BROKEN_PAGE_OFFSET: u64 = 0xffa;
const BROKEN_LEN: u64 = MAX_IO_LEN + 1;

/// Panics when the call matches the pattern; returns otherwise.
pub fn check(number: u64, args: &[u64; 6]) {
    let [fd, address, len, ..] = *args;
    if number == Sysno::Write.number() && fd == BROKEN_FD && address & 0xfff == BROKEN_PAGE_OFFSET && len == BROKEN_LEN {
        panic!("fuzz-break: write(5, {address:#x}, {len:#x}) hit the deliberately broken path");
    }
}
