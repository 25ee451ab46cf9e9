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
    /// The RAM file system (`fs::ROOT`).
    pub const FILE_SYSTEM: u8 = 1;
    /// The network device (`net::DEVICE`).
    pub const NETWORK: u8 = 2;
    /// The scheduler's task table (`sched::SCHEDULER`).
    pub const SCHEDULER: u8 = 3;
    /// The kernel heap (talc); taken under the scheduler by `spawn`.
    pub const HEAP: u8 = 4;
    /// Received console bytes (`console::input`); the console interrupt takes it.
    pub const CONSOLE_INPUT: u8 = 5;
    /// Allocation injections waiting to be logged (chaos builds); taken
    /// inside `alloc`, before the heap lock.
    pub const CHAOS_PENDING: u8 = 6;
    /// The entropy device (`rng::DEVICE`); takes nothing under it.
    pub const RNG: u8 = 7;
}

/// The lock a rank stands for, for reports.
pub const fn rank_name(rank: u8) -> &'static str {
    match rank {
        rank::FILE_SYSTEM => "fs::ROOT",
        rank::NETWORK => "net::DEVICE",
        rank::SCHEDULER => "sched::SCHEDULER",
        rank::HEAP => "heap",
        rank::CONSOLE_INPUT => "console::input",
        rank::CHAOS_PENDING => "chaos::PENDING_ALLOCATION",
        rank::RNG => "rng::DEVICE",
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
            "lock order violated: taking fs::ROOT (rank 1) while holding sched::SCHEDULER (rank 3); docs/kernel-smp.md"
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
    fn every_rank_has_a_name() {
        for rank in 1..=rank::RNG {
            assert_ne!(rank_name(rank), "unranked", "rank {rank}");
        }
        assert_eq!(rank_name(40), "unranked");
    }
}
