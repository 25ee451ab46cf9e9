//! Syscall counts by call and outcome: the `syscalls by number and errno`
//! metrics and the fuzzer's coverage table (how often each call returned
//! success or each errno).

use crate::table::Sysno;
use core::sync::atomic::{AtomicU64, Ordering};
use sis_abi::Errno;

/// Rows: each call of the table, then one for unknown numbers (ENOSYS).
const ROWS: usize = Sysno::ALL.len() + 1;
/// Columns: success, then each errno of `Errno::ALL`.
const COLUMNS: usize = Errno::ALL.len() + 1;

/// One counter per (call, outcome).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyscallStats {
    counts: [[u64; COLUMNS]; ROWS],
}

impl Default for SyscallStats {
    fn default() -> Self {
        SyscallStats { counts: [[0; COLUMNS]; ROWS] }
    }
}

/// What a call returned, as the table's column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failed(Errno),
}

fn row(number: u64) -> usize {
    Sysno::from_raw(number).map_or(Sysno::ALL.len(), |call| call as usize)
}

fn column(result: Result<u64, Errno>) -> usize {
    match result {
        Ok(_) => 0,
        Err(errno) => 1 + Errno::ALL.iter().position(|&e| e == errno).expect("Errno::ALL lists every errno"),
    }
}

impl SyscallStats {
    /// Counts one call: `number` as the user passed it.
    pub fn record(&mut self, number: u64, result: Result<u64, Errno>) {
        let cell = &mut self.counts[row(number)][column(result)];
        *cell = cell.saturating_add(1);
    }

    /// Calls made in all.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Every non-zero cell: (call name or "unknown", outcome, count).
    pub fn cells(&self) -> impl Iterator<Item = (&'static str, Outcome, u64)> + '_ {
        self.counts.iter().enumerate().flat_map(|(row, columns)| {
            let name = Sysno::ALL.get(row).map_or("unknown", |call| call.name());
            columns.iter().enumerate().filter(|(_, &count)| count > 0).map(move |(column, &count)| {
                let outcome = if column == 0 { Outcome::Success } else { Outcome::Failed(Errno::ALL[column - 1]) };
                (name, outcome, count)
            })
        })
    }
}

/// The same table shared by every CPU: one relaxed atomic add per call, no
/// lock and no allocation (the kernel's since-boot counts behind
/// `syscalls --json` and the `sis_syscalls_total` metrics).
pub struct AtomicSyscallStats {
    counts: [[AtomicU64; COLUMNS]; ROWS],
}

impl Default for AtomicSyscallStats {
    fn default() -> Self {
        Self::new()
    }
}

impl AtomicSyscallStats {
    pub const fn new() -> Self {
        AtomicSyscallStats { counts: [const { [const { AtomicU64::new(0) }; COLUMNS] }; ROWS] }
    }

    /// Counts one call, as [`SyscallStats::record`].
    pub fn record(&self, number: u64, result: Result<u64, Errno>) {
        self.counts[row(number)][column(result)].fetch_add(1, Ordering::Relaxed);
    }

    /// A copy of the counts (each cell read once; calls racing with it are
    /// in or out, never half-counted).
    pub fn snapshot(&self) -> SyscallStats {
        let mut stats = SyscallStats::default();
        for (row, cells) in self.counts.iter().enumerate() {
            for (column, cell) in cells.iter().enumerate() {
                stats.counts[row][column] = cell.load(Ordering::Relaxed);
            }
        }
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_atomic_table_counts_as_the_plain_one() {
        let shared = AtomicSyscallStats::new();
        let mut plain = SyscallStats::default();
        for (number, result) in [(1, Ok(3)), (1, Err(Errno::EFAULT)), (17, Ok(0)), (400, Err(Errno::ENOSYS)), (1, Ok(1))] {
            shared.record(number, result);
            plain.record(number, result);
        }
        assert_eq!(shared.snapshot(), plain);
        assert_eq!(shared.snapshot().total(), 5);
    }

    #[test]
    fn counts_by_call_and_outcome() {
        let mut stats = SyscallStats::default();
        stats.record(Sysno::Write.number(), Ok(5));
        stats.record(Sysno::Write.number(), Ok(0));
        stats.record(Sysno::Write.number(), Err(Errno::EFAULT));
        stats.record(999, Err(Errno::ENOSYS));
        stats.record(u64::MAX, Err(Errno::ENOSYS));
        assert_eq!(stats.total(), 5);
        let cells: Vec<_> = stats.cells().collect();
        assert_eq!(
            cells,
            vec![
                ("write", Outcome::Success, 2),
                ("write", Outcome::Failed(Errno::EFAULT), 1),
                ("unknown", Outcome::Failed(Errno::ENOSYS), 2),
            ]
        );
    }

    #[test]
    fn every_errno_and_call_has_a_cell() {
        let mut stats = SyscallStats::default();
        for call in Sysno::ALL {
            for errno in Errno::ALL {
                stats.record(call.number(), Err(errno));
            }
            stats.record(call.number(), Ok(1));
        }
        assert_eq!(stats.cells().count(), Sysno::ALL.len() * (Errno::ALL.len() + 1));
        assert!(stats.cells().all(|(_, _, count)| count == 1));
    }
}
