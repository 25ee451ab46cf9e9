//! Preemptive scheduler for every CPU: kernel tasks with their own stacks,
//! run round-robin in time slices by whichever CPU is free.
//!
//! Each CPU has an idle task (the boot context on the boot CPU, the
//! secondary's entry context elsewhere) that wakes sleepers, and otherwise
//! sleeps the CPU in `arch::wait_for_event` until the next deadline of a
//! task that went to sleep on it, a received byte (boot CPU) or a wake-up
//! IPI: a CPU that queues work while others sleep idle wakes one per task
//! (`arch::wake_cpu`), so an idle CPU never polls for work.
//!
//! Preemption: every CPU running a task arms its timer for the end of the
//! slice (`SLICE_NS`); the tick (`on_timer_interrupt`, from the arch's IRQ
//! entry, on the interrupted task's stack with interrupts masked) switches
//! to the next ready task. A received byte wakes the tasks waiting for input
//! and switches to them at once (`on_console_interrupt`), so the shell
//! answers while other tasks spin.
//!
//! SMP: one task table under one lock (`sync::rank::SCHEDULER`), with one
//! run queue of the tasks any CPU may take (`sis_sched::RunQueue`): picking
//! is a pop, so a switch touches the queue and the two tasks it swaps, never
//! the rest of the table. A task that is being switched away from stays
//! `is_on_cpu`, out of the queue, until the CPU that ran it has saved its
//! registers (`finish_switch` on the task switched to), so no other CPU can
//! resume it from a half-written context. Exited tasks are freed there too,
//! once nothing runs on their stack.
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
use sis_sched::{Entry, RunQueue, Slot};
use crate::sync::{rank, InterruptsMasked, IrqMutex};
use crate::{arch, console};


/// How long a task runs before the tick hands the CPU to the next ready one.
pub const SLICE_NS: u64 = 10_000_000;

/// How often the boot CPU's idle loop looks at the console UART, in case an
/// edge-triggered receive interrupt was missed.
const CONSOLE_POLL_NS: u64 = 10_000_000;

/// One task. What every switch reads and writes comes first and the saved
/// registers right after, so a switch touches few cache lines of each task
/// (under TCG, where the speed targets are measured, each line first touched
/// after the CPU slept costs about as much as a dozen instructions).
#[repr(C, align(64))]
struct Task {
    /// What the policy (sis_sched) knows: pid, state, deadline, CPU flags.
    entry: Entry,
    switched_in_at_ns: u64,
    runtime_ns: u64,
    switches_in: u64,
    /// It may leave a process's tables active on its CPU (it runs a user
    /// process: `spawn_with_argument`). Every other task runs on the
    /// kernel's tables, which the switch into it put back, so switching
    /// away from it needs no check.
    may_leave_user_tables: bool,
    context: arch::Context,
    name: &'static str,
    /// None for idle tasks, which run on their CPU's boot stack.
    stack: Option<Stack>,
    run: Option<Body>,
}

/// What a spawned task runs.
#[derive(Clone, Copy)]
enum Body {
    Plain(fn()),
    /// A body with one word of its own: a user process's task carries its
    /// process this way (user/run.rs), so no lookup is needed to find it.
    WithArgument(fn(usize), usize),
}

/// What the scheduler knows about one CPU: the table slots of its tasks.
#[derive(Clone, Copy)]
struct CpuSlot {
    /// The task running there (None before the CPU joined).
    running: Option<Slot>,
    /// The task it just switched away from, until `finish_switch`.
    switching_from: Option<Slot>,
    /// Its idle task.
    idle: Slot,
    /// When its switch in progress began (`monotonic_ns`), for the
    /// `sis_ctx_switch_*` metrics. Kept here rather than in the per-CPU
    /// area: the switch path touches this line anyway.
    switch_started_ns: u64,
}

impl CpuSlot {
    const OFFLINE: CpuSlot = CpuSlot { running: None, switching_from: None, idle: 0, switch_started_ns: 0 };

    /// A CPU that joined: its idle task (at `idle`) runs.
    fn joined(idle: Slot) -> CpuSlot {
        CpuSlot { running: Some(idle), idle, ..CpuSlot::OFFLINE }
    }
}

// The run queue keeps slots in a byte: the table never grows past one
// task per stack slot plus one idle task per CPU.
const _: () = assert!(crate::stacks::SLOTS + MAX_CPUS <= 256);
// `Scheduler::waiting` has one bit per CPU.
const _: () = assert!(MAX_CPUS <= 64);

