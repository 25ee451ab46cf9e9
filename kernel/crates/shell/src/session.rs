//! The shell's line loop, with no kernel in it: received bytes go through
//! the [`LineEditor`], echo and erasing happen in human mode only, and each
//! submitted line runs inside its begin/end markers in machine mode
//! (docs/PROTOCOL.md), followed by the prompt.
//!
//! The kernel's shell task is `Session::run` over its console; host tests
//! run the same loop over a [`crate::UartTerminal`] on a mock UART.

extern crate alloc;

use alloc::string::String;

use sis_abi::frame;

use crate::editor::{line_as_str, Action, LineEditor, LineError};
use crate::terminal::Terminal;

/// What a prompt is, exactly (no newline after it).
pub const PROMPT: &str = "sis> ";

/// How much of a received line the begin marker repeats.
pub const MARKER_LINE_BYTES: usize = 200;

/// Runs the commands of submitted lines.
pub trait Interpreter<T: Terminal> {
    /// Runs one line (valid UTF-8, not yet parsed) and returns its status.
    /// A command that restarts the marker numbering (`frame on`) calls
    /// [`Numbering::restart`].
    fn run_line(&mut self, line: &str, terminal: &mut T, numbering: &mut Numbering) -> u8;
}

/// The `<seq>` of the markers: lines received since `frame on`.
#[derive(Debug, Default)]
pub struct Numbering {
    seq: u64,
}

impl Numbering {
    /// Starts counting afresh (`frame on`).
    pub fn restart(&mut self) {
        self.seq = 0;
    }

    pub fn current(&self) -> u64 {
        self.seq
    }
}

/// One shell on one terminal.
#[derive(Debug, Default)]
pub struct Session {
    editor: LineEditor,
    numbering: Numbering,
}

impl Session {
    pub fn new() -> Self {
        Session {
            editor: LineEditor::new(),
            numbering: Numbering::default(),
        }
    }

    /// Prints the first prompt, then feeds every byte the terminal delivers;
    /// returns when it delivers none (never, for the kernel's console).
    pub fn run<T: Terminal, I: Interpreter<T>>(&mut self, terminal: &mut T, interpreter: &mut I) {
        terminal.write(PROMPT.as_bytes());
        while let Some(byte) = terminal.read_byte() {
            self.feed(byte, terminal, interpreter);
        }
    }

    /// Takes one received byte: echoes or erases (human mode), or runs the
    /// line it completed.
    pub fn feed<T: Terminal, I: Interpreter<T>>(
        &mut self,
        byte: u8,
        terminal: &mut T,
        interpreter: &mut I,
    ) {
        let is_framed = terminal.is_framed();
        match self.editor.feed(byte) {
            Action::None => {}
            Action::Echo(byte) if !is_framed => terminal.write(&[byte]),
            Action::Erase if !is_framed => terminal.write(Action::ERASE),
            Action::ClearLine { erased_chars } if !is_framed => {
                for _ in 0..erased_chars {
                    terminal.write(Action::ERASE);
                }
            }
            Action::Cancel if !is_framed => {
                terminal.write(b"^C\n");
                terminal.write(PROMPT.as_bytes());
            }
            Action::Echo(_) | Action::Erase | Action::ClearLine { .. } | Action::Cancel => {}
            Action::Submit => {
                let Session { editor, numbering } = self;
                if let Some(line) = editor.take_line() {
                    submit(line, numbering, terminal, interpreter);
                }
            }
        }
    }
}

/// Runs one submitted line (or says why it was refused) inside a frame.
fn submit<T: Terminal, I: Interpreter<T>>(
    line: Result<&[u8], LineError>,
    numbering: &mut Numbering,
    terminal: &mut T,
    interpreter: &mut I,
) {
    let was_framed = terminal.is_framed();
    if was_framed {
        numbering.seq += 1;
        let shown = match line {
            Ok(bytes) => printable_prefix(bytes),
            Err(_) => String::from("<refused>"),
        };
        terminal.write_marker(format_args!("{} {} {}", frame::BEGIN, numbering.seq, shown));
    } else {
        terminal.write(b"\n");
    }
    let status = match line.and_then(line_as_str) {
        Ok(text) => interpreter.run_line(text, terminal, numbering),
        Err(error) => {
            terminal.finish_line();
            terminal.write(alloc::format!("error: {error}\n").as_bytes());
            error.errno().code()
        }
    };
    // A line framed when it arrived gets its end marker, even `frame off`;
    // `frame on` itself answers with the ready marker instead.
    if was_framed {
        terminal.write_marker(format_args!("{} {} {}", frame::END, numbering.seq, status));
    }
    if was_framed && !terminal.is_framed() {
        // `frame off` just ran: human mode numbers nothing.
        numbering.seq = 0;
    }
    terminal.finish_line();
    terminal.write(PROMPT.as_bytes());
}

/// The line as the begin marker shows it: printable ASCII only, bounded.
fn printable_prefix(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(MARKER_LINE_BYTES)
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '?'
            }
        })
        .collect()
}
