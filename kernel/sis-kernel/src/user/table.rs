//! The kernel's process table: `sis_syscall::processes::ProcessTable`
//! (host-tested bookkeeping, slots of atomics that `ps`, metrics and the
//! panic report read without a lock) with one short spin lock serializing
//! births, exits and reaping, and the waiting and waking around them.

use core::fmt::{self, Write};

use sis_abi::Errno;
pub use sis_syscall::processes::{ProcessInfo, Slot, KERNEL_PARENT, NONE, ORPHAN};
use sis_syscall::processes::ProcessTable;

use crate::sched;
use crate::sync::{rank, IrqMutex};

/// Processes that can exist at once (running or awaiting their waiter).
pub const MAX_PROCESSES: usize = 32;

/// How long a waiter sleeps between looks at a child that has not exited
/// (the exit wakes it at once; this only bounds a lost wake-up's cost).
const WAIT_RECHECK_NS: u64 = 100_000_000;

static TABLE: ProcessTable<MAX_PROCESSES> = ProcessTable::new();
/// Innermost but for the console: nothing is taken under it (the table's
/// bookkeeping allocates nothing), and no lock is held when it is taken.
static LIFECYCLE: IrqMutex<(), { rank::PROCESS_TABLE }> = IrqMutex::new(());

/// Runs `f` holding the lifecycle lock (interrupts masked, so a holder is
/// never preempted while another CPU spins). Never held across a switch
/// or a wake-up.
fn serialized<R>(f: impl FnOnce() -> R) -> R {
    let _guard = LIFECYCLE.lock();
    f()
}

pub fn slot(index: usize) -> &'static Slot {
    TABLE.slot(index)
}

/// Claims a slot for a process of program `program` (its index) about to
/// start: ENOMEM when all MAX_PROCESSES are taken.
pub fn claim(program: usize, parent: u32, waker: u32) -> Result<usize, Errno> {
    serialized(|| TABLE.claim(program, parent, waker))
}

/// Gives back a slot whose process never started (its task could not be spawned).
pub fn release_unstarted(index: usize) {
    serialized(|| TABLE.release_unstarted(index));
}

/// Records the process's pid (its scheduler task's pid).
pub fn set_pid(index: usize, pid: u32) {
    TABLE.set_pid(index, pid);
}

/// The process in slot `index` ended with `status`: its exited children
/// are freed, its running ones orphaned, and its waiter woken (also for an
/// orphan: the shell's `kill` may be waiting for it to go; a waker that is
/// gone is no one, since scheduler pids are never reused).
pub fn exited(index: usize, status: u32) {
    let waker = serialized(|| TABLE.exit(index, status));
    sched::wake(waker);
}

/// Waits until the process in slot `index` exits, frees the slot and
/// returns its status. Only its one waiter calls this.
pub fn wait_slot(index: usize) -> u32 {
    wait_slot_unless(index, || false).expect("a wait that is never abandoned ends with a status")
}

/// As `wait_slot`, but gives up (None, the child left as it is) once
/// `abandon()` says so: a waiting process that is being killed.
pub fn wait_slot_unless(index: usize, abandon: impl Fn() -> bool) -> Option<u32> {
    let slot = TABLE.slot(index);
    loop {
        if let Some(status) = serialized(|| TABLE.take_status(index)) {
            return Some(status);
        }
        if abandon() {
            return None;
        }
        let deadline = crate::arch::monotonic_ns().saturating_add(WAIT_RECHECK_NS);
        sched::block_until(deadline, || !slot.is_exited() && !abandon());
    }
}

/// `kill <pid>`: asks running process `pid` to end and wakes it if it
/// sleeps or waits; ESRCH when no running process has that pid.
pub fn request_kill(pid: u32) -> Result<(), Errno> {
    TABLE.request_kill(pid)?;
    // Its task's pid is its pid: a sleep or wait sees the request at once.
    sched::wake(pid);
    Ok(())
}

/// Waits until no running process has `pid` (`kill` waits for its kill
/// line, so the line is the command's output). Woken by the exit when the
/// caller is the process's waker, else at the next recheck.
pub fn wait_until_gone(pid: u32) {
    while TABLE.is_running(pid) {
        let deadline = crate::arch::monotonic_ns().saturating_add(WAIT_RECHECK_NS);
        sched::block_until(deadline, || TABLE.is_running(pid));
    }
}

/// The wait syscall: the slot of `child`, a live or exited child of
/// `parent`; ESRCH for any other pid.
pub fn child_slot(parent: u32, child: u32) -> Result<usize, Errno> {
    TABLE.child(parent, child)
}

/// Every process in the table with a known pid.
pub fn processes() -> impl Iterator<Item = ProcessInfo> {
    TABLE.processes()
}

/// Processes running now (the `sis_user_processes` gauge).
pub fn running_count() -> u64 {
    processes().filter(|process| process.is_running).count() as u64
}

/// Open fds of every running process (the `sis_user_open_fds` gauge).
pub fn open_fds() -> u64 {
    processes().filter(|process| process.is_running).map(|process| process.fds).sum()
}

pub fn write_panic_lines(out: &mut dyn Write) -> fmt::Result {
    for process in processes().filter(|process| process.is_running) {
        write!(out, "user: pid={} program={} progress=", process.pid, super::program_name(process.program))?;
        match process.progress {
            Some(index) => write!(out, "{index}")?,
            None => out.write_str("-")?,
        }
        out.write_str(" syscall=")?;
        match process.syscall {
            Some(number) => write!(out, "{number}")?,
            None => out.write_str("-")?,
        }
        out.write_str("\n")?;
    }
    Ok(())
}
