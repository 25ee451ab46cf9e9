//! The fuzzer's call generator, in the style of Trinity: each argument is
//! drawn from classes that fit its type (for a pointer: a valid buffer, the
//! program's read-only text, null, a kernel address, an unmapped page, a
//! misaligned or page-straddling address, one that wraps; for a length:
//! zero, small, a page, the limit and one past it, huge), so most calls get
//! past the first check and the deeper ones are reached.
//!
//! Call `index` of `seed` depends on nothing else ([`generate`] hashes the
//! pair): any subset of a run's calls can be replayed alone, which is what
//! minimizing a crash by delta debugging over the call sequence needs.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

pub mod plan;

use sis_syscall::flags::{OpenFlags, Protection};
use sis_syscall::limits::{MAX_FDS, MAX_IO_LEN, MAX_PID, MMAP_BASE, PAGE_SIZE, PATH_MAX, USER_TOP};
use sis_syscall::Sysno;

/// What the fuzz program knows of its own memory, for valid pointers.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// A writable scratch buffer and its length (at least a page).
    pub buffer: u64,
    pub buffer_len: u64,
    /// An address in the program's read-only text.
    pub text: u64,
    /// An address in the kernel's image on this arch.
    pub kernel: u64,
    /// A user address that is never mapped.
    pub unmapped: u64,
}

/// One generated call: number and six argument registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    pub number: u64,
    pub args: [u64; 6],
}

/// SplitMix64: a tiny, well-mixed generator (Steele et al.); good enough
/// for argument choice and trivially reproducible in the CLI's listing.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn pick<T: Copy>(&mut self, choices: &[T]) -> T {
        choices[self.below(choices.len() as u64) as usize]
    }
}

/// The calls the fuzzer makes. exit would end the run, spawn would start
/// other programs, and progress is the fuzzer's own. wait is in: the fuzzer
/// has no children, so every pid is ESRCH.
pub const FUZZED: [Sysno; 15] = [
    Sysno::Write,
    Sysno::Read,
    Sysno::Open,
    Sysno::Close,
    Sysno::Stat,
    Sysno::Unlink,
    Sysno::Mkdir,
    Sysno::Getpid,
    Sysno::Sleep,
    Sysno::Yield,
    Sysno::Mmap,
    Sysno::Munmap,
    Sysno::Uptime,
    Sysno::Getrandom,
    Sysno::Wait,
];

fn pointer(rng: &mut Rng, layout: &Layout) -> u64 {
    let in_buffer = layout.buffer + rng.below(layout.buffer_len);
    match rng.below(10) {
        0..=2 => layout.buffer,
        3 => in_buffer | 1, // misaligned
        4 => layout.buffer + layout.buffer_len - 1 - rng.below(8), // straddles the end
        5 => layout.text,
        6 => rng.pick(&[0, 1, PAGE_SIZE - 1]),
        7 => layout.kernel + rng.below(PAGE_SIZE),
        8 => rng.pick(&[layout.unmapped, USER_TOP - 1, USER_TOP, u64::MAX - 7]),
        _ => rng.next(),
    }
}

fn length(rng: &mut Rng, layout: &Layout) -> u64 {
    match rng.below(8) {
        0 => 0,
        1..=3 => 1 + rng.below(64),
        4 => layout.buffer_len,
        5 => rng.pick(&[MAX_IO_LEN, MAX_IO_LEN + 1]),
        6 => rng.pick(&[PAGE_SIZE, PAGE_SIZE + 1, u64::MAX, 1 << 32]),
        _ => rng.next(),
    }
}

fn path_length(rng: &mut Rng) -> u64 {
    match rng.below(6) {
        0 => 0,
        1..=3 => 1 + rng.below(16),
        4 => rng.pick(&[PATH_MAX, PATH_MAX + 1]),
        _ => rng.next(),
    }
}

fn fd(rng: &mut Rng) -> u64 {
    match rng.below(6) {
        0..=2 => 3 + rng.below(4), // what the fuzzer's own opens get
        3 => rng.below(MAX_FDS as u64),
        4 => rng.pick(&[MAX_FDS as u64 - 1, MAX_FDS as u64, u64::MAX]),
        _ => rng.next(),
    }
}

/// An fd for a call that would take the program's output away: fds 1 and 2
/// become 0 (open, input only), so write never floods the console with the
/// buffer's bytes and close never silences the program's reports; every
/// other fd class is unchanged.
fn fd_sparing_output(rng: &mut Rng) -> u64 {
    match fd(rng) {
        1 | 2 => 0,
        other => other,
    }
}

