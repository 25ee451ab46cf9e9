//! The scheduler's policy, apart from the mechanism: which task runs next
//! (the [`RunQueue`]), which sleepers and input waiters wake, when a slice
//! is over.
//!
//! The kernel's `sched.rs` keeps one [`Entry`] per task inside its task
//! table (under its lock) and goes through these functions for every change
//! of a task's state that the queue depends on; it does the switching,
//! the locking and the per-CPU bookkeeping itself. Everything here is plain
//! data, so `cargo test` checks the policy on the host, with
//! `sis_hal::timer::MockTimer` standing in for the clock.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

use heapless::Deque;

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
    /// never queued: a CPU runs its own when the queue is empty).
    pub idle_of_cpu: Option<usize>,
    /// Some CPU runs it, or has not finished saving its registers yet.
    pub is_on_cpu: bool,
    /// Woken by input: queued at the front, ahead of the round-robin order.
    pub is_boosted: bool,
    /// The CPU it runs on or last ran on. Its timer wakes the task when it
    /// sleeps (the task went to sleep there), so each CPU arms only for
    /// its own sleepers and an idle CPU with none sleeps until woken.
    pub cpu: usize,
}

impl Entry {
    /// A new task, ready to run.
    pub fn ready(pid: Pid) -> Entry {
        Entry { pid, state: State::Ready, wake_at_ns: 0, idle_of_cpu: None, is_on_cpu: false, is_boosted: false, cpu: 0 }
    }

    /// The idle task of `cpu`, running on it.
    pub fn idle(pid: Pid, cpu: usize) -> Entry {
        Entry { pid, state: State::Running, wake_at_ns: 0, idle_of_cpu: Some(cpu), is_on_cpu: true, is_boosted: false, cpu }
    }

    /// Whether any free CPU may take it now.
    #[inline]
    pub fn is_runnable(&self) -> bool {
        self.state == State::Ready && !self.is_on_cpu && self.idle_of_cpu.is_none()
    }
}

/// Where a task sits in the kernel's task table, from spawn until it is
/// freed (the table is a slab: a slot is reused only after its task is gone).
pub type Slot = usize;

/// The tasks any free CPU may run now, in the order they will run: the
/// round-robin queue, with tasks woken by input at its front.
///
/// It holds exactly the tasks that are `Ready`, on no CPU and not an idle
/// task, each once. [`make_ready`], [`spawned`] and [`off_cpu`] are the only
/// ways in and [`RunQueue::pop`] the only way out, and each keeps that true,
/// so picking the next task is one `pop`: the switch path touches the queue
/// and the task it runs, never the rest of the table.
///
/// The queue lives inside its owner (no heap: queueing happens under the
/// scheduler lock, in interrupt handlers too, and the switch path touches
/// one memory page fewer), one byte per slot. `CAPACITY` must be at least
/// the number of tasks that can be ready at once (idle tasks never are), and
/// slots must stay below 256.
#[derive(Debug)]
pub struct RunQueue<const CAPACITY: usize> {
    slots: Deque<u8, CAPACITY>,
}

impl<const CAPACITY: usize> RunQueue<CAPACITY> {
    pub const fn new() -> Self {
        RunQueue { slots: Deque::new() }
    }

    /// The next task to run, taken off the queue. (Inlined like the rest
    /// of the switch path: under TCG a call into another page of code is
    /// a hash lookup, not a jump.)
    #[inline]
    pub fn pop(&mut self) -> Option<Slot> {
        self.slots.pop_front().map(Slot::from)
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// The queued slots, next first.
    pub fn iter(&self) -> impl Iterator<Item = Slot> + '_ {
        self.slots.iter().map(|&slot| Slot::from(slot))
    }

    #[inline]
    fn push(&mut self, slot: Slot, boosted: bool) {
        let byte = u8::try_from(slot).expect("task slots stay below 256");
        debug_assert!(!self.slots.iter().any(|&queued| queued == byte), "slot {slot} queued twice");
        let pushed = if boosted { self.slots.push_front(byte) } else { self.slots.push_back(byte) };
        assert!(pushed.is_ok(), "run queue full: its capacity {CAPACITY} is below the tasks that can be ready");
    }

    /// Queues the task at `slot` if it may run on any CPU now.
    #[inline]
    fn push_if_runnable(&mut self, entry: &Entry, slot: Slot) {
        if entry.is_runnable() {
            self.push(slot, entry.is_boosted);
        }
    }
}

/// A new task at `slot` (made by [`Entry::ready`]) joins the back of the queue.
pub fn spawned<const CAPACITY: usize>(entry: &Entry, slot: Slot, queue: &mut RunQueue<CAPACITY>) {
    queue.push_if_runnable(entry, slot);
}