struct Scheduler {
    /// A slab: a task keeps its slot from spawn until it is freed, so the
    /// run queue and the CPUs name tasks by slot. Boxed so a task's
    /// `context` keeps its address while the vector grows.
    tasks: Vec<Option<Box<Task>>>,
    /// The tasks any CPU may run now, next first. Only tasks with a stack
    /// are ever ready, so one entry per stack slot is enough.
    ready: RunQueue<{ crate::stacks::SLOTS }>,
    cpus: [CpuSlot; MAX_CPUS],
    /// The CPUs whose idle loop found nothing to run and sleeps (or is
    /// about to), with no wake-up sent since, by CPU index: queued work
    /// must wake them (`claim_cpus_to_wake`).
    waiting: u64,
    next_pid: Pid,
}

impl Scheduler {
    fn task(&self, slot: Slot) -> &Task {
        self.tasks[slot].as_deref().expect("a scheduled slot holds a task")
    }

    fn task_mut(&mut self, slot: Slot) -> &mut Task {
        self.tasks[slot].as_deref_mut().expect("a scheduled slot holds a task")
    }

    fn current_slot(&self, cpu: usize) -> Slot {
        self.cpus[cpu].running.expect("this CPU joined the scheduler")
    }

    /// Puts `task` in a free slot (or a new one) and returns it.
    fn insert(&mut self, task: Box<Task>) -> Slot {
        match self.tasks.iter().position(Option::is_none) {
            Some(free) => {
                self.tasks[free] = Some(task);
                free
            }
            None => {
                self.tasks.push(Some(task));
                self.tasks.len() - 1
            }
        }
    }

    fn slot_of(&self, pid: Pid) -> Option<Slot> {
        self.tasks.iter().position(|task| task.as_ref().is_some_and(|task| task.entry.pid == pid))
    }

    fn has_runnable(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Readies sleepers whose deadline passed; returns the next deadline
    /// of the sleepers on `cpu`'s timer.
    fn wake_sleepers(&mut self, now: u64, cpu: usize) -> Option<u64> {
        sis_sched::wake_sleepers(&mut self.tasks, &mut self.ready, now, cpu)
    }

    /// After `waker` queued work: the waiting CPUs to wake for it, each
    /// marked woken (send the IPIs with `wake_cpus`, after the lock).
    fn claim_cpus_to_wake(&mut self, waker: usize) -> u64 {
        if self.waiting == 0 {
            return 0;
        }
        let waker_is_idle = self.cpus[waker].running == Some(self.cpus[waker].idle);
        let mask = sis_sched::cpus_to_wake(self.ready.len(), waker, waker_is_idle, self.waiting);
        self.waiting &= !mask;
        mask
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

/// Sends the wake-up IPI to every CPU in `mask` (`claim_cpus_to_wake`).
fn wake_cpus(mask: u64) {
    for cpu in (0..MAX_CPUS).filter(|&cpu| mask & (1 << cpu) != 0) {
        arch::wake_cpu(cpu);
    }
}

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
        switched_in_at_ns: now,
        runtime_ns: 0,
        switches_in: 0,
        may_leave_user_tables: false,
        context: arch::Context::default(),
        name: "idle",
        stack: None,
        run: None,
    })
}

/// Turns the boot context into the boot CPU's idle task (pid 0). Call once,
/// with the heap up, before the secondaries join. Pids below `cpus` are
/// kept for the idle tasks (each CPU's is its index), so tasks spawned
/// before the secondaries join get the same pids on every boot.
pub fn init(cpus: usize) {
    let cpu = arch::cpu_index();
    let next_pid = Pid::try_from(cpus.clamp(1, MAX_CPUS)).unwrap_or(1);
    let mut scheduler =
        Scheduler { tasks: Vec::new(), ready: RunQueue::new(), cpus: [CpuSlot::OFFLINE; MAX_CPUS], waiting: 0, next_pid };
    let idle = scheduler.insert(idle_task(cpu, 0, arch::monotonic_ns()));
    scheduler.cpus[cpu] = CpuSlot::joined(idle);
    *SCHEDULER.lock() = Some(scheduler);
    CPUS_JOINED.store(1, Ordering::Release);
    IS_STARTED.store(true, Ordering::Release);
}

