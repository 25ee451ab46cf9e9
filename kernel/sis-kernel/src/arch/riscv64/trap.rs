//! Trap entry: saves the full register state into a `TrapFrame` and reports unexpected exceptions.
//!
//! stvec points at `sis_trap_vector` in direct mode (privileged spec v1.12,
//! 4.1.2: every trap enters at BASE). Each hart keeps the top of its own
//! trap stack in sscratch, so a trap entered with a broken sp (stack
//! overflow, a wild pointer) still has a good stack to save the frame on.
//!
//! A trap from U-mode (sstatus.SPP = 0) leaves at once for user.rs, whose
//! `run` set sscratch to a frame on the task's kernel stack. From S-mode,
//! interrupts leave for irq.rs, on the interrupted stack; every other trap
//! is an exception: a bug. It ends in `crate::panic::fault`.

use core::arch::global_asm;
use core::fmt::{self, Write};
use core::mem::{offset_of, size_of};
use core::sync::atomic::{AtomicUsize, Ordering};

use super::exit;

/// The interrupted context, as saved by `sis_trap_vector`.
#[repr(C)]
#[derive(Debug, Clone)]
pub struct TrapFrame {
    /// x0..x31 by register number (x0 is always 0; x2 is the interrupted sp).
    pub registers: [u64; 32],
    pub sepc: u64,
    pub sstatus: u64,
    pub scause: u64,
    pub stval: u64,
}

/// ABI names and register numbers in the order the report prints them
/// (RISC-V psABI, "Integer Register Convention").
pub(super) const REGISTER_NAMES: [(&str, usize); 31] = [
    ("ra", 1), ("sp", 2), ("gp", 3), ("tp", 4),
    ("t0", 5), ("t1", 6), ("t2", 7), ("t3", 28), ("t4", 29), ("t5", 30), ("t6", 31),
    ("s0", 8), ("s1", 9), ("s2", 18), ("s3", 19), ("s4", 20), ("s5", 21), ("s6", 22),
    ("s7", 23), ("s8", 24), ("s9", 25), ("s10", 26), ("s11", 27),
    ("a0", 10), ("a1", 11), ("a2", 12), ("a3", 13), ("a4", 14), ("a5", 15), ("a6", 16), ("a7", 17),
];

