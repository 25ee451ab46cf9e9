//! The process table's bookkeeping: a fixed array of slots whose fields are
//! atomics, so the syscall path (progress, current syscall), `ps`, metrics
//! and a panic report read them without a lock. Births, exits and reaping
//! (the methods that take `&self` and say "serialized") must be serialized
//! by the caller: the kernel holds one short lock around each, and does the
//! waiting and waking itself.
//!
//! A slot goes FREE -> RUNNING (claimed by the spawner) -> EXITED (the
//! process is gone, its status kept) -> FREE (its waiter took the status,
//! or at once when nobody will: its parent exited first, or it was started
//! with [`ORPHAN`] as parent).

use crate::limits::MAX_PID;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use sis_abi::Errno;

/// `parent` of a process the kernel started and will wait for (the shell's `run`).
pub const KERNEL_PARENT: u32 = 0;

/// `parent` of a process nobody will wait for: its parent exited, or the
/// shell started it in the background. Its slot is freed when it exits.
pub const ORPHAN: u32 = u32::MAX;

/// `syscall` and `progress` when there is none.
pub const NONE: u64 = u64::MAX;

const FREE: u8 = 0;
const RUNNING: u8 = 1;
const EXITED: u8 = 2;

/// One process's slot.
pub struct Slot {
    state: AtomicU8,
    /// 0 until the spawner or the process itself has stored it.
    pid: AtomicU32,
    /// The kernel's index of the program it runs.
    program: AtomicUsize,
    parent: AtomicU32,
    /// Whom to wake when it exits (the kernel's task id).
    waker: AtomicU32,
    status: AtomicU32,
    /// The last index given to the progress syscall.
    pub progress: AtomicU64,
    /// The number of the syscall being served, or NONE.
    pub syscall: AtomicU64,
    /// Frames and open fds it holds (updated as they change).
    pub pages: AtomicU64,
    pub fds: AtomicU64,
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

    pub fn is_exited(&self) -> bool {
        self.state.load(Ordering::Acquire) == EXITED
    }

    fn is_running_as(&self, pid: u32) -> bool {
        pid != 0 && self.state.load(Ordering::Acquire) == RUNNING && self.pid.load(Ordering::Acquire) == pid
    }
}

/// One process as `ps` and the panic report show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessInfo {
    pub pid: u32,
    pub program: usize,
    /// None for the kernel's own and for orphans.
    pub parent: Option<u32>,
    pub is_running: bool,
    pub pages: u64,
    pub fds: u64,
    pub progress: Option<u64>,
    pub syscall: Option<u64>,
}

pub struct ProcessTable<const N: usize> {
    slots: [Slot; N],
}

impl<const N: usize> Default for ProcessTable<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> ProcessTable<N> {
    pub const fn new() -> Self {
        ProcessTable { slots: [const { Slot::new() }; N] }
    }

    pub fn slot(&self, index: usize) -> &Slot {
        &self.slots[index]
    }

    /// Serialized. A free slot for a process of `program` about to start:
    /// ENOMEM when all N are taken.
    pub fn claim(&self, program: usize, parent: u32, waker: u32) -> Result<usize, Errno> {
        let index = self.slots.iter().position(|slot| slot.state.load(Ordering::Relaxed) == FREE).ok_or(Errno::ENOMEM)?;
        let slot = &self.slots[index];
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
    }

    /// Serialized. Gives back a slot whose process never started.
    pub fn release_unstarted(&self, index: usize) {
        self.slots[index].state.store(FREE, Ordering::Release);
    }

    /// Records the process's pid (the spawner and the process both may).
    pub fn set_pid(&self, index: usize, pid: u32) {
        self.slots[index].pid.store(pid, Ordering::Release);
    }

