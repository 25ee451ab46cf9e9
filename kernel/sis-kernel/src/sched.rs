//! Preemptive scheduler for every CPU: kernel tasks with their own stacks,
//! run round-robin in time slices by whichever CPU is free.
//!
//! Each CPU has an idle task (the boot context on the boot CPU, the
//! secondary's entry context elsewhere) that wakes sleepers, and otherwise
//! sleeps the CPU in `arch::wait_for_event` until the next deadline, a
//! received byte or the next poll for work another CPU made ready.
//!
//! Preemption: every CPU running a task arms its timer for the end of the
//! slice (`SLICE_NS`); the tick (`on_timer_interrupt`, from the arch's IRQ
//! entry, on the interrupted task's stack with interrupts masked) switches
//! to the next ready task. A received byte wakes the tasks waiting for input
//! and switches to them at once (`on_console_interrupt`), so the shell
//! answers while other tasks spin.
//!
//! SMP: one task table under one lock (`sync::rank::SCHEDULER`). A task that
//! is being switched away from stays `is_on_cpu` until the CPU that ran it
//! has saved its registers (`finish_switch` on the task switched to), so no
//! other CPU can resume it from a half-written context. Exited tasks are
//! freed there too, once nothing runs on their stack.
//!
//! Every switch is timed, from the moment a task gives up the CPU to the
//! moment the next one runs, for the `sis_ctx_switch_*` metrics.

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use crate::percpu::{self, MAX_CPUS};
use crate::stacks::Stack;
pub use sis_sched::{Pid, State};
use sis_sched::Entry;
use crate::sync::{rank, InterruptsMasked, IrqMutex};
use crate::{arch, console};


/// How long a task runs before the tick hands the CPU to the next ready one.
pub const SLICE_NS: u64 = 10_000_000;

/// How often an idle CPU looks for tasks another CPU made ready (there is
/// no wake-up IPI yet; docs/kernel-smp.md).
const IDLE_POLL_NS: u64 = 10_000_000;

struct Task {
    /// What the policy (sis_sched) knows: pid, state, deadline, CPU flags.
    entry: Entry,
    name: &'static str,
    context: arch::Context,
    /// None for idle tasks, which run on their CPU's boot stack.
    stack: Option<Stack>,
    run: Option<Body>,
    last_cpu: usize,
    runtime_ns: u64,
    switched_in_at_ns: u64,
    switches_in: u64,
}

/// What a spawned task runs.
#[derive(Clone, Copy)]
enum Body {
    Plain(fn()),
    /// A body with one word of its own: a user process's task carries its
    /// process this way (user/run.rs), so no lookup is needed to find it.
    WithArgument(fn(usize), usize),
}

/// What the scheduler knows about one CPU.
///
/// The `*_at` fields are where those tasks sat in the table when they were
/// noted: every switch needs them, and searching the table for them on
/// each switch was a good part of its cost. A removal can move a task, so
/// each is checked before use and a stale one costs a search (`find`).
#[derive(Clone, Copy)]
struct CpuSlot {
    /// The task running there (None before the CPU joined).
    running: Option<Pid>,
    running_at: usize,
    /// The task it just switched away from, until `finish_switch`.
    switching_from: Option<Pid>,
    switching_from_at: usize,
    /// Where this CPU's idle task sits.
    idle_at: usize,
}

impl CpuSlot {
    const OFFLINE: CpuSlot = CpuSlot { running: None, running_at: 0, switching_from: None, switching_from_at: 0, idle_at: 0 };

    /// A CPU that joined: its idle task (pid `idle`, at `idle_at`) runs.
    fn joined(idle: Pid, idle_at: usize) -> CpuSlot {
        CpuSlot { running: Some(idle), running_at: idle_at, idle_at, ..CpuSlot::OFFLINE }
    }
}

struct Scheduler {
    /// Boxed so a task's `context` keeps its address while the vector changes.
    tasks: Vec<Box<Task>>,
    cpus: [CpuSlot; MAX_CPUS],
    next_pid: Pid,
    /// Where the round-robin search starts next (a pid: fair across removals).
    cursor: Pid,
}

