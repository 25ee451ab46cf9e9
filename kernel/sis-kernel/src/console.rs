//! The console: formatted output with `\r\n` line ends, the shell's framing
//! state, log-line placement and the input queue fed by the idle loop.
//!
//! Output goes straight to the UART driver (`arch::ConsoleUart`, a
//! `sis_hal::CharDevice`, with `\n` sent as `\r\n` by `sis_shell::write_crlf`,
//! the same code the host tests run); nothing here allocates on the output path, so early boot can print before the heap.
//! Writers hold the output lock (`locked`) for a whole piece of output, so
//! tasks on other CPUs, or a task preempted mid-line, never interleave
//! within a line, a marker or a log record.

use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::sync::{rank, InterruptsMasked};
use crate::{arch, percpu};

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

/// The CPU holding the output lock, plus one (0: free), and how deeply.
static OUTPUT_OWNER: AtomicUsize = AtomicUsize::new(0);
static OUTPUT_DEPTH: AtomicUsize = AtomicUsize::new(0);

/// Runs `write` holding the console output lock, interrupts masked. The lock
/// is reentrant on one CPU (a log record written while a marker is being
/// written, say); it is the innermost lock of the lock order
/// (`rank::CONSOLE_OUTPUT`, checked on the outermost acquire like an
/// `IrqMutex`), so nothing ranked is taken under it (the log ring's lock is
/// only ever tried). The panic path does not take it: it writes to the UART
/// directly.
pub fn locked<R>(write: impl FnOnce() -> R) -> R {
    let _masked = InterruptsMasked::new();
    let me = arch::cpu_index() + 1;
    if OUTPUT_OWNER.load(Ordering::Relaxed) == me {
        OUTPUT_DEPTH.fetch_add(1, Ordering::Relaxed);
        let result = write();
        OUTPUT_DEPTH.fetch_sub(1, Ordering::Relaxed);
        return result;
    }
    percpu::check_lock_order(rank::CONSOLE_OUTPUT);
    while OUTPUT_OWNER.compare_exchange_weak(0, me, Ordering::Acquire, Ordering::Relaxed).is_err() {
        // The panicking CPU may hold it forever: stop rather than wait.
        crate::panic::stop_if_other_cpu_panicking();
        core::hint::spin_loop();
    }
    percpu::note_locked(rank::CONSOLE_OUTPUT);
    crate::panic::stop_if_other_cpu_panicking();
    let result = write();
    percpu::note_unlocked(rank::CONSOLE_OUTPUT);
    OUTPUT_OWNER.store(0, Ordering::Release);
    result
}

/// For the panic path: waits (at most `timeout_ns`) until no other CPU is
/// in the middle of a piece of output, so its line cannot land inside the
/// report. Other CPUs stop at their next acquire (`locked`), so once the
/// holder finishes its piece the console is the reporter's.
pub fn wait_for_other_writers(timeout_ns: u64) {
    let me = arch::cpu_index() + 1;
    let deadline = arch::monotonic_ns().saturating_add(timeout_ns);
    loop {
        let owner = OUTPUT_OWNER.load(Ordering::Acquire);
        if owner == 0 || owner == me || arch::monotonic_ns() >= deadline {
            return;
        }
        core::hint::spin_loop();
    }
}

/// Writes bytes, turning each `\n` into `\r\n`.
pub fn write_bytes(bytes: &[u8]) {
    locked(|| write_bytes_unlocked(bytes));
}

fn write_bytes_unlocked(bytes: &[u8]) {
    if let Some(ends_line) = sis_shell::write_crlf(&mut arch::ConsoleUart, bytes) {
        AT_LINE_START.store(ends_line, Ordering::Relaxed);
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
    locked(|| {
        finish_line();
        write_bytes(&[sis_abi::frame::MARK]);
        let _ = fmt::write(&mut Console, args);
        write_bytes(b"\n");
    });
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
        $crate::console::locked(|| {
            let _ = core::fmt::Write::write_fmt(&mut $crate::console::Console, format_args!($($arg)*));
        });
    }};
}

/// Prints a line to the console.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => {{
        $crate::console::locked(|| {
            $crate::print!($($arg)*);
            $crate::print!("\n");
        });
    }};
}

/// Received bytes not yet read by the shell. The idle loop moves bytes from
/// the UART here so the scheduler can tell whether input is waiting.
pub mod input {
    use core::sync::atomic::{AtomicUsize, Ordering};

    use sis_hal::CharDevice;

    use crate::arch;
    use crate::sync::{rank, IrqMutex};

    const CAPACITY: usize = 4096;

    struct Queue {
        bytes: [u8; CAPACITY],
        head: usize,
        len: usize,
    }

    /// Taken by the console interrupt too, hence interrupts off while held.
    static QUEUE: IrqMutex<Queue, { rank::CONSOLE_INPUT }> = IrqMutex::new(Queue { bytes: [0; CAPACITY], head: 0, len: 0 });
    /// `len` as of the last change, written only under `QUEUE`'s lock: lets
    /// the scheduler ask "any input?" on every switch of the shell without
    /// a second lock inside its own (sched::wait_for_input). A byte queued
    /// before the console interrupt takes the scheduler lock to wake readers
    /// is seen by any check made under that lock afterwards.
    static QUEUED: AtomicUsize = AtomicUsize::new(0);

    /// Moves every byte the UART holds into the queue; returns whether the
    /// queue has bytes. When the queue is full, bytes stay in the UART (and
    /// QEMU stops reading the socket), so nothing is lost.
    pub fn poll() -> bool {
        let mut queue = QUEUE.lock();
        while queue.len < CAPACITY {
            let mut byte = [0u8];
            // A receive error (none of the drivers reports one today) ends
            // this poll like an empty FIFO; the next interrupt tries again.
            if arch::ConsoleUart.read(&mut byte) != Ok(1) {
                break;
            }
            let tail = (queue.head + queue.len) % CAPACITY;
            queue.bytes[tail] = byte[0];
            queue.len += 1;
        }
        QUEUED.store(queue.len, Ordering::Release);
        queue.len > 0
    }

    /// Whether a received byte waits in the queue (the UART is not read).
    pub fn has_bytes() -> bool {
        QUEUED.load(Ordering::Acquire) > 0
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
        QUEUED.store(queue.len, Ordering::Release);
        Some(byte)
    }
}
