//! The panic path, one fixed sequence (docs/PROTOCOL.md, "Panics"):
//!
//! 1. One reporter: the first CPU to panic owns the report. A panic inside
//!    its report prints `!!! RECURSIVE PANIC !!!` and halts, since the
//!    report itself is broken; a panic on another CPU meanwhile stops that
//!    CPU silently (its report would interleave, and the first one is the
//!    one that matters). Other CPUs stop at their next tick or console
//!    write (`stop_if_other_cpu_panicking`), so nothing interleaves with
//!    the report.
//! 2. The `\x01sis:panic` marker, so the CLI stops waiting at once.
//! 3. The human report on the raw UART path (no lock, no heap: the heap or
//!    the console lock may be what failed): message, location, registers of
//!    the trapped context, system state, frame-pointer backtrace.
//! 4. The last log records from the ring (tried, never waited for).
//! 5. One JSON record line for machines.
//! 6. End the machine with exit code 101 so CI never hangs on a dead kernel.

use core::fmt::{self, Write};
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::arch::{self, TrapFrame};
use crate::{build_info, heap};
use sis_observe::json::JsonObject;

/// The CPU writing the panic report, plus one (0: no panic yet).
static PANICKING_CPU: AtomicUsize = AtomicUsize::new(0);

/// Stops this CPU if another one is reporting a panic.
pub fn stop_if_other_cpu_panicking() {
    let owner = PANICKING_CPU.load(Ordering::Relaxed);
    if owner != 0 && owner != arch::cpu_index() + 1 {
        arch::halt();
    }
}

/// Lowest and highest address a frame record may live at (RAM), set at boot;
/// the backtrace stops at anything outside.
static FRAME_LOW: AtomicUsize = AtomicUsize::new(0);
static FRAME_HIGH: AtomicUsize = AtomicUsize::new(0);

/// Most frames the backtrace walks.
const MAX_FRAMES: usize = 32;

/// Log records the report replays.
const RECENT_RECORDS: usize = 10;

/// Tells the backtrace walker where RAM is.
pub fn set_frame_bounds(low: usize, high: usize) {
    FRAME_LOW.store(low, Ordering::Relaxed);
    FRAME_HIGH.store(high, Ordering::Relaxed);
}

/// Writes straight to the UART, turning `\n` into `\r\n`.
struct Raw;

impl Write for Raw {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for (index, line) in text.split('\n').enumerate() {
            if index > 0 {
                arch::console_write(b"\r\n");
            }
            arch::console_write(line.as_bytes());
        }
        Ok(())
    }
}

/// Indents every line written through it by two spaces.
struct Indented<'a, W: Write> {
    sink: &'a mut W,
    at_line_start: bool,
}

impl<W: Write> Write for Indented<'_, W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        // Writers hand over fragments, not lines: indent at line starts only.
        for piece in text.split_inclusive('\n') {
            if self.at_line_start {
                self.sink.write_str("  ")?;
            }
            self.sink.write_str(piece)?;
            self.at_line_start = piece.ends_with('\n');
        }
        Ok(())
    }
}

#[panic_handler]
fn on_panic(info: &PanicInfo) -> ! {
    // The registers here, so a software panic's report has them too.
    let frame = TrapFrame::capture();
    let location = info.location().map(|l| (l.file(), l.line(), l.column()));
    report(format_args!("{}", info.message()), location, Some(&frame))
}

/// Called by the arch exception handlers on an unexpected exception.
pub fn fault(description: &str, frame: &TrapFrame) -> ! {
    report(format_args!("unexpected exception: {}", description), None, Some(frame))
}

