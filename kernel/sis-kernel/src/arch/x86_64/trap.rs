//! Exception and interrupt entry: 256 stubs, one common save/restore path,
//! the `TrapFrame` it builds, and the dispatch to interrupt handling or
//! `crate::panic::fault` (vectors and error codes: Intel SDM Vol. 3A, 6.3 and 6.15).

use core::fmt::Write;

use super::apic;
use super::descriptors::{DEVICE_VECTOR, PIC_VECTOR_BASE, SPURIOUS_VECTOR, TIMER_VECTOR, UART_VECTOR, WAKE_VECTOR};

// Every vector gets a 16-byte stub at `trap_stubs + 16 * vector`. The CPU
// pushes an error code only for vectors 8, 10-14, 17, 21, 29 and 30; the
// other stubs push a 0 in its place so every frame has the same layout.
// The common path then saves the general registers, CR2 and CR3, and passes
// the frame to `trap_dispatch` (from kernel code) or to user.rs (from ring
// 3). 24 quadwords are pushed after the CPU aligned RSP to 16 (SDM 6.14.2),
// so the call happens on a 16-byte aligned stack.
core::arch::global_asm!(
    ".pushsection .text.trap, \"ax\"",
    ".balign 16",
    ".globl trap_stubs",
    "trap_stubs:",
    ".set vector, 0",
    ".rept 256",
    ".balign 16",
    ".if (vector == 8) || ((vector >= 10) && (vector <= 14)) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30)",
    ".else",
    "pushq $0",
    ".endif",
    "pushq $vector",
    "jmp trap_common",
    ".set vector, vector + 1",
    ".endr",
    "",
    "trap_common:",
    "pushq %rax",
    "pushq %rbx",
    "pushq %rcx",
    "pushq %rdx",
    "pushq %rsi",
    "pushq %rdi",
    "pushq %rbp",
    "pushq %r8",
    "pushq %r9",
    "pushq %r10",
    "pushq %r11",
    "pushq %r12",
    "pushq %r13",
    "pushq %r14",
    "pushq %r15",
    "movq %cr2, %rax",
    "pushq %rax",
    "movq %cr3, %rax",
    "pushq %rax",
    "movq %rsp, %rdi",
    "cld",
    // From ring 3 (the CS selector's RPL): the user path below.
    "testb $3, 160(%rsp)",
    "jnz 5f",
    "call {dispatch}",
    "addq $16, %rsp", // CR3, CR2
    "popq %r15",
    "popq %r14",
    "popq %r13",
    "popq %r12",
    "popq %r11",
    "popq %r10",
    "popq %r9",
    "popq %r8",
    "popq %rbp",
    "popq %rdi",
    "popq %rsi",
    "popq %rdx",
    "popq %rcx",
    "popq %rbx",
    "popq %rax",
    "addq $16, %rsp", // vector, error code
    "iretq",
    // A trap from user mode arrived on TSS.RSP0, which `user::run` set to
    // its saved kernel stack, so the 192-byte frame ends exactly there.
    // Back to the kernel's GS, save and handle (user.rs), then return from
    // `run` through that stack: the frame is never resumed with iretq.
    "5:",
    "swapgs",
    // RFLAGS = just the reserved bit: the gate cleared IF and TF, but not
    // AC, which a program may set and which would lift SMAP in the kernel.
    "pushq $2",
    "popfq",
    "call {user_dispatch}",
    "addq $192, %rsp",
    "jmp sis_x86_64_user_return",
    ".popsection",
    dispatch = sym trap_dispatch,
    user_dispatch = sym super::user::user_trap_dispatch,
    options(att_syntax),
);

