//! The `sis> ` shell: reads lines through the line editor, runs commands,
//! and frames each command's output in machine mode (docs/PROTOCOL.md).

extern crate alloc;

use alloc::string::String;

use sis_abi::frame;
use sis_shell::{Action, LineEditor};

use crate::{console, sched};

pub mod commands;
mod output;

pub use output::Output;

/// What a prompt is, exactly (no newline after it).
pub const PROMPT: &str = "sis> ";

/// Status of an unknown command, as in POSIX shells.
pub const STATUS_UNKNOWN_COMMAND: u8 = 127;

/// How much of a received line the begin marker repeats.
const MARKER_LINE_BYTES: usize = 200;

/// State that outlives one command.
pub struct Shell {
    pub cwd: String,
    /// Lines received since `frame on` (the `<seq>` of the markers).
    seq: u64,
}

/// The shell task's entry point.
pub fn task() {
    let mut shell = Shell { cwd: String::from("/"), seq: 0 };
    let mut editor = LineEditor::new();
    crate::log_event!("shell", "ready", Info);
    console::write_str(PROMPT);
    loop {
        let byte = read_byte();
        let framed = console::is_framed();
        match editor.feed(byte) {
            Action::None => {}
            Action::Echo(byte) if !framed => console::write_bytes(&[byte]),
            Action::Erase if !framed => console::write_bytes(Action::ERASE),
            Action::ClearLine { erased_chars } if !framed => {
                for _ in 0..erased_chars {
                    console::write_bytes(Action::ERASE);
                }
            }
            Action::Cancel if !framed => {
                console::write_str("^C\n");
                console::write_str(PROMPT);
            }
            Action::Echo(_) | Action::Erase | Action::ClearLine { .. } | Action::Cancel => {}
            Action::Submit => {
                if let Some(line) = editor.take_line() {
                    shell.submit(line);
                }
            }
        }
    }
}

/// The next received byte; the task sleeps while there is none.
fn read_byte() -> u8 {
    loop {
        if let Some(byte) = console::input::pop() {
            return byte;
        }
        sched::wait_for_input();
    }
}

impl Shell {
    /// Runs one submitted line (or reports why it was refused) inside a frame.
    fn submit(&mut self, line: Result<&[u8], sis_shell::LineError>) {
        let framed = console::is_framed();
        if framed {
            self.seq += 1;
            let shown = match line {
                Ok(bytes) => printable_prefix(bytes),
                Err(_) => String::from("<refused>"),
            };
            console::write_marker(format_args!("{} {} {}", frame::BEGIN, self.seq, shown));
        } else {
            console::write_str("\n");
        }
        let status = match line.and_then(sis_shell::line_as_str) {
            Ok(text) => commands::run_line(self, text),
            Err(error) => {
                crate::println!("error: {}", error);
                error.errno().code()
            }
        };
        // A line framed when it arrived gets its end marker, even `frame off`;
        // `frame on` itself answers with the ready marker instead.
        if framed {
            console::write_marker(format_args!("{} {} {}", frame::END, self.seq, status));
        }
        if framed && !console::is_framed() {
            // `frame off` just ran: human mode numbers nothing.
            self.seq = 0;
        }
        console::finish_line();
        console::write_str(PROMPT);
    }

    /// Starts counting lines afresh (`frame on`).
    pub fn reset_sequence(&mut self) {
        self.seq = 0;
    }
}

/// The line as the begin marker shows it: printable ASCII only, bounded.
fn printable_prefix(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(MARKER_LINE_BYTES)
        .map(|&b| if (0x20..0x7f).contains(&b) { b as char } else { '?' })
        .collect()
}
