//! The console: formatted output with `\r\n` line ends, the shell's framing
//! state, log-line placement and the input queue fed by the idle loop.
//!
//! Output goes straight to the UART (`arch::console_write`); nothing here
//! allocates on the output path, so early boot can print before the heap.

use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch;

/// Whether machine mode (`frame on`) is active: input is not echoed and log
/// lines carry the `\x01sis:log ` prefix (docs/PROTOCOL.md).
static FRAMED: AtomicBool = AtomicBool::new(false);
/// Whether the last byte written ended a line; logs and markers start lines.
static AT_LINE_START: AtomicBool = AtomicBool::new(true);

pub fn is_framed() -> bool {
    FRAMED.load(Ordering::Relaxed)
}

pub fn set_framed(on: bool) {
    FRAMED.store(on, Ordering::Relaxed);
}

pub fn at_line_start() -> bool {
    AT_LINE_START.load(Ordering::Relaxed)
}

/// Writes bytes, turning each `\n` into `\r\n`.
pub fn write_bytes(bytes: &[u8]) {
    let mut rest = bytes;
    while let Some(newline) = rest.iter().position(|&b| b == b'\n') {
        arch::console_write(&rest[..newline]);
        arch::console_write(b"\r\n");
        rest = &rest[newline + 1..];
    }
    arch::console_write(rest);
    if let Some(&last) = bytes.last() {
        AT_LINE_START.store(last == b'\n', Ordering::Relaxed);
    }
}

pub fn write_str(text: &str) {
    write_bytes(text.as_bytes());
}

/// Ends the current line if something is on it.
pub fn finish_line() {
    if !at_line_start() {
        write_bytes(b"\n");
    }
}

/// Writes a protocol marker line (`\x01<marker>`), on a line of its own.
pub fn write_marker(args: fmt::Arguments<'_>) {
    finish_line();
    write_bytes(&[sis_abi::frame::MARK]);
    let _ = fmt::write(&mut Console, args);
    write_bytes(b"\n");
}

/// A `fmt::Write` over the console.
pub struct Console;

impl fmt::Write for Console {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        write_str(text);
        Ok(())
    }
}

/// Prints to the console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {{
        let _ = core::fmt::Write::write_fmt(&mut $crate::console::Console, format_args!($($arg)*));
    }};
}

/// Prints a line to the console.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => {{
        $crate::print!($($arg)*);
        $crate::print!("\n");
    }};
}

/// Received bytes not yet read by the shell. The idle loop moves bytes from
/// the UART here so the scheduler can tell whether input is waiting.
pub mod input {
    use spin::Mutex;

    use crate::arch;

    const CAPACITY: usize = 4096;

    struct Queue {
        bytes: [u8; CAPACITY],
        head: usize,
        len: usize,
    }

    static QUEUE: Mutex<Queue> = Mutex::new(Queue { bytes: [0; CAPACITY], head: 0, len: 0 });

    /// Moves every byte the UART holds into the queue; returns whether the
    /// queue has bytes. When the queue is full, bytes stay in the UART (and
    /// QEMU stops reading the socket), so nothing is lost.
    pub fn poll() -> bool {
        let mut queue = QUEUE.lock();
        while queue.len < CAPACITY {
            match arch::console_read() {
                Some(byte) => {
                    let tail = (queue.head + queue.len) % CAPACITY;
                    queue.bytes[tail] = byte;
                    queue.len += 1;
                }
                None => break,
            }
        }
        queue.len > 0
    }

    /// Takes the oldest received byte.
    pub fn pop() -> Option<u8> {
        let mut queue = QUEUE.lock();
        if queue.len == 0 {
            return None;
        }
        let byte = queue.bytes[queue.head];
        queue.head = (queue.head + 1) % CAPACITY;
        queue.len -= 1;
        Some(byte)
    }
}
