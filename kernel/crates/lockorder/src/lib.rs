//! The kernel's lock order, written down as data and checked.
//!
//! A CPU takes locks in increasing rank only (docs/kernel-smp.md, "Locks and
//! their order"). [`HeldRanks`] is what one CPU holds; the kernel keeps one
//! per CPU (`percpu.rs`) and, in debug builds, calls [`HeldRanks::acquire`]
//! before spinning on a lock and [`HeldRanks::release`] after unlocking. An
//! out-of-order acquire is a [`LockOrderViolation`] naming both locks, which
//! the kernel turns into a panic report. Living here, with no arch code, the
//! check runs under the host's `cargo test` as well.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

/// Lock ranks, outermost first. A lock may be taken only while every lock
/// this CPU holds has a lower rank. Ranks are bits of a `u64`: 1..=63.
pub mod rank {
    /// The network stack (`net::STACK`). Outermost: the `net` task renders
    /// `/metrics` inside its poll, which reads the file system, the
    /// scheduler and the heap under it, and publishes the link counters.
    pub const NET_STACK: u8 = 1;
    /// The RAM file system (`fs::ROOT`).
    pub const FILE_SYSTEM: u8 = 2;
    /// The null network device (`net::null::DEVICE`).
    pub const NETWORK: u8 = 3;
    /// The scheduler's task table (`sched::SCHEDULER`).
    pub const SCHEDULER: u8 = 4;
    /// A redirected `run`'s captured output (`user::Sink::Capture`): grows
    /// (allocates) under it, and the shell copies it out under it.
    pub const USER_OUTPUT: u8 = 5;
    /// The kernel heap (talc); taken under the scheduler by `spawn`.
    pub const HEAP: u8 = 6;
    /// Received console bytes (`console::input`); the console interrupt takes it.
    pub const CONSOLE_INPUT: u8 = 7;
    /// Allocation injections waiting to be logged (chaos builds); taken
    /// inside `alloc`, before the heap lock.
    pub const CHAOS_PENDING: u8 = 8;
    /// The entropy device (`rng::DEVICE`); takes nothing under it.
    pub const RNG: u8 = 9;
    /// Births, exits and reaping in the process table
    /// (`user::table::LIFECYCLE`); takes nothing under it.
    pub const PROCESS_TABLE: u8 = 10;
    /// The link counters last published to the metrics
    /// (`metrics::PUBLISHED_LINK`); taken under the network stack, takes
    /// nothing under it.
    pub const NET_PUBLISHED: u8 = 11;
    /// The stress workload's settings (`stress::CONFIG`); takes nothing under it.
    pub const STRESS_CONFIG: u8 = 12;
    /// The console output lock (`console::locked`): innermost, reentrant
    /// on one CPU (only its outermost acquire is checked and recorded).
    pub const CONSOLE_OUTPUT: u8 = 13;
    /// The highest rank in use (host tests walk 1..=LAST).
    pub const LAST: u8 = CONSOLE_OUTPUT;
}

/// The lock a rank stands for, for reports.
pub const fn rank_name(rank: u8) -> &'static str {
    match rank {
        rank::NET_STACK => "net::STACK",
        rank::FILE_SYSTEM => "fs::ROOT",
        rank::NETWORK => "net::DEVICE",
        rank::SCHEDULER => "sched::SCHEDULER",
        rank::USER_OUTPUT => "user::Sink::Capture",
        rank::HEAP => "heap",
        rank::CONSOLE_INPUT => "console::input",
        rank::CHAOS_PENDING => "chaos::PENDING_ALLOCATION",
        rank::RNG => "rng::DEVICE",
        rank::PROCESS_TABLE => "user::table::LIFECYCLE",
        rank::NET_PUBLISHED => "metrics::PUBLISHED_LINK",
        rank::STRESS_CONFIG => "stress::CONFIG",
        rank::CONSOLE_OUTPUT => "console::output",
        _ => "unranked",
    }
}

/// Taking `taking` while `holding` (the highest rank at or above it) is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockOrderViolation {
    pub taking: u8,
    pub holding: u8,
}

impl fmt::Display for LockOrderViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lock order violated: taking {} (rank {}) while holding {} (rank {}); docs/kernel-smp.md",
            rank_name(self.taking),
            self.taking,
            rank_name(self.holding),
            self.holding
        )
    }
}

/// The ranks one CPU holds: bit `rank` set while it holds a lock of that
/// rank. Written only by its own CPU (with interrupts masked, as every
/// kernel lock masks them), read by nobody else: relaxed atomics suffice.
#[derive(Debug, Default)]
pub struct HeldRanks(AtomicU64);

impl HeldRanks {
    pub const fn new() -> Self {
        HeldRanks(AtomicU64::new(0))
    }

