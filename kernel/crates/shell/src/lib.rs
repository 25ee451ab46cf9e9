//! The shell's input side, with no I/O: a line editor that turns received
//! bytes into what to echo and when a line is complete, and a parser that
//! turns a line into words and an optional output redirection.
//!
//! [`Session`] is the line loop: it feeds each received byte to
//! [`LineEditor::feed`], prints what the returned [`Action`] asks for on a
//! [`Terminal`], and on [`Action::Submit`] takes the line, checks it is UTF-8
//! ([`line_as_str`]) and hands it, inside its framing markers, to an
//! [`Interpreter`] (the kernel's command table), which [`parse`]s it. The
//! kernel runs it over its console; host tests run it over
//! [`UartTerminal`] on `sis_hal::MockCharDevice` (tests/session.rs). Every refusal carries a `sis_abi::Errno`, so the
//! shell prints `error: <ERRNO>: <detail>` as docs/PROTOCOL.md asks.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

extern crate alloc;

pub mod editor;
pub mod parse;
pub mod session;
pub mod terminal;

use core::fmt;

use sis_abi::Errno;

pub use editor::{line_as_str, Action, LineEditor, LineError, LINE_CAPACITY_BYTES};
pub use parse::{parse, CommandLine, ParseError, Redirect, MAX_WORDS};
pub use session::{Interpreter, Numbering, Session, MARKER_LINE_BYTES, PROMPT};
pub use terminal::{write_crlf, Terminal, UartTerminal};

/// Why a submitted line was refused before any command ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputError {
    Line(LineError),
    Parse(ParseError),
}

impl InputError {
    /// The errno the command's status reports.
    pub const fn errno(self) -> Errno {
        match self {
            InputError::Line(error) => error.errno(),
            InputError::Parse(error) => error.errno(),
        }
    }
}

impl fmt::Display for InputError {
    /// `<ERRNO>: <detail>`; the shell prefixes `error: `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::Line(error) => error.fmt(f),
            InputError::Parse(error) => error.fmt(f),
        }
    }
}

/// The whole path from [`LineEditor::take_line`]'s result to a command:
/// overflow (`E2BIG`), UTF-8 check (`EINVAL`), then [`parse`].
pub fn parse_submitted(line: Result<&[u8], LineError>) -> Result<CommandLine, InputError> {
    let bytes = line.map_err(InputError::Line)?;
    let text = line_as_str(bytes).map_err(InputError::Line)?;
    parse(text).map_err(InputError::Parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submit(bytes: &[u8]) -> Result<CommandLine, InputError> {
        let mut editor = LineEditor::new();
        for &byte in bytes {
            editor.feed(byte);
        }
        parse_submitted(editor.take_line().expect("a line was submitted"))
    }

    #[test]
    fn typed_bytes_become_a_command() {
        let command = submit(b"echo \"hi there\" >> /log\r").unwrap();
        assert_eq!(command.argv, ["echo", "hi there"]);
        assert_eq!(command.redirect.unwrap().path, "/log");
    }

    #[test]
    fn each_refusal_has_its_errno_and_one_line() {
        let mut long = vec![b'x'; LINE_CAPACITY_BYTES + 1];
        long.push(b'\r');
        let many_words = [b"w ".repeat(129).as_slice(), b"\r"].concat();
        let cases: [(&[u8], Errno, &str); 4] = [
            (&long, Errno::E2BIG, "E2BIG: line longer than 1024 bytes"),
            (b"\xc3(\r", Errno::EINVAL, "EINVAL: line is not valid UTF-8"),
            (
                b"echo 'oops\r",
                Errno::EINVAL,
                "EINVAL: unterminated ' quote",
            ),
            (&many_words, Errno::E2BIG, "E2BIG: more than 128 words"),
        ];
        for (input, errno, message) in cases {
            let error = submit(input).unwrap_err();
            assert_eq!(error.errno(), errno);
            assert_eq!(error.to_string(), message);
        }
    }
}