/// Readies a sleeping or input-waiting task (`boosted`: ahead of the
/// queue). A task some CPU still holds (it blocked, and that CPU has not
/// finished saving it) is queued by [`off_cpu`] instead, once it is saved.
pub fn make_ready<const CAPACITY: usize>(entry: &mut Entry, slot: Slot, queue: &mut RunQueue<CAPACITY>, boosted: bool) {
    debug_assert!(entry.state != State::Ready, "slot {slot} readied twice");
    entry.state = State::Ready;
    entry.wake_at_ns = 0;
    entry.is_boosted |= boosted;
    queue.push_if_runnable(entry, slot);
}

/// CPU `cpu` takes the task it popped from the queue (or its idle task).
#[inline]
pub fn run(entry: &mut Entry, cpu: usize) {
    entry.cpu = cpu;
    entry.state = State::Running;
    entry.is_on_cpu = true;
    entry.is_boosted = false;
}

/// The CPU that ran the task at `slot` has saved its registers, so any CPU
/// may run it from here: queued if it is ready (it yielded, was preempted,
/// or was woken while still being saved).
#[inline]
pub fn off_cpu<const CAPACITY: usize>(entry: &mut Entry, slot: Slot, queue: &mut RunQueue<CAPACITY>) {
    entry.is_on_cpu = false;
    queue.push_if_runnable(entry, slot);
}

/// Readies every sleeper in `tasks` (a slab: `None` is a free slot) due at
/// `now_ns`, whichever CPU's timer it waits on; returns the earliest
/// deadline of those still asleep on CPU `cpu`'s timer (when that CPU must
/// look again).
pub fn wake_sleepers<E: AsMut<Entry>, const CAPACITY: usize>(
    tasks: &mut [Option<E>],
    queue: &mut RunQueue<CAPACITY>,
    now_ns: u64,
    cpu: usize,
) -> Option<u64> {
    let mut next_deadline: Option<u64> = None;
    for (slot, entry) in entries_in(tasks).filter(|(_, entry)| entry.state == State::Sleeping) {
        if entry.wake_at_ns <= now_ns {
            make_ready(entry, slot, queue, false);
        } else if entry.cpu == cpu {
            next_deadline = Some(next_deadline.map_or(entry.wake_at_ns, |deadline| deadline.min(entry.wake_at_ns)));
        }
    }
    next_deadline
}

/// The CPUs to wake with an IPI once `queued` tasks wait in the queue, as
/// a bit mask by CPU index: one per task, lowest first, among `waiting`
/// (the CPUs asleep in their idle loop with no wake-up sent yet). The CPU
/// that queued them (`waker`) takes one itself when it is idle (its idle
/// loop looks at the queue next), and is never sent an IPI. A bit mask, so
/// that a switch with nobody waiting (every CPU busy, or one CPU) pays one
/// test.
#[inline]
pub fn cpus_to_wake(queued: usize, waker: usize, waker_is_idle: bool, waiting: u64) -> u64 {
    let mut candidates = waiting & !(1u64 << (waker % 64));
    let mut wanted = queued.saturating_sub(usize::from(waker_is_idle));
    let mut mask = 0;
    while candidates != 0 && wanted > 0 {
        let lowest = candidates & candidates.wrapping_neg();
        mask |= lowest;
        candidates &= !lowest;
        wanted -= 1;
    }
    mask
}

/// Readies and boosts every task waiting for input; whether there was one.
pub fn wake_input_waiters<E: AsMut<Entry>, const CAPACITY: usize>(tasks: &mut [Option<E>], queue: &mut RunQueue<CAPACITY>) -> bool {
    let mut woke = false;
    for (slot, entry) in entries_in(tasks).filter(|(_, entry)| entry.state == State::WaitingInput) {
        make_ready(entry, slot, queue, true);
        woke = true;
    }
    woke
}

/// The entries of a slab of tasks with their slots, free slots skipped.
fn entries_in<E: AsMut<Entry>>(tasks: &mut [Option<E>]) -> impl Iterator<Item = (Slot, &mut Entry)> {
    tasks.iter_mut().enumerate().filter_map(|(slot, task)| task.as_mut().map(|task| (slot, task.as_mut())))
}

/// Whether a task switched in at `switched_in_at_ns` used up its slice.
#[inline]
pub fn is_slice_over(switched_in_at_ns: u64, now_ns: u64, slice_ns: u64) -> bool {
    now_ns.saturating_sub(switched_in_at_ns) >= slice_ns
}

/// Whether a timer already armed for `armed_ns` (None: disarmed) fires by
/// `wanted_ns`, so it need not be programmed again: it is still pending
/// (after `now_ns`) and no later than wanted. A deadline at or before
/// `now_ns` has fired or is firing, so it covers nothing more. Firing
/// earlier than wanted is harmless: every timer interrupt re-checks what it
/// is for (slice over, sleeper due) and arms the next deadline.
#[inline]
pub fn armed_timer_covers(armed_ns: Option<u64>, wanted_ns: u64, now_ns: u64) -> bool {
    armed_ns.is_some_and(|armed| armed > now_ns && armed <= wanted_ns)
}

impl AsMut<Entry> for Entry {
    fn as_mut(&mut self) -> &mut Entry {
        self
    }
}