impl TrapFrame {
    /// Every saved register by name: ra, sp, gp, tp, t0-t6, s0-s11, a0-a7,
    /// then sepc, sstatus, scause, stval.
    pub fn for_each_register(&self, visit: &mut dyn FnMut(&'static str, u64)) {
        for (name, number) in REGISTER_NAMES {
            visit(name, self.registers[number]);
        }
        visit("sepc", self.sepc);
        visit("sstatus", self.sstatus);
        visit("scause", self.scause);
        visit("stval", self.stval);
    }

    /// The registers at the call site, for a software `panic!` report: x1-x31
    /// as they are here, sepc = this code's address, sstatus as it is;
    /// scause and stval are 0 (no trap).
    #[inline(always)]
    pub fn capture() -> TrapFrame {
        let mut frame = TrapFrame { registers: [0; 32], sepc: 0, sstatus: 0, scause: 0, stval: 0 };
        // SAFETY: stores into `frame` only (its repr(C) layout: x0..x31, then sepc, sstatus).
        unsafe {
            core::arch::asm!(
                "sd x1, 8({base})",
                "sd x2, 16({base})",
                "sd x3, 24({base})",
                "sd x4, 32({base})",
                "sd x5, 40({base})",
                "sd x6, 48({base})",
                "sd x7, 56({base})",
                "sd x8, 64({base})",
                "sd x9, 72({base})",
                "sd x10, 80({base})",
                "sd x11, 88({base})",
                "sd x12, 96({base})",
                "sd x13, 104({base})",
                "sd x14, 112({base})",
                "sd x15, 120({base})",
                "sd x16, 128({base})",
                "sd x17, 136({base})",
                "sd x18, 144({base})",
                "sd x19, 152({base})",
                "sd x20, 160({base})",
                "sd x21, 168({base})",
                "sd x22, 176({base})",
                "sd x23, 184({base})",
                "sd x24, 192({base})",
                "sd x25, 200({base})",
                "sd x26, 208({base})",
                "sd x27, 216({base})",
                "sd x28, 224({base})",
                "sd x29, 232({base})",
                "sd x30, 240({base})",
                "sd x31, 248({base})",
                "auipc {tmp}, 0",
                "sd {tmp}, 256({base})",
                "csrr {tmp}, sstatus",
                "sd {tmp}, 264({base})",
                base = in(reg) &mut frame as *mut TrapFrame,
                tmp = out(reg) _,
                options(nostack),
            );
        }
        frame
    }

    /// The faulting instruction (sepc).
    pub fn program_counter(&self) -> u64 {
        self.sepc
    }

    /// s0 of the interrupted code: the head of its frame-record chain.
    pub fn frame_pointer(&self) -> u64 {
        self.registers[8]
    }
}

const FRAME_SIZE: usize = size_of::<TrapFrame>();
const _: () = assert!(FRAME_SIZE % 16 == 0, "the psABI wants sp 16-byte aligned");

// Save x1, x3..x31 at 8 * n, the interrupted sp (parked in sscratch by the
// swap) at 8 * 2, then the four CSRs. t0-t4 are free to use once saved.
global_asm!(
    ".section .text",
    ".balign 4",
    ".globl sis_trap_vector",
    "sis_trap_vector:",
    "csrrw sp, sscratch, sp",
    // t0 is parked below the new sp: the trap stack top, or (from U-mode)
    // the kernel frame user.rs put on the task's stack.
    "sd t0, -8(sp)",
    // sstatus.SPP clear: the trap came from U-mode, and sscratch held that
    // task's kernel frame (user.rs owns the rest of the way).
    "csrr t0, sstatus",
    "andi t0, t0, {sstatus_spp}",
    "bnez t0, 0f",
    "j sis_user_trap",
    "0:",
    // Interrupts (scause bit 63) are handled on the interrupted stack
    // (irq.rs): swap back and go there.
    "csrr t0, scause",
    "bgez t0, 1f",
    "ld t0, -8(sp)",
    "csrrw sp, sscratch, sp",
    "j sis_interrupt_entry",
    "1:",
    "ld t0, -8(sp)",
    "addi sp, sp, -{frame_size}",
    "sd x1, 8(sp)",
    "sd x3, 24(sp)",
    "sd x4, 32(sp)",
    "sd x5, 40(sp)",
    "sd x6, 48(sp)",
    "sd x7, 56(sp)",
    "sd x8, 64(sp)",
    "sd x9, 72(sp)",
    "sd x10, 80(sp)",
    "sd x11, 88(sp)",
    "sd x12, 96(sp)",
    "sd x13, 104(sp)",
    "sd x14, 112(sp)",
    "sd x15, 120(sp)",
    "sd x16, 128(sp)",
    "sd x17, 136(sp)",
    "sd x18, 144(sp)",
    "sd x19, 152(sp)",
    "sd x20, 160(sp)",
    "sd x21, 168(sp)",
    "sd x22, 176(sp)",
    "sd x23, 184(sp)",
    "sd x24, 192(sp)",
    "sd x25, 200(sp)",
    "sd x26, 208(sp)",
    "sd x27, 216(sp)",
    "sd x28, 224(sp)",
    "sd x29, 232(sp)",
    "sd x30, 240(sp)",
    "sd x31, 248(sp)",
    "sd zero, 0(sp)",
    "csrr t0, sscratch",
    "sd t0, 16(sp)",
    "csrr t1, sepc",
    "sd t1, {sepc}(sp)",
    "csrr t2, sstatus",
    "sd t2, {sstatus}(sp)",
    "csrr t3, scause",
    "sd t3, {scause}(sp)",
    "csrr t4, stval",
    "sd t4, {stval}(sp)",
    // Re-arm sscratch with the trap stack top, so a trap inside the handler
    // (a fault while reporting a fault) again lands on a good stack.
    "addi t0, sp, {frame_size}",
    "csrw sscratch, t0",
    // gp may be garbage in the interrupted code; the handler is Rust code.
    ".option push",
    ".option norelax",
    "la gp, __global_pointer$",
    ".option pop",
    // A zero frame pointer ends backtraces taken inside the handler here;
    // the interrupted code's chain is reachable through the frame's s0.
    "li s0, 0",
    "mv a0, sp",
    "call {handler}",
    // Not reached today (every exception ends in a report); kept complete
    // so a handled exception could return.
    "ld t0, {sepc}(sp)",
    "csrw sepc, t0",
    "ld t0, {sstatus}(sp)",
    "csrw sstatus, t0",
    "ld x1, 8(sp)",
    "ld x3, 24(sp)",
    "ld x4, 32(sp)",
    "ld x5, 40(sp)",
    "ld x6, 48(sp)",
    "ld x7, 56(sp)",
    "ld x8, 64(sp)",
    "ld x9, 72(sp)",
    "ld x10, 80(sp)",
    "ld x11, 88(sp)",
    "ld x12, 96(sp)",
    "ld x13, 104(sp)",
    "ld x14, 112(sp)",
    "ld x15, 120(sp)",
    "ld x16, 128(sp)",
    "ld x17, 136(sp)",
    "ld x18, 144(sp)",
    "ld x19, 152(sp)",
    "ld x20, 160(sp)",
    "ld x21, 168(sp)",
    "ld x22, 176(sp)",
    "ld x23, 184(sp)",
    "ld x24, 192(sp)",
    "ld x25, 200(sp)",
    "ld x26, 208(sp)",
    "ld x27, 216(sp)",
    "ld x28, 224(sp)",
    "ld x29, 232(sp)",
    "ld x30, 240(sp)",
    "ld x31, 248(sp)",
    "ld sp, 16(sp)",
    "sret",
    frame_size = const FRAME_SIZE,
    sstatus_spp = const SSTATUS_SPP,
    sepc = const offset_of!(TrapFrame, sepc),
    sstatus = const offset_of!(TrapFrame, sstatus),
    scause = const offset_of!(TrapFrame, scause),
    stval = const offset_of!(TrapFrame, stval),
    handler = sym trap_handler,
);

/// scause bit 63: the trap is an interrupt (privileged spec 4.1.9).
pub(super) const SCAUSE_INTERRUPT: u64 = 1 << 63;
/// sstatus bit 8: SPP, the privilege the trap came from (1 = S, 0 = U).
pub(super) const SSTATUS_SPP: u64 = 1 << 8;

extern "C" fn trap_handler(frame: &mut TrapFrame) {
    // Exceptions are fatal, so this only counts up. A fault inside the fault
    // report is the generic panic path's business (it prints "RECURSIVE
    // PANIC"); deeper than that, even printing faults (no UART at the
    // expected address, say), so stop without the console.
    let depth = EXCEPTION_DEPTH.fetch_add(1, Ordering::Relaxed) + 1;
    if depth > MAX_REPORTED_DEPTH + 1 {
        exit::shut_down_quietly();
    }
    // poweroff() stores to the sifive_test device; if the machine has none
    // that store faults. Fall back to SBI instead of reporting a fault
    // (which would power off again, and fault again).
    if frame.scause == EXCEPTION_STORE_ACCESS_FAULT && frame.stval == exit::SIFIVE_TEST_BASE as u64 {
        exit::without_exit_device();
    }
    if depth > MAX_REPORTED_DEPTH {
        exit::poweroff(sis_abi::exit::PANIC);
    }
    report(frame)
}

/// Exceptions taken so far (on any hart); each one ends the kernel.
static EXCEPTION_DEPTH: AtomicUsize = AtomicUsize::new(0);
/// A fault, and a fault while reporting it: both go to panic::fault.
const MAX_REPORTED_DEPTH: usize = 2;

const EXCEPTION_STORE_ACCESS_FAULT: u64 = 7;

/// Exception names from the privileged spec v1.12, table 4.2 ("Supervisor
/// cause register (scause) values after trap").
fn exception_name(code: u64) -> &'static str {
    match code {
        0 => "instruction address misaligned",
        1 => "instruction access fault",
        2 => "illegal instruction",
        3 => "breakpoint",
        4 => "load address misaligned",
        5 => "load access fault",
        6 => "store/AMO address misaligned",
        7 => "store/AMO access fault",
        8 => "environment call from U-mode",
        9 => "environment call from S-mode",
        12 => "instruction page fault",
        13 => "load page fault",
        15 => "store/AMO page fault",
        _ => "unknown exception",
    }
}

