//! The per-CPU area: one slot per CPU, indexed by `arch::cpu_index()`.
//!
//! What lives here belongs to one CPU and is written only by it (other CPUs
//! read it for `cpus`): its timer ticks, and in debug builds the lock ranks
//! it holds. Busy and idle time are in `cpu_time` (shared with the
//! metrics). The scheduler keeps its per-CPU state (which task each CPU
//! runs, the one it is switching from, when that switch began) in its own
//! table (`sched`, `CpuSlot`): it changes only under the scheduler lock,
//! and the switch path then touches one memory page fewer.

use core::sync::atomic::AtomicU64;

use sis_lockorder::HeldRanks;

use crate::arch;

/// Most CPUs the kernel uses; further ones stay parked (the device tree and
/// MADT readers stop at the same bound).
pub const MAX_CPUS: usize = sis_mem::discover::MAX_CPUS;

pub struct PerCpu {
    /// Timer interrupts taken.
    pub ticks: AtomicU64,
    /// The lock ranks this CPU holds (debug builds; sis-lockorder).
    held_lock_ranks: HeldRanks,
}

impl PerCpu {
    const fn new() -> Self {
        PerCpu {
            ticks: AtomicU64::new(0),
            held_lock_ranks: HeldRanks::new(),
        }
    }
}

static CPUS: [PerCpu; MAX_CPUS] = [const { PerCpu::new() }; MAX_CPUS];

/// This CPU's slot. Callers that must not migrate between reading the index
/// and using the slot run with interrupts masked (a task is only moved at a
/// switch, and switches happen with interrupts masked).
pub fn this_cpu() -> &'static PerCpu {
    &CPUS[arch::cpu_index().min(MAX_CPUS - 1)]
}

pub fn cpu(index: usize) -> Option<&'static PerCpu> {
    CPUS.get(index)
}

/// Whether locks check their order: debug builds, and release builds with
/// the `lock-order-check` feature.
const CHECK_LOCK_ORDER: bool = cfg!(any(debug_assertions, feature = "lock-order-check"));

/// Panics (when `CHECK_LOCK_ORDER`) when this CPU already holds a lock ranked at or
/// above `rank`: taking it now could deadlock against a CPU that follows
/// the documented order. The report names both locks (sis-lockorder).
pub fn check_lock_order(rank: u8) {
    if CHECK_LOCK_ORDER {
        if let Err(violation) = this_cpu().held_lock_ranks.check(rank) {
            panic!("{violation}");
        }
    }
}

pub fn note_locked(rank: u8) {
    if CHECK_LOCK_ORDER {
        this_cpu().held_lock_ranks.note_locked(rank);
    }
}

pub fn note_unlocked(rank: u8) {
    if CHECK_LOCK_ORDER {
        this_cpu().held_lock_ranks.note_unlocked(rank);
    }
}