impl Scheduler {
    /// The index of the task `is_it` accepts, looked for at `hint` first.
    fn find(&self, hint: usize, is_it: impl Fn(&Entry) -> bool) -> Option<usize> {
        if self.tasks.get(hint).is_some_and(|task| is_it(&task.entry)) {
            return Some(hint);
        }
        self.tasks.iter().position(|task| is_it(&task.entry))
    }

    fn index_of(&self, pid: Pid, hint: usize) -> usize {
        self.find(hint, |entry| entry.pid == pid).expect("a scheduled pid is in the table")
    }

    fn current_index(&self, cpu: usize) -> usize {
        let slot = &self.cpus[cpu];
        self.index_of(slot.running.expect("this CPU joined the scheduler"), slot.running_at)
    }

    fn idle_index(&self, cpu: usize) -> usize {
        self.find(self.cpus[cpu].idle_at, |entry| entry.idle_of_cpu == Some(cpu))
            .expect("every CPU in the scheduler has an idle task")
    }

    /// Keeps the hints right after `swap_remove` moved the task at `from`
    /// (the old last index) to `to`.
    fn moved(&mut self, from: usize, to: usize) {
        for slot in &mut self.cpus {
            for at in [&mut slot.running_at, &mut slot.switching_from_at, &mut slot.idle_at] {
                if *at == from {
                    *at = to;
                }
            }
        }
    }

    fn pick(&self) -> Option<usize> {
        sis_sched::pick(&self.tasks, self.cursor)
    }

    fn has_runnable(&self) -> bool {
        sis_sched::has_runnable(&self.tasks)
    }

    /// Readies sleepers whose deadline passed; returns the next deadline.
    fn wake_sleepers(&mut self, now: u64) -> Option<u64> {
        sis_sched::wake_sleepers(&mut self.tasks, now)
    }
}

impl AsRef<Entry> for Box<Task> {
    fn as_ref(&self) -> &Entry {
        &self.entry
    }
}

impl AsMut<Entry> for Box<Task> {
    fn as_mut(&mut self) -> &mut Entry {
        &mut self.entry
    }
}

static SCHEDULER: IrqMutex<Option<Scheduler>, { rank::SCHEDULER }> = IrqMutex::new(None);

/// Preemptions by the tick, for `cpus`.
static PREEMPTIONS: AtomicU64 = AtomicU64::new(0);
/// Set once `init` made the table: secondaries wait for it without taking
/// the lock (under QEMU's TCG, CPUs spinning on a lock's atomics slow the
/// CPU that is booting down to a crawl).
static IS_STARTED: AtomicBool = AtomicBool::new(false);
/// CPUs running the scheduler (the boot CPU included).
static CPUS_JOINED: AtomicUsize = AtomicUsize::new(0);
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
    pub last_cpu: usize,
}

fn idle_task(cpu: usize, pid: Pid, now: u64) -> Box<Task> {
    Box::new(Task {
        entry: Entry::idle(pid, cpu),
        name: "idle",
        context: arch::Context::default(),
        stack: None,
        run: None,
        last_cpu: cpu,
        runtime_ns: 0,
        switched_in_at_ns: now,
        switches_in: 0,
    })
}

/// Turns the boot context into the boot CPU's idle task (pid 0). Call once,
/// with the heap up, before the secondaries join.
pub fn init() {
    let cpu = arch::cpu_index();
    let mut tasks = Vec::new();
    tasks.push(idle_task(cpu, 0, arch::monotonic_ns()));
    let mut cpus = [CpuSlot::OFFLINE; MAX_CPUS];
    cpus[cpu] = CpuSlot::joined(0, 0);
    *SCHEDULER.lock() = Some(Scheduler { tasks, cpus, next_pid: 1, cursor: 0 });
    CPUS_JOINED.store(1, Ordering::Release);
    IS_STARTED.store(true, Ordering::Release);
}

/// Whether `init` ran (secondaries wait for it before joining).
pub fn is_running() -> bool {
    IS_STARTED.load(Ordering::Acquire)
}

/// Waits (bounded by `timeout_ns`) until `count` CPUs run the scheduler.
pub fn wait_for_cpus(count: usize, timeout_ns: u64) -> bool {
    let deadline = arch::monotonic_ns().saturating_add(timeout_ns);
    loop {
        if CPUS_JOINED.load(Ordering::Acquire) >= count {
            return true;
        }
        if arch::monotonic_ns() >= deadline {
            return false;
        }
        core::hint::spin_loop();
    }
}

