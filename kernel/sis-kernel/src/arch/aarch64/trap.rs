//! Exception vectors: every exception saves the full register state and ends in `crate::panic::fault`.
//!
//! IRQs from kernel code go to irq.rs (the scheduler's tick and the UART);
//! synchronous exceptions and IRQs from user mode (EL0) end `user::run`
//! (user.rs). Every other exception is unexpected, with one exception: the
//! semihosting `hlt` of `poweroff` when QEMU runs without semihosting, which
//! falls back to PSCI SYSTEM_OFF.

use core::arch::{asm, global_asm};
use core::fmt::Write;

use super::exit;

/// The trapped context, as the vector code stores it on the stack.
#[repr(C)]
pub struct TrapFrame {
    /// x0 to x30 (x29 is the frame pointer, x30 the link register).
    pub x: [u64; 31],
    /// The stack pointer at the time of the exception.
    pub sp: u64,
    /// Exception Link Register: the faulting (or next) instruction.
    pub elr: u64,
    /// Saved PSTATE.
    pub spsr: u64,
    /// Exception Syndrome Register: class and details.
    pub esr: u64,
    /// Fault Address Register (meaningful for aborts and alignment faults).
    pub far: u64,
}

/// Bytes the vector code reserves for a frame; checked against the struct below.
const FRAME_BYTES: usize = 288;
const _: () = assert!(core::mem::size_of::<TrapFrame>() == FRAME_BYTES);

/// x0-x30 by name, for register dumps (here and user.rs).
pub(super) const REGISTER_NAMES: [&str; 31] = [
    "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17",
    "x18", "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28", "x29", "x30",
];

