//! Where a command's output goes: the console, one whole line at a time (so
//! a log record never lands inside a line of output), or a buffer that a
//! `> path` redirection writes to a file.

extern crate alloc;

use alloc::string::String;
use core::fmt;

use crate::console;

pub enum Output {
    /// Complete lines go to the console at once; a partial line waits.
    Console { pending: String },
    /// Everything is kept for a redirection.
    Capture(String),
}

impl Output {
    pub fn console() -> Self {
        Output::Console { pending: String::new() }
    }

    pub fn capture() -> Self {
        Output::Capture(String::new())
    }

    /// Writes out a pending partial line (at the end of a command).
    pub fn flush(&mut self) {
        if let Output::Console { pending } = self {
            if !pending.is_empty() {
                console::write_str(pending);
                pending.clear();
            }
        }
    }
}

impl fmt::Write for Output {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        match self {
            Output::Capture(buffer) => buffer.push_str(text),
            Output::Console { pending } => {
                pending.push_str(text);
                if let Some(last_newline) = pending.rfind('\n') {
                    console::write_str(&pending[..=last_newline]);
                    pending.drain(..=last_newline);
                }
            }
        }
        Ok(())
    }
}
