//! The shell's input side, with no I/O: a line editor that turns received
//! bytes into what to echo and when a line is complete, and a parser that
//! turns a line into words and an optional output redirection.
//!
//! The kernel's console loop owns the I/O: it feeds each received byte to
//! [`LineEditor::feed`], prints what the returned [`Action`] asks for, and on
//! [`Action::Submit`] takes the line, checks it is UTF-8 ([`line_as_str`]) and
//! parses it ([`parse`]). Every refusal carries a `sis_abi::Errno`, so the
//! shell prints `error: <ERRNO>: <detail>` as docs/PROTOCOL.md asks.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

extern crate alloc;

pub mod editor;
pub mod parse;

pub use editor::{line_as_str, Action, LineEditor, LineError, LINE_CAPACITY_BYTES};
pub use parse::{parse, CommandLine, ParseError, Redirect, MAX_WORDS};
