//! The process table: a fixed array of slots whose fields are atomics, so
//! the syscall path (progress, current syscall), `ps`, metrics and the panic
//! report read them without a lock, and a panic on any CPU can list every
//! live process. Births, deaths and reaping are serialized by one short
//! spin lock (never held across a switch or a wake-up).
//!
//! A slot goes FREE -> RUNNING (claimed by the spawner) -> EXITED (the
//! process is gone, its status kept) -> FREE (its waiter took the status,
//! or at once when nobody will: its parent exited first).

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};

use sis_abi::Errno;
use sis_syscall::limits::MAX_PID;

use crate::sched;
use crate::sync::InterruptsMasked;

/// Processes that can exist at once (running or awaiting their waiter).
pub const MAX_PROCESSES: usize = 32;

/// `parent` of a process the kernel started (the shell's `run`).
pub const KERNEL_PARENT: u32 = 0;

/// `parent` of a process nobody will wait for: its parent exited, or the
/// shell started it in the background. Its slot is freed when it exits.
pub const ORPHAN: u32 = u32::MAX;

/// `syscall` and `progress` when there is none.
pub const NONE: u64 = u64::MAX;

const FREE: u8 = 0;
const RUNNING: u8 = 1;
const EXITED: u8 = 2;

/// How long a waiter sleeps between looks at a child that has not exited
/// (the exit wakes it at once; this only bounds a lost wake-up's cost).
const WAIT_RECHECK_NS: u64 = 100_000_000;

pub struct Slot {
    state: AtomicU8,
    /// 0 until the spawner or the process itself has stored it.
    pid: AtomicU32,
    /// Index into `user::programs()`.
    program: AtomicUsize,
    parent: AtomicU32,
    /// The scheduler task to wake when this process exits.
    waker: AtomicU32,
    status: AtomicU32,
    /// The last index given to the progress syscall.
    pub progress: AtomicU64,
    /// The number of the syscall being served, or NONE.
    pub syscall: AtomicU64,
    /// Frames and open fds it holds (updated as they change).
    pub pages: AtomicU64,
    pub fds: AtomicU64,
    /// `kill` asked it to end: its run loop ends it at the next return
    /// from user mode or from a blocking call.
    kill_requested: AtomicBool,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            state: AtomicU8::new(FREE),
            pid: AtomicU32::new(0),
            program: AtomicUsize::new(0),
            parent: AtomicU32::new(0),
            waker: AtomicU32::new(0),
            status: AtomicU32::new(0),
            progress: AtomicU64::new(NONE),
            syscall: AtomicU64::new(NONE),
            pages: AtomicU64::new(0),
            fds: AtomicU64::new(0),
            kill_requested: AtomicBool::new(false),
        }
    }

    /// Whether `kill` asked this process to end.
    pub fn is_kill_requested(&self) -> bool {
        self.kill_requested.load(Ordering::Acquire)
    }
}

static SLOTS: [Slot; MAX_PROCESSES] = [const { Slot::new() }; MAX_PROCESSES];
static LIFECYCLE: spin::Mutex<()> = spin::Mutex::new(());

/// Runs `f` holding the lifecycle lock with interrupts masked (so a holder
/// is never preempted while another CPU spins).
fn transition<R>(f: impl FnOnce() -> R) -> R {
    let _masked = InterruptsMasked::new();
    let _guard = LIFECYCLE.lock();
    f()
}

pub fn slot(index: usize) -> &'static Slot {
    &SLOTS[index]
}

/// Claims a slot for a process of `program` about to start: ENOMEM when
/// all MAX_PROCESSES are taken.
pub fn claim(program: usize, parent: u32, waker: u32) -> Result<usize, Errno> {
    transition(|| {
        let index = SLOTS.iter().position(|slot| slot.state.load(Ordering::Relaxed) == FREE).ok_or(Errno::ENOMEM)?;
        let slot = &SLOTS[index];
        slot.pid.store(0, Ordering::Relaxed);
        slot.program.store(program, Ordering::Relaxed);
        slot.parent.store(parent, Ordering::Relaxed);
        slot.waker.store(waker, Ordering::Relaxed);
        slot.status.store(0, Ordering::Relaxed);
        slot.progress.store(NONE, Ordering::Relaxed);
        slot.syscall.store(NONE, Ordering::Relaxed);
        slot.pages.store(0, Ordering::Relaxed);
        slot.fds.store(0, Ordering::Relaxed);
        slot.kill_requested.store(false, Ordering::Relaxed);
        slot.state.store(RUNNING, Ordering::Release);
        Ok(index)
    })
}

/// Gives back a slot whose process never started (its task could not be spawned).
pub fn release_unstarted(index: usize) {
    transition(|| SLOTS[index].state.store(FREE, Ordering::Release));
}

/// Records the process's pid (its scheduler task's pid).
pub fn set_pid(index: usize, pid: u32) {
    SLOTS[index].pid.store(pid, Ordering::Release);
}