    /// Serialized. The process in slot `index` ended with `status`: its
    /// exited children are freed, its running ones orphaned, and its slot
    /// kept for its waiter (freed at once if it is an orphan). Returns whom
    /// to wake.
    pub fn exit(&self, index: usize, status: u32) -> u32 {
        let slot = &self.slots[index];
        let pid = slot.pid.load(Ordering::Acquire);
        for child in self.slots.iter() {
            let state = child.state.load(Ordering::Relaxed);
            if pid != 0 && state != FREE && child.parent.load(Ordering::Relaxed) == pid {
                if state == EXITED {
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
    }

    /// Serialized. The exit status of the exited process in slot `index`,
    /// freeing the slot; None while it still runs.
    pub fn take_status(&self, index: usize) -> Option<u32> {
        let slot = &self.slots[index];
        if !slot.is_exited() {
            return None;
        }
        slot.state.store(FREE, Ordering::Release);
        Some(slot.status.load(Ordering::Relaxed))
    }

    /// The wait syscall's look-up: the slot of `child`, a live or exited
    /// child of `parent`; ESRCH for any other pid.
    pub fn child(&self, parent: u32, child: u32) -> Result<usize, Errno> {
        if child == 0 || u64::from(child) > MAX_PID {
            return Err(Errno::ESRCH);
        }
        self.slots
            .iter()
            .position(|slot| {
                slot.state.load(Ordering::Acquire) != FREE
                    && slot.pid.load(Ordering::Relaxed) == child
                    && slot.parent.load(Ordering::Relaxed) == parent
            })
            .ok_or(Errno::ESRCH)
    }

    /// Whether a running process has `pid`.
    pub fn is_running(&self, pid: u32) -> bool {
        self.slots.iter().any(|slot| slot.is_running_as(pid))
    }

    /// `kill`: marks running process `pid` to end; ESRCH when none runs.
    pub fn request_kill(&self, pid: u32) -> Result<(), Errno> {
        let slot = self.slots.iter().find(|slot| slot.is_running_as(pid)).ok_or(Errno::ESRCH)?;
        slot.kill_requested.store(true, Ordering::Release);
        Ok(())
    }

    /// Every process with a known pid, running or awaiting its waiter.
    pub fn processes(&self) -> impl Iterator<Item = ProcessInfo> + '_ {
        self.slots.iter().filter_map(|slot| {
            let state = slot.state.load(Ordering::Acquire);
            let pid = slot.pid.load(Ordering::Acquire);
            if state == FREE || pid == 0 {
                return None;
            }
            let optional = |value: u64| (value != NONE).then_some(value);
            let parent = slot.parent.load(Ordering::Relaxed);
            Some(ProcessInfo {
                pid,
                program: slot.program.load(Ordering::Relaxed),
                parent: (parent != KERNEL_PARENT && parent != ORPHAN).then_some(parent),
                is_running: state == RUNNING,
                pages: slot.pages.load(Ordering::Relaxed),
                fds: slot.fds.load(Ordering::Relaxed),
                progress: optional(slot.progress.load(Ordering::Relaxed)),
                syscall: optional(slot.syscall.load(Ordering::Relaxed)),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Table = ProcessTable<4>;

    /// Claims a slot and gives it `pid`, as spawn does.
    fn start(table: &Table, pid: u32, parent: u32) -> usize {
        let index = table.claim(0, parent, parent.max(1)).unwrap();
        table.set_pid(index, pid);
        index
    }

    fn pids(table: &Table) -> Vec<u32> {
        table.processes().map(|process| process.pid).collect()
    }

    #[test]
    fn claims_until_full_then_enomem_and_a_release_frees_one() {
        let table = Table::new();
        let slots: Vec<usize> = (0..4).map(|pid| start(&table, 10 + pid, KERNEL_PARENT)).collect();
        assert_eq!(slots, vec![0, 1, 2, 3]);
        assert_eq!(table.claim(0, KERNEL_PARENT, 1), Err(Errno::ENOMEM));
        table.release_unstarted(2);
        assert_eq!(table.claim(0, KERNEL_PARENT, 1), Ok(2));
    }

    #[test]
    fn an_unnamed_slot_is_not_listed() {
        let table = Table::new();
        let index = table.claim(3, KERNEL_PARENT, 1).unwrap();
        assert_eq!(pids(&table), Vec::<u32>::new());
        table.set_pid(index, 5);
        let listed: Vec<ProcessInfo> = table.processes().collect();
        assert_eq!(listed[0].program, 3);
        assert_eq!((listed[0].parent, listed[0].is_running, listed[0].progress), (None, true, None));
    }

    #[test]
    fn the_waiter_takes_the_status_once_and_the_slot_is_free_again() {
        let table = Table::new();
        let index = start(&table, 7, KERNEL_PARENT);
        assert_eq!(table.take_status(index), None);
        assert_eq!(table.exit(index, 139), 1);
        assert!(!table.is_running(7));
        assert_eq!(pids(&table), vec![7]); // exited, awaiting its waiter
        assert_eq!(table.take_status(index), Some(139));
        assert_eq!(table.take_status(index), None);
        assert_eq!(pids(&table), Vec::<u32>::new());
    }

    #[test]
    fn only_the_parent_finds_its_child_and_bad_pids_are_esrch() {
        let table = Table::new();
        start(&table, 5, KERNEL_PARENT);
        let child = start(&table, 6, 5);
        assert_eq!(table.child(5, 6), Ok(child));
        assert_eq!(table.child(4, 6), Err(Errno::ESRCH));
        assert_eq!(table.child(5, 5), Err(Errno::ESRCH));
        assert_eq!(table.child(5, 0), Err(Errno::ESRCH));
        assert_eq!(table.child(5, MAX_PID as u32 + 1), Err(Errno::ESRCH));
        assert_eq!(table.processes().find(|process| process.pid == 6).unwrap().parent, Some(5));
    }

    #[test]
    fn a_parent_exit_frees_exited_children_and_orphans_running_ones() {
        let table = Table::new();
        let parent = start(&table, 5, KERNEL_PARENT);
        let done = start(&table, 6, 5);
        let running = start(&table, 7, 5);
        assert_eq!(table.exit(done, 0), 5, "the parent is woken");
        table.exit(parent, 0);
        assert_eq!(pids(&table), vec![5, 7], "6 freed with its parent; 5 awaits the kernel");
        assert_eq!(table.child(5, 7), Err(Errno::ESRCH), "7 is nobody's child now");
        assert_eq!(table.processes().find(|process| process.pid == 7).unwrap().parent, None);
        table.exit(running, 0);
        assert_eq!(pids(&table), vec![5], "an orphan is freed at its exit");
        assert_eq!(table.take_status(parent), Some(0));
        assert_eq!(pids(&table), Vec::<u32>::new());
    }

    #[test]
    fn a_background_process_frees_itself() {
        let table = Table::new();
        let index = start(&table, 9, ORPHAN);
        table.exit(index, 0);
        assert_eq!(table.take_status(index), None);
        assert_eq!(table.claim(0, KERNEL_PARENT, 1), Ok(index));
    }

    #[test]
    fn kill_marks_only_a_running_pid_and_a_new_claim_clears_it() {
        let table = Table::new();
        let index = start(&table, 8, KERNEL_PARENT);
        assert_eq!(table.request_kill(9), Err(Errno::ESRCH));
        assert_eq!(table.request_kill(0), Err(Errno::ESRCH));
        assert_eq!(table.request_kill(8), Ok(()));
        assert!(table.slot(index).is_kill_requested());
        table.exit(index, 137);
        assert_eq!(table.request_kill(8), Err(Errno::ESRCH), "exited: nothing to kill");
        table.take_status(index);
        let again = table.claim(0, KERNEL_PARENT, 1).unwrap();
        assert_eq!(again, index);
        assert!(!table.slot(again).is_kill_requested());
    }

    #[test]
    fn progress_and_the_current_syscall_show_until_exit() {
        let table = Table::new();
        let index = start(&table, 4, KERNEL_PARENT);
        table.slot(index).progress.store(41, Ordering::Relaxed);
        table.slot(index).syscall.store(9, Ordering::Relaxed);
        let shown = table.processes().next().unwrap();
        assert_eq!((shown.progress, shown.syscall), (Some(41), Some(9)));
        table.exit(index, 0);
        assert_eq!(table.processes().next().unwrap().syscall, None);
    }
}
