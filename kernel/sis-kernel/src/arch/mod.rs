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
//! - `fn program_deadline(deadline_ns: Option<u64>)`, for the arch layer
//!   only: this CPU's one-shot timer interrupt at `monotonic_ns() ==
//!   deadline_ns` (None: disarmed). Everything arms the timer through
//!   `deadline.rs` instead, which remembers what is armed: `CpuTimer` (the
//!   `sis_hal::Timer`), `set_timer_deadline` (the interrupt handlers'
//!   disarm) and `arm_timer_by` (the scheduler's and the idle loop's "fire
//!   no later than").
//! - Interrupts: the arch entry saves the whole interrupted state on the
//!   interrupted task's own stack, acknowledges the interrupt (end of
//!   interrupt included) and calls `crate::sched::on_timer_interrupt()` or
//!   `crate::sched::on_console_interrupt()`; either may switch tasks before
//!   returning, and the task resumes later through the same return path.
//! - The NIC's interrupt (`device_interrupt.rs`, one-shot):
//!   `fn route_device_line(line: u32) -> bool` routes a device line, as the
//!   controller numbers it, to the boot CPU and enables it;
//!   `fn set_device_line_masked(line: u32, masked: bool)`. The dispatch
//!   masks the line, ends the interrupt and calls `crate::net::on_interrupt()`.
//! - `struct ConsoleUart`: the console UART driver as a `sis_hal::CharDevice`
//!   (polled: `read` never blocks, `write` waits for room and takes all).
//! - `fn console_write(bytes: &[u8])`: the same polled output as a plain
//!   function. No lock, no heap: the panic path and early boot call it.
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
//! - The secondaries' start, for `crate::secondary_main`:
//!   `fn quiet_before_start()` (before joining, interrupts off),
//!   `fn wait_for_start()` (sleep until the boot CPU's go or any interrupt;
//!   may return early) and `fn wake_secondaries()` (the boot CPU's go: the
//!   wake-up IPI to every secondary). On x86_64 the waiting CPU also has its
//!   timer disarmed, so it touches no device until the IPI.
//! - `fn wake_cpu(cpu: usize)`: sends CPU `cpu` (which joined the
//!   scheduler) an interrupt that only ends its `wait_for_event`: the
//!   scheduler's wake-up when it queued work while that CPU sleeps idle
//!   (LAPIC IPI on `WAKE_VECTOR` on x86_64, GIC SGI 1 on aarch64, an SBI
//!   supervisor software interrupt on riscv64). Callable in any context.
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
//!
//! User mode (`arch::user`, `<arch>/user.rs`; docs/SYSCALLS.md). A process
//! is a scheduler task whose body loops on `user::run`, like a hypervisor's
//! vCPU loop: every trap out of user mode (syscall, fault, interrupt) saves
//! the user registers and returns from `run` on the task's own kernel stack.
//! - `struct user::AddressSpace`: one process's translation tables. Its
//!   kernel half maps exactly what the kernel's own tables map, none of it
//!   reachable from user mode; its user half starts empty.
//!   - `fn new() -> Result<AddressSpace, Errno>` (ENOMEM without table memory);
//!   - `fn map(&mut self, virt: u64, frame: usize, writable: bool, executable: bool) -> Result<(), Errno>`:
//!     one 4 KiB page, user-readable, at a page-aligned `virt` in
//!     `[USER_BASE, USER_TOP)` (sis-syscall limits), onto the frame at
//!     physical (= kernel identity) address `frame`; EINVAL if misaligned,
//!     outside user space or already mapped, ENOMEM without table memory;
//!   - `fn unmap(&mut self, virt: u64) -> Option<usize>`: removes a page and
//!     returns its frame, with this CPU's stale translation flushed;
//!   - `Drop` frees its table frames (never the user frames: their owner
//!     unmaps them first) after making sure this CPU does not use it.
//!   Table and user frames are 4 KiB heap blocks (identity-mapped RAM).
//! - `struct user::Registers`: the whole user register file.
//!   `fn new(entry: u64, stack_top: u64, arg0: u64, arg1: u64)`,
//!   `fn syscall(&self) -> (u64, [u64; 6])` (number, arguments as the
//!   table in sis-syscall reads them), `fn set_return(&mut self, value: u64)`
//!   (the program counter is already past the syscall instruction when
//!   `run` returns `Syscall`), `fn program_counter(&self) -> u64`,
//!   `fn for_each_register(&self, visit: &mut dyn FnMut(&'static str, u64))`.
//! - `fn user::run(registers: &mut Registers, space: &AddressSpace) -> UserExit`:
//!   activates `space` on this CPU, enters user mode (EL0, U-mode, ring 3)
//!   and returns at the next trap out of it. On an interrupt it handles the
//!   interrupt as the kernel-mode path does (which may switch tasks) before
//!   returning `Interrupt`. Called by a scheduler task with interrupts in
//!   any state; returns with the state it was called with. `space` stays
//!   active after returning (syscalls need no table switch).
//! - `fn user::activate_kernel_tables(&InterruptsMasked)`: makes this CPU
//!   use the kernel's own tables if it uses a process's. It runs on every
//!   switch, so when the CPU already does it is a load from memory, not a
//!   control-register read (a helper call under TCG); masked interrupts
//!   (the argument proves it) keep the caller on this CPU meanwhile. The
//!   scheduler calls it before switching to another task, so a space is
//!   only ever active on the CPU running its process.

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

mod deadline;
pub use deadline::arm_timer_by;

mod device_interrupt;
pub use device_interrupt::{route_device_interrupt, unmask_device_interrupt};

#[cfg(any(target_arch = "aarch64", target_arch = "riscv64"))]
mod start_by_ipi;

