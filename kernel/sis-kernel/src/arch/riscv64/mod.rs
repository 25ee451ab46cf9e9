//! riscv64 arch layer for QEMU virt under OpenSBI (S-mode, Sv39 identity map).
//!
//! Files by job: `boot` (entry, stacks, boot sequence), `sbi` (firmware
//! calls), `uart` (NS16550A console), `plic` and `timer` (interrupt sources), `irq` (interrupt entry, SIE, CPU index),
//! `idle` (`wait_for_event`), `trap` (exception entry, `TrapFrame`),
//! `smp` (secondary harts), `context` (task switch, frame records),
//! `exit` (power-off, halt, deliberate fault), `memory` (device tree), `mmu` (Sv39: W^X, guard pages, no null page),
//! `user` (process tables, U-mode entry and the trap back: `arch::user`).
//! Boot contract facts: docs/boot-riscv64.md.

mod boot;
mod context;
mod exit;
mod idle;
mod irq;
mod memory;
mod mmu;
mod plic;
mod sbi;
mod smp;
mod timer;
mod trap;
mod uart;
pub mod user;

pub use context::{current_frame_pointer, frame_record, switch_context, Context};
pub use exit::{halt, poweroff, trigger_fault};
pub(in crate::arch) use plic::{route_device_line, set_device_line_masked};
pub use idle::wait_for_event;
pub(in crate::arch) use timer::program_deadline;
pub use irq::{cpu_index, interrupts_disable, interrupts_enable, interrupts_restore};
pub use mmu::task_stack_area;
pub use smp::{cpus_online, wake_cpu};
pub use super::start_by_ipi::{quiet_before_start, wait_for_start, wake_secondaries};
pub use trap::TrapFrame;

pub const NAME: &str = "riscv64";

/// Polled, lock-free console output (NS16550A THR), bytes unchanged.
pub fn console_write(bytes: &[u8]) {
    uart::write(bytes)
}

/// The console UART as a `sis_hal::CharDevice`.
pub use uart::Ns16550 as ConsoleUart;

/// Nanoseconds since boot, from the `time` CSR.
pub fn monotonic_ns() -> u64 {
    timer::monotonic_ns()
}

/// The ELF machine of user programs this kernel runs.
pub const ELF_MACHINE: sis_loader::Machine = sis_loader::Machine::Riscv64;
