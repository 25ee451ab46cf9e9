//! The secondaries' start contract (arch/mod.rs) where it is the same on
//! aarch64 and riscv64: wait for the boot CPU's go on the wake-up IPI
//! (`wake_cpu`). x86_64 keeps its own: it must also stay off the LAPIC
//! while the boot CPU sets up PCI, and it broadcasts the go.

use super::imp::{cpus_online, wait_for_event, wake_cpu};

/// A secondary waiting for the boot CPU's go (`crate::secondary_main`),
/// interrupts off: sleeps until an interrupt, normally the go's IPI
/// (`wake_secondaries`), instead of polling: with more vCPUs than host
/// cores, polling secondaries take host time from the booting CPU.
pub fn wait_for_start() {
    wait_for_event(None);
}

/// Before joining: disarm the timer (its poll in `crate::secondary_main`
/// armed it), so that nothing stays pending while `wait_for_start` sleeps
/// with interrupts masked; a pending interrupt would end every WFI at once.
pub fn quiet_before_start() {
    super::deadline::set_timer_deadline(None);
}

/// The go for `wait_for_start`: the wake-up IPI to every secondary (they
/// set up their interrupt controller before checking in).
pub fn wake_secondaries() {
    for cpu in 1..cpus_online() {
        wake_cpu(cpu);
    }
}
