//! Ending things: power-off with an exit code for QEMU, halting a CPU for
//! good, and the deliberate fault behind the `fault` command.

use core::sync::atomic::{AtomicU16, Ordering};

use super::cpu::{self, outb, outw};

/// QEMU's `isa-debug-exit` device as the CLI adds it (`iobase=0xf4`):
/// writing v ends QEMU with status (v << 1) | 1.
const DEBUG_EXIT_PORT: u16 = 0xf4;
/// q35's ACPI PM1a control block (ICH9 PMBASE 0x600 + 4), used until (and
/// unless) the FADT names one.
const DEFAULT_PM1A_CONTROL_PORT: u16 = 0x604;
/// PM1 control: SLP_EN (bit 13) with SLP_TYP 0. SLP_TYP for S5 comes from
/// the DSDT's `\_S5` package, which is AML the kernel does not interpret;
/// QEMU's q35 DSDT has `\_S5 = {0, 0}`, so 0 it is (ACPI 6.5 section
/// 4.8.3.2.1, 7.4.2): QEMU exits with status 0.
const PM1_SLEEP_S5: u16 = 0x2000;

/// The FADT's PM1a_CNT_BLK, once `acpi::discover` read it.
static PM1A_CONTROL_PORT: AtomicU16 = AtomicU16::new(DEFAULT_PM1A_CONTROL_PORT);

/// Uses the FADT's PM1a control port for power-off.
pub fn set_pm1a_control_port(port: Option<u16>) {
    if let Some(port) = port {
        PM1A_CONTROL_PORT.store(port, Ordering::Relaxed);
    }
}

/// Ends the machine. Code 0 powers off through ACPI (QEMU status 0); other
/// codes go to isa-debug-exit (status `(code << 1) | 1`). Without that
/// device the write is ignored and the ACPI power-off follows, so QEMU ends
/// with 0: the code is lost, which docs/boot-x86_64.md states.
pub fn poweroff(code: u8) -> ! {
    cpu::disable_interrupts();
    // SAFETY: ports of QEMU's exit devices; either ends the VM, and a write
    // to an absent ISA port is ignored.
    unsafe {
        if code != 0 {
            outb(DEBUG_EXIT_PORT, code);
        }
        outw(PM1A_CONTROL_PORT.load(Ordering::Relaxed), PM1_SLEEP_S5);
    }
    halt()
}

/// Stops this CPU for good: interrupts off, then `hlt` (an NMI or SMI can
/// still end `hlt`, hence the loop).
pub fn halt() -> ! {
    loop {
        cpu::disable_interrupts();
        // SAFETY: `hlt` with IF = 0 only waits; nothing is touched.
        unsafe { core::arch::asm!("hlt", options(nomem, nostack)) };
    }
}

/// Reads page 0, which boot.rs leaves unmapped: a #PF with CR2 = 0 that the
/// trap path reports through `panic::fault`.
pub fn trigger_fault() -> ! {
    // SAFETY: deliberately faults; the handler never returns here, and the
    // read is done in asm so the compiler sees no null dereference.
    unsafe { core::arch::asm!("mov rax, qword ptr [0]", out("rax") _, options(nostack, readonly)) };
    // The handler ends in panic::fault, which does not return; should a
    // future page-0 mapping let the read succeed, do not pretend it faulted.
    panic!("trigger_fault: reading address 0 did not fault")
}
