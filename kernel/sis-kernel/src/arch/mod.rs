//! Architecture layer: one module per `target_arch`, chosen here and only here.
//!
//! Every arch module defines the same set of names; the rest of the kernel
//! uses nothing else that is arch-specific:
//!
//! - `NAME: &str`: `"aarch64"`, `"riscv64"` or `"x86_64"`.
//! - `ELF_MACHINE: sis_loader::Machine`: the machine user programs are built for.
//! - Boot: the arch's entry code (its own `_start`) sets up a stack, clears
//!   BSS, installs exception vectors, brings up the console UART and the
//!   clock, reads the memory map (device tree or PVH start info), starts the
//!   secondary CPUs, then calls `crate::kernel_main(BootInfo)`. Each
//!   secondary sets its CPU index, vectors and timer interrupt, then calls
//!   `crate::secondary_main()`, which joins the scheduler.
//! - `fn cpu_index() -> usize`: this CPU's index, 0 for the boot CPU, dense
//!   up to `percpu::MAX_CPUS`; cheap (one register read), since every lock
//!   reads it.
//! - `fn interrupts_disable() -> bool` (whether they were enabled),
//!   `fn interrupts_restore(bool)`, `fn interrupts_enable()`: this CPU's
//!   interrupt mask. Interrupts are off from reset until the idle loop or a
//!   new task enables them.
//! - `fn set_timer_deadline(deadline_ns: Option<u64>)`: this CPU's one-shot
//!   timer interrupt at `monotonic_ns() == deadline_ns` (None: disarmed).
//! - Interrupts: the arch entry saves the whole interrupted state on the
//!   interrupted task's own stack, acknowledges the interrupt (end of
//!   interrupt included) and calls `crate::sched::on_timer_interrupt()` or
//!   `crate::sched::on_console_interrupt()`; either may switch tasks before
//!   returning, and the task resumes later through the same return path.
//! - `fn console_write(bytes: &[u8])`: polled UART output. No lock, no heap:
//!   the panic path and early boot call it.
//! - `fn console_read() -> Option<u8>`: one received byte, never blocks.
//! - `fn monotonic_ns() -> u64`: nanoseconds since boot, never goes back.
//! - `fn wait_for_event(deadline_ns: Option<u64>)`: called with interrupts
//!   off; idles the CPU (wfi/hlt) until a console byte may have arrived,
//!   `monotonic_ns()` reached the deadline or an interrupt is pending, and
//!   returns with interrupts off (pending ones are taken when the caller
//!   enables them). May return early; must not spin the host CPU while idle.
//! - `fn poweroff(code: u8) -> !`: end the machine; QEMU's exit status maps
//!   back to `code` as docs/BOOT.md says.
//! - `fn halt() -> !`: stop this CPU for good with interrupts off.
//! - `fn trigger_fault() -> !`: touch an unmapped address (the `fault` command).
//! - `fn cpus_online() -> usize`: CPUs that reached the kernel (boot CPU included).
//! - `struct TrapFrame`: the trapped context of an exception, with
//!   `fn for_each_register(&self, visit: &mut dyn FnMut(&'static str, u64))`,
//!   `fn program_counter(&self) -> u64`, `fn frame_pointer(&self) -> u64`.
//!   On an unexpected exception the arch calls
//!   `crate::panic::fault(description: &str, frame: &TrapFrame) -> !`.
//! - `fn current_frame_pointer() -> usize` and
//!   `unsafe fn frame_record(fp: usize) -> Option<(usize, usize)>`: the
//!   (return address, caller's frame pointer) stored in a frame record.
//! - `struct Context`, `fn Context::new(stack_top: usize, entry: extern "C" fn() -> !) -> Context`
//!   and `unsafe fn switch_context(from: *mut Context, to: *const Context)`:
//!   the scheduler's task switch (callee-saved registers only: it is a
//!   function call, made with interrupts off).

#[cfg(target_arch = "aarch64")]
#[path = "aarch64/mod.rs"]
mod imp;

#[cfg(target_arch = "riscv64")]
#[path = "riscv64/mod.rs"]
mod imp;

#[cfg(target_arch = "x86_64")]
#[path = "x86_64/mod.rs"]
mod imp;

#[cfg(not(any(target_arch = "aarch64", target_arch = "riscv64", target_arch = "x86_64")))]
compile_error!("sis-kernel supports aarch64, riscv64 and x86_64 only");

pub use imp::*;
pub use sis_mem::MemoryMap;

/// What the arch layer found at boot and hands to `kernel_main`.
#[derive(Debug)]
pub struct BootInfo {
    /// Usable RAM regions and regions to keep out of the heap.
    pub memory: MemoryMap,
    /// Physical address of the first byte after the kernel image (and its
    /// boot stacks): the heap starts at or above it.
    pub kernel_end: usize,
    /// Where to look for devices (virtio-net, docs/NETWORK.md).
    pub devices: DeviceWindows,
}

/// Device windows the firmware described: virtio-mmio slots from the device
/// tree (aarch64, riscv64), the PCI ECAM window from ACPI MCFG (x86_64).
/// Each is identity-mapped as device memory by the arch's memory setup.
#[derive(Debug, Clone, Copy)]
pub struct DeviceWindows {
    pub virtio_mmio: [sis_mem::Region; sis_mem::discover::MAX_VIRTIO_MMIO],
    pub virtio_mmio_count: usize,
    pub pci_ecam: Option<PciEcam>,
}

/// One PCI segment's enhanced configuration window (PCI Firmware spec 3.2, MCFG).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PciEcam {
    pub base: u64,
    pub start_bus: u8,
    pub end_bus: u8,
}

impl DeviceWindows {
    pub const fn none() -> Self {
        DeviceWindows {
            virtio_mmio: [sis_mem::Region::new(0, 0); sis_mem::discover::MAX_VIRTIO_MMIO],
            virtio_mmio_count: 0,
            pci_ecam: None,
        }
    }

    pub fn from_device_tree(tree: &sis_mem::discover::DeviceTree) -> Self {
        DeviceWindows { virtio_mmio: tree.virtio_mmio, virtio_mmio_count: tree.virtio_mmio_count, pci_ecam: None }
    }

    pub fn virtio_mmio(&self) -> &[sis_mem::Region] {
        &self.virtio_mmio[..self.virtio_mmio_count]
    }
}