fn flags(rng: &mut Rng, valid: &[u64]) -> u64 {
    if rng.below(4) == 0 {
        rng.next() >> rng.below(64)
    } else {
        rng.pick(valid)
    }
}

/// Call `index` of the run seeded with `seed`.
pub fn generate(seed: u64, index: u64, layout: &Layout) -> Call {
    let mut rng = Rng(seed ^ index.wrapping_mul(0xd1b5_4a32_d192_ed03));
    rng.next();
    let number = if rng.below(16) == 0 {
        let random = rng.next();
        rng.pick(&[Sysno::ALL.len() as u64, 255, 1 << 32, u64::MAX, random])
    } else {
        rng.pick(&FUZZED).number()
    };
    let mut args = [0u64; 6];
    let open_flags = [OpenFlags::READ, OpenFlags::WRITE | OpenFlags::CREATE, OpenFlags::READ | OpenFlags::WRITE | OpenFlags::APPEND, OpenFlags::WRITE | OpenFlags::TRUNCATE];
    match Sysno::from_raw(number) {
        Ok(Sysno::Write) => args[..3].copy_from_slice(&[fd_sparing_output(&mut rng), pointer(&mut rng, layout), length(&mut rng, layout)]),
        Ok(Sysno::Read) => args[..3].copy_from_slice(&[fd(&mut rng), pointer(&mut rng, layout), length(&mut rng, layout)]),
        Ok(Sysno::Open) => args[..3].copy_from_slice(&[pointer(&mut rng, layout), path_length(&mut rng), flags(&mut rng, &open_flags)]),
        Ok(Sysno::Close) => args[0] = fd_sparing_output(&mut rng),
        Ok(Sysno::Stat) => args[..3].copy_from_slice(&[pointer(&mut rng, layout), path_length(&mut rng), pointer(&mut rng, layout)]),
        Ok(Sysno::Unlink | Sysno::Mkdir) => args[..2].copy_from_slice(&[pointer(&mut rng, layout), path_length(&mut rng)]),
        // Mostly 0 or 1 ms: sleeping is not what is being tested, and the
        // run must keep its pace; now and then one over the limit.
        Ok(Sysno::Sleep) => args[0] = rng.pick(&[0, 0, 1, 60_001, u64::MAX]),
        Ok(Sysno::Mmap) => {
            let hint = if rng.below(8) == 0 { layout.buffer } else { 0 };
            args[..3].copy_from_slice(&[hint, length(&mut rng, layout), flags(&mut rng, &[Protection::READ, Protection::READ | Protection::WRITE])]);
        }
        Ok(Sysno::Munmap) => {
            let mask = rng.pick(&[0, PAGE_SIZE - 1]);
            // Half the time a page where the kernel's mmap puts what this
            // process mapped (it fills from MMAP_BASE up), so munmap's
            // success path and its frees are reached, not only its EINVAL.
            let address = if rng.below(2) == 0 { MMAP_BASE + rng.below(64) * PAGE_SIZE } else { pointer(&mut rng, layout) & !mask };
            args[..2].copy_from_slice(&[address, length(&mut rng, layout)]);
        }
        Ok(Sysno::Getrandom) => args[..3].copy_from_slice(&[pointer(&mut rng, layout), length(&mut rng, layout), flags(&mut rng, &[0])]),
        Ok(Sysno::Wait) => args[..2].copy_from_slice(&[rng.pick(&[0, 1, 2, MAX_PID, MAX_PID + 1, u64::MAX]), pointer(&mut rng, layout)]),
        // Calls without arguments, unknown numbers: registers of garbage,
        // which must be ignored.
        _ => args.iter_mut().for_each(|arg| *arg = rng.next()),
    }
    Call { number, args }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sis_syscall::{decode, AddressSpace, Errno, Fd, Process, Region};
    use std::collections::{BTreeMap, BTreeSet};

    const LAYOUT: Layout = Layout { buffer: 0x20_0000_3000, buffer_len: 0x2000, text: 0x20_0000_0040, kernel: 0x4020_0000, unmapped: 0x2f_0000_0000 };

    /// The fuzz program's mappings: text read-only, the buffer writable.
    struct Fuzzer;

    impl AddressSpace for Fuzzer {
        fn region_containing(&self, address: u64) -> Option<Region> {
            [
                Region { start: 0x20_0000_0000, end: 0x20_0000_2000, readable: true, writable: false },
                Region { start: LAYOUT.buffer, end: LAYOUT.buffer + LAYOUT.buffer_len, readable: true, writable: true },
            ]
            .into_iter()
            .find(|region| region.start <= address && address < region.end)
        }
    }

    impl Process for Fuzzer {
        fn address_space(&self) -> &dyn AddressSpace {
            self
        }
        fn fd_is_open(&self, fd: Fd) -> bool {
            (3..6).contains(&fd.index())
        }
    }

    /// The calls in vectors.txt (shared with the CLI's TypeScript mirror,
    /// src/fuzz/generator.ts, whose test reads the same file). Run with
    /// SIS_FUZZ_WRITE_VECTORS=1 to rewrite it after a deliberate change.
    #[test]
    fn the_shared_vectors_match() {
        let mut text = String::from("# seed index number a0 a1 a2 a3 a4 a5 (hex), layout: buffer=0x2000003000 buffer_len=0x2000 text=0x2000000040 kernel=0x40200000 unmapped=0x2f00000000\n");
        for seed in [0u64, 42, 0x5eed, u64::MAX] {
            for index in (0..512).chain([99_999, 1 << 40, u64::MAX]) {
                let call = generate(seed, index, &LAYOUT);
                text.push_str(&format!("{seed:x} {index:x} {:x}", call.number));
                for arg in call.args {
                    text.push_str(&format!(" {arg:x}"));
                }
                text.push('\n');
            }
        }
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors.txt");
        if std::env::var_os("SIS_FUZZ_WRITE_VECTORS").is_some() {
            std::fs::write(path, &text).unwrap();
        }
        assert_eq!(std::fs::read_to_string(path).unwrap(), text, "generator changed: rewrite vectors.txt and check the TypeScript mirror");
    }

    #[test]
    fn a_call_depends_only_on_seed_and_index() {
        for index in [0, 1, 7, 99_999, u64::MAX] {
            assert_eq!(generate(42, index, &LAYOUT), generate(42, index, &LAYOUT));
        }
        let first: Vec<Call> = (0..100).map(|i| generate(1, i, &LAYOUT)).collect();
        let other: Vec<Call> = (0..100).map(|i| generate(2, i, &LAYOUT)).collect();
        assert_ne!(first, other);
    }

    #[test]
    fn every_fuzzed_call_and_unknown_numbers_come_up() {
        let numbers: BTreeSet<u64> = (0..5_000).map(|i| generate(7, i, &LAYOUT).number).collect();
        for call in FUZZED {
            assert!(numbers.contains(&call.number()), "{} never generated", call.name());
        }
        assert!(numbers.iter().any(|&n| Sysno::from_raw(n).is_err()));
        assert!(!numbers.contains(&Sysno::Exit.number()));
    }

    /// The program reports through fds 1 and 2: no call may write garbage
    /// there or close them.
    #[test]
    fn output_fds_are_never_written_or_closed() {
        for index in 0..50_000 {
            let call = generate(3, index, &LAYOUT);
            if call.number == Sysno::Write.number() || call.number == Sysno::Close.number() {
                assert!(call.args[0] != 1 && call.args[0] != 2, "call {index}: {call:?}");
            }
        }
    }

    /// Against the real validation layer, the generated calls reach success
    /// on most calls and every errno the validators give.
    #[test]
    fn generated_calls_cover_the_validators() {
        let mut outcomes: BTreeMap<&str, BTreeSet<Result<(), u8>>> = BTreeMap::new();
        for index in 0..50_000 {
            let call = generate(0x5eed, index, &LAYOUT);
            let name = Sysno::from_raw(call.number).map_or("unknown", |s| s.name());
            outcomes.entry(name).or_default().insert(decode(call.number, call.args, &Fuzzer).map(|_| ()).map_err(Errno::code));
        }
        let all: BTreeSet<u8> = outcomes.values().flatten().filter_map(|r| r.err()).collect();
        for errno in [Errno::EFAULT, Errno::EBADF, Errno::EINVAL, Errno::ENOSYS, Errno::ENAMETOOLONG, Errno::ENOENT, Errno::ESRCH] {
            assert!(all.contains(&errno.code()), "{} never returned", errno.name());
        }
        for name in ["write", "read", "open", "close", "stat", "unlink", "mkdir", "sleep", "mmap", "munmap", "getrandom"] {
            assert!(outcomes[name].contains(&Ok(())), "{name} never passed validation");
            assert!(outcomes[name].iter().any(Result::is_err), "{name} never failed validation");
        }
    }
}