impl TrapFrame {
    /// Calls `visit` with each register's name and value: x0-x30, sp, elr, spsr, esr, far.
    pub fn for_each_register(&self, visit: &mut dyn FnMut(&'static str, u64)) {
        for (name, &value) in REGISTER_NAMES.iter().zip(self.x.iter()) {
            visit(name, value);
        }
        visit("sp", self.sp);
        visit("elr", self.elr);
        visit("spsr", self.spsr);
        visit("esr", self.esr);
        visit("far", self.far);
    }

    pub fn program_counter(&self) -> u64 {
        self.elr
    }

    /// The registers at the call site, for a software `panic!` report:
    /// x0-x30 and sp as they are here, elr = this code's address, spsr =
    /// NZCV and DAIF; esr and far are 0 (no exception).
    #[inline(always)]
    pub fn capture() -> TrapFrame {
        let mut frame = TrapFrame { x: [0; 31], sp: 0, elr: 0, spsr: 0, esr: 0, far: 0 };
        // SAFETY: stores into `frame` only (offsets of the repr(C) layout
        // checked by FRAME_BYTES); reads no memory.
        unsafe {
            asm!(
                "stp x0, x1, [{base}, #0]",
                "stp x2, x3, [{base}, #16]",
                "stp x4, x5, [{base}, #32]",
                "stp x6, x7, [{base}, #48]",
                "stp x8, x9, [{base}, #64]",
                "stp x10, x11, [{base}, #80]",
                "stp x12, x13, [{base}, #96]",
                "stp x14, x15, [{base}, #112]",
                "stp x16, x17, [{base}, #128]",
                "stp x18, x19, [{base}, #144]",
                "stp x20, x21, [{base}, #160]",
                "stp x22, x23, [{base}, #176]",
                "stp x24, x25, [{base}, #192]",
                "stp x26, x27, [{base}, #208]",
                "stp x28, x29, [{base}, #224]",
                "str x30, [{base}, #240]",
                "mov {tmp}, sp",
                "str {tmp}, [{base}, #248]",
                "adr {tmp}, .",
                "str {tmp}, [{base}, #256]",
                "mrs {tmp}, nzcv",
                "mrs {other}, daif",
                "orr {tmp}, {tmp}, {other}",
                "str {tmp}, [{base}, #264]",
                base = in(reg) &mut frame as *mut TrapFrame,
                tmp = out(reg) _,
                other = out(reg) _,
                options(nostack),
            );
        }
        frame
    }

    pub fn frame_pointer(&self) -> u64 {
        self.x[29]
    }
}

/// Points VBAR_EL1 at the vector table.
pub fn install_vectors() {
    // SAFETY: __sis_vectors is the 2 KiB-aligned table below; the ISB makes
    // the new base effective before any later exception.
    unsafe {
        asm!(
            "adrp {tmp}, __sis_vectors",
            "add {tmp}, {tmp}, :lo12:__sis_vectors",
            "msr vbar_el1, {tmp}",
            "isb",
            tmp = out(reg) _,
            options(nomem, nostack),
        );
    }
}

/// Lets SError (asynchronous external aborts) be taken, so they are reported
/// instead of staying pending forever. IRQ and FIQ stay masked.
pub fn unmask_serror() {
    // SAFETY: clearing PSTATE.A; the vectors are installed.
    unsafe { asm!("msr daifclr, #4", options(nomem, nostack)) };
}

// The table: 16 entries of 0x80 bytes (Arm ARM DDI 0487, "Exception vectors"):
// {synchronous, IRQ, FIQ, SError} x {current EL with SP_EL0, current EL with
// SP_ELx, lower EL AArch64, lower EL AArch32}. Each entry makes room for a
// frame, saves x0/x1, puts its index in x1 and jumps to the common path.
macro_rules! vector_entries {
    ($($index:literal)*) => {
        concat!($(
            ".balign 0x80\n",
            "sub sp, sp, #288\n",
            "stp x0, x1, [sp, #0]\n",
            "mov x1, #", $index, "\n",
            "b __sis_trap_common\n",
        )*)
    };
}

global_asm!(
    ".section .text.vectors, \"ax\"",
    ".balign 2048",
    ".globl __sis_vectors",
    "__sis_vectors:",
    vector_entries!(0),
    // IRQ from kernel code (SP_EL0): handled on the task's own stack (irq.rs).
    ".balign 0x80",
    "msr spsel, #0",
    "b __sis_irq_entry",
    vector_entries!(2 3 4 5 6 7),
    // Synchronous exception and IRQ from user mode (EL0, AArch64): SP_EL1
    // is the kernel frame `run` left on the task's stack (user.rs); the
    // user's x0/x1 go just below it, x1 says which, and user.rs saves the rest.
    ".balign 0x80",
    "stp x0, x1, [sp, #-16]",
    "mov x1, #0",
    "b __sis_user_trap",
    ".balign 0x80",
    "stp x0, x1, [sp, #-16]",
    "mov x1, #1",
    "b __sis_user_trap",
    vector_entries!(10 11 12 13 14 15),
    "",
    "__sis_trap_common:",
    "    stp x2, x3, [sp, #16]",
    "    stp x4, x5, [sp, #32]",
    "    stp x6, x7, [sp, #48]",
    "    stp x8, x9, [sp, #64]",
    "    stp x10, x11, [sp, #80]",
    "    stp x12, x13, [sp, #96]",
    "    stp x14, x15, [sp, #112]",
    "    stp x16, x17, [sp, #128]",
    "    stp x18, x19, [sp, #144]",
    "    stp x20, x21, [sp, #160]",
    "    stp x22, x23, [sp, #176]",
    "    stp x24, x25, [sp, #192]",
    "    stp x26, x27, [sp, #208]",
    "    stp x28, x29, [sp, #224]",
    // The trapped sp: the handler's own SP_EL1 as it was before the vector
    // made room for the frame when the exception hit a handler (vectors 4-7,
    // "current EL with SP_ELx"), else SP_EL0 (kernel code, or a lower EL).
    "    mrs x2, sp_el0",
    "    add x3, sp, #288",
    "    sub x4, x1, #4",
    "    cmp x4, #4",
    "    csel x2, x3, x2, lo",
    "    stp x30, x2, [sp, #240]",
    "    mrs x2, elr_el1",
    "    mrs x3, spsr_el1",
    "    stp x2, x3, [sp, #256]",
    "    mrs x2, esr_el1",
    "    mrs x3, far_el1",
    "    stp x2, x3, [sp, #272]",
    "    mov x0, sp",
    // A frame record {trapped x29, trapped pc} lets a backtrace taken inside
    // the handler continue into the code that trapped.
    "    ldr x2, [sp, #256]",
    "    stp x29, x2, [sp, #-16]!",
    "    mov x29, sp",
    "    bl {handler}",
    "1:  wfi",                             // the handler never returns
    "    b 1b",
    handler = sym trap_handler,
);

/// Where each vector entry's index comes from (Arm ARM DDI 0487, "Exception vectors").
/// Kernel code runs with SP_EL0 (boot.rs), so "EL1 with SP_EL1" means the
/// exception hit inside an exception handler.
const ORIGINS: [&str; 4] = ["EL1", "EL1 exception handler", "EL0 (AArch64)", "EL0 (AArch32)"];
const KINDS: [&str; 4] = ["synchronous exception", "IRQ", "FIQ", "SError"];

extern "C" fn trap_handler(frame: &TrapFrame, vector_index: u64) -> ! {
    let kind = (vector_index % 4) as usize;
    let origin = (vector_index / 4 % 4) as usize;
    if kind == 0 && is_trapped_semihosting_exit(frame) {
        // `poweroff` ran without -semihosting: fall back (docs/boot-aarch64.md).
        exit::system_off();
    }
    let mut description = Description::new();
    if kind == 0 {
        describe_synchronous(&mut description, frame);
    } else {
        let _ = write!(description, "unexpected {} (ESR {:#x})", KINDS[kind], frame.esr);
    }
    let _ = write!(description, " from {}", ORIGINS[origin]);
    crate::panic::fault(description.as_str(), frame)
}

/// An Unknown-class exception (what QEMU raises for `hlt` without
/// semihosting) on exactly the SYS_EXIT call `poweroff` makes.
fn is_trapped_semihosting_exit(frame: &TrapFrame) -> bool {
    let exception_class = (frame.esr >> 26) & 0x3F;
    exception_class == 0 && exit::is_semihosting_exit_trap(frame.elr, frame.x[0])
}

/// Names the exception class of ESR_EL1 (Arm ARM DDI 0487, ESR_EL1.EC) and,
/// for aborts, the fault status code.
fn describe_synchronous(out: &mut Description, frame: &TrapFrame) {
    let esr = frame.esr;
    let exception_class = (esr >> 26) & 0x3F;
    match exception_class {
        0x20 | 0x21 => {
            let _ = write!(out, "instruction abort at {:#x}: {}", frame.far, fault_status(esr));
        }
        0x24 | 0x25 => {
            // ISS.WnR (bit 6): the access was a write. Cache maintenance (CM, bit 8) reports as write.
            let access = if esr & (1 << 6) != 0 { "write" } else { "read" };
            let _ = write!(out, "data abort ({access}) at {:#x}: {}", frame.far, fault_status(esr));
            let address = frame.far as usize;
            if super::mmu::is_stack_guard(address) {
                let _ = write!(out, " (boot stack overflow: guard page)");
            }
            crate::stacks::describe_guard_hit(address, out);
            if access == "write" && super::mmu::is_kernel_text(address) {
                let _ = write!(out, " (write to kernel text: W^X)");
            }
            if address < crate::NULL_PAGE_BYTES {
                let _ = write!(out, " (null pointer access)");
            }
        }
        _ => {
            let name = match exception_class {
                0x00 => "undefined instruction",
                0x01 => "trapped WFI/WFE",
                0x07 => "trapped FP/SIMD access",
                0x0E => "illegal execution state",
                0x15 => "SVC instruction",
                0x16 => "HVC instruction",
                0x17 => "SMC instruction",
                0x18 => "trapped system register access",
                0x22 => "PC alignment fault",
                0x26 => "SP alignment fault",
                0x2C => "floating-point exception",
                0x2F => "SError",
                0x30 | 0x31 => "breakpoint",
                0x32 | 0x33 => "software step",
                0x34 | 0x35 => "watchpoint",
                0x3C => "BRK instruction",
                _ => "exception",
            };
            let _ = write!(out, "{name} (class {exception_class:#x})");
            if exception_class == 0x22 || exception_class == 0x26 {
                let _ = write!(out, " at {:#x}", frame.far);
            }
        }
    }
    let _ = write!(out, " at pc {:#x} (ESR {esr:#x})", frame.elr);
}

/// The DFSC/IFSC field, ISS bits [5:0] of an abort (Arm ARM DDI 0487,
/// ESR_EL1, ISS encoding for Data/Instruction Aborts).
fn fault_status(esr: u64) -> FaultStatus {
    FaultStatus((esr & 0x3F) as u8)
}

struct FaultStatus(u8);

impl core::fmt::Display for FaultStatus {
    fn fmt(&self, out: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let code = self.0;
        let level = code & 0b11;
        match code >> 2 {
            0b0000 => write!(out, "address size fault, level {level}"),
            0b0001 => write!(out, "translation fault, level {level}"),
            0b0010 => write!(out, "access flag fault, level {level}"),
            0b0011 => write!(out, "permission fault, level {level}"),
            _ => match code {
                0x10 => write!(out, "synchronous external abort"),
                0x21 => write!(out, "alignment fault"),
                0x30 => write!(out, "TLB conflict abort"),
                _ => write!(out, "fault status {code:#x}"),
            },
        }
    }
}

/// A fixed buffer for the description: the heap may be what broke.
struct Description {
    bytes: [u8; 192],
    length: usize,
}

impl Description {
    fn new() -> Self {
        Description { bytes: [0; 192], length: 0 }
    }

    fn as_str(&self) -> &str {
        // Only whole `&str`s are ever copied in (see write_str), so this holds.
        core::str::from_utf8(&self.bytes[..self.length]).unwrap_or("exception")
    }
}

impl Write for Description {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        let room = self.bytes.len() - self.length;
        if text.len() > room {
            return Err(core::fmt::Error); // truncate at a string boundary, never mid-character
        }
        self.bytes[self.length..self.length + text.len()].copy_from_slice(text.as_bytes());
        self.length += text.len();
        Ok(())
    }
}
