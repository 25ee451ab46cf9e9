//! Cooperative scheduler: kernel tasks with their own stacks, switched only
//! when a task sleeps, waits for input or yields.
//!
//! The boot context becomes the idle task (pid 0). It polls the console,
//! wakes sleepers whose deadline passed, and otherwise lets the CPU sleep in
//! `arch::wait_for_event` until the next deadline or a received byte.
//! Every switch is timed, from the moment a task gives up the CPU to the
//! moment the next one runs, for the `sis_ctx_switch_*` metrics.
//! A task that returns from its entry is marked exited and then reaped
//! (its record and stack freed) by the next spawn or idle pass: never while
//! it runs on that stack.

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use spin::Mutex;

use crate::{arch, console};

pub type Pid = u32;

/// Stack of a spawned task. Shell commands recurse little; 64 KiB leaves room
/// for formatting and the ramfs.
const TASK_STACK_BYTES: usize = 64 * 1024;

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

struct Task {
    pid: Pid,
    name: &'static str,
    state: State,
    wake_at_ns: u64,
    context: arch::Context,
    /// None for the idle task, which runs on the boot stack.
    _stack: Option<Box<[u8]>>,
    entry: Option<fn()>,
    runtime_ns: u64,
    switched_in_at_ns: u64,
    switches_in: u64,
}

struct Scheduler {
    /// Boxed so a task's `context` keeps its address while the vector grows.
    tasks: Vec<Box<Task>>,
    current: usize,
    next_pid: Pid,
}

static SCHEDULER: Mutex<Option<Scheduler>> = Mutex::new(None);

/// When the running task started giving up the CPU (for switch timing).
static SWITCH_STARTED_NS: AtomicU64 = AtomicU64::new(0);

/// Tasks spawned and exited tasks freed since boot, for `sis_tasks_*_total`.
static SPAWNED: AtomicU64 = AtomicU64::new(0);
static REAPED: AtomicU64 = AtomicU64::new(0);

/// A task as `ps` shows it.
#[derive(Clone, Copy, Debug)]
pub struct TaskInfo {
    pub pid: Pid,
    pub name: &'static str,
    pub state: State,
    pub runtime_ns: u64,
    pub switches_in: u64,
}

/// Turns the boot context into the idle task. Call once, with the heap up.
pub fn init() {
    let now = arch::monotonic_ns();
    let idle = Box::new(Task {
        pid: 0,
        name: "idle",
        state: State::Running,
        wake_at_ns: 0,
        context: arch::Context::default(),
        _stack: None,
        entry: None,
        runtime_ns: 0,
        switched_in_at_ns: now,
        switches_in: 0,
    });
    let mut tasks = Vec::new();
    tasks.push(idle);
    *SCHEDULER.lock() = Some(Scheduler { tasks, current: 0, next_pid: 1 });
}

/// Starts `entry` as a new ready task.
pub fn spawn(name: &'static str, entry: fn()) -> Pid {
    let stack = alloc::vec![0u8; TASK_STACK_BYTES].into_boxed_slice();
    // Stacks grow down and the ABIs want 16-byte alignment at calls.
    let stack_top = (stack.as_ptr() as usize + stack.len()) & !0xf;
    let mut guard = SCHEDULER.lock();
    let scheduler = guard.as_mut().expect("sched::init runs before spawn");
    scheduler.reap();
    SPAWNED.fetch_add(1, Ordering::Relaxed);
    let pid = scheduler.next_pid;
    scheduler.next_pid += 1;
    scheduler.tasks.push(Box::new(Task {
        pid,
        name,
        state: State::Ready,
        wake_at_ns: 0,
        context: arch::Context::new(stack_top, task_entry),
        _stack: Some(stack),
        entry: Some(entry),
        runtime_ns: 0,
        switched_in_at_ns: 0,
        switches_in: 0,
    }));
    pid
}

impl Scheduler {
    /// Frees every exited task but the current one (it may still be on its
    /// stack, switching away); keeps `current` pointing at the same task.
    fn reap(&mut self) {
        let current_pid = self.tasks[self.current].pid;
        let before = self.tasks.len();
        let current = self.current;
        let mut index = 0;
        self.tasks.retain(|task| {
            let keep = task.state != State::Exited || index == current;
            index += 1;
            keep
        });
        let reaped = before - self.tasks.len();
        if reaped > 0 {
            REAPED.fetch_add(reaped as u64, Ordering::Relaxed);
            self.current = self.tasks.iter().position(|task| task.pid == current_pid).unwrap_or(0);
        }
    }
}

/// (tasks that exist, spawned since boot, reaped since boot).
pub fn task_counts() -> (u64, u64, u64) {
    let live = SCHEDULER.lock().as_ref().map_or(0, |scheduler| scheduler.tasks.len() as u64);
    (live, SPAWNED.load(Ordering::Relaxed), REAPED.load(Ordering::Relaxed))
}

