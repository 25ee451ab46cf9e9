//! Entry code: `_start` for the boot CPU, the PSCI entry point for secondaries, and the boot order.
//!
//! QEMU's `-kernel` loader for an ELF on `-M virt` (hw/arm/boot.c) starts the
//! boot CPU at the ELF entry with MMU and caches off, all of DAIF masked, at
//! EL1 (EL2 with `virtualization=on`), x0 = 0 and the DTB at the start of RAM
//! (memory.rs); the other CPUs stay powered off until PSCI CPU_ON
//! (docs/boot-aarch64.md).

use core::arch::global_asm;

use super::{gic, irq, memory, mmu, psci, smp, timer, trap, uart};
use crate::arch::{BootInfo, DeviceWindows};

// The assembly below runs before any Rust: no stack yet, FP/SIMD still trapped
// (aarch64-unknown-none is built with +neon, so any Rust function may use the
// SIMD registers, e.g. in memcpy), and .bss still holds garbage.
global_asm!(
    ".section .text.boot, \"ax\"",
    ".globl _start",
    "_start:",
    "    mov x19, x0",                     // DTB address under the Linux arm64 protocol; 0 for QEMU's ELF boot
    "    mrs x20, CurrentEL",
    "    lsr x20, x20, #2",                // entry exception level: picks the PSCI conduit
    "    bl __sis_drop_to_el1",
    "    bl __sis_enable_fp",
    // Two stacks (see "Stacks" below): SP_EL1 for exception handlers, SP_EL0
    // for everything else, selected with SPSel = 0.
    "    adrp x1, __boot_exception_stack_top",
    "    add x1, x1, :lo12:__boot_exception_stack_top",
    "    mov sp, x1",                      // SPSel is 1 at entry: this sets SP_EL1
    "    adrp x1, __boot_stack_top",
    "    add x1, x1, :lo12:__boot_stack_top",
    "    msr sp_el0, x1",
    "    msr spsel, #0",
    // Clear .bss: the linker script aligns both ends to 16 bytes.
    "    adrp x1, __bss_start",
    "    add x1, x1, :lo12:__bss_start",
    "    adrp x2, __bss_end",
    "    add x2, x2, :lo12:__bss_end",
    "1:  cmp x1, x2",
    "    b.hs 2f",
    "    stp xzr, xzr, [x1], #16",
    "    b 1b",
    // A zero frame pointer and link register end every backtrace here.
    "2:  mov x29, xzr",
    "    mov x30, xzr",
    "    mov x0, x19",
    "    mov x1, x20",
    "    bl {primary_main}",
    "3:  wfi",
    "    b 3b",
    "",
    // Secondary CPUs enter here from PSCI CPU_ON with MMU off, DAIF masked and
    // x0 = the context id we passed: the top of this CPU's 16 KiB stack slot,
    // whose upper half becomes SP_EL0 and lower half SP_EL1.
    ".globl __sis_secondary_entry",
    "__sis_secondary_entry:",
    "    mov x19, x0",
    "    bl __sis_drop_to_el1",
    "    bl __sis_enable_fp",
    "    sub x9, x19, #0x2000",
    "    mov sp, x9",
    "    msr sp_el0, x19",
    "    msr spsel, #0",
    // Vectors before the MMU, so even a fault while enabling it is reported.
    "    adrp x0, __sis_vectors",
    "    add x0, x0, :lo12:__sis_vectors",
    "    msr vbar_el1, x0",
    "    isb",
    "    bl __sis_enable_mmu",             // the boot CPU built the tables before CPU_ON
    "    mov x29, xzr",
    "    mov x30, xzr",
    "    mov x0, x19",                     // the stack top says which slot, i.e. which CPU index
    "    bl {secondary_main}",
    "4:  wfi",
    "    b 4b",
    "",
    // CPACR_EL1.FPEN = 0b11: FP/SIMD instructions do not trap at EL1 (Arm ARM DDI 0487, CPACR_EL1).
    "__sis_enable_fp:",
    "    mov x9, #(3 << 20)",
    "    msr cpacr_el1, x9",
    "    isb",
    "    ret",
    "",
    // Entered at EL2 (`-M virt,virtualization=on`): run the kernel at EL1 with
    // the counter and timers reachable and FP not trapped, then return to the
    // caller at EL1h with DAIF masked. At EL1 this is a plain `ret`.
    "__sis_drop_to_el1:",
    "    mrs x9, CurrentEL",
    "    lsr x9, x9, #2",
    "    cmp x9, #2",
    "    b.ne 5f",
    "    mov x9, #(1 << 31)",              // HCR_EL2.RW: EL1 is AArch64; nothing else trapped
    "    msr hcr_el2, x9",
    "    mrs x9, cnthctl_el2",
    "    orr x9, x9, #3",                  // EL1PCTEN | EL1PCEN: EL1 may use the physical counter/timer
    "    msr cnthctl_el2, x9",
    "    msr cntvoff_el2, xzr",            // virtual count == physical count
    "    mov x9, #0x33ff",                 // CPTR_EL2 RES1 bits, TFP clear: FP/SIMD not trapped
    "    msr cptr_el2, x9",
    "    msr hstr_el2, xzr",
    // With GICv3 system registers (ID_AA64PFR0_EL1.GIC != 0), let EL1 use
    // them: ICC_SRE_EL2 = Enable | DIB | DFB | SRE (IHI 0069, ICC_SRE_EL2).
    "    mrs x9, id_aa64pfr0_el1",
    "    ubfx x9, x9, #24, #4",
    "    cbz x9, 6f",
    "    mov x9, #0xf",
    "    msr icc_sre_el2, x9",
    "    isb",
    "6:",
    "    mov x9, #0x0800",
    "    movk x9, #0x30d0, lsl #16",       // SCTLR_EL1 RES1 bits, MMU and caches off
    "    msr sctlr_el1, x9",
    "    mov x9, #0x3c5",                  // SPSR_EL2: EL1h, D A I F masked
    "    msr spsr_el2, x9",
    "    msr elr_el2, x30",
    "    eret",
    "5:  ret",
    primary_main = sym primary_main,
    secondary_main = sym smp::secondary_main,
);

