//! Character devices: byte streams such as a UART.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::DeviceError;

/// A non-blocking byte stream.
pub trait CharDevice {
    /// Reads the bytes available now into `buffer`; returns how many (0 if
    /// none are waiting, never blocks).
    ///
    /// Errors: `Io` on a receive error the device reports (overrun, framing).
    fn read(&mut self, buffer: &mut [u8]) -> Result<usize, DeviceError>;

    /// Writes as much of `data` as the device accepts now; returns how many
    /// bytes it took (possibly fewer than `data.len()`, possibly 0).
    ///
    /// Errors: `Io` if the device failed.
    fn write(&mut self, data: &[u8]) -> Result<usize, DeviceError>;
}

/// A scripted serial port: tests queue the input and read back the output.
/// `output_capacity_bytes` bounds the output so tests can exercise short writes.
#[derive(Clone, Debug)]
pub struct MockCharDevice {
    input: VecDeque<u8>,
    output: Vec<u8>,
    output_capacity_bytes: usize,
}

impl MockCharDevice {
    /// A device with an unbounded output.
    pub fn new() -> Self {
        MockCharDevice::with_output_capacity(usize::MAX)
    }

    /// A device that accepts at most `bytes` of output until drained.
    pub fn with_output_capacity(bytes: usize) -> Self {
        MockCharDevice {
            input: VecDeque::new(),
            output: Vec::new(),
            output_capacity_bytes: bytes,
        }
    }

    /// Queues bytes for later `read`s.
    pub fn push_input(&mut self, bytes: &[u8]) {
        self.input.extend(bytes);
    }

    /// Everything written so far.
    pub fn output(&self) -> &[u8] {
        &self.output
    }

    /// Returns and clears the output, making room for more writes.
    pub fn take_output(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.output)
    }
}

impl Default for MockCharDevice {
    fn default() -> Self {
        MockCharDevice::new()
    }
}

impl CharDevice for MockCharDevice {
    fn read(&mut self, buffer: &mut [u8]) -> Result<usize, DeviceError> {
        let count = buffer.len().min(self.input.len());
        for (slot, byte) in buffer.iter_mut().zip(self.input.drain(..count)) {
            *slot = byte;
        }
        Ok(count)
    }

    fn write(&mut self, data: &[u8]) -> Result<usize, DeviceError> {
        let room = self.output_capacity_bytes.saturating_sub(self.output.len());
        let count = data.len().min(room);
        self.output
            .try_reserve(count)
            .map_err(|_| DeviceError::NoMemory)?;
        self.output.extend_from_slice(&data[..count]);
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_was_queued_in_order() {
        let mut port = MockCharDevice::new();
        let mut buffer = [0u8; 4];
        assert_eq!(port.read(&mut buffer), Ok(0));
        port.push_input(b"hello");
        assert_eq!(port.read(&mut buffer), Ok(4));
        assert_eq!(&buffer, b"hell");
        assert_eq!(port.read(&mut buffer), Ok(1));
        assert_eq!(buffer[0], b'o');
    }

    #[test]
    fn short_writes_when_output_is_full() {
        let mut port = MockCharDevice::with_output_capacity(3);
        assert_eq!(port.write(b"ab"), Ok(2));
        assert_eq!(port.write(b"cd"), Ok(1));
        assert_eq!(port.write(b"e"), Ok(0));
        assert_eq!(port.take_output(), b"abc");
        assert_eq!(port.write(b"e"), Ok(1));
        assert_eq!(port.output(), b"e");
    }
}
