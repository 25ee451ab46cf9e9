//! Task stacks: fixed slots in the arch's task-stack area (linker.ld
//! `.task_stacks`), each one an unmapped guard page under `STACK_BYTES` of
//! stack, so an overflow faults on the guard instead of running into
//! whatever lies below (docs/kernel-smp.md, "Memory protection").
//!
//! The arch maps the area at boot with every guard page left out
//! (`guard_pages`); slots are never remapped, so taking and returning one
//! costs no page-table change and no TLB maintenance on any CPU.

use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering};

use crate::arch;

/// Usable bytes of each task stack. Shell commands recurse little; 64 KiB
/// leaves room for formatting and the ramfs.
pub const STACK_BYTES: usize = 64 * 1024;
/// The unmapped page under each stack.
pub const GUARD_BYTES: usize = 4096;
pub const SLOT_BYTES: usize = GUARD_BYTES + STACK_BYTES;
/// Bytes of the area the arch reserves (linker.ld): 60 slots.
pub const AREA_BYTES: usize = 4 * 1024 * 1024;
pub const SLOTS: usize = AREA_BYTES / SLOT_BYTES;

static IS_TAKEN: [AtomicBool; SLOTS] = [const { AtomicBool::new(false) }; SLOTS];

/// Who owns each slot, for the overflow report: written by `set_owner`
/// before the task first runs, read lock-free by the fault path (which may
/// run while any lock is held, on any CPU).
static OWNER_PID: [AtomicU32; SLOTS] = [const { AtomicU32::new(0) }; SLOTS];
static OWNER_NAME: [AtomicPtr<u8>; SLOTS] = [const { AtomicPtr::new(core::ptr::null_mut()) }; SLOTS];
static OWNER_NAME_BYTES: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];

/// Start of every guard page in the area starting at `area_start` (for the
/// arch's page tables).
pub fn guard_pages(area_start: usize) -> impl Iterator<Item = usize> {
    (0..SLOTS).map(move |slot| area_start + slot * SLOT_BYTES)
}

/// A taken slot; returned when dropped.
#[derive(Debug)]
pub struct Stack {
    slot: usize,
}

impl Stack {
    /// Takes a free slot, or None when all are in use.
    pub fn take() -> Option<Stack> {
        (0..SLOTS)
            .find(|&slot| IS_TAKEN[slot].compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed).is_ok())
            .map(|slot| Stack { slot })
    }

    /// The highest address of the stack (exclusive), 16-byte aligned.
    pub fn top(&self) -> usize {
        arch::task_stack_area().0 + (self.slot + 1) * SLOT_BYTES
    }

    /// Records the task that will run on this stack (for overflow reports).
    pub fn set_owner(&self, pid: u32, name: &'static str) {
        OWNER_NAME_BYTES[self.slot].store(name.len(), Ordering::Relaxed);
        OWNER_NAME[self.slot].store(name.as_ptr().cast_mut(), Ordering::Relaxed);
        OWNER_PID[self.slot].store(pid, Ordering::Release);
    }
}

/// The (pid, name) recorded for `slot`, if any.
fn owner(slot: usize) -> Option<(u32, &'static str)> {
    let pid = OWNER_PID.get(slot)?.load(Ordering::Acquire);
    let pointer = OWNER_NAME[slot].load(Ordering::Relaxed);
    if pointer.is_null() {
        return None;
    }
    let length = OWNER_NAME_BYTES[slot].load(Ordering::Relaxed);
    // SAFETY: pointer and length come from one `&'static str` (`set_owner`
    // stores the length first and the pointer after it, and names are only
    // ever replaced by other `&'static str`s); the bytes live for ever.
    let bytes = unsafe { core::slice::from_raw_parts(pointer.cast_const(), length) };
    Some((pid, core::str::from_utf8(bytes).unwrap_or("?")))
}

impl Drop for Stack {
    fn drop(&mut self) {
        IS_TAKEN[self.slot].store(false, Ordering::Release);
    }
}

/// The slot whose guard page holds `address`, if any: a fault there is that
/// task's stack overflow.
pub fn guard_slot(address: usize) -> Option<usize> {
    let offset = address.checked_sub(arch::task_stack_area().0)?;
    (offset < AREA_BYTES && offset % SLOT_BYTES < GUARD_BYTES).then_some(offset / SLOT_BYTES)
}

/// Appends " (stack overflow of task NAME, pid N: guard page)" when
/// `address` is in a task's guard page; for the arch fault descriptions.
pub fn describe_guard_hit(address: usize, out: &mut dyn core::fmt::Write) {
    let Some(slot) = guard_slot(address) else { return };
    match owner(slot) {
        Some((pid, name)) => {
            let _ = write!(out, " (stack overflow of task {name}, pid {pid}: guard page)");
        }
        None => {
            let _ = write!(out, " (task stack overflow: guard page of stack slot {slot})");
        }
    }
}
