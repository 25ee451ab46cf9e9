//! Ending the machine: sifive_test power-off with an exit code, halt, and the deliberate fault.

use core::arch::asm;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::{sbi, uart};

/// The `sifive_test` finisher on QEMU virt (`VIRT_TEST` in hw/riscv/virt.c;
/// always created, and listed in the device tree as "sifive,test0"): the
/// fallback when the tree lists none. trap.rs recognises a store fault
/// here as "no exit device", which is only possible on the fallback.
pub const SIFIVE_TEST_BASE: usize = 0x10_0000;

/// The finisher in use; set once by the boot hart from the device tree.
static FINISHER: AtomicUsize = AtomicUsize::new(SIFIVE_TEST_BASE);

/// Uses the finisher at `base` (the device tree's).
pub fn use_finisher(base: usize) {
    FINISHER.store(base, Ordering::Relaxed);
}
/// hw/misc/sifive_test.c: `FINISHER_PASS` ends QEMU with status 0,
/// `FINISHER_FAIL | (code << 16)` ends it with status `code`.
const FINISHER_PASS: u32 = 0x5555;
const FINISHER_FAIL: u32 = 0x3333;

/// An address with nothing behind it on QEMU virt: the hole between fw_cfg
/// (0x1010_0000) and the flash (0x2000_0000). satp is bare and OpenSBI's
/// PMP lets S-mode reach it, so a load raises a load access fault (cause 5)
/// from QEMU's failed bus transaction, not a PMP or page fault.
const UNASSIGNED_ADDRESS: usize = 0x1800_0000;

/// End the machine so QEMU exits with status `code` (docs/boot-riscv64.md).
pub fn poweroff(code: u8) -> ! {
    let value = if code == 0 { FINISHER_PASS } else { (u32::from(code) << 16) | FINISHER_FAIL };
    // SAFETY: the sifive_test register takes a 32-bit store; QEMU ends the
    // process on it. Without the device the store faults and the trap
    // handler calls `without_exit_device` instead of returning here.
    unsafe { core::ptr::write_volatile(FINISHER.load(Ordering::Relaxed) as *mut u32, value) };
    without_exit_device()
}

/// The exit device is missing (or ignored the store): ask the SBI firmware
/// to shut down, then stop. The exit code is lost on this path.
pub fn without_exit_device() -> ! {
    uart::write(b"riscv64: no sifive_test exit device; trying SBI system reset\r\n");
    shut_down_quietly()
}

/// SBI system reset, else halt; prints nothing, for when even the console
/// faults (a machine without the NS16550A at its virt address).
pub fn shut_down_quietly() -> ! {
    sbi::system_reset(sbi::RESET_TYPE_SHUTDOWN, sbi::RESET_REASON_SYSTEM_FAILURE);
    halt()
}

/// Stop this hart for good: interrupts off (sie = 0, sstatus.SIE = 0) and
/// WFI in a loop, which QEMU turns into a sleeping vCPU thread.
pub fn halt() -> ! {
    // SAFETY: clearing interrupt enables only stops interrupts.
    unsafe {
        asm!("csrw sie, zero", "csrci sstatus, 2", options(nomem, nostack));
    }
    loop {
        // SAFETY: with sie = 0 nothing S-level wakes WFI; an M-mode
        // interrupt for OpenSBI may, hence the loop.
        unsafe { asm!("wfi", options(nomem, nostack)) };
    }
}

/// Load from an unassigned address: the exception ends in panic::fault.
pub fn trigger_fault() -> ! {
    // SAFETY: deliberately faulting: the load traps before it completes and
    // the trap handler never returns to this code.
    unsafe { core::ptr::read_volatile(UNASSIGNED_ADDRESS as *const u64) };
    // Only reached if something was mapped there after all.
    panic!("trigger_fault: the load from {UNASSIGNED_ADDRESS:#x} did not fault")
}
