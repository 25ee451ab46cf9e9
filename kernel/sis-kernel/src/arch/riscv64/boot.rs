//! Entry from OpenSBI: stacks, BSS, FPU, trap vector, then the Rust boot sequence up to `kernel_main`.
//!
//! Entry state (SBI spec v1.0, and OpenSBI's fw_dynamic as QEMU uses it):
//! S-mode, satp = 0 (no translation), a0 = hart id of the boot hart (the
//! firmware's choice: not always 0), a1 = physical address of the device
//! tree. The other harts wait in OpenSBI until `sbi_hart_start` (smp.rs)
//! sends them to `sis_secondary_start`; one that OpenSBI 1.1's start race
//! sends to `_start` instead is caught there (see below).

use core::arch::global_asm;
use core::fmt::Write;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::{exit, idle, irq, memory, mmu, plic, smp, timer, uart};
use crate::arch::{BootInfo, DeviceWindows};

/// Harts we have stacks for (the boot hart included): as many as the
/// device tree parser records.
pub const MAX_HARTS: usize = sis_mem::discover::MAX_CPUS;
/// The boot hart runs the whole kernel (shell, tasks' parent) on this one.
const BOOT_STACK_BYTES: usize = 256 * 1024;
/// Secondaries only check in and park: 16 KiB. A power of two, so the
/// entry code finds a hart's stack with a shift (no `mul`: module-level asm
/// does not reliably get the M extension enabled).
const SECONDARY_STACK_SHIFT: u32 = 14;
const SECONDARY_STACK_BYTES: usize = 1 << SECONDARY_STACK_SHIFT;
/// One per hart, for the trap handler and the fault report it calls: 16 KiB.
const TRAP_STACK_SHIFT: u32 = 14;
const TRAP_STACK_BYTES: usize = 1 << TRAP_STACK_SHIFT;

// Stack area layout, low to high: trap stacks for hart index 0..MAX_HARTS,
// the boot stack, then the secondaries' stacks for index 1..MAX_HARTS.
// Index 0 is the boot hart; smp.rs numbers the others. There is no MMU
// guard page (satp is bare): an overflowing boot stack runs into the top
// trap stack, which only a fault on the last hart would use.
const TRAP_STACKS_BYTES: usize = TRAP_STACK_BYTES * MAX_HARTS;
const BOOT_STACK_TOP_OFFSET: usize = TRAP_STACKS_BYTES + BOOT_STACK_BYTES;
const STACKS_BYTES: usize = BOOT_STACK_TOP_OFFSET + SECONDARY_STACK_BYTES * (MAX_HARTS - 1);

/// sstatus.FS = Initial (bits 14:13 = 01, privileged spec 4.1.1.1): the
/// riscv64gc target's code may use the F/D registers anywhere (lp64d),
/// and with FS = Off every FP instruction would be an illegal instruction.
const SSTATUS_FS_INITIAL: usize = 1 << 13;

global_asm!(
    ".section .text.boot, \"ax\"",
    ".globl _start",
    "_start:",
    // Only the first hart to get here is the boot hart. OpenSBI v1.1 (the
    // one QEMU 7.2 bundles) marks a hart START_PENDING in sbi_hart_start
    // *before* storing its new start address (fixed in later releases), so
    // a secondary that reaches its wait loop in that window leaves for the
    // stale address: here, with a1 = the device tree. Seen under host load
    // as a second hart re-clearing .bss on the boot stack.
    "la t0, sis_boot_claimed",
    "li t1, 1",
    ".option push",
    ".option arch, +a",
    "amoswap.d.aq t1, t1, (t0)",
    ".option pop",
    "bnez t1, sis_late_secondary",
    // gp first: Rust code may use gp-relative addressing (psABI); norelax
    // so the assembler does not turn this into "mv gp, gp".
    ".option push",
    ".option norelax",
    "la gp, __global_pointer$",
    ".option pop",
    "csrw sie, zero",
    "csrci sstatus, 2",
    "li t0, {fs_initial}",
    "csrs sstatus, t0",
    "la t0, __stacks_bottom",
    "li t1, {trap_stack}",
    "add t1, t0, t1",
    "csrw sscratch, t1",
    "li t1, {boot_stack_top}",
    "add sp, t0, t1",
    "la t0, sis_trap_vector",
    "csrw stvec, t0",
    // Clear .bss by doublewords (the linker script keeps both ends 8-aligned).
    "la t0, __bss_start",
    "la t1, __bss_end",
    "1:",
    "bgeu t0, t1, 2f",
    "sd zero, 0(t0)",
    "addi t0, t0, 8",
    "j 1b",
    "2:",
    // Zero ra and fp: the frame-record chain ends here. a0/a1 still hold
    // the hart id and device tree pointer.
    "li ra, 0",
    "li s0, 0",
    "tail {boot_main}",
    "",
    // A secondary that took the stale path above: find the index smp.rs
    // gave it (stored, as hart id + 1, before sbi_hart_start was called) and
    // continue as if it had come in the right way; park if it has none.
    ".section .text",
    ".balign 4",
    "sis_late_secondary:",
    "la t0, {secondary_hart_ids}",
    "addi t2, a0, 1",
    "li t3, 1",
    "li t4, {max_harts}",
    "3:",
    "bgeu t3, t4, 5f",
    "slli t5, t3, 3",
    "add t5, t0, t5",
    "ld t6, 0(t5)",
    "beq t6, t2, 4f",
    "addi t3, t3, 1",
    "j 3b",
    "4:",
    "mv a1, t3",
    "j sis_secondary_start",
    "5:",
    "csrw sie, zero",
    "csrci sstatus, 2",
    "6:",
    "wfi",
    "j 6b",
    "",
    // Secondary harts (sbi_hart_start): a0 = hart id, a1 = our index 1..MAX_HARTS.
    ".section .text",
    ".balign 4",
    ".globl sis_secondary_start",
    "sis_secondary_start:",
    ".option push",
    ".option norelax",
    "la gp, __global_pointer$",
    ".option pop",
    "csrw sie, zero",
    "csrci sstatus, 2",
    "li t0, {fs_initial}",
    "csrs sstatus, t0",
    "la t0, __stacks_bottom",
    // sscratch = trap stack top of index a1 = bottom + (a1 + 1) * TRAP_STACK.
    "addi t2, a1, 1",
    "slli t2, t2, {trap_stack_shift}",
    "add t2, t0, t2",
    "csrw sscratch, t2",
    // sp = bottom + BOOT_STACK_TOP + a1 * SECONDARY_STACK.
    "slli t2, a1, {secondary_stack_shift}",
    "li t1, {boot_stack_top}",
    "add t2, t2, t1",
    "add sp, t0, t2",
    "la t0, sis_trap_vector",
    "csrw stvec, t0",
    "li ra, 0",
    "li s0, 0",
    "tail {secondary_main}",
    "",
    // In .data, not .bss: the boot hart clears .bss after claiming.
    ".section .data",
    ".balign 8",
    "sis_boot_claimed:",
    ".dword 0",
    "",
    // The stacks themselves: NOLOAD (linker.ld), so never zeroed.
    ".section .stacks, \"aw\", @nobits",
    ".balign 4096",
    ".globl __stacks_bottom",
    "__stacks_bottom:",
    ".space {stacks_bytes}",
    fs_initial = const SSTATUS_FS_INITIAL,
    trap_stack = const TRAP_STACK_BYTES,
    trap_stack_shift = const TRAP_STACK_SHIFT,
    secondary_stack_shift = const SECONDARY_STACK_SHIFT,
    boot_stack_top = const BOOT_STACK_TOP_OFFSET,
    stacks_bytes = const STACKS_BYTES,
    boot_main = sym boot_main,
    secondary_main = sym smp::secondary_main,
    secondary_hart_ids = sym smp::SECONDARY_HART_IDS,
    max_harts = const MAX_HARTS,
);

