//! Syscall counts since boot by call and outcome, shared by every CPU (one
//! relaxed atomic add per call), and how `syscalls` prints them.

use core::fmt::{self, Write};

use sis_syscall::{AtomicSyscallStats, Outcome, SyscallStats};

static SYSCALLS: AtomicSyscallStats = AtomicSyscallStats::new();

/// Counts one call (`number` as the program passed it).
#[inline]
pub fn record(number: u64, result: Result<u64, sis_abi::Errno>) {
    SYSCALLS.record(number, result);
}

pub fn snapshot() -> SyscallStats {
    SYSCALLS.snapshot()
}

fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Success => "ok",
        Outcome::Failed(errno) => errno.name(),
    }
}

/// `{"calls": N, "by_syscall": {"write": {"ok": N, "EFAULT": N}, ...}}` on
/// one line (calls never made are left out).
pub fn write_json(out: &mut dyn Write, stats: &SyscallStats) -> fmt::Result {
    write!(out, "{{\"calls\": {}, \"by_syscall\": {{", stats.total())?;
    let mut current: Option<&str> = None;
    for (name, outcome, count) in stats.cells() {
        if current != Some(name) {
            if current.is_some() {
                out.write_str("}, ")?;
            }
            write!(out, "\"{name}\": {{")?;
            current = Some(name);
        } else {
            out.write_str(", ")?;
        }
        write!(out, "\"{}\": {count}", outcome_name(outcome))?;
    }
    if current.is_some() {
        out.write_str("}")?;
    }
    out.write_str("}}\n")
}

/// The same as a table: SYSCALL OUTCOME COUNT, then the total.
pub fn write_table(out: &mut dyn Write, stats: &SyscallStats) -> fmt::Result {
    writeln!(out, "{:<10}  {:<12}  {:>10}", "SYSCALL", "OUTCOME", "COUNT")?;
    for (name, outcome, count) in stats.cells() {
        writeln!(out, "{:<10}  {:<12}  {:>10}", name, outcome_name(outcome), count)?;
    }
    writeln!(out, "{:<10}  {:<12}  {:>10}", "total", "", stats.total())
}