/// Makes the calling secondary CPU's context its idle task (it counts as
/// joined from here); `idle_loop` then has it run tasks too.
pub fn join_secondary() {
    let cpu = arch::cpu_index();
    let now = arch::monotonic_ns();
    {
        let mut guard = SCHEDULER.lock();
        let scheduler = guard.as_mut().expect("sched::init runs before a secondary joins");
        let pid = scheduler.next_pid;
        scheduler.next_pid += 1;
        scheduler.tasks.push(idle_task(cpu, pid, now));
        scheduler.cpus[cpu] = CpuSlot::joined(pid, scheduler.tasks.len() - 1);
    }
    CPUS_JOINED.fetch_add(1, Ordering::AcqRel);
}

/// Every task stack slot is in use.
#[derive(Debug)]
pub struct NoStack;

/// Starts `entry` as a new ready task on its own guarded stack.
pub fn spawn(name: &'static str, entry: fn()) -> Result<Pid, NoStack> {
    spawn_body(name, Body::Plain(entry))
}

/// Starts `entry(argument)` as a new ready task: how a user process's task
/// carries its process (`argument` is the process, owned by the task from
/// here on; on `NoStack` the caller still owns it).
pub fn spawn_with_argument(name: &'static str, entry: fn(usize), argument: usize) -> Result<Pid, NoStack> {
    spawn_body(name, Body::WithArgument(entry, argument))
}

fn spawn_body(name: &'static str, body: Body) -> Result<Pid, NoStack> {
    let stack = Stack::take().ok_or(NoStack)?;
    // Stacks grow down and the ABIs want 16-byte alignment at calls.
    let stack_top = stack.top() & !0xf;
    let task = Box::new(Task {
        entry: Entry::ready(0),
        name,
        context: arch::Context::new(stack_top, task_entry),
        stack: Some(stack),
        run: Some(body),
        last_cpu: 0,
        runtime_ns: 0,
        switched_in_at_ns: 0,
        switches_in: 0,
    });
    let mut guard = SCHEDULER.lock();
    let scheduler = guard.as_mut().expect("sched::init runs before spawn");
    let pid = scheduler.next_pid;
    scheduler.next_pid += 1;
    scheduler.tasks.push(task);
    let last = scheduler.tasks.len() - 1;
    scheduler.tasks[last].entry.pid = pid;
    SPAWNED.fetch_add(1, Ordering::Relaxed);
    if let Some(stack) = &scheduler.tasks[last].stack {
        stack.set_owner(pid, name);
    }
    Ok(pid)
}


/// First code a spawned task runs, on its own stack, interrupts masked.
extern "C" fn task_entry() -> ! {
    finish_switch();
    let entry = {
        let guard = SCHEDULER.lock();
        let scheduler = guard.as_ref().expect("scheduler is running");
        scheduler.tasks[scheduler.current_index(arch::cpu_index())].run
    };
    arch::interrupts_enable();
    match entry {
        Some(Body::Plain(entry)) => entry(),
        Some(Body::WithArgument(entry, argument)) => entry(argument),
        None => {}
    }
    switch_away(State::Exited, 0, |_| true);
    unreachable!("an exited task is never scheduled again");
}

/// Gives the CPU to the next ready task, if any; the caller stays ready.
pub fn yield_now() {
    switch_away(State::Ready, 0, |_| true);
}

/// Sleeps the current task for at least `duration_ns`.
pub fn sleep_ns(duration_ns: u64) {
    let deadline = arch::monotonic_ns().saturating_add(duration_ns);
    while arch::monotonic_ns() < deadline {
        switch_away(State::Sleeping, deadline, |now| now < deadline);
    }
}

/// Sleeps the current task until `wake(pid)` names it or `deadline_ns`
/// passes, unless `still_blocked()` (checked under the scheduler lock, which
/// `wake` takes too) already says the awaited event happened: a wake-up
/// between the caller's check and its sleep is never lost.
pub fn block_until(deadline_ns: u64, still_blocked: impl Fn() -> bool) {
    switch_away(State::Sleeping, deadline_ns, |now| now < deadline_ns && still_blocked());
}

