//! Cooperative task switch and frame-record walking (AAPCS64, Arm IHI 0055).

use core::arch::{asm, naked_asm};

use super::{memory, mmu};

/// A suspended task: the registers a callee must preserve under AAPCS64
/// (x19-x28, the frame pointer x29, the link register x30, sp, and the low
/// 64 bits of v8-v15, which the +neon target may use anywhere).
#[repr(C)]
#[derive(Debug, Default)]
pub struct Context {
    x19_to_x28: [u64; 10],
    frame_pointer: u64,
    link_register: u64,
    stack_pointer: u64,
    d8_to_d15: [u64; 8],
}

impl Context {
    /// A context that starts `entry` on the stack ending at `stack_top`, with
    /// a zero frame pointer and link register so backtraces stop there.
    pub fn new(stack_top: usize, entry: extern "C" fn() -> !) -> Context {
        let mut x19_to_x28 = [0; 10];
        x19_to_x28[0] = entry as usize as u64; // x19: where context_start branches
        Context {
            x19_to_x28,
            frame_pointer: 0,
            link_register: context_start as extern "C" fn() -> ! as usize as u64,
            // AAPCS64: sp is 16-byte aligned at every public interface.
            stack_pointer: (stack_top & !0xF) as u64,
            d8_to_d15: [0; 8],
        }
    }
}

/// First code of a new context (via `ret` in switch): clear fp and lr, enter x19.
#[unsafe(naked)]
extern "C" fn context_start() -> ! {
    naked_asm!("mov x29, xzr", "mov x30, xzr", "br x19")
}

/// Saves the callee-saved state into `from` and resumes `to`.
///
/// # Safety
///
/// `from` must be valid for writes and `to` must hold a context saved by this
/// function or made by `Context::new` whose stack is still alive and unused.
pub unsafe fn switch_context(from: *mut Context, to: *const Context) {
    // SAFETY: forwarded contract; the callee preserves everything AAPCS64 requires.
    unsafe { switch(from, to) }
}

// Offsets follow `Context`'s repr(C) layout: x19 at 0, x29 at 80, x30 at 88,
// sp at 96, d8 at 104.
#[unsafe(naked)]
unsafe extern "C" fn switch(from: *mut Context, to: *const Context) {
    naked_asm!(
        "stp x19, x20, [x0, #0]",
        "stp x21, x22, [x0, #16]",
        "stp x23, x24, [x0, #32]",
        "stp x25, x26, [x0, #48]",
        "stp x27, x28, [x0, #64]",
        "stp x29, x30, [x0, #80]",
        "mov x9, sp",
        "str x9, [x0, #96]",
        "stp d8, d9, [x0, #104]",
        "stp d10, d11, [x0, #120]",
        "stp d12, d13, [x0, #136]",
        "stp d14, d15, [x0, #152]",
        "ldp x19, x20, [x1, #0]",
        "ldp x21, x22, [x1, #16]",
        "ldp x23, x24, [x1, #32]",
        "ldp x25, x26, [x1, #48]",
        "ldp x27, x28, [x1, #64]",
        "ldp x29, x30, [x1, #80]",
        "ldr x9, [x1, #96]",
        "mov sp, x9",
        "ldp d8, d9, [x1, #104]",
        "ldp d10, d11, [x1, #120]",
        "ldp d12, d13, [x1, #136]",
        "ldp d14, d15, [x1, #152]",
        "ret",
    )
}

const _: () = assert!(core::mem::offset_of!(Context, frame_pointer) == 80);
const _: () = assert!(core::mem::offset_of!(Context, stack_pointer) == 96);
const _: () = assert!(core::mem::offset_of!(Context, d8_to_d15) == 104);

/// The caller's frame pointer (x29): the head of its frame-record chain.
#[inline(always)]
pub fn current_frame_pointer() -> usize {
    let frame_pointer: usize;
    // SAFETY: reads x29; every function has a frame record (force-frame-pointers).
    unsafe { asm!("mov {}, x29", out(reg) frame_pointer, options(nomem, nostack, preserves_flags)) };
    frame_pointer
}

/// The (return address, caller's frame pointer) of the AAPCS64 frame record
/// at `fp`: `[fp]` holds the caller's fp and `[fp + 8]` the saved lr. `None`
/// for a zero, misaligned, non-RAM or unmapped `fp`, so a corrupt chain ends the walk
/// instead of faulting inside the panic path.
///
/// # Safety
///
/// `fp` should come from a frame-pointer chain; the checks above make a bad
/// one harmless on this machine, but the read itself is a raw load.
pub unsafe fn frame_record(fp: usize) -> Option<(usize, usize)> {
    // The guard page is RAM but unmapped (mmu.rs): a record there would fault.
    if fp == 0 || fp % 8 != 0 || !memory::is_ram(fp, 16) || mmu::is_stack_guard(fp)
        || mmu::is_stack_guard(fp + 8)
        || crate::stacks::guard_slot(fp).is_some()
    {
        return None;
    }
    let record = fp as *const usize;
    // SAFETY: aligned, and the 16 bytes lie in mapped RAM (checked above).
    let (caller_frame_pointer, return_address) = unsafe { (record.read_volatile(), record.add(1).read_volatile()) };
    Some((return_address, caller_frame_pointer))
}