/// stval holds the faulting address for these causes (privileged spec 4.1.10).
fn stval_is_address(code: u64) -> bool {
    matches!(code, 0 | 1 | 4 | 5 | 6 | 7 | 12 | 13 | 15)
}

/// A fixed buffer for `fmt::Write`: the fault path has no heap.
struct FixedText {
    bytes: [u8; 256],
    length: usize,
}

impl Write for FixedText {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let room = self.bytes.len() - self.length;
        let take = text.len().min(room);
        self.bytes[self.length..self.length + take].copy_from_slice(&text.as_bytes()[..take]);
        self.length += take;
        Ok(())
    }
}

impl FixedText {
    fn as_str(&self) -> &str {
        // Only whole `&str`s are appended, but truncation may split a
        // character: keep the longest valid prefix.
        match core::str::from_utf8(&self.bytes[..self.length]) {
            Ok(text) => text,
            Err(error) => core::str::from_utf8(&self.bytes[..error.valid_up_to()]).unwrap_or(""),
        }
    }
}

/// "load access fault at 0x18000000 (scause 0x5, sepc 0x80201234)", or for
/// causes whose stval is not an address, "illegal instruction (scause 0x2,
/// stval 0x..., sepc 0x...)".
fn describe(frame: &TrapFrame, text: &mut FixedText) -> fmt::Result {
    let is_interrupt = frame.scause & SCAUSE_INTERRUPT != 0;
    let code = frame.scause & !SCAUSE_INTERRUPT;
    if is_interrupt {
        write!(text, "unexpected interrupt {code}")?;
    } else {
        text.write_str(exception_name(code))?;
        if stval_is_address(code) {
            write!(text, " at {:#x}", frame.stval)?;
        }
    }
    write!(text, " (scause {:#x}, stval {:#x}, sepc {:#x})", frame.scause, frame.stval, frame.sepc)?;
    if !is_interrupt && matches!(code, 5 | 7 | 13 | 15) {
        let address = frame.stval as usize;
        crate::stacks::describe_guard_hit(address, text);
        if matches!(code, 7 | 15) && super::mmu::is_kernel_text(address) {
            text.write_str(" (write to kernel text: W^X)")?;
        }
        if address < crate::NULL_PAGE_BYTES {
            text.write_str(" (null pointer access)")?;
        }
    }
    Ok(())
}

fn report(frame: &TrapFrame) -> ! {
    let mut text = FixedText { bytes: [0; 256], length: 0 };
    let _ = describe(frame, &mut text);
    crate::panic::fault(text.as_str(), frame)
}