/// The interrupted context, exactly as trap.rs's common path lays it out on
/// the stack (lowest address first).
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct TrapFrame {
    pub cr3: u64,
    pub cr2: u64,
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    // Pushed by the CPU (SDM Vol. 3A, Figure 6-9).
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

impl TrapFrame {
    /// Every register, in the order a reader of x86 dumps expects.
    pub fn for_each_register(&self, visit: &mut dyn FnMut(&'static str, u64)) {
        let registers: [(&'static str, u64); 24] = [
            ("rax", self.rax),
            ("rbx", self.rbx),
            ("rcx", self.rcx),
            ("rdx", self.rdx),
            ("rsi", self.rsi),
            ("rdi", self.rdi),
            ("rbp", self.rbp),
            ("rsp", self.rsp),
            ("r8", self.r8),
            ("r9", self.r9),
            ("r10", self.r10),
            ("r11", self.r11),
            ("r12", self.r12),
            ("r13", self.r13),
            ("r14", self.r14),
            ("r15", self.r15),
            ("rip", self.rip),
            ("rflags", self.rflags),
            ("cs", self.cs),
            ("ss", self.ss),
            ("cr2", self.cr2),
            ("cr3", self.cr3),
            ("vector", self.vector),
            ("error_code", self.error_code),
        ];
        for (name, value) in registers {
            visit(name, value);
        }
    }

    pub fn program_counter(&self) -> u64 {
        self.rip
    }

    /// The registers at the call site, for a software `panic!` report: the
    /// general registers as they are here, rip = this code's address, rsp,
    /// rflags, cs, ss, cr2 and cr3; vector and error code 0 (no exception).
    #[inline(always)]
    pub fn capture() -> TrapFrame {
        let mut frame = TrapFrame {
            cr3: 0, cr2: 0, r15: 0, r14: 0, r13: 0, r12: 0, r11: 0, r10: 0, r9: 0, r8: 0, rbp: 0, rdi: 0, rsi: 0,
            rdx: 0, rcx: 0, rbx: 0, rax: 0, vector: 0, error_code: 0, rip: 0, cs: 0, rflags: 0, rsp: 0, ss: 0,
        };
        // SAFETY: stores into `frame` only (offsets of its repr(C) layout);
        // reading CR2/CR3 and the segment registers has no side effect.
        unsafe {
            core::arch::asm!(
                "mov [{base} + 16], r15",
                "mov [{base} + 24], r14",
                "mov [{base} + 32], r13",
                "mov [{base} + 40], r12",
                "mov [{base} + 48], r11",
                "mov [{base} + 56], r10",
                "mov [{base} + 64], r9",
                "mov [{base} + 72], r8",
                "mov [{base} + 80], rbp",
                "mov [{base} + 88], rdi",
                "mov [{base} + 96], rsi",
                "mov [{base} + 104], rdx",
                "mov [{base} + 112], rcx",
                "mov [{base} + 120], rbx",
                "mov [{base} + 128], rax",
                "lea {tmp}, [rip]",
                "mov [{base} + 152], {tmp}",
                "mov [{base} + 176], rsp",
                "pushfq",
                "pop {tmp}",
                "mov [{base} + 168], {tmp}",
                "mov {tmp}, cs",
                "mov [{base} + 160], {tmp}",
                "mov {tmp}, ss",
                "mov [{base} + 184], {tmp}",
                "mov {tmp}, cr2",
                "mov [{base} + 8], {tmp}",
                "mov {tmp}, cr3",
                "mov [{base} + 0], {tmp}",
                base = in(reg) &mut frame as *mut TrapFrame,
                tmp = out(reg) _,
            );
        }
        frame
    }

    pub fn frame_pointer(&self) -> u64 {
        self.rbp
    }
}

/// Exception names, SDM Vol. 3A Table 6-1 (vectors 0-31).
fn exception_name(vector: u64) -> &'static str {
    match vector {
        0 => "divide error (#DE)",
        1 => "debug exception (#DB)",
        2 => "non-maskable interrupt (NMI)",
        3 => "breakpoint (#BP)",
        4 => "overflow (#OF)",
        5 => "bound range exceeded (#BR)",
        6 => "invalid opcode (#UD)",
        7 => "device not available (#NM)",
        8 => "double fault (#DF)",
        9 => "coprocessor segment overrun",
        10 => "invalid TSS (#TS)",
        11 => "segment not present (#NP)",
        12 => "stack-segment fault (#SS)",
        13 => "general protection fault (#GP)",
        14 => "page fault (#PF)",
        16 => "x87 floating-point error (#MF)",
        17 => "alignment check (#AC)",
        18 => "machine check (#MC)",
        19 => "SIMD floating-point exception (#XM)",
        20 => "virtualization exception (#VE)",
        21 => "control protection exception (#CP)",
        28 => "hypervisor injection exception (#HV)",
        29 => "VMM communication exception (#VC)",
        30 => "security exception (#SX)",
        _ => "reserved exception",
    }
}

/// A fixed buffer for the fault description: the trap path has no heap.
struct DescriptionBuffer {
    bytes: [u8; 192],
    length: usize,
}

impl Write for DescriptionBuffer {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        // Truncate rather than fail: a clipped description beats none.
        let room = self.bytes.len() - self.length;
        let take = text.len().min(room);
        self.bytes[self.length..self.length + take].copy_from_slice(&text.as_bytes()[..take]);
        self.length += take;
        Ok(())
    }
}

impl DescriptionBuffer {
    fn as_str(&self) -> &str {
        // Only whole ASCII strings are written; a cut can only fall between
        // ASCII bytes, so this never fails, but stay total anyway.
        core::str::from_utf8(&self.bytes[..self.length]).unwrap_or("unprintable fault description")
    }
}

/// Writes e.g. "page fault (#PF) at 0x0 (error code 0x0: not-present read) at rip 0x...".
fn describe(frame: &TrapFrame, out: &mut DescriptionBuffer) {
    let _ = match frame.vector {
        14 => {
            // Page-fault error code bits, SDM Vol. 3A Figure 4-12.
            let code = frame.error_code;
            let cause = if code & 1 == 0 { "not-present" } else { "protection violation" };
            let access = if code & (1 << 4) != 0 {
                "instruction fetch"
            } else if code & (1 << 1) != 0 {
                "write"
            } else {
                "read"
            };
            let _ = write!(
                out,
                "page fault (#PF) at {:#x} (error code {:#x}: {cause} {access}) at rip {:#x}",
                frame.cr2, code, frame.rip
            );
            let address = frame.cr2 as usize;
            crate::stacks::describe_guard_hit(address, out);
            if access == "write" && super::paging::is_kernel_text(address) {
                let _ = write!(out, " (write to kernel text: W^X)");
            }
            if address < crate::NULL_PAGE_BYTES {
                let _ = write!(out, " (null pointer access)");
            }
            Ok(())
        }
        // A #PF on a task stack's guard page cannot push its frame either.
        8 if crate::stacks::guard_slot(frame.cr2 as usize).is_some() => {
            let _ = write!(out, "double fault (#DF): kernel stack overflow (cr2 {:#x}) at rip {:#x}", frame.cr2, frame.rip);
            crate::stacks::describe_guard_hit(frame.cr2 as usize, out);
            Ok(())
        }
        // A #PF on the guard page cannot push its own frame on the full stack,
        // so a boot-stack overflow arrives as #DF with CR2 in the guard page.
        8 if super::context::is_boot_stack_guard(frame.cr2 as usize) => write!(
            out,
            "double fault (#DF): kernel stack overflow (cr2 {:#x} is the boot stack guard page) at rip {:#x}",
            frame.cr2, frame.rip
        ),
        vector @ 0..=31 => write!(
            out,
            "{} (vector {vector}, error code {:#x}) at rip {:#x}",
            exception_name(vector),
            frame.error_code,
            frame.rip
        ),
        vector => write!(out, "unexpected interrupt (vector {vector:#x}) at rip {:#x}", frame.rip),
    };
}

/// Entered from `trap_common` with interrupts off, for a trap from kernel
/// code. Returns for the interrupts the kernel expects (the scheduler's
/// tick and the UART, which may switch tasks before returning); anything
/// else ends in `panic::fault`.
extern "C" fn trap_dispatch(frame: &mut TrapFrame) {
    if !handle_interrupt(frame.vector) {
        fatal(frame)
    }
}

/// Reports an unexpected exception or interrupt and stops the kernel.
pub fn fatal(frame: &TrapFrame) -> ! {
    let mut description = DescriptionBuffer { bytes: [0; 192], length: 0 };
    describe(frame, &mut description);
    crate::panic::fault(description.as_str(), frame)
}

/// Handles an interrupt the kernel expects, whether it arrived in kernel
/// or user mode (user.rs); false for any other vector. May switch tasks.
pub fn handle_interrupt(vector: u64) -> bool {
    const TIMER: u64 = TIMER_VECTOR as u64;
    const UART: u64 = UART_VECTOR as u64;
    const SPURIOUS: u64 = SPURIOUS_VECTOR as u64;
    const WAKE: u64 = WAKE_VECTOR as u64;
    const DEVICE: u64 = DEVICE_VECTOR as u64;
    const PIC_FIRST: u64 = PIC_VECTOR_BASE as u64;
    const PIC_LAST: u64 = PIC_VECTOR_BASE as u64 + 15;
    match vector {
        // EOI before the scheduler runs: it may switch tasks, and the local
        // APIC must be free to deliver the next interrupt meanwhile.
        TIMER => {
            apic::end_of_interrupt();
            crate::sched::on_timer_interrupt();
        }
        // Edge-triggered: the handler drains the UART so the next byte
        // raises a new edge.
        UART => {
            apic::end_of_interrupt();
            crate::sched::on_console_interrupt();
        }
        // Only ends the waiting `hlt` (smp::wait_for_start, and the idle
        // loop's wait when the scheduler queued work for this CPU).
        WAKE => apic::end_of_interrupt(),
        // One-shot (arch/device_interrupt.rs): the pin is masked until the
        // driver has acknowledged the device (a level-triggered pin would
        // fire again at the EOI).
        DEVICE => {
            crate::arch::device_interrupt::mask_device_interrupt();
            apic::end_of_interrupt();
            crate::net::on_interrupt();
        }
        // SDM Vol. 3A 10.9: a spurious interrupt is not in service: no EOI.
        SPURIOUS => {}
        // The PICs are masked; a spurious IRQ 7/15 can still arrive and needs no EOI.
        PIC_FIRST..=PIC_LAST => {}
        _ => return false,
    }
    true
}