/// The process in slot `index` ended with `status`: its waiter is woken, its
/// exited children are freed and its running ones orphaned.
pub fn exited(index: usize, status: u32) {
    let slot = &SLOTS[index];
    let pid = slot.pid.load(Ordering::Acquire);
    let waker = transition(|| {
        for child in SLOTS.iter() {
            if child.state.load(Ordering::Relaxed) != FREE && child.parent.load(Ordering::Relaxed) == pid && pid != 0 {
                if child.state.load(Ordering::Relaxed) == EXITED {
                    child.state.store(FREE, Ordering::Release);
                } else {
                    child.parent.store(ORPHAN, Ordering::Relaxed);
                }
            }
        }
        slot.status.store(status, Ordering::Relaxed);
        slot.syscall.store(NONE, Ordering::Relaxed);
        let state = if slot.parent.load(Ordering::Relaxed) == ORPHAN { FREE } else { EXITED };
        slot.state.store(state, Ordering::Release);
        slot.waker.load(Ordering::Relaxed)
    });
    // Also for an orphan: the shell's `kill` may be waiting for it to go.
    // A waker that is gone (scheduler pids are never reused) is no one.
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
    let slot = &SLOTS[index];
    loop {
        if slot.state.load(Ordering::Acquire) == EXITED {
            return Some(transition(|| {
                slot.state.store(FREE, Ordering::Release);
                slot.status.load(Ordering::Relaxed)
            }));
        }
        if abandon() {
            return None;
        }
        let deadline = crate::arch::monotonic_ns().saturating_add(WAIT_RECHECK_NS);
        sched::block_until(deadline, || slot.state.load(Ordering::Acquire) != EXITED && !abandon());
    }
}

/// `kill <pid>`: asks running process `pid` to end and wakes it if it
/// sleeps or waits; ESRCH when no running process has that pid.
pub fn request_kill(pid: u32) -> Result<(), Errno> {
    let slot = SLOTS
        .iter()
        .find(|slot| slot.state.load(Ordering::Acquire) == RUNNING && slot.pid.load(Ordering::Acquire) == pid && pid != 0)
        .ok_or(Errno::ESRCH)?;
    slot.kill_requested.store(true, Ordering::Release);
    // Its task's pid is its pid: a sleep or wait sees the request at once.
    sched::wake(pid);
    Ok(())
}

/// Waits until no running process has `pid` (`kill` waits for its kill
/// line, so the line is the command's output). Woken by the exit when the
/// caller is the process's waker, else at the next recheck.
pub fn wait_until_gone(pid: u32) {
    let is_running = || {
        SLOTS.iter().any(|slot| slot.state.load(Ordering::Acquire) == RUNNING && slot.pid.load(Ordering::Acquire) == pid)
    };
    while is_running() {
        let deadline = crate::arch::monotonic_ns().saturating_add(WAIT_RECHECK_NS);
        sched::block_until(deadline, is_running);
    }
}

/// The wait syscall: the slot of `child`, a live or exited child of
/// `parent`; ESRCH for any other pid.
pub fn child_slot(parent: u32, child: u32) -> Result<usize, Errno> {
    if child == 0 || u64::from(child) > MAX_PID {
        return Err(Errno::ESRCH);
    }
    SLOTS
        .iter()
        .position(|slot| {
            slot.state.load(Ordering::Acquire) != FREE
                && slot.pid.load(Ordering::Relaxed) == child
                && slot.parent.load(Ordering::Relaxed) == parent
        })
        .ok_or(Errno::ESRCH)
}

/// One process as `ps` shows it.
#[derive(Clone, Copy, Debug)]
pub struct ProcessInfo {
    pub pid: u32,
    pub program: &'static str,
    pub parent: Option<u32>,
    pub is_running: bool,
    pub pages: u64,
    pub fds: u64,
    pub progress: Option<u64>,
    pub syscall: Option<u64>,
}

/// Every process in the table with a known pid, by pid.
pub fn processes() -> impl Iterator<Item = ProcessInfo> {
    SLOTS.iter().filter_map(|slot| {
        let state = slot.state.load(Ordering::Acquire);
        let pid = slot.pid.load(Ordering::Acquire);
        if state == FREE || pid == 0 {
            return None;
        }
        let optional = |value: u64| (value != NONE).then_some(value);
        let parent = slot.parent.load(Ordering::Relaxed);
        Some(ProcessInfo {
            pid,
            program: super::program_name(slot.program.load(Ordering::Relaxed)),
            parent: (parent != KERNEL_PARENT && parent != ORPHAN).then_some(parent),
            is_running: state == RUNNING,
            pages: slot.pages.load(Ordering::Relaxed),
            fds: slot.fds.load(Ordering::Relaxed),
            progress: optional(slot.progress.load(Ordering::Relaxed)),
            syscall: optional(slot.syscall.load(Ordering::Relaxed)),
        })
    })
}

/// Processes running now (the `sis_user_processes` gauge).
pub fn running_count() -> u64 {
    processes().filter(|process| process.is_running).count() as u64
}

/// Open fds of every running process (the `sis_user_open_fds` gauge).
pub fn open_fds() -> u64 {
    processes().filter(|process| process.is_running).map(|process| process.fds).sum()
}

/// The panic report's lines, one per live process:
/// `user: pid=<pid> program=<name> progress=<index or -> syscall=<number or ->`.
/// Lock-free and allocation-free: the panic path calls it.
pub fn write_panic_lines(out: &mut dyn Write) -> fmt::Result {
    for process in processes().filter(|process| process.is_running) {
        write!(out, "user: pid={} program={} progress=", process.pid, process.program)?;
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
