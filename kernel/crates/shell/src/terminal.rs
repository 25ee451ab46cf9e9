//! What the shell writes to, and the one place `\n` becomes `\r\n`.
//!
//! [`Terminal`] is the console as the [`crate::Session`] sees it. The kernel
//! implements it over its console (which writes to the UART driver's
//! `sis_hal::CharDevice`); [`UartTerminal`] implements it over any
//! `CharDevice`, so host tests run the shell over `sis_hal::MockCharDevice`.

use core::fmt;

use sis_hal::CharDevice;

/// The console the shell runs on.
pub trait Terminal {
    /// The next received byte. The kernel's waits (the task sleeps) and
    /// never returns `None`; a test terminal returns `None` once its input
    /// is used up, which ends [`crate::Session::run`].
    fn read_byte(&mut self) -> Option<u8>;

    /// Writes text; `\n` ends a line (the terminal sends `\r\n`).
    fn write(&mut self, text: &[u8]);

    /// Writes a protocol marker (`\x01` then `marker`) on a line of its own.
    fn write_marker(&mut self, marker: fmt::Arguments<'_>);

    /// Ends the current line if something is on it.
    fn finish_line(&mut self);

    /// Whether machine mode (`frame on`) is active: no echo, markers around
    /// every command (docs/PROTOCOL.md).
    fn is_framed(&self) -> bool;
}

/// Writes `bytes` to `device` with each `\n` sent as `\r\n`; returns whether
/// the last byte ended a line (`None` for no bytes). A device that takes
/// nothing (full, or failing) loses the rest: the UART drivers never do,
/// they wait for room.
pub fn write_crlf(device: &mut impl CharDevice, bytes: &[u8]) -> Option<bool> {
    let mut rest = bytes;
    while let Some(newline) = rest.iter().position(|&b| b == b'\n') {
        write_all(device, &rest[..newline]);
        write_all(device, b"\r\n");
        rest = &rest[newline + 1..];
    }
    write_all(device, rest);
    bytes.last().map(|&last| last == b'\n')
}

/// Writes until the device has taken everything, took nothing, or failed.
fn write_all(device: &mut impl CharDevice, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        match device.write(bytes) {
            Ok(0) | Err(_) => return,
            Ok(taken) => bytes = &bytes[taken.min(bytes.len())..],
        }
    }
}

/// A [`Terminal`] over a character device: line-end translation, line-start
/// tracking for markers, and the framing flag.
#[derive(Debug)]
pub struct UartTerminal<D: CharDevice> {
    pub device: D,
    is_framed: bool,
    is_at_line_start: bool,
}

impl<D: CharDevice> UartTerminal<D> {
    pub fn new(device: D) -> Self {
        UartTerminal {
            device,
            is_framed: false,
            is_at_line_start: true,
        }
    }

    /// What `frame on` / `frame off` switch.
    pub fn set_framed(&mut self, is_framed: bool) {
        self.is_framed = is_framed;
    }
}

impl<D: CharDevice> Terminal for UartTerminal<D> {
    fn read_byte(&mut self) -> Option<u8> {
        let mut byte = [0u8];
        match self.device.read(&mut byte) {
            Ok(1) => Some(byte[0]),
            // No byte, or a receive error (overrun): nothing to hand out.
            _ => None,
        }
    }

    fn write(&mut self, text: &[u8]) {
        if let Some(ends_line) = write_crlf(&mut self.device, text) {
            self.is_at_line_start = ends_line;
        }
    }

    fn write_marker(&mut self, marker: fmt::Arguments<'_>) {
        self.finish_line();
        self.write(&[sis_abi::frame::MARK]);
        let _ = fmt::write(self, marker);
        self.write(b"\n");
    }

    fn finish_line(&mut self) {
        if !self.is_at_line_start {
            self.write(b"\n");
        }
    }

    fn is_framed(&self) -> bool {
        self.is_framed
    }
}

impl<D: CharDevice> fmt::Write for UartTerminal<D> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        Terminal::write(self, text.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sis_hal::MockCharDevice;

    #[test]
    fn newlines_go_out_as_crlf_and_line_start_is_tracked() {
        let mut terminal = UartTerminal::new(MockCharDevice::new());
        terminal.write(b"a\nb");
        terminal.finish_line();
        terminal.finish_line();
        terminal.write_marker(format_args!("ready"));
        assert_eq!(terminal.device.output(), b"a\r\nb\r\n\x01ready\r\n");
    }

    #[test]
    fn a_full_device_loses_the_rest_instead_of_spinning() {
        let mut device = MockCharDevice::with_output_capacity(4);
        assert_eq!(write_crlf(&mut device, b"ab\ncd\n"), Some(true));
        assert_eq!(device.output(), b"ab\r\n");
        assert_eq!(write_crlf(&mut device, b""), None);
    }
}
