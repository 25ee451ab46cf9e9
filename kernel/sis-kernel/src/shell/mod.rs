//! The `sis> ` shell task: the line loop of `sis_shell::Session` (editing,
//! echo, framing markers, prompt; host-tested over a mock UART) on the
//! kernel's console, running lines through the command table.

extern crate alloc;

use alloc::string::String;

use sis_shell::{Interpreter, Numbering, Session, Terminal};

use crate::{console, sched};

pub mod commands;
mod output;

pub use output::Output;

/// Status of an unknown command, as in POSIX shells.
pub const STATUS_UNKNOWN_COMMAND: u8 = 127;

/// State that outlives one command.
pub struct Shell {
    pub cwd: String,
    /// Set by `frame on`: the markers count lines afresh.
    restart_numbering: bool,
}

/// The shell task's entry point.
pub fn task() {
    let mut shell = Shell { cwd: String::from("/"), restart_numbering: false };
    crate::log_event!("shell", "ready", Info);
    Session::new().run(&mut KernelConsole, &mut shell);
}

/// The console as the shell's terminal: output through `console` (locked,
/// `\n` as `\r\n`, on the UART driver), input from the queue the console
/// interrupt fills; the task sleeps while it is empty.
struct KernelConsole;

impl Terminal for KernelConsole {
    fn read_byte(&mut self) -> Option<u8> {
        loop {
            if let Some(byte) = console::input::pop() {
                return Some(byte);
            }
            sched::wait_for_input();
        }
    }

    fn write(&mut self, text: &[u8]) {
        console::write_bytes(text);
    }

    fn write_marker(&mut self, marker: core::fmt::Arguments<'_>) {
        console::write_marker(marker);
    }

    fn finish_line(&mut self) {
        console::finish_line();
    }

    fn is_framed(&self) -> bool {
        console::is_framed()
    }
}

impl Interpreter<KernelConsole> for Shell {
    fn run_line(&mut self, line: &str, _console: &mut KernelConsole, numbering: &mut Numbering) -> u8 {
        let status = commands::run_line(self, line);
        if core::mem::take(&mut self.restart_numbering) {
            numbering.restart();
        }
        status
    }
}

impl Shell {
    /// Starts counting lines afresh (`frame on`), once the command returns.
    pub fn reset_sequence(&mut self) {
        self.restart_numbering = true;
    }
}