fn report(message: fmt::Arguments<'_>, location: Option<(&str, u32, u32)>, frame: Option<&TrapFrame>) -> ! {
    // 1. Interrupts off for good on this CPU: the tick must not preempt the
    //    report (another task could then panic on this CPU and look like a
    //    recursion). One reporter; a recursion guard for it.
    arch::interrupts_disable();
    let me = arch::cpu_index() + 1;
    if let Err(owner) = PANICKING_CPU.compare_exchange(0, me, Ordering::SeqCst, Ordering::SeqCst) {
        if owner == me {
            arch::console_write(b"\r\n!!! RECURSIVE PANIC !!!\r\n");
        }
        arch::halt();
    }
    // Let another CPU finish the line it is writing (bounded: it may be
    // the one that is stuck); after that, every other CPU stops at its next
    // console write or tick instead of writing into the report.
    crate::console::wait_for_other_writers(50_000_000);
    crate::metrics::count_panic();
    let mut out = Raw;
    // 2. Marker, on a line of its own.
    if !crate::console::at_line_start() {
        let _ = out.write_str("\n");
    }
    let _ = write!(out, "\u{1}{}\n", sis_abi::frame::PANIC);
    // 3. Human report.
    let rule = "================================================================";
    let _ = write!(out, "{rule}\n!!! KERNEL PANIC !!!\n{rule}\n");
    let _ = write!(out, "message:  {}\n", message);
    match location {
        Some((file, line, column)) => {
            let _ = write!(out, "location: {file}:{line}:{column}\n");
        }
        None => {
            let _ = out.write_str("location: <exception>\n");
        }
    }
    if let Some(frame) = frame {
        let _ = out.write_str("registers:\n");
        let mut column = 0;
        frame.for_each_register(&mut |name, value| {
            let _ = write!(out, "  {name:>6}: {value:016x}");
            column += 1;
            if column % 4 == 0 {
                let _ = out.write_str("\n");
            }
        });
        if column % 4 != 0 {
            let _ = out.write_str("\n");
        }
    }
    let uptime_ns = arch::monotonic_ns();
    let heap = heap::stats();
    let _ = write!(out, "system:\n  arch:     {}\n  uptime:   {}.{:03} s\n", arch::NAME, uptime_ns / 1_000_000_000, uptime_ns / 1_000_000 % 1000);
    let _ = write!(
        out,
        "  heap:     {} bytes current, {} peak, {} allocations, {} frees, {} failed\n",
        heap.current_bytes, heap.peak_bytes, heap.allocations, heap.frees, heap.failed_allocations
    );
    let _ = out.write_str("  version:  ");
    let _ = build_info::write_version_line(&mut out);
    // Commit and build id: `sis panic decode` refuses an ELF of another build.
    let _ = write!(out, "\n  build:    {} {}\n", build_info::GIT_COMMIT, build_info::build_id());
    // One line per live user process: which program, the last index its
    // progress syscall gave (the fuzzer's call) and the syscall it is in.
    let _ = crate::user::table::write_panic_lines(&mut out);

    // Read here, not through a function pointer: the chain must start at
    // this live frame, not at a helper's frame that is gone once it returns.
    let own_fp = arch::current_frame_pointer();
    let start_fp = frame.map_or(own_fp, |f| f.frame_pointer() as usize);
    let _ = out.write_str("backtrace:\n");
    if let Some(frame) = frame {
        let _ = write!(out, "  #pc {:016x}\n", frame.program_counter());
    }
    walk_frames(start_fp, |index, return_address| {
        let _ = write!(out, "  #{index:<2} {return_address:016x}\n");
    });

    // 4. Recent log records.
    let _ = out.write_str("last log records:\n");
    if crate::log::logger().write_recent(RECENT_RECORDS, &mut Indented { sink: &mut out, at_line_start: true }).is_none() {
        let _ = out.write_str("  <log ring busy: the panic interrupted the logger>\n");
    }
    let _ = write!(out, "{rule}\n");

    // 5. JSON record.
    let _ = JsonObject::write(&mut out, |record| {
        record.u64("ts", uptime_ns / 1000)?;
        record.str("level", "FATAL")?;
        record.str("subsystem", "panic")?;
        record.str("status", "panic")?;
        record.display("message", &message)?;
        match location {
            Some((file, line, column)) => record.display("location", &format_args!("{file}:{line}:{column}"))?,
            None => record.str("location", "<exception>")?,
        }
        record.str("arch", arch::NAME)?;
        record.object("registers", |registers| {
            let mut result = Ok(());
            if let Some(frame) = frame {
                frame.for_each_register(&mut |name, value| {
                    if result.is_ok() {
                        result = registers.hex(name, value);
                    }
                });
            }
            result
        })?;
        record.array("backtrace", |frames| {
            if let Some(frame) = frame {
                frames.hex(frame.program_counter())?;
            }
            let mut result = Ok(());
            walk_frames(start_fp, |_, return_address| {
                if result.is_ok() {
                    result = frames.hex(return_address as u64);
                }
            });
            result
        })
    });
    let _ = out.write_str("\n");
    // 6. End the machine.
    arch::poweroff(sis_abi::exit::PANIC)
}

/// Calls `visit(index, return_address)` for each frame record from `fp`,
/// stopping at a null, misaligned, out-of-RAM or non-increasing pointer.
fn walk_frames(mut fp: usize, mut visit: impl FnMut(usize, usize)) {
    let low = FRAME_LOW.load(Ordering::Relaxed);
    let high = FRAME_HIGH.load(Ordering::Relaxed);
    for index in 0..MAX_FRAMES {
        if fp == 0 || fp % core::mem::size_of::<usize>() != 0 || fp < low || fp >= high {
            return;
        }
        // SAFETY: fp is aligned and inside RAM (checked above), so reading
        // the two-word record cannot fault; a garbage record only ends the walk.
        let Some((return_address, caller_fp)) = (unsafe { arch::frame_record(fp) }) else { return };
        if return_address == 0 {
            return;
        }
        visit(index, return_address);
        if caller_fp <= fp {
            return;
        }
        fp = caller_fp;
    }
}