/// Spins until `done()` holds or `monotonic_ns()` reaches `deadline_ns`;
/// whether `done()` held. Boot's bounded waits for the other CPUs. The
/// clock is read on every try: a spinning vCPU that took fewer of QEMU's
/// big lock (which aarch64's clock reads take) starved the CPUs it waited
/// for of host time (docs/kernel-smp.md, "Boot to prompt").
pub fn spin_until(mut done: impl FnMut() -> bool, deadline_ns: u64) -> bool {
    loop {
        if done() {
            return true;
        }
        if monotonic_ns() >= deadline_ns {
            return false;
        }
        core::hint::spin_loop();
    }
}

/// A device's MMIO base: the firmware's (device tree or ACPI) when it
/// described the device inside `window` (the range the page tables map as
/// device memory), else `fallback` (the QEMU machine's fixed address),
/// logged as a warning that names the device, so a fallback never goes
/// unnoticed. docs/kernel-devices.md lists which devices can fall back.
pub fn mmio_base(device: &'static str, described: Option<usize>, window: core::ops::Range<usize>, fallback: usize) -> usize {
    match described {
        Some(base) if window.contains(&base) => base,
        Some(base) => {
            crate::log_event!("devices", "outside the device window", Warn, device = device, described = base as u64, using = fallback as u64);
            fallback
        }
        None => {
            crate::log_event!("devices", "not described by firmware", Warn, device = device, using = fallback as u64);
            fallback
        }
    }
}

/// A device's interrupt number: the QEMU machine's fixed one until the
/// boot CPU takes the firmware's (`take_from_firmware`), once, before it
/// sets up the interrupt controller and before any other CPU starts.
#[cfg(any(target_arch = "aarch64", target_arch = "riscv64"))]
pub struct InterruptNumber {
    current: core::sync::atomic::AtomicU32,
    fallback: u32,
}

#[cfg(any(target_arch = "aarch64", target_arch = "riscv64"))]
impl InterruptNumber {
    pub const fn new(fallback: u32) -> Self {
        InterruptNumber { current: core::sync::atomic::AtomicU32::new(fallback), fallback }
    }

    pub fn get(&self) -> u32 {
        self.current.load(core::sync::atomic::Ordering::Relaxed)
    }

    /// Uses `described` when the firmware gave it inside `valid` (the
    /// numbers the controller has for such a source); otherwise keeps the
    /// fixed number and logs a warning that names the device, as
    /// `mmio_base` does for addresses.
    pub fn take_from_firmware(&self, device: &'static str, described: Option<u32>, valid: core::ops::Range<u32>) {
        let number = match described {
            Some(number) if valid.contains(&number) => number,
            Some(number) => {
                crate::log_event!("devices", "interrupt out of range", Warn, device = device, described = u64::from(number), using = u64::from(self.fallback));
                self.fallback
            }
            None => {
                crate::log_event!("devices", "interrupt not described by firmware", Warn, device = device, using = u64::from(self.fallback));
                self.fallback
            }
        };
        self.current.store(number, core::sync::atomic::Ordering::Relaxed);
    }
}

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
    /// Each slot's interrupt line (same index), where the tree gives one.
    pub virtio_mmio_interrupts: [Option<u32>; sis_mem::discover::MAX_VIRTIO_MMIO],
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
            virtio_mmio_interrupts: [None; sis_mem::discover::MAX_VIRTIO_MMIO],
            virtio_mmio_count: 0,
            pci_ecam: None,
        }
    }

    pub fn from_device_tree(tree: &sis_mem::discover::DeviceTree) -> Self {
        DeviceWindows {
            virtio_mmio: tree.virtio_mmio,
            virtio_mmio_interrupts: tree.virtio_mmio_interrupts,
            virtio_mmio_count: tree.virtio_mmio_count,
            pci_ecam: None,
        }
    }

    /// The virtio-mmio slots, each with its interrupt line.
    pub fn virtio_mmio(&self) -> impl Iterator<Item = (sis_mem::Region, Option<u32>)> + '_ {
        self.virtio_mmio[..self.virtio_mmio_count].iter().copied().zip(self.virtio_mmio_interrupts.iter().copied())
    }
}

/// Why user code trapped out of user mode without a syscall: what the
/// process is killed for (`killed: pid 5 (fault): page fault at 0x0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserFault {
    /// A load, store or fetch at `address` that its mapping does not allow
    /// (unmapped, kernel-only, write to read-only, fetch from no-execute).
    PageFault { address: u64 },
    /// An undefined or privileged instruction at `address`.
    IllegalInstruction { address: u64 },
    /// A misaligned access or program counter at `address`.
    Misaligned { address: u64 },
    /// A breakpoint instruction at `address`.
    Breakpoint { address: u64 },
    /// Any other exception, by the arch's own code (ESR EC, scause, vector).
    Other { code: u64, address: u64 },
}

impl UserFault {
    /// The words of the kill report: `page fault at 0x0`.
    pub fn describe(&self, out: &mut dyn core::fmt::Write) -> core::fmt::Result {
        match *self {
            UserFault::PageFault { address } => write!(out, "page fault at {address:#x}"),
            UserFault::IllegalInstruction { address } => write!(out, "illegal instruction at {address:#x}"),
            UserFault::Misaligned { address } => write!(out, "misaligned access at {address:#x}"),
            UserFault::Breakpoint { address } => write!(out, "breakpoint at {address:#x}"),
            UserFault::Other { code, address } => write!(out, "exception {code:#x} at {address:#x}"),
        }
    }
}

/// How `arch::user::run` returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserExit {
    /// The program made a syscall: `Registers::syscall` has it.
    Syscall,
    /// The program faulted: it must be killed (never resumed at the same
    /// instruction).
    Fault(UserFault),
    /// An interrupt arrived in user mode and was handled; resume the program.
    Interrupt,
}