    /// Checks that a lock of `rank` may be taken now. Call before spinning
    /// on it: an inversion is reported even when it would not deadlock this
    /// time. Does not record anything; [`HeldRanks::note_locked`] does, once
    /// the lock is owned.
    pub fn check(&self, rank: u8) -> Result<(), LockOrderViolation> {
        let held = self.0.load(Ordering::Relaxed);
        let at_or_above = held & !(bit(rank) - 1);
        if at_or_above == 0 {
            Ok(())
        } else {
            Err(LockOrderViolation {
                taking: rank,
                holding: 63 - at_or_above.leading_zeros() as u8,
            })
        }
    }

    /// Records that this CPU now holds a lock of `rank`.
    pub fn note_locked(&self, rank: u8) {
        self.0.fetch_or(bit(rank), Ordering::Relaxed);
    }

    /// Records that this CPU released its lock of `rank`.
    pub fn note_unlocked(&self, rank: u8) {
        self.0.fetch_and(!bit(rank), Ordering::Relaxed);
    }

    /// [`HeldRanks::check`] then [`HeldRanks::note_locked`].
    pub fn acquire(&self, rank: u8) -> Result<(), LockOrderViolation> {
        self.check(rank)?;
        self.note_locked(rank);
        Ok(())
    }

    /// The ranks held, as a bit set.
    pub fn bits(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The bit of `rank`; ranks outside 1..=63 are a bug in the rank table.
const fn bit(rank: u8) -> u64 {
    assert!(rank >= 1 && rank <= 63, "lock ranks are 1..=63");
    1u64 << rank
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_order_is_accepted_and_released_locks_are_forgotten() {
        let held = HeldRanks::new();
        held.acquire(rank::FILE_SYSTEM).unwrap();
        held.acquire(rank::SCHEDULER).unwrap();
        held.acquire(rank::HEAP).unwrap();
        held.note_unlocked(rank::HEAP);
        held.note_unlocked(rank::SCHEDULER);
        // After releasing the scheduler lock, the heap may be taken again
        // and then the console input queue: still increasing.
        held.acquire(rank::HEAP).unwrap();
        held.acquire(rank::CONSOLE_INPUT).unwrap();
        held.note_unlocked(rank::CONSOLE_INPUT);
        held.note_unlocked(rank::HEAP);
        held.note_unlocked(rank::FILE_SYSTEM);
        assert_eq!(held.bits(), 0);
    }

    #[test]
    fn two_locks_out_of_order_are_reported_naming_both() {
        let held = HeldRanks::new();
        held.acquire(rank::SCHEDULER).unwrap();
        let violation = held.acquire(rank::FILE_SYSTEM).unwrap_err();
        assert_eq!(
            violation,
            LockOrderViolation {
                taking: rank::FILE_SYSTEM,
                holding: rank::SCHEDULER
            }
        );
        assert_eq!(
            violation.to_string(),
            "lock order violated: taking fs::ROOT (rank 2) while holding sched::SCHEDULER (rank 4); docs/kernel-smp.md"
        );
        assert_eq!(
            held.bits(),
            1 << rank::SCHEDULER,
            "the refused lock is not recorded"
        );
    }

    #[test]
    fn the_same_rank_twice_is_a_violation_and_the_highest_held_is_named() {
        let held = HeldRanks::new();
        held.acquire(rank::NETWORK).unwrap();
        held.acquire(rank::HEAP).unwrap();
        held.acquire(rank::CONSOLE_INPUT).unwrap();
        // Re-taking a held rank would deadlock on a non-reentrant spin lock.
        assert_eq!(
            held.check(rank::HEAP),
            Err(LockOrderViolation {
                taking: rank::HEAP,
                holding: rank::CONSOLE_INPUT
            })
        );
        assert_eq!(held.check(rank::CHAOS_PENDING), Ok(()));
        assert_eq!(
            held.check(rank::NETWORK).unwrap_err().holding,
            rank::CONSOLE_INPUT,
            "the report names the highest held rank"
        );
    }

    #[test]
    fn every_rank_has_its_own_name() {
        let names: Vec<&str> = (1..=rank::LAST).map(rank_name).collect();
        for (index, name) in names.iter().enumerate() {
            assert_ne!(*name, "unranked", "rank {}", index + 1);
            assert_eq!(
                names.iter().filter(|other| *other == name).count(),
                1,
                "{name} names one rank only"
            );
        }
        assert_eq!(rank_name(rank::LAST + 1), "unranked");
        assert_eq!(rank_name(40), "unranked");
    }

    /// Every place the kernel holds one ranked lock while taking another
    /// (docs/kernel-smp.md, "Locks and their order"): (outer, inner, where).
    /// Reordering the ranks so that one of these runs backwards fails here,
    /// before a checking kernel would panic on it.
    const NESTINGS: &[(u8, u8, &str)] = &[
        (
            rank::NET_STACK,
            rank::FILE_SYSTEM,
            "net task: /metrics reads VFS usage",
        ),
        (
            rank::NET_STACK,
            rank::SCHEDULER,
            "net task: /metrics counts tasks",
        ),
        (
            rank::NET_STACK,
            rank::HEAP,
            "net task: polling and /metrics allocate; heap::space",
        ),
        (
            rank::NET_STACK,
            rank::CHAOS_PENDING,
            "net task: an allocation's chaos hook",
        ),
        (
            rank::NET_STACK,
            rank::NET_PUBLISHED,
            "net task: metrics::publish_network",
        ),
        (rank::FILE_SYSTEM, rank::HEAP, "fs::with: the VFS allocates"),
        (
            rank::FILE_SYSTEM,
            rank::CHAOS_PENDING,
            "fs::with: an allocation's chaos hook",
        ),
        (
            rank::SCHEDULER,
            rank::HEAP,
            "spawn allocates under the scheduler lock",
        ),
        (
            rank::USER_OUTPUT,
            rank::HEAP,
            "a redirected run's write reserves room; the shell copies it out",
        ),
        (
            rank::USER_OUTPUT,
            rank::CHAOS_PENDING,
            "a redirected run's write: the chaos hook",
        ),
    ];

    #[test]
    fn every_nesting_the_kernel_makes_goes_up_in_rank() {
        for &(outer, inner, place) in NESTINGS {
            let held = HeldRanks::new();
            held.acquire(outer).unwrap();
            assert_eq!(
                held.acquire(inner),
                Ok(()),
                "{place}: {} under {}",
                rank_name(inner),
                rank_name(outer)
            );
            // The other way round is the inversion the check reports.
            let backwards = HeldRanks::new();
            backwards.acquire(inner).unwrap();
            assert_eq!(
                backwards.check(outer),
                Err(LockOrderViolation {
                    taking: outer,
                    holding: inner
                }),
                "{place}, backwards"
            );
        }
    }

    #[test]
    fn a_net_scrape_takes_its_locks_in_order() {
        // The `net` task's poll answering GET /metrics: the stack, then in
        // turn the file system (and the heap inside it), the heap's own
        // measurement, the scheduler, and the published link counters.
        let held = HeldRanks::new();
        held.acquire(rank::NET_STACK).unwrap();
        for (outer, inner) in [
            (rank::FILE_SYSTEM, Some(rank::HEAP)),
            (rank::HEAP, None),
            (rank::SCHEDULER, None),
            (rank::NET_PUBLISHED, None),
        ] {
            held.acquire(outer).unwrap();
            if let Some(inner) = inner {
                held.acquire(inner).unwrap();
                held.note_unlocked(inner);
            }
            held.note_unlocked(outer);
        }
        assert_eq!(held.bits(), 1 << rank::NET_STACK);
        // A shell command holding the file system may not then ask the
        // stack (ifconfig inside fs::with would be this inversion).
        held.note_unlocked(rank::NET_STACK);
        held.acquire(rank::FILE_SYSTEM).unwrap();
        assert_eq!(
            held.check(rank::NET_STACK).unwrap_err().to_string(),
            "lock order violated: taking net::STACK (rank 1) while holding fs::ROOT (rank 2); docs/kernel-smp.md"
        );
    }

    #[test]
    fn leaf_locks_take_nothing_under_them() {
        // The process table's lock, the published counters, the stress
        // settings and the console output are leaves: any lock that nests
        // taken under one of them is a violation, and each may be taken
        // under any lock that nests.
        for leaf in [
            rank::PROCESS_TABLE,
            rank::NET_PUBLISHED,
            rank::STRESS_CONFIG,
            rank::CONSOLE_OUTPUT,
        ] {
            assert!(
                leaf > rank::RNG,
                "{} ranks after every lock that nests",
                rank_name(leaf)
            );
            for other in 1..=rank::RNG {
                let held = HeldRanks::new();
                held.acquire(other).unwrap();
                assert_eq!(
                    held.check(leaf),
                    Ok(()),
                    "{} under {}",
                    rank_name(leaf),
                    rank_name(other)
                );
                let held = HeldRanks::new();
                held.acquire(leaf).unwrap();
                assert!(
                    held.check(other).is_err(),
                    "{} under {}",
                    rank_name(other),
                    rank_name(leaf)
                );
            }
        }
        // Printing (a log record, a kill line) may happen under any lock,
        // so the console output lock ranks after all of them.
        for other in 1..rank::CONSOLE_OUTPUT {
            let held = HeldRanks::new();
            held.acquire(other).unwrap();
            assert_eq!(
                held.check(rank::CONSOLE_OUTPUT),
                Ok(()),
                "printing under {}",
                rank_name(other)
            );
        }
        // A redirected run's output is taken with nothing held, and never
        // under the heap (the write path allocates under it).
        let held = HeldRanks::new();
        held.acquire(rank::HEAP).unwrap();
        assert_eq!(
            held.check(rank::USER_OUTPUT),
            Err(LockOrderViolation {
                taking: rank::USER_OUTPUT,
                holding: rank::HEAP
            })
        );
    }
}
