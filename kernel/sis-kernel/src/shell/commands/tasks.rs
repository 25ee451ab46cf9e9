//! Task commands: ps, sleep.

use core::fmt::Write;

use super::{parse_number, CommandError, CommandResult, Invocation};
use crate::sched;

pub fn ps(invocation: &mut Invocation<'_>) -> CommandResult {
    if !invocation.args.is_empty() {
        return Err(CommandError::Usage);
    }
    let _ = writeln!(invocation.out, "{:>4}  {:<10}  {:<8}  {:>10}  {:>8}", "PID", "NAME", "STATE", "RUNTIME_US", "SWITCHES");
    for task in sched::tasks() {
        let _ = writeln!(
            invocation.out,
            "{:>4}  {:<10}  {:<8}  {:>10}  {:>8}",
            task.pid,
            task.name,
            task.state.name(),
            task.runtime_ns / 1_000,
            task.switches_in
        );
    }
    Ok(())
}

/// Longest sleep accepted: a day, so a typo cannot park the shell for years.
const MAX_SLEEP_MS: u64 = 24 * 60 * 60 * 1000;

pub fn sleep(invocation: &mut Invocation<'_>) -> CommandResult {
    let [ms] = invocation.args else { return Err(CommandError::Usage) };
    let ms: u64 = parse_number(ms)?;
    if ms > MAX_SLEEP_MS {
        return Err(CommandError::Usage);
    }
    sched::sleep_ns(ms * 1_000_000);
    Ok(())
}
