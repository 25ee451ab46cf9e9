//! The NIC's interrupt line, handled one-shot, the same on every arch.
//!
//! The line is level-triggered (QEMU's virtio-mmio and virtio-pci INTx
//! hold it while the device's interrupt status is set), and only the
//! driver can clear that status, under the network stack's lock, which an
//! interrupt handler must not take. So the arch's dispatch masks the line
//! at the interrupt controller, ends the interrupt there and calls
//! `crate::net::on_interrupt()`, which only wakes the `net` task. The task
//! acknowledges the device, polls the stack, then unmasks the line
//! (`unmask_device_interrupt`): an event that came after the
//! acknowledgement raises the line again and fires once unmasked, so none
//! is lost (Linux's threaded, one-shot interrupts work the same way).
//!
//! The line is numbered as the controller numbers it: a GIC INTID
//! (aarch64), a PLIC source (riscv64), or the ISA IRQ the firmware
//! assigned to the PCI function (x86_64, routed through the I/O APIC).

use core::sync::atomic::{AtomicU32, Ordering};

use super::imp;

const NONE: u32 = u32::MAX;
/// The routed line, `NONE` until `route_device_interrupt` succeeded.
static LINE: AtomicU32 = AtomicU32::new(NONE);

/// Routes `line` to the boot CPU, unmasked; false when the interrupt
/// controller cannot (none usable, or `line` is not one of its device
/// lines), and the driver keeps polling. Boot CPU, once.
pub fn route_device_interrupt(line: u32) -> bool {
    if line == NONE || !imp::route_device_line(line) {
        return false;
    }
    LINE.store(line, Ordering::Release);
    true
}

/// Whether `number` (as the arch's dispatch sees it) is the routed line.
/// x86_64 knows the NIC's interrupt by its vector instead.
#[cfg(any(target_arch = "aarch64", target_arch = "riscv64"))]
pub(super) fn is_device_interrupt(number: u32) -> bool {
    number != NONE && LINE.load(Ordering::Acquire) == number
}

/// Stops the routed line from firing again: the arch's dispatch, when it
/// fired, before it ends the interrupt.
pub(super) fn mask_device_interrupt() {
    set_masked(true);
}

/// Lets the routed line fire again, once the driver acknowledged the device.
pub fn unmask_device_interrupt() {
    set_masked(false);
}

fn set_masked(masked: bool) {
    let line = LINE.load(Ordering::Acquire);
    if line != NONE {
        imp::set_device_line_masked(line, masked);
    }
}