extern "C" {
    static __kernel_start: u8;
    static __kernel_end: u8;
    fn sis_secondary_start();
}

/// Physical address secondaries start at (for `sbi_hart_start`).
pub fn secondary_entry_address() -> usize {
    sis_secondary_start as *const () as usize
}

static BOOT_HART_ID: AtomicUsize = AtomicUsize::new(0);

/// The hart OpenSBI entered `_start` on.
pub fn boot_hart_id() -> usize {
    BOOT_HART_ID.load(Ordering::Relaxed)
}

/// First Rust code on the boot hart: stack, BSS, FP and stvec are set up.
extern "C" fn boot_main(hart_id: usize, device_tree_address: usize) -> ! {
    // The CPU index first: every lock reads it.
    irq::set_cpu_index(0);
    // Clock first, so monotonic_ns() counts the whole kernel boot.
    timer::start();
    BOOT_HART_ID.store(hart_id, Ordering::Relaxed);

    let kernel_start = core::ptr::addr_of!(__kernel_start) as usize;
    let kernel_end = core::ptr::addr_of!(__kernel_end) as usize;
    memory::assume_ram(kernel_start, kernel_end);
    // SAFETY: a1 at entry is OpenSBI's device tree pointer (or garbage we
    // reject by its magic and size).
    let platform = unsafe { memory::discover(device_tree_address) };
    let platform = match platform {
        Ok(platform) => Some(platform),
        Err(error) => {
            let _ = write!(
                uart::Writer,
                "riscv64: warning: device tree at {device_tree_address:#x} unusable ({error:?}); no memory map, one CPU\r\n"
            );
            None
        }
    };
    timer::set_timebase(platform.as_ref().and_then(|platform| platform.timebase_hz));
    // The devices the tree names (QEMU virt's addresses where it names none,
    // logged): the console moves to its UART before interrupts are routed.
    let devices = platform.as_ref().map(|platform| platform.devices).unwrap_or_default();
    let window = memory::DEVICE_WINDOW;
    let base_of = |region: Option<sis_mem::Region>| region.map(|region| region.start);
    uart::use_base(crate::arch::mmio_base("console uart", base_of(devices.console_uart), window.clone(), uart::DEFAULT_BASE));
    uart::init();
    plic::use_base(crate::arch::mmio_base("plic", base_of(devices.plic), window.clone(), plic::DEFAULT_BASE));
    uart::IRQ.take_from_firmware("console uart", devices.console_interrupt, plic::SOURCES);
    exit::use_finisher(crate::arch::mmio_base("sifive_test", base_of(devices.test_finisher), window, exit::SIFIVE_TEST_BASE));
    let empty = sis_mem::MemoryMap::default();
    // SAFETY: boot hart, once, before the secondaries start; the map covers
    // the image, its stacks and the devices used (mmu.rs).
    unsafe { mmu::build(platform.as_ref().map_or(&empty, |platform| &platform.memory)) };
    mmu::enable_on_this_hart();
    idle::init(hart_id);
    if let Some(platform) = &platform {
        smp::start_secondaries(hart_id, platform.cpu_ids());
    }

    crate::kernel_main(BootInfo {
        devices: platform.as_ref().map_or(DeviceWindows::none(), DeviceWindows::from_device_tree),
        memory: platform.map(|platform| platform.memory).unwrap_or_default(),
        kernel_end,
    })
}
