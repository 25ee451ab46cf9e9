//! The cooperative scheduler's task switch and the frame-pointer records
//! backtraces walk (System V AMD64 ABI: rbx, rbp, r12-r15 are callee-saved).

use super::memory;

/// A suspended task: its stack pointer, where it resumes, and the
/// callee-saved registers. Everything lives here rather than on the task's
/// stack, so `Context::new` writes no memory.
#[derive(Debug, Default, Clone, Copy)]
#[repr(C)]
pub struct Context {
    rsp: u64,
    rip: u64,
    rbx: u64,
    rbp: u64,
    r12: u64,
    r13: u64,
    r14: u64,
    r15: u64,
}

impl Context {
    /// A context that runs `entry` on the stack below `stack_top` (rounded
    /// down to 16 bytes). It starts in `context_start`, which pushes a zero
    /// return address and jumps to `entry` (held in r12) with rbp = 0, so
    /// backtraces end at `entry`.
    pub fn new(stack_top: usize, entry: extern "C" fn() -> !) -> Context {
        Context {
            rsp: (stack_top & !15) as u64,
            rip: context_start as *const () as u64,
            r12: entry as *const () as u64,
            ..Context::default()
        }
    }
}

core::arch::global_asm!(
    ".pushsection .text.context, \"ax\"",
    // switch_context(from: rdi, to: rsi): save this task, resume the other.
    ".globl sis_x86_64_switch_context",
    "sis_x86_64_switch_context:",
    "mov [rdi + 0x00], rsp", // points at our return address
    "lea rax, [rip + 2f]",
    "mov [rdi + 0x08], rax",
    "mov [rdi + 0x10], rbx",
    "mov [rdi + 0x18], rbp",
    "mov [rdi + 0x20], r12",
    "mov [rdi + 0x28], r13",
    "mov [rdi + 0x30], r14",
    "mov [rdi + 0x38], r15",
    "mov rsp, [rsi + 0x00]",
    "mov rbx, [rsi + 0x10]",
    "mov rbp, [rsi + 0x18]",
    "mov r12, [rsi + 0x20]",
    "mov r13, [rsi + 0x28]",
    "mov r14, [rsi + 0x30]",
    "mov r15, [rsi + 0x38]",
    "jmp qword ptr [rsi + 0x08]",
    "2:",
    "ret",
    // First run of a new context: rsp is 16-byte aligned; after the push,
    // entry sees rsp = 8 (mod 16) as after a call, and a zero return address.
    ".globl sis_x86_64_context_start",
    "sis_x86_64_context_start:",
    "push 0",
    "jmp r12",
    ".popsection",
);

// Defined in the asm above.
extern "C" {
    #[link_name = "sis_x86_64_context_start"]
    fn context_start();
    #[link_name = "sis_x86_64_switch_context"]
    fn switch_context_raw(from: *mut Context, to: *const Context);
    static __boot_stack_guard: u8;
}

/// Saves the running task into `*from` and resumes `*to`.
///
/// # Safety
/// `from` must be writable; `to` must be a context from `Context::new` whose
/// stack is still allocated, or one saved by an earlier switch that has not
/// been resumed since.
pub unsafe fn switch_context(from: *mut Context, to: *const Context) {
    // SAFETY: forwarded contract.
    unsafe { switch_context_raw(from, to) }
}

/// Whether `address` lies in the unmapped page below the boot stack.
pub fn is_boot_stack_guard(address: usize) -> bool {
    let guard = core::ptr::addr_of!(__boot_stack_guard) as usize;
    (guard..guard + 4096).contains(&address)
}

/// The frame pointer of the caller (rbp; frame pointers are forced on).
#[inline(always)]
pub fn current_frame_pointer() -> usize {
    let rbp: usize;
    // SAFETY: reads a register only.
    unsafe { core::arch::asm!("mov {}, rbp", out(reg) rbp, options(nomem, nostack, preserves_flags)) };
    rbp
}

/// The (return address, caller's frame pointer) of the frame record at `fp`:
/// [rbp + 8] and [rbp]. `None` for 0, misaligned, unmapped or non-RAM `fp`,
/// so a corrupt chain ends the walk instead of faulting or reading MMIO.
///
/// # Safety
/// `fp` should come from a frame-pointer chain: the checks reject addresses
/// that would fault, not RAM that merely holds something else.
pub unsafe fn frame_record(fp: usize) -> Option<(usize, usize)> {
    if fp < 4096 || !fp.is_multiple_of(8) || (fp as u64).saturating_add(16) > memory::ram_end() {
        return None;
    }
    // The boot stack's guard page is the other unmapped page.
    if is_boot_stack_guard(fp) {
        return None;
    }
    let record = fp as *const usize;
    // SAFETY: aligned, mapped RAM (checked above).
    let (caller_fp, return_address) = unsafe { (record.read_volatile(), record.add(1).read_volatile()) };
    Some((return_address, caller_fp))
}