/// First code a spawned task runs, on its own stack.
extern "C" fn task_entry() -> ! {
    finish_switch();
    let entry = {
        let guard = SCHEDULER.lock();
        let scheduler = guard.as_ref().expect("scheduler is running");
        scheduler.tasks[scheduler.current].entry
    };
    if let Some(entry) = entry {
        entry();
    }
    switch_away(State::Exited);
    unreachable!("an exited task is never scheduled again");
}

/// Gives the CPU to the next ready task, if any; the caller stays ready.
pub fn yield_now() {
    switch_away(State::Ready);
}

/// Sleeps the current task for at least `duration_ns`.
pub fn sleep_ns(duration_ns: u64) {
    let deadline = arch::monotonic_ns().saturating_add(duration_ns);
    while arch::monotonic_ns() < deadline {
        {
            let mut guard = SCHEDULER.lock();
            let scheduler = guard.as_mut().expect("scheduler is running");
            let current = scheduler.current;
            scheduler.tasks[current].wake_at_ns = deadline;
        }
        switch_away(State::Sleeping);
    }
}

/// Blocks the current task until a console byte is queued.
pub fn wait_for_input() {
    while !console::input::poll() {
        switch_away(State::WaitingInput);
    }
}

/// The idle task's loop: wake whoever can run, else sleep the CPU.
pub fn idle_loop() -> ! {
    loop {
        let has_input = console::input::poll();
        let now = arch::monotonic_ns();
        let (any_ready, next_deadline) = {
            let mut guard = SCHEDULER.lock();
            let scheduler = guard.as_mut().expect("scheduler is running");
            scheduler.reap();
            let mut any_ready = false;
            let mut next_deadline: Option<u64> = None;
            for task in scheduler.tasks.iter_mut().skip(1) {
                match task.state {
                    State::Sleeping if task.wake_at_ns <= now => task.state = State::Ready,
                    State::Sleeping => {
                        next_deadline = Some(next_deadline.map_or(task.wake_at_ns, |d| d.min(task.wake_at_ns)))
                    }
                    State::WaitingInput if has_input => task.state = State::Ready,
                    _ => {}
                }
                any_ready |= task.state == State::Ready;
            }
            (any_ready, next_deadline)
        };
        if any_ready {
            yield_now();
        } else {
            crate::cpu_time::idle_section(0, || arch::wait_for_event(next_deadline));
        }
    }
}

/// Puts the current task in `new_state` and runs the next ready one
/// (round-robin; the idle task is always ready).
fn switch_away(new_state: State) {
    let now = arch::monotonic_ns();
    let (from, to) = {
        let mut guard = SCHEDULER.lock();
        let scheduler = guard.as_mut().expect("scheduler is running");
        let count = scheduler.tasks.len();
        let current = scheduler.current;
        let next = (1..=count)
            .map(|step| (current + step) % count)
            .find(|&index| scheduler.tasks[index].state == State::Ready)
            .unwrap_or(current);
        if next == current {
            // Nothing else can run: keep going (only reachable on a yield).
            if new_state == State::Ready {
                return;
            }
        }
        let from_task = &mut scheduler.tasks[current];
        from_task.state = new_state;
        from_task.runtime_ns += now.saturating_sub(from_task.switched_in_at_ns);
        let from: *mut arch::Context = &mut from_task.context;
        let to_task = &mut scheduler.tasks[next];
        to_task.state = State::Running;
        to_task.switches_in += 1;
        let to: *const arch::Context = &to_task.context;
        scheduler.current = next;
        (from, to)
    };
    if from as *const arch::Context == to {
        return;
    }
    SWITCH_STARTED_NS.store(now, Ordering::Relaxed);
    // SAFETY: both contexts live in boxed tasks that stay alive: `from` is
    // the running task (reap never frees the current task) and `to` is ready,
    // not exited; the lock is released; `to` was saved by switch_context or built by
    // Context::new for a stack that stays alive with its task.
    unsafe { arch::switch_context(from, to) };
    finish_switch();
}

/// Runs first thing after a switch, on the task that was switched to.
fn finish_switch() {
    let now = arch::monotonic_ns();
    crate::metrics::record_context_switch_ns(now.saturating_sub(SWITCH_STARTED_NS.load(Ordering::Relaxed)));
    let mut guard = SCHEDULER.lock();
    if let Some(scheduler) = guard.as_mut() {
        let current = scheduler.current;
        scheduler.tasks[current].switched_in_at_ns = now;
    }
}

/// Every task, for `ps`.
pub fn tasks() -> Vec<TaskInfo> {
    let now = arch::monotonic_ns();
    let guard = SCHEDULER.lock();
    let Some(scheduler) = guard.as_ref() else { return Vec::new() };
    scheduler
        .tasks
        .iter()
        .enumerate()
        .map(|(index, task)| TaskInfo {
            pid: task.pid,
            name: task.name,
            state: task.state,
            runtime_ns: task.runtime_ns
                + if index == scheduler.current { now.saturating_sub(task.switched_in_at_ns) } else { 0 },
            switches_in: task.switches_in,
        })
        .collect()
}
