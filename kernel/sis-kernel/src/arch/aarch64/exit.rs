//! Ending the machine (semihosting SYS_EXIT, else PSCI SYSTEM_OFF), halting a CPU, and the deliberate fault.

use core::arch::{asm, global_asm};

use super::{gic, mmu, psci, timer};

/// Semihosting operation number of SYS_EXIT (Arm "Semihosting for AArch32
/// and AArch64" 2.0, SYS_EXIT).
const SYS_EXIT: u64 = 0x18;
/// `ADP_Stopped_ApplicationExit`: with the 64-bit parameter block the second
/// word is the exit status QEMU passes to `exit()`.
const ADP_STOPPED_APPLICATION_EXIT: u64 = 0x20026;
/// Ends QEMU with exit status `code` through semihosting SYS_EXIT. Without
/// `-semihosting-config enable=on,target=native` QEMU treats `hlt` as an
/// undefined instruction; trap.rs recognises that (`is_semihosting_trap`)
/// and calls `system_off` instead, which ends QEMU with status 0
/// (docs/boot-aarch64.md).
pub fn poweroff(code: u8) -> ! {
    let parameters: [u64; 2] = [ADP_STOPPED_APPLICATION_EXIT, u64::from(code)];
    // SAFETY: the semihosting call only reads the two-word block x1 points
    // to, and does not return when it works; if it returns we fall through.
    unsafe { __sis_semihosting_call(SYS_EXIT, parameters.as_ptr()) };
    system_off()
}

unsafe extern "C" {
    /// `hlt #0xf000` with x0 = operation, x1 = parameter block; returns x0.
    fn __sis_semihosting_call(operation: u64, parameters: *const u64) -> u64;
}

// The semihosting trap lives at a known address, so the exception handler
// can tell "semihosting is off" from any other undefined instruction exactly,
// without reading instruction memory.
global_asm!(".section .text", ".globl __sis_semihosting_call", "__sis_semihosting_call:", "    hlt #0xf000", "    ret",);

/// Whether an exception at `program_counter` with `operation` in x0 is
/// `poweroff`'s semihosting SYS_EXIT trapping because semihosting is off.
pub fn is_semihosting_exit_trap(program_counter: u64, operation: u64) -> bool {
    program_counter == __sis_semihosting_call as unsafe extern "C" fn(u64, *const u64) -> u64 as usize as u64
        && operation == SYS_EXIT
}

/// PSCI SYSTEM_OFF: QEMU exits with status 0. Halts if PSCI refuses.
pub fn system_off() -> ! {
    psci::call(psci::SYSTEM_OFF, 0, 0, 0);
    halt()
}

/// Stops this CPU for good: interrupts masked, its timers and its GIC CPU
/// interface off (so no pending line can wake WFI and spin), then WFI.
pub fn halt() -> ! {
    // SAFETY: masking D, A, I and F at EL1 only affects this CPU.
    unsafe { asm!("msr daifset, #0xf", options(nomem, nostack)) };
    timer::stop_this_cpu();
    gic::disable_this_cpu();
    loop {
        // SAFETY: WFI suspends this CPU; nothing is left to wake it.
        unsafe { asm!("wfi", options(nomem, nostack)) };
    }
}

/// Reads an address outside the identity map: a level-1 translation fault,
/// which the trap handler reports through `crate::panic::fault`.
pub fn trigger_fault() -> ! {
    // SAFETY: not safe by design: the read faults, and the exception never
    // returns here (the handler ends the machine).
    unsafe {
        core::ptr::read_volatile(mmu::UNMAPPED_ADDRESS as *const u64);
    }
    // Reached only if the fault did not happen, which would be a bug in the map.
    panic!("trigger_fault: reading {:#x} did not fault", mmu::UNMAPPED_ADDRESS)
}
