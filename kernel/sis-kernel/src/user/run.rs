//! A process's task: the vCPU-style loop around `arch::user::run`. Each
//! return from user mode is a syscall (validated by `sis_syscall::decode`,
//! then dispatched, its result put in the return register), a fault (the
//! process is killed with one report line) or an interrupt that was already
//! handled (the program resumes). At the end everything the process held is
//! freed and its waiter woken.

extern crate alloc;

use alloc::boxed::Box;
use core::fmt::Write;
use core::sync::atomic::Ordering;

use sis_syscall::{decode, encode_return};

use super::process::Process;
use super::syscalls::{dispatch, Flow};
use super::{stats, table};
use crate::arch::{self, UserExit, UserFault};
use crate::{console, sched};

/// The task body `user::spawn` starts; `argument` is the `Box<Process>`
/// it handed over.
pub fn task(argument: usize) {
    // SAFETY: `spawn` made `argument` with Box::into_raw and handed it to
    // this task alone.
    let mut process = unsafe { Box::from_raw(argument as *mut Process) };
    process.pid = sched::current_pid();
    table::set_pid(process.slot, process.pid);
    let status = run(&mut process);
    let slot = process.slot;
    // Frames, page tables and fds go back before the waiter hears of it,
    // so `memstats` right after `run` sees them freed.
    drop(process);
    let table_slot = table::slot(slot);
    table_slot.pages.store(0, Ordering::Relaxed);
    table_slot.fds.store(0, Ordering::Relaxed);
    table::exited(slot, status);
}

/// Runs the program until it exits (its status) or is killed (128 + the
/// number of the signal a POSIX kernel would send, as shells show it).
fn run(process: &mut Process) -> u32 {
    let slot = table::slot(process.slot);
    loop {
        match arch::user::run(&mut process.registers, process.memory.space()) {
            UserExit::Syscall => {
                let (number, args) = process.registers.syscall();
                slot.syscall.store(number, Ordering::Relaxed);
                #[cfg(feature = "fuzz-break")]
                super::broken::check(number, &args);
                let result = decode(number, args, &*process).and_then(|call| dispatch(process, call));
                slot.syscall.store(table::NONE, Ordering::Relaxed);
                match result {
                    Ok(Flow::Exit(status)) => {
                        stats::record(number, Ok(0));
                        return u32::from(status);
                    }
                    Ok(Flow::Return(value)) => {
                        stats::record(number, Ok(value));
                        process.registers.set_return(encode_return(Ok(value)));
                    }
                    Err(errno) => {
                        stats::record(number, Err(errno));
                        process.registers.set_return(encode_return(Err(errno)));
                    }
                }
            }
            UserExit::Fault(fault) => {
                report_kill(process, &fault);
                // Where it was: for `logctl level debug` only, so the report
                // stays one line by default.
                crate::log_event!(
                    "user",
                    "killed",
                    Debug,
                    pid = u64::from(process.pid),
                    program = process.program,
                    pc = process.registers.program_counter()
                );
                return kill_status(&fault);
            }
            UserExit::Interrupt => {}
        }
    }
}

/// `killed: pid 5 (fault): page fault at 0x0`, on a line of its own.
fn report_kill(process: &Process, fault: &UserFault) {
    console::locked(|| {
        console::finish_line();
        let mut out = console::Console;
        let _ = write!(out, "killed: pid {} ({}): ", process.pid, process.program);
        let _ = fault.describe(&mut out);
        let _ = out.write_str("\n");
    });
}

fn kill_status(fault: &UserFault) -> u32 {
    128 + match fault {
        UserFault::PageFault { .. } => 11,         // SIGSEGV
        UserFault::IllegalInstruction { .. } => 4, // SIGILL
        UserFault::Misaligned { .. } => 7,         // SIGBUS
        UserFault::Breakpoint { .. } => 5,         // SIGTRAP
        UserFault::Other { .. } => 6,              // SIGABRT
    }
}
