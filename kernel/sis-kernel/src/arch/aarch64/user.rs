//! User mode (EL0): the user register file, `run` (enter EL0, come back at the next trap) and the EL0 trap path.
//!
//! `run` is a function call that returns when user code traps, like a
//! hypervisor's vCPU run. `__sis_user_enter` saves the kernel's callee-saved
//! registers in a frame on the task's own stack and points SP_EL1 at that
//! frame, so the exception that ends user mode lands on the task's stack
//! (not the CPU's exception stack): the lower-EL vectors (trap.rs, entries 8
//! and 9) store every user register into the `Registers` the frame names,
//! give SP_EL1 back to this CPU's exception stack, switch to SP_EL0 and
//! return from `__sis_user_enter` with the trap kind. What happens next
//! (the syscall, the kill, the interrupt handling that may switch tasks) is
//! ordinary kernel code on the task's stack, and the task may resume on
//! another CPU.
//!
//! The register file is x0-x30, SP_EL0, ELR (the pc), SPSR (only NZCV is
//! taken back from it: user mode cannot choose its exception level or
//! interrupt mask), TPIDR_EL0 (user TLS), FPCR/FPSR and q0-q31 (user code and
//! the kernel both use the vector registers freely). Entering user mode
//! costs no table switch when the space is already active (syscalls), no
//! allocation and no lock.
//!
//! `svc` has ELR past itself already (the preferred return address of an
//! SVC is the next instruction); every other synchronous exception kills
//! the process (`UserFault`), with FAR for aborts and ELR otherwise.

use core::arch::global_asm;

use super::irq;
use super::trap::REGISTER_NAMES;
use crate::arch::{UserExit, UserFault};

pub use super::user_tables::{activate_kernel_tables, AddressSpace};

/// The whole user register file, in the layout the assembly below uses.
#[repr(C, align(16))]
pub struct Registers {
    x: [u64; 31],
    sp: u64,
    pc: u64,
    pstate: u64,
    tpidr: u64,
    fpcr: u64,
    fpsr: u64,
    /// ESR_EL1 and FAR_EL1 of the last trap out of user mode.
    syndrome: u64,
    fault_address: u64,
    q: [u128; 32],
}

// Offsets the assembly uses.
const _: () = {
    assert!(core::mem::offset_of!(Registers, sp) == 248);
    assert!(core::mem::offset_of!(Registers, pc) == 256);
    assert!(core::mem::offset_of!(Registers, pstate) == 264);
    assert!(core::mem::offset_of!(Registers, tpidr) == 272);
    assert!(core::mem::offset_of!(Registers, fpcr) == 280);
    assert!(core::mem::offset_of!(Registers, syndrome) == 296);
    assert!(core::mem::offset_of!(Registers, q) == 320);
};

impl Registers {
    /// Starts at `entry` with `stack_top` in SP_EL0, `arg0`/`arg1` in x0/x1,
    /// everything else zero (flags, TLS, FP state: round to nearest).
    pub fn new(entry: u64, stack_top: u64, arg0: u64, arg1: u64) -> Registers {
        let mut x = [0; 31];
        x[0] = arg0;
        x[1] = arg1;
        Registers {
            x,
            sp: stack_top,
            pc: entry,
            pstate: 0,
            tpidr: 0,
            fpcr: 0,
            fpsr: 0,
            syndrome: 0,
            fault_address: 0,
            q: [0; 32],
        }
    }

    /// The number in x8 and the arguments in x0-x5 (`svc #0`).
    pub fn syscall(&self) -> (u64, [u64; 6]) {
        let x = &self.x;
        (x[8], [x[0], x[1], x[2], x[3], x[4], x[5]])
    }

    /// The syscall's result, in x0 (the pc is already past the `svc`).
    pub fn set_return(&mut self, value: u64) {
        self.x[0] = value;
    }

    pub fn program_counter(&self) -> u64 {
        self.pc
    }

