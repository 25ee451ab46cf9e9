//! Spin locks that keep interrupts off while held, with the lock order checked in debug builds.
//!
//! Every kernel lock is an `IrqMutex`: taking it masks interrupts on this CPU
//! (and restores the previous state on release), so an interrupt handler
//! that takes the same lock can never spin on a holder it interrupted, and a
//! holder is never preempted while other CPUs spin on it.
//!
//! Lock order (docs/kernel-smp.md): a CPU takes locks in increasing rank
//! only. The ranks are the `rank` constants below; a debug build records the
//! ranks each CPU holds (`percpu`) and panics on an out-of-order acquire, so
//! a lock-order inversion shows up on the first run that exercises it rather
//! than as a rare deadlock.

use core::sync::atomic::{AtomicBool, Ordering};

use crate::{arch, percpu};

/// Lock ranks, outermost first: the table lives in sis-lockorder, where
/// the host tests check it.
pub use sis_lockorder::rank;

/// Keeps interrupts masked on this CPU until dropped, then restores the
/// state it found (so nesting works).
pub struct InterruptsMasked {
    were_enabled: bool,
}

impl InterruptsMasked {
    pub fn new() -> Self {
        InterruptsMasked { were_enabled: arch::interrupts_disable() }
    }
}

impl Drop for InterruptsMasked {
    fn drop(&mut self) {
        arch::interrupts_restore(self.were_enabled);
    }
}

/// The raw lock behind `IrqMutex`: a test-and-test-and-set spin lock that
/// masks interrupts while held. `RANK` is its place in the lock order.
pub struct RawIrqSpinLock<const RANK: u8> {
    locked: AtomicBool,
    /// The interrupt state the holder found; written only by the holder.
    interrupts_were_enabled: AtomicBool,
}

impl<const RANK: u8> RawIrqSpinLock<RANK> {
    /// Spins until this CPU holds the lock (interrupts already masked),
    /// checking and recording the rank; `unlock` restores `were_enabled`.
    #[inline]
    fn acquire(&self, were_enabled: bool) {
        percpu::check_lock_order(RANK);
        while !self.try_acquire() {
            while self.locked.load(Ordering::Relaxed) {
                core::hint::spin_loop();
            }
        }
        percpu::note_locked(RANK);
        self.interrupts_were_enabled.store(were_enabled, Ordering::Relaxed);
    }

    #[inline]
    fn try_acquire(&self) -> bool {
        self.locked.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok()
    }
}

// SAFETY: `lock` returns only once this CPU owns `locked` (acquire ordering
// pairs with the release in `unlock`), so at most one holder exists.
unsafe impl<const RANK: u8> lock_api::RawMutex for RawIrqSpinLock<RANK> {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = RawIrqSpinLock { locked: AtomicBool::new(false), interrupts_were_enabled: AtomicBool::new(false) };
    // The interrupt state belongs to the CPU that took the lock.
    type GuardMarker = lock_api::GuardNoSend;

    #[inline]
    fn lock(&self) {
        self.acquire(arch::interrupts_disable());
    }

    fn try_lock(&self) -> bool {
        let were_enabled = arch::interrupts_disable();
        if self.try_acquire() {
            percpu::note_locked(RANK);
            self.interrupts_were_enabled.store(were_enabled, Ordering::Relaxed);
            true
        } else {
            arch::interrupts_restore(were_enabled);
            false
        }
    }

    #[inline]
    unsafe fn unlock(&self) {
        let were_enabled = self.interrupts_were_enabled.load(Ordering::Relaxed);
        percpu::note_unlocked(RANK);
        self.locked.store(false, Ordering::Release);
        arch::interrupts_restore(were_enabled);
    }

    fn is_locked(&self) -> bool {
        self.locked.load(Ordering::Relaxed)
    }
}

/// A spin lock that masks interrupts while held, ranked in the lock order.
pub type IrqMutex<T, const RANK: u8> = lock_api::Mutex<RawIrqSpinLock<RANK>, T>;

/// Takes `mutex` on a path that already holds `InterruptsMasked`: the same
/// as `lock`, less reading the interrupt state (on x86_64 `pushf` makes
/// TCG compute every flag), which the scheduler's switch path pays on
/// every context switch. The guard restores nothing; `masked` does.
#[inline]
pub fn lock_masked<'a, T, const RANK: u8>(
    mutex: &'a IrqMutex<T, RANK>,
    _masked: &'a InterruptsMasked,
) -> lock_api::MutexGuard<'a, RawIrqSpinLock<RANK>, T> {
    // SAFETY: `raw()` is only used to acquire; the guard made right after
    // owns the acquisition and releases it through `unlock`.
    let raw = unsafe { mutex.raw() };
    // Interrupts were off (`_masked` proves it): `unlock` leaves them off.
    raw.acquire(false);
    // SAFETY: this CPU acquired the lock just above.
    unsafe { mutex.make_guard_unchecked() }
}
