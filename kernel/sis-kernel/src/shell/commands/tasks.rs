//! Task commands: ps, sleep, spin.

use core::fmt::Write;

use sis_abi::Errno;

use super::{fail, parse_number, CommandError, CommandResult, Invocation};
use crate::{sched, spin};

pub fn ps(invocation: &mut Invocation<'_>) -> CommandResult {
    if !invocation.args.is_empty() {
        return Err(CommandError::Usage);
    }
    let _ = writeln!(
        invocation.out,
        "{:>4}  {:<10}  {:<8}  {:>3}  {:>10}  {:>8}",
        "PID", "NAME", "STATE", "CPU", "RUNTIME_US", "SWITCHES"
    );
    for task in sched::tasks() {
        let _ = writeln!(
            invocation.out,
            "{:>4}  {:<10}  {:<8}  {:>3}  {:>10}  {:>8}",
            task.pid,
            task.name,
            task.state.name(),
            task.last_cpu,
            task.runtime_ns / 1_000,
            task.switches_in
        );
    }
    super::user::write_processes(invocation.out);
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

/// `spin --tasks N --ms M [--background] [--yield]`.
pub fn spin(invocation: &mut Invocation<'_>) -> CommandResult {
    let mut tasks: Option<usize> = None;
    let mut duration_ms: Option<u64> = None;
    let mut background = false;
    let mut yielding = false;
    let mut args = invocation.args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--tasks" => tasks = Some(parse_number(args.next().ok_or(CommandError::Usage)?)?),
            "--ms" => duration_ms = Some(parse_number(args.next().ok_or(CommandError::Usage)?)?),
            "--background" | "&" => background = true,
            "--yield" => yielding = true,
            _ => return Err(CommandError::Usage),
        }
    }
    let (Some(tasks), Some(duration_ms)) = (tasks, duration_ms) else { return Err(CommandError::Usage) };
    if !(1..=spin::MAX_TASKS).contains(&tasks) || !(1..=spin::MAX_DURATION_MS).contains(&duration_ms) {
        return fail(
            Errno::EINVAL,
            alloc::format!("--tasks must be 1-{} and --ms 1-{}", spin::MAX_TASKS, spin::MAX_DURATION_MS),
        );
    }
    match spin::start(tasks, duration_ms, background, yielding) {
        Ok(()) => {}
        Err(spin::StartError::Busy) => {
            return fail(Errno::EBUSY, "a spin job is running; wait for its `spin done` log record")
        }
        Err(spin::StartError::NoStack) => return fail(Errno::ENOMEM, "no free task stack slot"),
    }
    if background {
        let _ = writeln!(invocation.out, "spin: {tasks} tasks for {duration_ms} ms in the background");
        return Ok(());
    }
    while !spin::is_finished() {
        sched::sleep_ns(1_000_000);
    }
    let total: u64 = spin::work().sum();
    let _ = write!(invocation.out, "spin: {tasks} tasks, {duration_ms} ms, work {total} (per task:");
    for work in spin::work() {
        let _ = write!(invocation.out, " {work}");
    }
    let _ = writeln!(invocation.out, ")");
    spin::release();
    Ok(())
}
