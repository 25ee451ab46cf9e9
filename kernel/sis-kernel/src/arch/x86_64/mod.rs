//! x86_64 (QEMU q35, PVH boot through SeaBIOS): the arch contract of `arch/mod.rs`.
//!
//! One file per job: `boot` (PVH entry, long mode, bring-up order), `cpu`
//! (port I/O, MSRs, control registers), `descriptors` (GDT, TSS, IDT), `trap`
//! (exception stubs and `TrapFrame`), `irq` (IF helpers, CPU index), `acpi` (RSDP, MADT, FADT), `apic` (local
//! APIC, I/O APIC, legacy PIC), `timer` (TSC clock, APIC timer, idle wait),
//! `uart` (COM1), `smp` (INIT-SIPI-SIPI), `memory` (PVH start info), `paging` (W^X, guard pages), `context`
//! (task switch, frame records), `exit` (power-off, halt, fault) and `user`
//! (ring 3: page tables, syscall entry, `run`).

mod acpi;
mod apic;
mod boot;
mod context;
mod cpu;
mod descriptors;
mod exit;
mod irq;
mod memory;
mod paging;
mod smp;
mod timer;
mod trap;
mod uart;
pub mod user;

pub const NAME: &str = "x86_64";

pub use context::{current_frame_pointer, frame_record, switch_context, Context};
pub use exit::{halt, poweroff, trigger_fault};
pub(in crate::arch) use apic::{route_device_line, set_device_line_masked};
pub use irq::{cpu_index, interrupts_disable, interrupts_enable, interrupts_restore};
pub use paging::task_stack_area;
pub use smp::{cpus_online, quiet_before_start, wait_for_start, wake_cpu, wake_secondaries};
pub use timer::{monotonic_ns, wait_for_event};
pub(in crate::arch) use timer::program_deadline;
pub use trap::TrapFrame;
pub use uart::{console_write, Com1 as ConsoleUart};

/// The ELF machine of user programs this kernel runs.
pub const ELF_MACHINE: sis_loader::Machine = sis_loader::Machine::X86_64;
