//! aarch64 (QEMU `-M virt`, Cortex-A72, GICv2 or GICv3, PL011): the arch contract of `arch/mod.rs`.
//!
//! One file per job; docs/boot-aarch64.md states the boot contract.
//! - boot.rs: `_start`, secondary entry, EL2 drop, the boot order
//! - uart.rs: PL011 console
//! - timer.rs: Generic Timer clock, `wait_for_event` (WFI)
//! - gic.rs: GICv2/GICv3 routing, acknowledge, end of interrupt
//! - irq.rs: IRQ entry on the task stack, PSTATE.I, CPU index (TPIDR_EL1)
//! - mmu.rs: identity map, MMU on
//! - memory.rs: device tree -> memory map, CPU list, image bounds
//! - smp.rs: PSCI CPU_ON, secondaries parked
//! - psci.rs: PSCI calls over hvc/smc
//! - trap.rs: exception vectors, `TrapFrame`, fault descriptions
//! - exit.rs: poweroff (semihosting / PSCI), halt, the deliberate fault
//! - context.rs: `Context`, `switch_context`, frame records
//! - user.rs: user mode: `Registers`, `run`, the EL0 trap path
//! - user_tables.rs: per-process translation tables, TTBR0 and TLB per CPU

mod boot;
mod context;
mod exit;
mod gic;
mod irq;
mod memory;
mod mmu;
mod psci;
mod smp;
mod timer;
mod trap;
mod uart;
pub mod user;
mod user_tables;

pub use context::{current_frame_pointer, frame_record, switch_context, Context};
pub use exit::{halt, poweroff, trigger_fault};
pub(in crate::arch) use gic::{route_device_line, set_device_line_masked};
pub use irq::{cpu_index, interrupts_disable, interrupts_enable, interrupts_restore};
pub use mmu::task_stack_area;
pub use smp::{cpus_online, wake_cpu};
pub use super::start_by_ipi::{quiet_before_start, wait_for_start, wake_secondaries};
pub use timer::{monotonic_ns, wait_for_event};
pub(in crate::arch) use timer::program_deadline;
pub use trap::TrapFrame;

pub const NAME: &str = "aarch64";

/// The console UART as a `sis_hal::CharDevice`.
pub use uart::Pl011 as ConsoleUart;

/// Polled console output (PL011); no lock, no heap, no `\n` translation.
pub fn console_write(bytes: &[u8]) {
    uart::write_bytes(bytes);
}

/// The ELF machine of user programs this kernel runs.
pub const ELF_MACHINE: sis_loader::Machine = sis_loader::Machine::Aarch64;
