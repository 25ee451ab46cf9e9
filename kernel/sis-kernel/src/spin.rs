//! The CPU-bound workload behind `spin`: N tasks that each do integer work
//! for M milliseconds and count it, so preemption (the shell keeps
//! answering) and SMP (work scales with CPUs) can be seen and measured.
//! With `--yield` a unit of work is one `yield_now` instead, so two tasks
//! on one CPU hand it to each other and the work counts whole context
//! switches (bench/sched.ts reads the time per switch from it).
//!
//! One job at a time: its settings and per-task counts live in statics,
//! because tasks start from a plain `fn()`.

use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use crate::{arch, sched};

/// Most tasks one job may start.
pub const MAX_TASKS: usize = 16;
/// Longest job: a minute, so a typo cannot busy the machine for hours.
pub const MAX_DURATION_MS: u64 = 60_000;

/// Work units between two clock reads: keeps the clock's cost (a trap
/// under some emulators) out of the measured work.
const UNITS_PER_CLOCK_READ: u64 = 1024;

static IS_ACTIVE: AtomicBool = AtomicBool::new(false);
static DURATION_NS: AtomicU64 = AtomicU64::new(0);
/// When the job's tasks stop working (one shared end, so late starters do
/// not run longer).
static ENDS_AT_NS: AtomicU64 = AtomicU64::new(0);
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);
static FINISHED: AtomicUsize = AtomicUsize::new(0);
static TASKS: AtomicUsize = AtomicUsize::new(0);
static WORK: [AtomicU64; MAX_TASKS] = [const { AtomicU64::new(0) }; MAX_TASKS];
static IS_BACKGROUND: AtomicBool = AtomicBool::new(false);
static IS_YIELDING: AtomicBool = AtomicBool::new(false);

#[derive(Debug)]
pub enum StartError {
    /// A job is running.
    Busy,
    /// No task stack slot was free.
    NoStack,
}

/// Starts `tasks` workers for `duration_ms` (fewer if stack slots run out).
pub fn start(tasks: usize, duration_ms: u64, background: bool, yielding: bool) -> Result<(), StartError> {
    if IS_ACTIVE.swap(true, Ordering::AcqRel) {
        return Err(StartError::Busy);
    }
    for slot in &WORK {
        slot.store(0, Ordering::Relaxed);
    }
    NEXT_SLOT.store(0, Ordering::Relaxed);
    FINISHED.store(0, Ordering::Relaxed);
    TASKS.store(tasks, Ordering::Relaxed);
    IS_BACKGROUND.store(background, Ordering::Relaxed);
    IS_YIELDING.store(yielding, Ordering::Relaxed);
    DURATION_NS.store(duration_ms * 1_000_000, Ordering::Relaxed);
    ENDS_AT_NS.store(arch::monotonic_ns().saturating_add(duration_ms * 1_000_000), Ordering::Release);
    for started in 0..tasks {
        if sched::spawn("spin", worker).is_err() {
            // Out of stack slots: the job is as many tasks as could start.
            TASKS.store(started, Ordering::Relaxed);
            if started == 0 {
                release();
                return Err(StartError::NoStack);
            }
            break;
        }
    }
    Ok(())
}

/// Work done so far by each task of the current (or last) job.
pub fn work() -> impl Iterator<Item = u64> {
    WORK.iter().take(TASKS.load(Ordering::Relaxed)).map(|slot| slot.load(Ordering::Relaxed))
}

/// Whether every task of the job finished.
pub fn is_finished() -> bool {
    FINISHED.load(Ordering::Acquire) >= TASKS.load(Ordering::Relaxed)
}

/// Lets the next job start (the foreground `spin` calls it after printing).
pub fn release() {
    IS_ACTIVE.store(false, Ordering::Release);
}

/// One worker: a xorshift loop, counted in units of 64 steps.
fn worker() {
    let slot = NEXT_SLOT.fetch_add(1, Ordering::AcqRel).min(MAX_TASKS - 1);
    let ends_at = ENDS_AT_NS.load(Ordering::Acquire);
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15 ^ slot as u64;
    let mut units: u64 = 0;
    let yielding = IS_YIELDING.load(Ordering::Relaxed);
    loop {
        if yielding {
            sched::yield_now();
            units += 1;
            if units % UNITS_PER_CLOCK_READ != 0 {
                continue;
            }
            WORK[slot].store(units, Ordering::Relaxed);
            if arch::monotonic_ns() >= ends_at {
                break;
            }
            continue;
        }
        for _ in 0..UNITS_PER_CLOCK_READ {
            for _ in 0..64 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
            }
            units += 1;
        }
        // Keeps the loop from being optimised away.
        core::hint::black_box(state);
        WORK[slot].store(units, Ordering::Relaxed);
        if arch::monotonic_ns() >= ends_at {
            break;
        }
    }
    let finished = FINISHED.fetch_add(1, Ordering::AcqRel) + 1;
    if finished == TASKS.load(Ordering::Relaxed) && IS_BACKGROUND.load(Ordering::Relaxed) {
        let total: u64 = work().sum();
        crate::log_event!(
            "spin",
            "done",
            Info,
            tasks = finished as u64,
            ms = DURATION_NS.load(Ordering::Relaxed) / 1_000_000,
            work = total
        );
        release();
    }
}