/// Readies task `pid` if it sleeps (a `block_until` waiter); a task that is
/// not sleeping is left alone (it has not blocked yet, and its check under
/// the lock will see the event).
pub fn wake(pid: Pid) {
    let mut guard = SCHEDULER.lock();
    let Some(scheduler) = guard.as_mut() else { return };
    if let Some(task) = scheduler.tasks.iter_mut().find(|task| task.entry.pid == pid) {
        if task.entry.state == State::Sleeping {
            task.entry.state = State::Ready;
            task.entry.wake_at_ns = 0;
        }
    }
}

/// The scheduler pid of the task running on this CPU.
pub fn current_pid() -> Pid {
    let cpu = arch::cpu_index();
    let guard = SCHEDULER.lock();
    let scheduler = guard.as_ref().expect("scheduler is running");
    scheduler.cpus[cpu].running.expect("this CPU joined the scheduler")
}

/// Blocks the current task until a console byte is queued. The check runs
/// under the scheduler lock, which the console interrupt also takes before
/// waking waiters, so a byte cannot slip in between check and sleep.
pub fn wait_for_input() {
    while !console::input::has_bytes() {
        switch_away(State::WaitingInput, 0, |_| !console::input::has_bytes());
    }
}

/// The idle loop of every CPU: wake sleepers, run whoever can run, else
/// sleep the CPU until the next deadline, a byte, or the next poll.
pub fn idle_loop() -> ! {
    arch::interrupts_enable();
    // The console interrupt goes to the boot CPU; its idle loop also polls
    // the UART, in case an edge-triggered interrupt was missed.
    let polls_console = arch::cpu_index() == 0;
    loop {
        if polls_console && console::input::poll() {
            wake_input_waiters();
        }
        let masked = InterruptsMasked::new();
        let now = arch::monotonic_ns();
        let (has_runnable, next_deadline) = {
            let mut guard = SCHEDULER.lock();
            let scheduler = guard.as_mut().expect("scheduler is running");
            let next_deadline = scheduler.wake_sleepers(now);
            (scheduler.has_runnable(), next_deadline)
        };
        if has_runnable {
            drop(masked);
            yield_now();
        } else {
            let poll_at = now.saturating_add(IDLE_POLL_NS);
            // Returns with interrupts masked again; pending ones are taken
            // when `masked` is dropped.
            // Time asleep counts as this CPU's idle time (cpu_time.rs, the
            // sis_cpu_*_seconds_total metrics).
            let deadline = Some(next_deadline.map_or(poll_at, |deadline| deadline.min(poll_at)));
            crate::cpu_time::idle_section(arch::cpu_index(), || arch::wait_for_event(deadline));
            drop(masked);
        }
    }
}

/// Readies every task waiting for input, ahead of the round-robin order.
fn wake_input_waiters() -> bool {
    let mut guard = SCHEDULER.lock();
    let Some(scheduler) = guard.as_mut() else { return false };
    sis_sched::wake_input_waiters(&mut scheduler.tasks)
}

/// The timer interrupt, on the interrupted task's stack with interrupts
/// masked (after the arch acknowledged it): wake sleepers, and at the end of
/// a slice hand the CPU to the next ready task.
pub fn on_timer_interrupt() {
    crate::panic::stop_if_other_cpu_panicking();
    let cpu = arch::cpu_index();
    percpu::this_cpu().ticks.fetch_add(1, Ordering::Relaxed);
    let now = arch::monotonic_ns();
    let should_switch = {
        let mut guard = SCHEDULER.lock();
        let Some(scheduler) = guard.as_mut() else { return };
        if let Some(next_wake_ns) = scheduler.wake_sleepers(now) {
            // Wake the next sleeper on time even while a task runs here
            // (an idle CPU arms for it too; the earlier interrupt wins).
            arch::arm_timer_by(next_wake_ns, now);
        }
        let Some(running) = scheduler.cpus[cpu].running else { return };
        let current = &scheduler.tasks[scheduler.index_of(running, scheduler.cpus[cpu].running_at)];
        if current.entry.idle_of_cpu.is_some() {
            // The idle loop re-arms the timer itself and looks for work.
            return;
        }
        let slice_over = sis_sched::is_slice_over(current.switched_in_at_ns, now, SLICE_NS);
        slice_over && scheduler.has_runnable()
    };
    if should_switch {
        PREEMPTIONS.fetch_add(1, Ordering::Relaxed);
        yield_now();
    }
    arm_slice_timer();
}

