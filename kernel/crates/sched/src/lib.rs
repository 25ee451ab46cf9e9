//! The scheduler's policy, apart from the mechanism: which task runs next,
//! which sleepers and input waiters wake, when a slice is over.
//!
//! The kernel's `sched.rs` keeps one [`Entry`] per task inside its task
//! table (under its lock) and asks these functions; it does the switching,
//! the locking and the per-CPU bookkeeping itself. Everything here is plain
//! data, so `cargo test` checks the policy on the host, with
//! `sis_hal::timer::MockTimer` standing in for the clock.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

/// Task identifier; 0 is the boot CPU's idle task.
pub type Pid = u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Running,
    Ready,
    Sleeping,
    WaitingInput,
    Exited,
}

impl State {
    pub const fn name(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Ready => "ready",
            State::Sleeping => "sleeping",
            State::WaitingInput => "waiting",
            State::Exited => "exited",
        }
    }
}

/// What the policy knows about one task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub pid: Pid,
    pub state: State,
    /// When a `Sleeping` task is due.
    pub wake_at_ns: u64,
    /// The CPU this is the idle task of (idle tasks never migrate and are
    /// never picked from the shared queue).
    pub idle_of_cpu: Option<usize>,
    /// Some CPU runs it, or has not finished saving its registers yet.
    pub is_on_cpu: bool,
    /// Woken by input: runs before the round-robin order.
    pub is_boosted: bool,
}

impl Entry {
    /// A new task, ready to run.
    pub fn ready(pid: Pid) -> Entry {
        Entry { pid, state: State::Ready, wake_at_ns: 0, idle_of_cpu: None, is_on_cpu: false, is_boosted: false }
    }

    /// The idle task of `cpu`, running on it.
    pub fn idle(pid: Pid, cpu: usize) -> Entry {
        Entry { pid, state: State::Running, wake_at_ns: 0, idle_of_cpu: Some(cpu), is_on_cpu: true, is_boosted: false }
    }

    /// Whether any free CPU may take it now.
    pub fn is_runnable(&self) -> bool {
        self.state == State::Ready && !self.is_on_cpu && self.idle_of_cpu.is_none()
    }
}

/// The index of the next task to run among `entries`: a boosted one first
/// (the first in table order), then round-robin: the lowest pid above
/// `cursor` (the pid picked last), wrapping to the lowest pid.
pub fn pick<'a, E: AsRef<Entry> + 'a>(entries: &'a [E], cursor: Pid) -> Option<usize> {
    // One pass (it runs on every switch, under the scheduler lock): the
    // first boosted task ends it; otherwise the lowest pid above the cursor
    // and the lowest pid overall are tracked as (pid, index).
    let mut after: Option<(Pid, usize)> = None;
    let mut lowest: Option<(Pid, usize)> = None;
    for (index, entry) in entries.iter().enumerate() {
        let entry = entry.as_ref();
        if !entry.is_runnable() {
            continue;
        }
        if entry.is_boosted {
            return Some(index);
        }
        if entry.pid > cursor && after.is_none_or(|(pid, _)| entry.pid < pid) {
            after = Some((entry.pid, index));
        }
        if lowest.is_none_or(|(pid, _)| entry.pid < pid) {
            lowest = Some((entry.pid, index));
        }
    }
    after.or(lowest).map(|(_, index)| index)
}

/// Whether any task could run on a free CPU.
pub fn has_runnable<E: AsRef<Entry>>(entries: &[E]) -> bool {
    entries.iter().any(|entry| entry.as_ref().is_runnable())
}

/// Readies every sleeper due at `now_ns`; returns the earliest deadline of
/// those still asleep (when to look again).
pub fn wake_sleepers<E: AsMut<Entry>>(entries: &mut [E], now_ns: u64) -> Option<u64> {
    let mut next_deadline: Option<u64> = None;
    for entry in entries.iter_mut().map(AsMut::as_mut).filter(|entry| entry.state == State::Sleeping) {
        if entry.wake_at_ns <= now_ns {
            entry.state = State::Ready;
        } else {
            next_deadline = Some(next_deadline.map_or(entry.wake_at_ns, |deadline| deadline.min(entry.wake_at_ns)));
        }
    }
    next_deadline
}

/// Readies and boosts every task waiting for input; whether there was one.
pub fn wake_input_waiters<E: AsMut<Entry>>(entries: &mut [E]) -> bool {
    let mut woke = false;
    for entry in entries.iter_mut().map(AsMut::as_mut).filter(|entry| entry.state == State::WaitingInput) {
        entry.state = State::Ready;
        entry.is_boosted = true;
        woke = true;
    }
    woke
}

/// Whether a task switched in at `switched_in_at_ns` used up its slice.
pub fn is_slice_over(switched_in_at_ns: u64, now_ns: u64, slice_ns: u64) -> bool {
    now_ns.saturating_sub(switched_in_at_ns) >= slice_ns
}

/// Whether a timer already armed for `armed_ns` (None: disarmed) fires by
/// `wanted_ns`, so it need not be programmed again: it is still pending
/// (after `now_ns`) and no later than wanted. A deadline at or before
/// `now_ns` has fired or is firing, so it covers nothing more. Firing
/// earlier than wanted is harmless: every timer interrupt re-checks what it
/// is for (slice over, sleeper due) and arms the next deadline.
pub fn armed_timer_covers(armed_ns: Option<u64>, wanted_ns: u64, now_ns: u64) -> bool {
    armed_ns.is_some_and(|armed| armed > now_ns && armed <= wanted_ns)
}

impl AsRef<Entry> for Entry {
    fn as_ref(&self) -> &Entry {
        self
    }
}

impl AsMut<Entry> for Entry {
    fn as_mut(&mut self) -> &mut Entry {
        self
    }
}