    /// x0-x30, sp, pc, pstate, tpidr_el0, then esr and far of the last trap.
    pub fn for_each_register(&self, visit: &mut dyn FnMut(&'static str, u64)) {
        for (name, &value) in REGISTER_NAMES.iter().zip(self.x.iter()) {
            visit(name, value);
        }
        visit("sp", self.sp);
        visit("pc", self.pc);
        visit("pstate", self.pstate);
        visit("tpidr_el0", self.tpidr);
        visit("esr", self.syndrome);
        visit("far", self.fault_address);
    }
}

/// What `__sis_user_enter` returns: which lower-EL vector ended user mode.
const TRAP_SYNCHRONOUS: u64 = 0;
const TRAP_IRQ: u64 = 1;

unsafe extern "C" {
    /// Enters EL0 with `registers`, returns the trap kind once user mode
    /// traps, with `registers` holding the user state at the trap. Called
    /// with IRQs masked, returns with them masked (SError unmasked).
    fn __sis_user_enter(registers: *mut Registers) -> u64;
}

/// Runs the process in user mode until it traps. See `arch/mod.rs`.
pub fn run(registers: &mut Registers, space: &AddressSpace) -> UserExit {
    // Masked from the table switch to the eret: this CPU's SP_EL1 points at
    // the task's stack meanwhile, and the space must be active on the CPU
    // that enters user mode.
    let were_enabled = irq::interrupts_disable();
    space.activate();
    // SAFETY: IRQs are masked; `registers` is exclusively ours for the call;
    // the space maps every kernel address as the kernel's tables do, so the
    // return path runs; user mode can reach only the user pages of `space`.
    let kind = unsafe { __sis_user_enter(registers) };
    let exit = if kind == TRAP_IRQ {
        // As on the kernel-mode IRQ path: acknowledge, end of interrupt,
        // then the scheduler (which may switch tasks), IRQs still masked.
        irq::dispatch();
        UserExit::Interrupt
    } else {
        debug_assert_eq!(kind, TRAP_SYNCHRONOUS);
        classify(registers.syndrome, registers.fault_address, registers.pc, registers.sp)
    };
    irq::interrupts_restore(were_enabled);
    exit
}

/// A synchronous exception from EL0 by its class (Arm ARM DDI 0487, ESR_EL1.EC).
fn classify(syndrome: u64, fault_address: u64, pc: u64, sp: u64) -> UserExit {
    let exception_class = (syndrome >> 26) & 0x3F;
    let fault = match exception_class {
        0x15 => return UserExit::Syscall, // SVC from AArch64, any immediate
        // Instruction or data abort from a lower EL. DFSC 0x21: alignment fault.
        0x20 => UserFault::PageFault { address: fault_address },
        0x24 if syndrome & 0x3F == 0x21 => UserFault::Misaligned { address: fault_address },
        0x24 => UserFault::PageFault { address: fault_address },
        0x22 => UserFault::Misaligned { address: fault_address }, // PC alignment: FAR is the pc
        0x26 => UserFault::Misaligned { address: sp },            // SP alignment: FAR is not set
        // Unknown (undefined instruction, EL1+ system registers), trapped
        // WFI/WFE, illegal execution state, trapped system register access.
        0x00 | 0x01 | 0x0E | 0x18 => UserFault::IllegalInstruction { address: pc },
        0x3C => UserFault::Breakpoint { address: pc }, // BRK
        code => UserFault::Other { code, address: pc },
    };
    UserExit::Fault(fault)
}

/// Bytes of the kernel frame `__sis_user_enter` keeps on the task stack:
/// [0] the `Registers` pointer, [8] this CPU's exception stack pointer
/// (SP_EL1 before entry), [16..112] x19-x30, [112..176] d8-d15, [176] FPCR,
/// [184] x18 (a temporary under AAPCS64 on this target, kept anyway: some
/// platforms reserve it, and it costs one store).
const KERNEL_FRAME_BYTES: usize = 192;

/// SPSR_EL1 for user mode: EL0t (M = 0), FIQ and debug masked (the kernel
/// uses neither), IRQ and SError taken; the user's NZCV is or-ed in.
const USER_SPSR: u64 = (1 << 9) | (1 << 6);
const NZCV_MASK: u64 = 0xF000_0000;

global_asm!(
    ".section .text",
    ".balign 4",
    ".globl __sis_user_enter",
    "__sis_user_enter:",
    // The kernel side: callee-saved registers (AAPCS64) and FPCR, on SP_EL0,
    // the task's stack.
    "    sub sp, sp, #{frame}",
    "    stp x19, x20, [sp, #16]",
    "    stp x21, x22, [sp, #32]",
    "    stp x23, x24, [sp, #48]",
    "    stp x25, x26, [sp, #64]",
    "    stp x27, x28, [sp, #80]",
    "    stp x29, x30, [sp, #96]",
    "    stp d8, d9, [sp, #112]",
    "    stp d10, d11, [sp, #128]",
    "    stp d12, d13, [sp, #144]",
    "    stp d14, d15, [sp, #160]",
    "    mrs x9, fpcr",
    "    stp x9, x18, [sp, #176]",
    "    str x0, [sp, #0]",
    // SP_EL1 = the frame: the trap out of EL0 lands here. Its old value
    // (this CPU's exception stack) is kept in the frame for the way back.
    "    mov x9, sp",
    "    msr spsel, #1",
    "    mov x10, sp",
    "    str x10, [x9, #8]",
    "    mov sp, x9",
    // The user side.
    "    ldp x2, x3, [x0, #248]",
    "    msr sp_el0, x2",
    "    msr elr_el1, x3",
    "    ldp x2, x3, [x0, #264]",
    "    and x2, x2, #{nzcv}",
    "    mov x4, #{spsr}",
    "    orr x2, x2, x4",
    "    msr spsr_el1, x2",
    "    msr tpidr_el0, x3",
    "    ldp x2, x3, [x0, #280]",
    "    msr fpcr, x2",
    "    msr fpsr, x3",
    "    ldp q0, q1, [x0, #320]",
    "    ldp q2, q3, [x0, #352]",
    "    ldp q4, q5, [x0, #384]",
    "    ldp q6, q7, [x0, #416]",
    "    ldp q8, q9, [x0, #448]",
    "    ldp q10, q11, [x0, #480]",
    "    ldp q12, q13, [x0, #512]",
    "    ldp q14, q15, [x0, #544]",
    "    ldp q16, q17, [x0, #576]",
    "    ldp q18, q19, [x0, #608]",
    "    ldp q20, q21, [x0, #640]",
    "    ldp q22, q23, [x0, #672]",
    "    ldp q24, q25, [x0, #704]",
    "    ldp q26, q27, [x0, #736]",
    "    ldp q28, q29, [x0, #768]",
    "    ldp q30, q31, [x0, #800]",
    "    ldp x2, x3, [x0, #16]",
    "    ldp x4, x5, [x0, #32]",
    "    ldp x6, x7, [x0, #48]",
    "    ldp x8, x9, [x0, #64]",
    "    ldp x10, x11, [x0, #80]",
    "    ldp x12, x13, [x0, #96]",
    "    ldp x14, x15, [x0, #112]",
    "    ldp x16, x17, [x0, #128]",
    "    ldp x18, x19, [x0, #144]",
    "    ldp x20, x21, [x0, #160]",
    "    ldp x22, x23, [x0, #176]",
    "    ldp x24, x25, [x0, #192]",
    "    ldp x26, x27, [x0, #208]",
    "    ldp x28, x29, [x0, #224]",
    "    ldr x30, [x0, #240]",
    "    ldp x0, x1, [x0, #0]",
    "    eret",
    "",
    // From the lower-EL vectors (trap.rs): SP_EL1 = the kernel frame, user
    // x0/x1 stored just below it, x1 = the trap kind.
    ".globl __sis_user_trap",
    "__sis_user_trap:",
    "    ldr x0, [sp, #0]",
    "    stp x2, x3, [x0, #16]",
    "    stp x4, x5, [x0, #32]",
    "    stp x6, x7, [x0, #48]",
    "    stp x8, x9, [x0, #64]",
    "    stp x10, x11, [x0, #80]",
    "    stp x12, x13, [x0, #96]",
    "    stp x14, x15, [x0, #112]",
    "    stp x16, x17, [x0, #128]",
    "    stp x18, x19, [x0, #144]",
    "    stp x20, x21, [x0, #160]",
    "    stp x22, x23, [x0, #176]",
    "    stp x24, x25, [x0, #192]",
    "    stp x26, x27, [x0, #208]",
    "    stp x28, x29, [x0, #224]",
    "    str x30, [x0, #240]",
    "    ldp x2, x3, [sp, #-16]",
    "    stp x2, x3, [x0, #0]",
    "    mrs x2, sp_el0",
    "    mrs x3, elr_el1",
    "    stp x2, x3, [x0, #248]",
    "    mrs x2, spsr_el1",
    "    mrs x3, tpidr_el0",
    "    stp x2, x3, [x0, #264]",
    "    mrs x2, fpcr",
    "    mrs x3, fpsr",
    "    stp x2, x3, [x0, #280]",
    "    mrs x2, esr_el1",
    "    mrs x3, far_el1",
    "    stp x2, x3, [x0, #296]",
    "    stp q0, q1, [x0, #320]",
    "    stp q2, q3, [x0, #352]",
    "    stp q4, q5, [x0, #384]",
    "    stp q6, q7, [x0, #416]",
    "    stp q8, q9, [x0, #448]",
    "    stp q10, q11, [x0, #480]",
    "    stp q12, q13, [x0, #512]",
    "    stp q14, q15, [x0, #544]",
    "    stp q16, q17, [x0, #576]",
    "    stp q18, q19, [x0, #608]",
    "    stp q20, q21, [x0, #640]",
    "    stp q22, q23, [x0, #672]",
    "    stp q24, q25, [x0, #704]",
    "    stp q26, q27, [x0, #736]",
    "    stp q28, q29, [x0, #768]",
    "    stp q30, q31, [x0, #800]",
    // Back to the kernel: SP_EL1 to this CPU's exception stack, then SP_EL0
    // (which held the user's sp, saved above) to the frame.
    "    ldr x9, [sp, #8]",
    "    mov x10, sp",
    "    mov sp, x9",
    "    msr spsel, #0",
    "    mov sp, x10",
    "    ldp x9, x18, [sp, #176]",
    "    msr fpcr, x9",
    "    ldp x19, x20, [sp, #16]",
    "    ldp x21, x22, [sp, #32]",
    "    ldp x23, x24, [sp, #48]",
    "    ldp x25, x26, [sp, #64]",
    "    ldp x27, x28, [sp, #80]",
    "    ldp x29, x30, [sp, #96]",
    "    ldp d8, d9, [sp, #112]",
    "    ldp d10, d11, [sp, #128]",
    "    ldp d12, d13, [sp, #144]",
    "    ldp d14, d15, [sp, #160]",
    "    add sp, sp, #{frame}",
    // The exception masked all of DAIF; the kernel runs with SError taken
    // (trap.rs `unmask_serror`) and IRQs masked until `run` restores them.
    "    msr daifclr, #4",
    "    mov x0, x1",
    "    ret",
    frame = const KERNEL_FRAME_BYTES,
    nzcv = const NZCV_MASK,
    spsr = const USER_SPSR,
);