/// A received byte (the console interrupt, on the CPU it is routed to):
/// queue it, wake the readers and run them now.
pub fn on_console_interrupt() {
    console::input::poll();
    if wake_input_waiters() && !current_is_idle() {
        yield_now();
        arm_slice_timer();
    }
}

fn current_is_idle() -> bool {
    let cpu = arch::cpu_index();
    let guard = SCHEDULER.lock();
    let Some(scheduler) = guard.as_ref() else { return true };
    let slot = &scheduler.cpus[cpu];
    slot.running.is_none_or(|pid| scheduler.tasks[scheduler.index_of(pid, slot.running_at)].entry.idle_of_cpu.is_some())
}

/// Makes this CPU's timer fire by the end of the running task's slice (a
/// slice that is over, because nothing else could run, starts again).
fn arm_slice_timer() {
    let cpu = arch::cpu_index();
    let now = arch::monotonic_ns();
    let slice_end = {
        let guard = SCHEDULER.lock();
        let Some(scheduler) = guard.as_ref() else { return };
        let Some(running) = scheduler.cpus[cpu].running else { return };
        let task = &scheduler.tasks[scheduler.index_of(running, scheduler.cpus[cpu].running_at)];
        if task.entry.idle_of_cpu.is_some() {
            return;
        }
        task.switched_in_at_ns.saturating_add(SLICE_NS)
    };
    arch::arm_timer_by(if slice_end > now { slice_end } else { now.saturating_add(SLICE_NS) }, now);
}

/// Puts the current task in `new_state` (`wake_at_ns` for sleepers) and
/// runs the next ready one, or this CPU's idle task. `still_blocked(now)` is
/// checked under the scheduler lock: when it says no, a blocking switch
/// turns into a plain yield (the wake-up already happened).
fn switch_away(new_state: State, wake_at_ns: u64, still_blocked: impl Fn(u64) -> bool) {
    // Masked across the switch: the interrupt state is restored by the code
    // that resumes (its own `masked` guard), never carried across tasks.
    let masked = InterruptsMasked::new();
    let cpu = arch::cpu_index();
    let now = arch::monotonic_ns();
    let (from, to) = {
        let mut guard = crate::sync::lock_masked(&SCHEDULER, &masked);
        let scheduler = guard.as_mut().expect("scheduler is running");
        let current = scheduler.current_index(cpu);
        let new_state = if new_state != State::Ready && new_state != State::Exited && !still_blocked(now) {
            State::Ready
        } else {
            new_state
        };
        let next = match scheduler.pick() {
            Some(next) => next,
            // Nothing else can run: a yielding task keeps going.
            None if new_state == State::Ready => return,
            None => scheduler.idle_index(cpu),
        };
        if next == current {
            return;
        }
        let from_task = &mut scheduler.tasks[current];
        from_task.entry.state = new_state;
        from_task.entry.wake_at_ns = wake_at_ns;
        from_task.runtime_ns += now.saturating_sub(from_task.switched_in_at_ns);
        let from_pid = from_task.entry.pid;
        let from: *mut arch::Context = &mut from_task.context;
        let to_task = &mut scheduler.tasks[next];
        to_task.entry.state = State::Running;
        to_task.entry.is_on_cpu = true;
        to_task.entry.is_boosted = false;
        to_task.last_cpu = cpu;
        to_task.switches_in += 1;
        let to: *const arch::Context = &to_task.context;
        let to_pid = to_task.entry.pid;
        if to_task.entry.idle_of_cpu.is_none() {
            scheduler.cursor = to_pid;
        }
        let slot = &mut scheduler.cpus[cpu];
        slot.running = Some(to_pid);
        slot.running_at = next;
        slot.switching_from = Some(from_pid);
        slot.switching_from_at = current;
        (from, to)
    };
    percpu::this_cpu().switch_started_ns.store(now, Ordering::Relaxed);
    // A user process's tables stay active while its task runs kernel code
    // (syscalls need no switch); the next task must not run on them, and a
    // process's space is only ever active on the CPU running its process
    // (arch/mod.rs, user mode).
    arch::user::activate_kernel_tables();
    // SAFETY: both contexts live in boxed tasks that stay in the table while
    // `is_on_cpu` (the `from` task is freed only by `finish_switch`, after
    // this call saved it); the lock is released and interrupts are masked;
    // `to` was saved by switch_context or built by Context::new for a stack
    // that stays alive with its task.
    unsafe { arch::switch_context(from, to) };
    finish_switch();
    drop(masked);
}

