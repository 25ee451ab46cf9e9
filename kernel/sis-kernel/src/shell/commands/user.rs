//! User program commands: `programs` lists the embedded ELF files and the
//! segments the loader checked for each; `run` starts one as a process and
//! waits for it; `syscalls` prints the syscall counts since boot.

extern crate alloc;

use core::fmt::Write;

use sis_abi::Errno;

use super::{fail, join_words, parse_number, printable, CommandError, CommandResult, Invocation};
use crate::shell::Output;
use crate::user::{self, table, Captured, Sink, SpawnError};
use crate::sched;

/// Most runs one `run --repeat` line makes.
const MAX_REPEAT: u32 = 10_000;

pub fn programs(invocation: &mut Invocation<'_>) -> CommandResult {
    if !invocation.args.is_empty() {
        return Err(CommandError::Usage);
    }
    let _ = writeln!(invocation.out, "{:<8}  {:>6}  {:<14}  SEGMENTS", "NAME", "BYTES", "ENTRY");
    let mut refused = None;
    for program in user::programs() {
        let _ = write!(invocation.out, "{:<8}  {:>6}  ", program.name, program.elf.len());
        match program.image() {
            Ok(image) => {
                let _ = write!(invocation.out, "{:<#14x}  ", image.entry);
                for (index, segment) in image.segments().iter().enumerate() {
                    let permissions = match (segment.writable, segment.executable) {
                        (true, _) => "rw-",
                        (false, true) => "r-x",
                        (false, false) => "r--",
                    };
                    let separator = if index == 0 { "" } else { " " };
                    let _ = write!(invocation.out, "{separator}{permissions}@{:#x}+{}p", segment.address, segment.pages());
                }
                let _ = writeln!(invocation.out);
            }
            Err(error) => {
                let _ = writeln!(invocation.out, "refused: {}", error.message());
                refused.get_or_insert((program.name, error));
            }
        }
    }
    match refused {
        Some((name, error)) => fail(Errno::EINVAL, alloc::format!("{name}: {}", error.message())),
        None => Ok(()),
    }
}

/// `run [--repeat N | --background] <program> [args...]`: starts the
/// program with the rest of the line as its argument text, waits for it,
/// and returns its exit status as the command's status. Its fds 1 and 2 are
/// the command's output (the console, or the redirection's file).
/// `--repeat N` runs it N times one after another (stopping at the first
/// failure), so a soak of many short processes is one shell round trip.
/// `--background` starts it and returns at once (`run: pid N`); nobody waits
/// for it and its output is discarded.
pub fn run(invocation: &mut Invocation<'_>) -> CommandResult {
    let mut args = invocation.args;
    let mut repeat = 1u32;
    let mut background = false;
    match args {
        [flag, count, rest @ ..] if flag == "--repeat" => {
            repeat = parse_number(count)?;
            if !(1..=MAX_REPEAT).contains(&repeat) {
                return fail(Errno::EINVAL, alloc::format!("--repeat must be 1-{MAX_REPEAT}"));
            }
            args = rest;
        }
        [flag, rest @ ..] if flag == "--background" => {
            background = true;
            args = rest;
        }
        _ => {}
    }
    let [program, words @ ..] = args else { return Err(CommandError::Usage) };
    let text = join_words(words);
    if text.len() as u64 > sis_syscall::limits::ARG_MAX {
        return fail(Errno::E2BIG, alloc::format!("the argument text is {} bytes; at most {} fit", text.len(), sis_syscall::limits::ARG_MAX));
    }
    let capture = matches!(invocation.out, Output::Capture(_));
    for _ in 0..repeat {
        let sink = if background {
            Sink::Discard
        } else if capture {
            Sink::Capture(alloc::sync::Arc::new(Captured::new(alloc::vec::Vec::new())))
        } else {
            Sink::Console
        };
        let parent = if background { table::ORPHAN } else { table::KERNEL_PARENT };
        let child = match user::spawn(program, text.as_bytes(), parent, sched::current_pid(), sink.clone()) {
            Ok(child) => child,
            Err(SpawnError::NoProgram) => {
                return fail(Errno::ENOENT, alloc::format!("no program '{}' (see `programs`)", printable(program)))
            }
            Err(SpawnError::Refused(error)) => return fail(Errno::EINVAL, alloc::format!("{}: {}", printable(program), error.message())),
            Err(SpawnError::Errno(errno)) => {
                return fail(errno, alloc::format!("cannot start {}: {}", printable(program), errno.description()))
            }
        };
        if background {
            let _ = writeln!(invocation.out, "run: pid {}", child.pid);
            return Ok(());
        }
        let status = table::wait_slot(child.slot);
        if let Sink::Capture(kept) = sink {
            // Taken out whole, so the text is made with the lock released
            // (a background grandchild may still hold the sink).
            let kept = core::mem::take(&mut *kept.lock());
            let _ = invocation.out.write_str(&alloc::string::String::from_utf8_lossy(&kept));
        }
        if status != 0 {
            return Err(CommandError::Status(status.min(255) as u8));
        }
    }
    Ok(())
}

/// `kill <pid>`: ends user process `pid` (status 137, as SIGKILL) at its
/// next return from user mode or from a sleep or wait, and waits until it
/// is gone, so its `killed:` line is this command's output.
pub fn kill(invocation: &mut Invocation<'_>) -> CommandResult {
    let [pid] = invocation.args else { return Err(CommandError::Usage) };
    let pid: u32 = parse_number(pid)?;
    if table::request_kill(pid).is_err() {
        return fail(Errno::ESRCH, alloc::format!("no user process {pid} (see `ps`)"));
    }
    table::wait_until_gone(pid);
    Ok(())
}

/// `syscalls [--json]`: calls since boot by syscall and outcome.
pub fn syscalls(invocation: &mut Invocation<'_>) -> CommandResult {
    let json = match invocation.args {
        [] => false,
        [flag] if flag == "--json" => true,
        _ => return Err(CommandError::Usage),
    };
    let stats = user::stats::snapshot();
    let _ = if json { user::stats::write_json(invocation.out, &stats) } else { user::stats::write_table(invocation.out, &stats) };
    Ok(())
}

/// The user-process part of `ps`: one row per process in the table.
pub fn write_processes(out: &mut Output) {
    let mut processes = table::processes().peekable();
    if processes.peek().is_none() {
        return;
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{:>4}  {:<10}  {:>6}  {:<8}  {:>5}  {:>3}  {:>10}  {:>7}", "PID", "PROGRAM", "PARENT", "STATE", "PAGES", "FDS", "PROGRESS", "SYSCALL");
    for process in processes {
        let parent = process.parent.map_or(alloc::string::String::from("-"), |pid| alloc::format!("{pid}"));
        let progress = process.progress.map_or(alloc::string::String::from("-"), |index| alloc::format!("{index}"));
        let syscall = process.syscall.map_or(alloc::string::String::from("-"), |number| alloc::format!("{number}"));
        let state = if process.is_running { "running" } else { "exited" };
        let _ = writeln!(
            out,
            "{:>4}  {:<10}  {:>6}  {:<8}  {:>5}  {:>3}  {:>10}  {:>7}",
            process.pid, user::program_name(process.program), parent, state, process.pages, process.fds, progress, syscall
        );
    }
}
