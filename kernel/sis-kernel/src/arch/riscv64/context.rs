//! Task contexts for the cooperative scheduler, and frame-record walking for backtraces.
//!
//! A switch is a function call, so only what the RISC-V psABI ("Integer
//! and Floating-Point Register Convention") makes callee-saved needs
//! keeping: ra, sp, s0-s11 and, because riscv64gc code uses the lp64d
//! hard-float ABI, fs0-fs11. Everything else the compiler already treats
//! as clobbered across the call.

use core::arch::global_asm;
use core::mem::offset_of;

/// The callee-saved state of a suspended task.
#[repr(C)]
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Where the task resumes (the return address of its `switch_context`).
    ra: u64,
    sp: u64,
    /// s0 (the frame pointer) to s11.
    saved: [u64; 12],
    /// fs0 to fs11, as raw bits.
    saved_float: [u64; 12],
}

impl Context {
    /// A context that, once switched to, runs `entry` on the stack whose
    /// highest address is `stack_top` (rounded down to the psABI's 16-byte
    /// alignment), with a zeroed frame pointer and return address so
    /// backtraces stop at `entry`.
    pub fn new(stack_top: usize, entry: extern "C" fn() -> !) -> Context {
        let mut context = Context { sp: (stack_top & !15) as u64, ..Context::default() };
        // The first switch "returns" into the trampoline, which clears ra and
        // jumps to entry held in s1 (s0 = 0 already).
        context.ra = sis_task_trampoline as *const () as usize as u64;
        context.saved[1] = entry as usize as u64;
        context
    }
}

global_asm!(
    ".section .text",
    ".balign 4",
    "sis_task_trampoline:",
    "li ra, 0",
    "li s0, 0",
    "jr s1",
    "",
    ".balign 4",
    ".globl sis_switch_context",
    "sis_switch_context:",
    "sd ra, {ra}(a0)",
    "sd sp, {sp}(a0)",
    "sd s0, {s}+0(a0)",
    "sd s1, {s}+8(a0)",
    "sd s2, {s}+16(a0)",
    "sd s3, {s}+24(a0)",
    "sd s4, {s}+32(a0)",
    "sd s5, {s}+40(a0)",
    "sd s6, {s}+48(a0)",
    "sd s7, {s}+56(a0)",
    "sd s8, {s}+64(a0)",
    "sd s9, {s}+72(a0)",
    "sd s10, {s}+80(a0)",
    "sd s11, {s}+88(a0)",
    // Module-level asm is assembled without the function target features;
    // enable D explicitly for the FP saves (riscv64gc has it).
    ".option push",
    ".option arch, +d",
    "fsd fs0, {f}+0(a0)",
    "fsd fs1, {f}+8(a0)",
    "fsd fs2, {f}+16(a0)",
    "fsd fs3, {f}+24(a0)",
    "fsd fs4, {f}+32(a0)",
    "fsd fs5, {f}+40(a0)",
    "fsd fs6, {f}+48(a0)",
    "fsd fs7, {f}+56(a0)",
    "fsd fs8, {f}+64(a0)",
    "fsd fs9, {f}+72(a0)",
    "fsd fs10, {f}+80(a0)",
    "fsd fs11, {f}+88(a0)",
    "ld ra, {ra}(a1)",
    "ld sp, {sp}(a1)",
    "ld s0, {s}+0(a1)",
    "ld s1, {s}+8(a1)",
    "ld s2, {s}+16(a1)",
    "ld s3, {s}+24(a1)",
    "ld s4, {s}+32(a1)",
    "ld s5, {s}+40(a1)",
    "ld s6, {s}+48(a1)",
    "ld s7, {s}+56(a1)",
    "ld s8, {s}+64(a1)",
    "ld s9, {s}+72(a1)",
    "ld s10, {s}+80(a1)",
    "ld s11, {s}+88(a1)",
    "fld fs0, {f}+0(a1)",
    "fld fs1, {f}+8(a1)",
    "fld fs2, {f}+16(a1)",
    "fld fs3, {f}+24(a1)",
    "fld fs4, {f}+32(a1)",
    "fld fs5, {f}+40(a1)",
    "fld fs6, {f}+48(a1)",
    "fld fs7, {f}+56(a1)",
    "fld fs8, {f}+64(a1)",
    "fld fs9, {f}+72(a1)",
    "fld fs10, {f}+80(a1)",
    "fld fs11, {f}+88(a1)",
    ".option pop",
    "ret",
    ra = const offset_of!(Context, ra),
    sp = const offset_of!(Context, sp),
    s = const offset_of!(Context, saved),
    f = const offset_of!(Context, saved_float),
);

extern "C" {
    fn sis_task_trampoline();
    fn sis_switch_context(from: *mut Context, to: *const Context);
}

/// Save the current callee-saved state into `from` and resume `to`.
///
/// # Safety
/// `from` must be valid for writes and `to` must hold a context made by
/// `Context::new` (with a live stack) or saved by an earlier switch whose
/// stack is still intact. Returns when something switches back to `from`.
pub unsafe fn switch_context(from: *mut Context, to: *const Context) {
    // SAFETY: the caller upholds the contract above; sis_switch_context
    // follows the C calling convention and preserves what the psABI says a
    // callee must, from the point of view of whoever later resumes `from`.
    unsafe { sis_switch_context(from, to) }
}

/// The caller's frame pointer (s0). Inlined so it is the frame of the
/// function that calls it, not of a helper.
#[inline(always)]
pub fn current_frame_pointer() -> usize {
    let frame_pointer: usize;
    // SAFETY: copying s0 has no side effect.
    unsafe { core::arch::asm!("mv {}, s0", out(reg) frame_pointer, options(nomem, nostack)) };
    frame_pointer
}

/// The (return address, caller's frame pointer) of the frame record that
/// `frame_pointer` heads: with frame pointers on, RISC-V code keeps
/// ra at fp - 8 and the caller's fp at fp - 16 (psABI "Frame Pointer
/// Convention"). `None` at the end of the chain (zero fp or zero return
/// address, as set up by boot and `Context::new`) or when fp is misaligned
/// or outside RAM, so a corrupt chain cannot fault the backtrace.
///
/// # Safety
/// `frame_pointer` must come from a frame-pointer chain (a frame's s0 or
/// an earlier record); the checks above stop garbage from faulting but
/// cannot make its contents meaningful.
pub unsafe fn frame_record(frame_pointer: usize) -> Option<(usize, usize)> {
    if frame_pointer == 0 || frame_pointer % 8 != 0 {
        return None;
    }
    let record = frame_pointer.checked_sub(16)?;
    if !super::memory::is_ram(record, 16) || crate::stacks::guard_slot(record).is_some() {
        return None;
    }
    // SAFETY: the 16 bytes below frame_pointer are 8-aligned RAM (checked
    // above), so reading them cannot fault.
    let (return_address, caller_frame_pointer) = unsafe {
        (
            core::ptr::read_volatile((frame_pointer - 8) as *const usize),
            core::ptr::read_volatile(record as *const usize),
        )
    };
    if return_address == 0 {
        return None;
    }
    Some((return_address, caller_frame_pointer))
}
