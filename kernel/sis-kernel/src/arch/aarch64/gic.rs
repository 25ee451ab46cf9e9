//! GICv2 setup so the timer and UART lines reach the boot CPU and wake WFI (nothing is ever acknowledged).
//!
//! Register map: Arm Generic Interrupt Controller Architecture Specification
//! v2 (IHI 0048B), chapter 4. QEMU virt (hw/arm/virt.c) puts the distributor
//! at 0x0800_0000 and the CPU interface at 0x0801_0000 with the default
//! `gic-version=2`. See timer.rs for why interrupts stay masked in PSTATE.

use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicBool, Ordering};

use super::{timer, uart};

const DISTRIBUTOR_BASE: usize = 0x0800_0000;
const CPU_INTERFACE_BASE: usize = 0x0801_0000;

const GICD_CTLR: usize = 0x000;
const GICD_ISENABLER: usize = 0x100;
const GICD_IPRIORITYR: usize = 0x400;
const GICD_ITARGETSR: usize = 0x800;
const GICD_ICFGR: usize = 0xC00;
const GICD_PIDR2: usize = 0xFE8;
const GICC_CTLR: usize = 0x000;
const GICC_PMR: usize = 0x004;

/// Priority of both sources; any value numerically below the mask works.
const SOURCE_PRIORITY: u8 = 0x80;
/// Priority mask: signal everything more urgent than 0xF0.
const PRIORITY_MASK: u32 = 0xF0;

static READY: AtomicBool = AtomicBool::new(false);

fn read(address: usize) -> u32 {
    // SAFETY: the callers pass GICv2 register addresses of QEMU virt (Device mapping).
    unsafe { read_volatile(address as *const u32) }
}

fn write(address: usize, value: u32) {
    // SAFETY: as in `read`: an aligned 32-bit store to a GICv2 register.
    unsafe { write_volatile(address as *mut u32, value) }
}

fn write_byte(address: usize, value: u8) {
    // SAFETY: GICD_IPRIORITYRn and GICD_ITARGETSRn are byte-accessible
    // (IHI 0048B, their register descriptions); callers pass only those.
    unsafe { write_volatile(address as *mut u8, value) }
}

/// Whether `init` found a GICv2 and routed the wake-up sources.
pub fn is_ready() -> bool {
    READY.load(Ordering::Relaxed)
}

/// Routes the virtual timer PPI and the UART SPI to this (the boot) CPU.
/// With another GIC version (e.g. `-M virt,gic-version=3`, whose CPU interface
/// is not memory-mapped here) it says so on the console and leaves idle polling.
pub fn init() {
    // ArchRev, PIDR2 bits [7:4]: 1 = GICv1, 2 = GICv2 (IHI 0048B, identification registers).
    let architecture_revision = (read(DISTRIBUTOR_BASE + GICD_PIDR2) >> 4) & 0xF;
    if !matches!(architecture_revision, 1 | 2) {
        uart::write_bytes(b"aarch64: interrupt controller is not a GICv2; idle will poll\r\n");
        return;
    }
    write(DISTRIBUTOR_BASE + GICD_CTLR, 0);
    // ITARGETSR0..7 are read-only and read back this CPU's own target bit
    // (IHI 0048B, GICD_ITARGETSRn), which is how Linux finds it too.
    let own_target = (read(DISTRIBUTOR_BASE + GICD_ITARGETSR) & 0xFF) as u8;
    for intid in [timer::VIRTUAL_TIMER_INTID, uart::INTID] {
        let index = intid as usize;
        write_byte(DISTRIBUTOR_BASE + GICD_IPRIORITYR + index, SOURCE_PRIORITY);
        if intid >= 32 {
            // SPIs need a target CPU and a trigger mode; PPIs have fixed ones.
            write_byte(DISTRIBUTOR_BASE + GICD_ITARGETSR + index, own_target);
            let config_register = DISTRIBUTOR_BASE + GICD_ICFGR + (index / 16) * 4;
            let edge_bit = 1 << ((index % 16) * 2 + 1);
            write(config_register, read(config_register) & !edge_bit); // level sensitive
        }
        // ISENABLER: write-1-to-set, one bit per INTID.
        write(DISTRIBUTOR_BASE + GICD_ISENABLER + (index / 32) * 4, 1 << (index % 32));
    }
    write(DISTRIBUTOR_BASE + GICD_CTLR, 1);
    write(CPU_INTERFACE_BASE + GICC_PMR, PRIORITY_MASK);
    write(CPU_INTERFACE_BASE + GICC_CTLR, 1);
    READY.store(true, Ordering::Relaxed);
}

/// Stops this CPU's interface from signalling interrupts, so that WFI in a
/// halted CPU sleeps for good even if a source stays pending. The GICC
/// registers are banked per CPU: only the caller's interface is affected.
pub fn disable_this_cpu() {
    if is_ready() {
        write(CPU_INTERFACE_BASE + GICC_CTLR, 0);
    }
}