/// Whether `init` ran (a late x86_64 secondary waits for it to log).
#[cfg(target_arch = "x86_64")]
pub fn is_running() -> bool {
    IS_STARTED.load(Ordering::Acquire)
}

/// Waits (bounded by `timeout_ns`) until `count` CPUs run the scheduler.
pub fn wait_for_cpus(count: usize, timeout_ns: u64) -> bool {
    arch::spin_until(|| CPUS_JOINED.load(Ordering::Acquire) >= count, arch::monotonic_ns().saturating_add(timeout_ns))
}

/// Makes the calling secondary CPU's context its idle task (it counts as
/// joined from here); `idle_loop` then has it run tasks too.
pub fn join_secondary() {
    let cpu = arch::cpu_index();
    let now = arch::monotonic_ns();
    {
        let mut guard = SCHEDULER.lock();
        let scheduler = guard.as_mut().expect("sched::init runs before a secondary joins");
        // Kept by `init` (a CPU index is below the CPU count it was given).
        let pid = Pid::try_from(cpu).unwrap_or(Pid::MAX);
        let idle = scheduler.insert(idle_task(cpu, pid, now));
        scheduler.cpus[cpu] = CpuSlot::joined(idle);
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
/// here on; on `NoStack` the caller still owns it). Such a task may enter
/// user mode, so switching away from it puts the kernel's tables back.
pub fn spawn_with_argument(name: &'static str, entry: fn(usize), argument: usize) -> Result<Pid, NoStack> {
    spawn_body(name, Body::WithArgument(entry, argument))
}

fn spawn_body(name: &'static str, body: Body) -> Result<Pid, NoStack> {
    let stack = Stack::take().ok_or(NoStack)?;
    // Stacks grow down and the ABIs want 16-byte alignment at calls.
    let stack_top = stack.top() & !0xf;
    let mut task = Box::new(Task {
        entry: Entry::ready(0),
        switched_in_at_ns: 0,
        runtime_ns: 0,
        switches_in: 0,
        may_leave_user_tables: matches!(body, Body::WithArgument(..)),
        context: arch::Context::new(stack_top, task_entry),
        name,
        stack: Some(stack),
        run: Some(body),
    });
    let mut guard = SCHEDULER.lock();
    let scheduler = guard.as_mut().expect("sched::init runs before spawn");
    let pid = scheduler.next_pid;
    scheduler.next_pid += 1;
    task.entry.pid = pid;
    if let Some(stack) = &task.stack {
        stack.set_owner(pid, name);
    }
    let slot = scheduler.insert(task);
    let Scheduler { tasks, ready, .. } = &mut *scheduler;
    sis_sched::spawned(&tasks[slot].as_ref().expect("just inserted").entry, slot, ready);
    let to_wake = scheduler.claim_cpus_to_wake(arch::cpu_index());
    drop(guard);
    wake_cpus(to_wake);
    SPAWNED.fetch_add(1, Ordering::Relaxed);
    Ok(pid)
}


/// First code a spawned task runs, on its own stack, interrupts masked.
extern "C" fn task_entry() -> ! {
    finish_switch();
    let entry = {
        let guard = SCHEDULER.lock();
        let scheduler = guard.as_ref().expect("scheduler is running");
        scheduler.task(scheduler.current_slot(arch::cpu_index())).run
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
    let Some(slot) = scheduler.slot_of(pid) else { return };
    let Scheduler { tasks, ready, .. } = &mut *scheduler;
    let Some(task) = tasks[slot].as_mut() else { return };
    if task.entry.state == State::Sleeping {
        sis_sched::make_ready(&mut task.entry, slot, ready, false);
        let to_wake = scheduler.claim_cpus_to_wake(arch::cpu_index());
        drop(guard);
        wake_cpus(to_wake);
    }
}

/// The scheduler pid of the task running on this CPU.
pub fn current_pid() -> Pid {
    let cpu = arch::cpu_index();
    let guard = SCHEDULER.lock();
    let scheduler = guard.as_ref().expect("scheduler is running");
    scheduler.task(scheduler.current_slot(cpu)).entry.pid
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
/// sleep the CPU until the next deadline of its own sleepers, a wake-up
/// IPI, or (boot CPU) a byte or the next console poll.
pub fn idle_loop() -> ! {
    arch::interrupts_enable();
    let cpu = arch::cpu_index();
    // The console interrupt goes to the boot CPU; its idle loop also polls
    // the UART, in case an edge-triggered interrupt was missed.
    let polls_console = cpu == 0;
    loop {
        if polls_console && console::input::poll() {
            wake_input_waiters();
        }
        let masked = InterruptsMasked::new();
        let now = arch::monotonic_ns();
        let (has_runnable, next_deadline, to_wake) = {
            let mut guard = SCHEDULER.lock();
            let scheduler = guard.as_mut().expect("scheduler is running");
            let next_deadline = scheduler.wake_sleepers(now, cpu);
            let has_runnable = scheduler.has_runnable();
            // Marked under the lock, before the wait: work queued after
            // this sends an IPI, which ends the wait even if it has not
            // begun yet (the interrupt stays pending until then).
            if has_runnable {
                scheduler.waiting &= !(1 << cpu);
            } else {
                scheduler.waiting |= 1 << cpu;
            }
            (has_runnable, next_deadline, scheduler.claim_cpus_to_wake(cpu))
        };
        wake_cpus(to_wake);
        if has_runnable {
            drop(masked);
            yield_now();
        } else {
            let console_poll = polls_console.then(|| now.saturating_add(CONSOLE_POLL_NS));
            let deadline = next_deadline.into_iter().chain(console_poll).min();
            // Returns with interrupts masked again; pending ones are taken
            // when `masked` is dropped.
            // Time asleep counts as this CPU's idle time (cpu_time.rs, the
            // sis_cpu_*_seconds_total metrics).
            crate::cpu_time::idle_section(cpu, || arch::wait_for_event(deadline));
            drop(masked);
        }
    }
}

/// Readies every task waiting for input, ahead of the round-robin order.
fn wake_input_waiters() -> bool {
    let mut guard = SCHEDULER.lock();
    let Some(scheduler) = guard.as_mut() else { return false };
    let woke = sis_sched::wake_input_waiters(&mut scheduler.tasks, &mut scheduler.ready);
    let to_wake = if woke { scheduler.claim_cpus_to_wake(arch::cpu_index()) } else { 0 };
    drop(guard);
    wake_cpus(to_wake);
    woke
}

/// The timer interrupt, on the interrupted task's stack with interrupts
/// masked (after the arch acknowledged it): wake sleepers, and at the end of
/// a slice hand the CPU to the next ready task.
pub fn on_timer_interrupt() {
    crate::panic::stop_if_other_cpu_panicking();
    let cpu = arch::cpu_index();
    percpu::this_cpu().ticks.fetch_add(1, Ordering::Relaxed);
    let now = arch::monotonic_ns();
    let (should_switch, to_wake) = {
        let mut guard = SCHEDULER.lock();
        let Some(scheduler) = guard.as_mut() else { return };
        if let Some(next_wake_ns) = scheduler.wake_sleepers(now, cpu) {
            // Wake this CPU's next sleeper on time even while a task runs.
            arch::arm_timer_by(next_wake_ns, now);
        }
        let to_wake = scheduler.claim_cpus_to_wake(cpu);
        match scheduler.cpus[cpu].running {
            // The idle loop re-arms the timer itself and looks for work.
            Some(running) if scheduler.task(running).entry.idle_of_cpu.is_none() => {
                let current = scheduler.task(running);
                let slice_over = sis_sched::is_slice_over(current.switched_in_at_ns, now, SLICE_NS);
                (slice_over && scheduler.has_runnable(), to_wake)
            }
            _ => (false, to_wake),
        }
    };
    wake_cpus(to_wake);
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
    scheduler.cpus[cpu].running.is_none_or(|slot| scheduler.task(slot).entry.idle_of_cpu.is_some())
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
        let task = scheduler.task(running);
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
    let (from, to, may_leave_user_tables) = {
        let mut guard = crate::sync::lock_masked(&SCHEDULER, &masked);
        let scheduler = guard.as_mut().expect("scheduler is running");
        let current = scheduler.current_slot(cpu);
        let new_state = if new_state != State::Ready && new_state != State::Exited && !still_blocked(now) {
            State::Ready
        } else {
            new_state
        };
        // The queue never holds the running task: it goes back in (if
        // ready) once `finish_switch` saved it.
        let next = match scheduler.ready.pop() {
            Some(next) => next,
            // Nothing else can run: a yielding task keeps going.
            None if new_state == State::Ready => return,
            None => scheduler.cpus[cpu].idle,
        };
        if next == current {
            return;
        }
        let from_task = scheduler.task_mut(current);
        from_task.entry.state = new_state;
        from_task.entry.wake_at_ns = wake_at_ns;
        from_task.runtime_ns += now.saturating_sub(from_task.switched_in_at_ns);
        let may_leave_user_tables = from_task.may_leave_user_tables;
        let from: *mut arch::Context = &mut from_task.context;
        let to_task = scheduler.task_mut(next);
        sis_sched::run(&mut to_task.entry, cpu);
        to_task.switches_in += 1;
        let to: *const arch::Context = &to_task.context;
        let slot = &mut scheduler.cpus[cpu];
        slot.running = Some(next);
        slot.switching_from = Some(current);
        slot.switch_started_ns = now;
        (from, to, may_leave_user_tables)
    };
    // A user process's tables stay active while its task runs kernel code
    // (syscalls need no switch); the next task must not run on them, and a
    // process's space is only ever active on the CPU running its process
    // (arch/mod.rs, user mode).
    if may_leave_user_tables {
        arch::user::activate_kernel_tables(&masked);
    }
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
///
/// Inlined into `switch_away`, so the switch ends in the code it resumes
/// in: a call here would be one more jump between QEMU translation blocks
/// on another page, inside the timed window (aarch64, bench/sched.ts:
/// about 0.05 us of a 0.3 us switch).
#[inline(always)]
fn finish_switch() {
    let cpu = arch::cpu_index();
    // The switch ends here: the time of the rest is not part of it.
    let now = arch::monotonic_ns();
    let (started, exited, to_wake) = {
        let mut guard = SCHEDULER.lock();
        let scheduler = guard.as_mut().expect("scheduler is running");
        let started = scheduler.cpus[cpu].switch_started_ns;
        let current = scheduler.current_slot(cpu);
        let current_task = scheduler.task_mut(current);
        current_task.switched_in_at_ns = now;
        let is_idle = current_task.entry.idle_of_cpu.is_some();
        let mut exited = None;
        // This CPU's timer must fire by the end of the slice, and by the
        // deadline of a task that just went to sleep here (its timer is
        // this CPU's; the idle loop looks at every such deadline itself).
        let mut fire_by = (!is_idle).then(|| now.saturating_add(SLICE_NS));
        if let Some(previous) = scheduler.cpus[cpu].switching_from.take() {
            let Scheduler { tasks, ready, .. } = &mut *scheduler;
            let previous_task = tasks[previous].as_mut().expect("a scheduled slot holds a task");
            sis_sched::off_cpu(&mut previous_task.entry, previous, ready);
            match previous_task.entry.state {
                State::Exited => {
                    // Nothing runs on its stack any more: free it outside the lock.
                    exited = tasks[previous].take();
                    REAPED.fetch_add(1, Ordering::Relaxed);
                }
                State::Sleeping => fire_by = fire_by.map(|slice_end| slice_end.min(previous_task.entry.wake_at_ns)),
                _ => {}
            }
        }
        if let Some(deadline) = fire_by {
            arch::arm_timer_by(deadline, now);
        }
        // A task put back in the queue (it yielded or was preempted) may run
        // on a CPU that sleeps idle.
        let to_wake = scheduler.claim_cpus_to_wake(cpu);
        (started, exited, to_wake)
    };
    crate::metrics::record_context_switch_ns(now.saturating_sub(started));
    wake_cpus(to_wake);
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
        .flatten()
        .map(|task| TaskInfo {
            pid: task.entry.pid,
            name: task.name,
            state: task.entry.state,
            runtime_ns: task.runtime_ns
                + if task.entry.state == State::Running { now.saturating_sub(task.switched_in_at_ns) } else { 0 },
            switches_in: task.switches_in,
            last_cpu: task.entry.cpu,
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
            let pid = scheduler.task(scheduler.cpus[cpu].running?).entry.pid;
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
    let live = SCHEDULER.lock().as_ref().map_or(0, |scheduler| scheduler.tasks.iter().flatten().count() as u64);
    (live, SPAWNED.load(Ordering::Relaxed), REAPED.load(Ordering::Relaxed))
}

/// Preemptions by the timer tick since boot.
pub fn preemptions() -> u64 {
    PREEMPTIONS.load(Ordering::Relaxed)
}