// Stacks: kernel code runs on SP_EL0 (PSTATE.SP = 0) and every exception
// switches to SP_EL1, a separate stack per CPU (Arm ARM DDI 0487, "Stack
// pointer register selection"). So a fault caused by a bad or exhausted
// kernel stack (an overflow into the guard page, a task switched to a corrupt
// stack pointer) is still reported: the handler never needs the stack that
// failed. `switch_context` moves SP_EL0 only.

/// The boot CPU's Rust entry, in the order the arch contract lists.
extern "C" fn primary_main(device_tree_address: usize, entry_exception_level: u64) -> ! {
    // The CPU index first: every lock reads it (TPIDR_EL1 is UNKNOWN at reset).
    irq::set_cpu_index(0);
    // Vectors next: from here on any fault is reported instead of looping.
    trap::install_vectors();
    psci::set_conduit(if entry_exception_level == 2 { psci::Conduit::Smc } else { psci::Conduit::Hvc });
    timer::init();
    // The tree first (silent unless it is unusable), so the console is the
    // UART it names from the first byte on.
    let discovered = memory::discover(device_tree_address);
    let described_uart = discovered.devices.console_uart.map(|region| region.start);
    uart::init(crate::arch::mmio_base("console uart", described_uart, memory::DEVICE_WINDOW, uart::DEFAULT_BASE));
    // SAFETY: only the boot CPU runs here, before any secondary is started;
    // the map covers this image, its stacks and the devices used (mmu.rs).
    unsafe { mmu::build_and_enable(&discovered.memory) };
    trap::unmask_serror();
    // GIC INTIDs: PPIs are 16-31, SPIs 32-1019 (Arm IHI 0069, INTID ranges).
    timer::VIRTUAL_TIMER_INTID.take_from_firmware("virtual timer", discovered.devices.virtual_timer_interrupt, 16..32);
    uart::INTID.take_from_firmware("console uart", discovered.devices.console_interrupt, 32..1020);
    gic::init(discovered.devices.gic);
    uart::enable_receive_interrupt();
    smp::start_secondaries(discovered.cpu_ids());
    crate::kernel_main(BootInfo {
        memory: discovered.memory,
        kernel_end: memory::kernel_end(),
        devices: DeviceWindows::from_device_tree(&discovered),
    })
}