/// Runs first thing after a switch, on the task that was switched to (with
/// interrupts masked): lets other CPUs run the task switched away from,
/// frees it if it exited, arms the slice timer.
fn finish_switch() {
    let cpu = arch::cpu_index();
    let now = arch::monotonic_ns();
    let started = percpu::this_cpu().switch_started_ns.load(Ordering::Relaxed);
    crate::metrics::record_context_switch_ns(now.saturating_sub(started));
    let exited = {
        let mut guard = SCHEDULER.lock();
        let scheduler = guard.as_mut().expect("scheduler is running");
        let current = scheduler.current_index(cpu);
        scheduler.tasks[current].switched_in_at_ns = now;
        let is_idle = scheduler.tasks[current].entry.idle_of_cpu.is_some();
        let mut exited = None;
        if let Some(previous_pid) = scheduler.cpus[cpu].switching_from.take() {
            let previous = scheduler.index_of(previous_pid, scheduler.cpus[cpu].switching_from_at);
            scheduler.tasks[previous].entry.is_on_cpu = false;
            if scheduler.tasks[previous].entry.state == State::Exited {
                // Nothing runs on its stack any more: free it outside the lock.
                exited = Some(scheduler.tasks.swap_remove(previous));
                scheduler.moved(scheduler.tasks.len(), previous);
                REAPED.fetch_add(1, Ordering::Relaxed);
            }
        }
        if !is_idle {
            arch::arm_timer_by(now.saturating_add(SLICE_NS), now);
        }
        exited
    };
    drop(exited);
}

/// Every task, for `ps`.
pub fn tasks() -> Vec<TaskInfo> {
    let now = arch::monotonic_ns();
    let guard = SCHEDULER.lock();
    let Some(scheduler) = guard.as_ref() else { return Vec::new() };
    let mut tasks: Vec<TaskInfo> = scheduler
        .tasks
        .iter()
        .map(|task| TaskInfo {
            pid: task.entry.pid,
            name: task.name,
            state: task.entry.state,
            runtime_ns: task.runtime_ns
                + if task.entry.state == State::Running { now.saturating_sub(task.switched_in_at_ns) } else { 0 },
            switches_in: task.switches_in,
            last_cpu: task.last_cpu,
        })
        .collect();
    tasks.sort_by_key(|task| task.pid);
    tasks
}

/// One CPU as `cpus` shows it.
#[derive(Clone, Copy, Debug)]
pub struct CpuInfo {
    pub cpu: usize,
    pub running: Option<Pid>,
    pub busy_ns: u64,
    pub idle_ns: u64,
    pub ticks: u64,
}

/// Every CPU that joined the scheduler, busy and idle time up to now
/// (`cpu_time`, the figures of `sis_cpu_*_seconds_total`).
pub fn cpus() -> Vec<CpuInfo> {
    let now = arch::monotonic_ns();
    let guard = SCHEDULER.lock();
    let Some(scheduler) = guard.as_ref() else { return Vec::new() };
    (0..MAX_CPUS)
        .filter_map(|cpu| {
            let pid = scheduler.cpus[cpu].running?;
            let (busy_ns, idle_ns) = crate::cpu_time::times(cpu, now);
            Some(CpuInfo {
                cpu,
                running: Some(pid),
                busy_ns,
                idle_ns,
                ticks: percpu::cpu(cpu)?.ticks.load(Ordering::Relaxed),
            })
        })
        .collect()
}

/// (tasks that exist, spawned since boot, exited and freed since boot).
pub fn task_counts() -> (u64, u64, u64) {
    let live = SCHEDULER.lock().as_ref().map_or(0, |scheduler| scheduler.tasks.len() as u64);
    (live, SPAWNED.load(Ordering::Relaxed), REAPED.load(Ordering::Relaxed))
}

/// Preemptions by the timer tick since boot.
pub fn preemptions() -> u64 {
    PREEMPTIONS.load(Ordering::Relaxed)
}
