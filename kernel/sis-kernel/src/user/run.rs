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
        let exit = arch::user::run(&mut process.registers, process.memory.space());
        // A timer tick returns here at least once a slice, so even a program
        // that never makes a syscall ends soon after `kill`.
        if slot.is_kill_requested() {
            report(process, &"killed by request");
            return KILLED_BY_REQUEST;
        }
        match exit {
            UserExit::Syscall => {
                let (number, args) = process.registers.syscall();
                slot.syscall.store(number, Ordering::Relaxed);
                #[cfg(feature = "fuzz-break")]
                super::broken::check(number, &args);
                let result = decode(number, args, &*process).and_then(|call| dispatch(process, call));
                slot.syscall.store(table::NONE, Ordering::Relaxed);
                if slot.is_kill_requested() {
                    // A sleep or wait cut short: the program never sees it.
                    report(process, &"killed by request");
                    return KILLED_BY_REQUEST;
                }
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
                report(process, &FaultWords(fault));
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
                log_registers(process);
                return kill_status(&fault);
            }
            UserExit::Interrupt => {}
        }
    }
}

/// The killed program's registers as debug records (`logctl level debug`),
/// a few per record: what a fault's cause is read from.
fn log_registers(process: &Process) {
    use sis_observe::{Level, Record, Value};
    if !crate::log::logger().control().is_enabled(Level::Debug) {
        return;
    }
    let start = || Record::new(crate::log::timestamp_us(), Level::Debug, "user", "registers").with("pid", u64::from(process.pid));
    let mut record = start();
    let mut fields = 1;
    process.registers.for_each_register(&mut |name, value| {
        if fields == sis_observe::MAX_FIELDS {
            crate::log::emit(&record);
            record = start();
            fields = 1;
        }
        record.push(name, Value::from(value));
        fields += 1;
    });
    crate::log::emit(&record);
}

/// Status of a process ended by `kill`: 128 + SIGKILL, as shells show it.
const KILLED_BY_REQUEST: u32 = 128 + 9;

/// A fault as the words of the kill line.
struct FaultWords(UserFault);

impl core::fmt::Display for FaultWords {
    fn fmt(&self, out: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.describe(out)
    }
}

/// `killed: pid 5 (fault): page fault at 0x0`, on a line of its own.
fn report(process: &Process, why: &dyn core::fmt::Display) {
    console::locked(|| {
        console::finish_line();
        let _ = writeln!(console::Console, "killed: pid {} ({}): {}", process.pid, process.program, why);
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
