//! GIC setup, acknowledge and end of interrupt: the timer PPI and the
//! scheduler's wake-up SGI on every CPU, the UART's SPI on the boot CPU.
//!
//! The device tree gives the windows (distributor, then the CPU interface
//! for GICv2 or the redistributors for GICv3); QEMU virt (hw/arm/virt.c) has
//! a GICv2 by default (distributor 0x0800_0000, CPU interface 0x0801_0000)
//! and a GICv3 with `gic-version=3` (distributor 0x0800_0000, redistributors
//! from 0x080A_0000, CPU interface as system registers), which are the
//! fallbacks. Both versions are driven here, told apart by the distributor's
//! identification register. Register maps: GICv2 spec IHI 0048B, chapter
//! "Programmers' Model"; GICv3 spec IHI 0069, chapter "Programmers' Model"
//! (distributor, redistributor and ICC_* system registers). irq.rs takes
//! the interrupts.

use core::arch::asm;
use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};

use sis_mem::discover::Gic;

use super::{timer, uart};
use crate::percpu::MAX_CPUS;

/// The software-generated interrupt the scheduler sends an idle CPU when it
/// queued work for it (`send_wake`); its handler only ends the idle wait.
pub const WAKE_SGI: u32 = 1;

/// How to name each CPU (by CPU index) as an SGI target, noted by the CPU
/// itself when it sets up its interface: GICv2, its CPU interface bit (the
/// banked GICD_ITARGETSR0 reads it back); GICv3, its MPIDR affinity.
static SGI_TARGETS: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

/// QEMU virt's windows: the fallbacks when the device tree has no GIC.
const DEFAULT_DISTRIBUTOR_BASE: usize = 0x0800_0000;
const DEFAULT_GICV2_CPU_INTERFACE_BASE: usize = 0x0801_0000;
const DEFAULT_GICV3_REDISTRIBUTOR_BASE: usize = 0x080A_0000;

/// The windows in use; set once by `init` on the boot CPU, before the
/// secondaries start.
static DISTRIBUTOR_BASE: AtomicUsize = AtomicUsize::new(DEFAULT_DISTRIBUTOR_BASE);
static GICV2_CPU_INTERFACE_BASE: AtomicUsize = AtomicUsize::new(DEFAULT_GICV2_CPU_INTERFACE_BASE);
static GICV3_REDISTRIBUTOR_BASE: AtomicUsize = AtomicUsize::new(DEFAULT_GICV3_REDISTRIBUTOR_BASE);

fn distributor() -> usize {
    DISTRIBUTOR_BASE.load(Ordering::Relaxed)
}

fn cpu_interface() -> usize {
    GICV2_CPU_INTERFACE_BASE.load(Ordering::Relaxed)
}

fn redistributors() -> usize {
    GICV3_REDISTRIBUTOR_BASE.load(Ordering::Relaxed)
}
/// Each GICv3 redistributor has two 64 KiB frames: RD_base, then SGI_base.
const GICV3_REDISTRIBUTOR_STRIDE: usize = 0x2_0000;
const GICV3_SGI_FRAME: usize = 0x1_0000;
/// QEMU virt's redistributor region holds at most 123 of them; stop there
/// even if no frame says it is the last.
const GICV3_MAX_REDISTRIBUTORS: usize = 123;

// Distributor (both versions).
const GICD_CTLR: usize = 0x000;
const GICD_IGROUPR: usize = 0x080;
const GICD_ISENABLER: usize = 0x100;
const GICD_ICENABLER: usize = 0x180;
const GICD_IPRIORITYR: usize = 0x400;
const GICD_ITARGETSR: usize = 0x800;
const GICD_ICFGR: usize = 0xC00;
const GICV2_GICD_SGIR: usize = 0xF00;
const GICD_IROUTER: usize = 0x6000;
const GICV2_GICD_PIDR2: usize = 0xFE8;
const GICV3_GICD_PIDR2: usize = 0xFFE8;
const GICD_CTLR_RWP: u32 = 1 << 31; // GICv3: register write pending
                                    // GICv3 with one security state (QEMU virt without `secure=on`): DS = 1.
const GICV3_GICD_CTLR_ENABLE_GROUP1: u32 = 1 << 1;
const GICV3_GICD_CTLR_ARE: u32 = 1 << 4;
// GICv2 CPU interface.
const GICC_CTLR: usize = 0x000;
const GICC_PMR: usize = 0x004;
const GICC_IAR: usize = 0x00C;
const GICC_EOIR: usize = 0x010;
/// INTIDs 1020-1023 are special (1023: nothing pending); IHI 0069, 2.2.1.
const FIRST_SPECIAL_INTID: u32 = 1020;
// GICv3 redistributor, RD_base frame.
const GICR_TYPER: usize = 0x008;
const GICR_WAKER: usize = 0x014;
const GICR_TYPER_LAST: u64 = 1 << 4;
const GICR_WAKER_PROCESSOR_SLEEP: u32 = 1 << 1;
const GICR_WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;
// GICv3 redistributor, SGI_base frame: the SGI/PPI registers of that CPU.
const GICR_IGROUPR0: usize = 0x080;
const GICR_ISENABLER0: usize = 0x100;
const GICR_IPRIORITYR: usize = 0x400;

/// Priority of both sources; any value numerically below the mask works.
const SOURCE_PRIORITY: u8 = 0x80;
/// Priority mask: signal everything more urgent than 0xF0.
const PRIORITY_MASK: u32 = 0xF0;
/// Bounds the GICv3 "wait for the hardware" loops (register write pending,
/// redistributor wake-up); QEMU completes them at once.
const MAX_POLLS: u32 = 1_000_000;

const NOT_READY: u8 = 0;
const GICV2: u8 = 2;
const GICV3: u8 = 3;
static VERSION: AtomicU8 = AtomicU8::new(NOT_READY);

fn read(address: usize) -> u32 {
    // SAFETY: the callers pass GIC register addresses of QEMU virt (Device mapping).
    unsafe { read_volatile(address as *const u32) }
}

fn read_u64(address: usize) -> u64 {
    // SAFETY: as in `read`; GICR_TYPER is a 64-bit register.
    unsafe { read_volatile(address as *const u64) }
}

fn write(address: usize, value: u32) {
    // SAFETY: as in `read`: an aligned 32-bit store to a GIC register.
    unsafe { write_volatile(address as *mut u32, value) }
}

fn write_u64(address: usize, value: u64) {
    // SAFETY: as in `read`; GICD_IROUTER<n> is a 64-bit register.
    unsafe { write_volatile(address as *mut u64, value) }
}

fn write_byte(address: usize, value: u8) {
    // SAFETY: the priority and target registers are byte-accessible (IHI 0048B
    // and IHI 0069, their register descriptions); callers pass only those.
    unsafe { write_volatile(address as *mut u8, value) }
}

/// Sets bit `index % 32` of the bit-per-interrupt register array at `base`.
fn set_bit(base: usize, index: usize) {
    let register = base + (index / 32) * 4;
    write(register, read(register) | 1 << (index % 32));
}

/// Whether `init` found a GIC and routed the wake-up sources.
pub fn is_ready() -> bool {
    VERSION.load(Ordering::Relaxed) != NOT_READY
}

/// Routes the virtual timer PPI and the UART SPI to this (the boot) CPU.
/// With an interrupt controller it does not recognise it says so on the
/// console and leaves `wait_for_event` polling. `described` is the device
/// tree's GIC (None: QEMU virt's windows, logged by `arch::mmio_base`).
pub fn init(described: Option<Gic>) {
    let window = super::memory::DEVICE_WINDOW;
    DISTRIBUTOR_BASE.store(
        crate::arch::mmio_base("gic distributor", described.map(|gic| gic.distributor.start), window.clone(), DEFAULT_DISTRIBUTOR_BASE),
        Ordering::Relaxed,
    );
    if let Some(gic) = described {
        let second = Some(gic.cpu_interface_or_redistributors.start);
        if gic.version == 3 {
            GICV3_REDISTRIBUTOR_BASE.store(crate::arch::mmio_base("gicv3 redistributors", second, window, DEFAULT_GICV3_REDISTRIBUTOR_BASE), Ordering::Relaxed);
        } else {
            GICV2_CPU_INTERFACE_BASE.store(crate::arch::mmio_base("gicv2 cpu interface", second, window, DEFAULT_GICV2_CPU_INTERFACE_BASE), Ordering::Relaxed);
        }
    }
    // ArchRev, PIDR2 bits [7:4]: 1 = GICv1, 2 = GICv2, 3 = GICv3, 4 = GICv4.
    // Each version keeps PIDR2 at its own offset. A GICv2 distributor is only
    // 4 KiB, so the GICv3 offset is read only when the GICv2 one said no
    // (reading past a GICv2 is an external abort; within a GICv3's 64 KiB
    // the GICv2 offset reads 0).
    let gicv2_revision = (read(distributor() + GICV2_GICD_PIDR2) >> 4) & 0xF;
    if matches!(gicv2_revision, 1 | 2) {
        init_gicv2();
        VERSION.store(GICV2, Ordering::Relaxed);
        return;
    }
    let gicv3_revision = (read(distributor() + GICV3_GICD_PIDR2) >> 4) & 0xF;
    if matches!(gicv3_revision, 3 | 4) && has_gicv3_system_registers() {
        if init_gicv3() {
            VERSION.store(GICV3, Ordering::Relaxed);
        } else {
            uart::write_bytes(b"aarch64: GICv3 redistributor of the boot CPU not found; idle will poll\r\n");
        }
    } else {
        uart::write_bytes(b"aarch64: no GICv2 or GICv3 at the device tree's distributor; idle will poll\r\n");
    }
}

fn init_gicv2() {
    write(distributor() + GICD_CTLR, 0);
    route_spi_here(uart::INTID.get() as usize, GICV2);
    write(distributor() + GICD_CTLR, 1);
    init_gicv2_cpu_interface();
}

/// The banked per-CPU part of GICv2: the timer PPI's priority and enable
/// (GICD_IPRIORITYR0-7 and GICD_ISENABLER0 are banked per CPU) and the CPU interface.
fn init_gicv2_cpu_interface() {
    for intid in [timer::VIRTUAL_TIMER_INTID.get(), WAKE_SGI] {
        write_byte(distributor() + GICD_IPRIORITYR + intid as usize, SOURCE_PRIORITY);
        set_bit(distributor() + GICD_ISENABLER, intid as usize);
    }
    // The banked ITARGETSR0 reads back this CPU's own interface bit.
    note_sgi_target(u64::from(read(distributor() + GICD_ITARGETSR) & 0xFF));
    write(cpu_interface() + GICC_PMR, PRIORITY_MASK);
    write(cpu_interface() + GICC_CTLR, 1);
}

/// Sets up the calling secondary CPU's interface and timer PPI (`init`
/// on the boot CPU did the distributor).
pub fn init_secondary_cpu() -> bool {
    match VERSION.load(Ordering::Relaxed) {
        GICV2 => {
            init_gicv2_cpu_interface();
            true
        }
        GICV3 => match find_own_redistributor() {
            Some(redistributor) => {
                init_gicv3_cpu(redistributor);
                true
            }
            None => false,
        },
        _ => false,
    }
}

/// An acknowledged interrupt: its INTID and what ends it.
#[derive(Clone, Copy)]
pub struct Acknowledged {
    pub intid: u32,
    /// The acknowledge register as read: a GICv2 SGI carries its source CPU
    /// there (GICC_IAR[12:10]), and its end must name it too.
    raw: u32,
}

/// The highest-priority pending interrupt, now active; None when spurious.
pub fn acknowledge() -> Option<Acknowledged> {
    let (intid, raw) = match VERSION.load(Ordering::Relaxed) {
        GICV2 => {
            // INTID in [9:0], and for an SGI its source CPU in [12:10].
            let raw = read(cpu_interface() + GICC_IAR) & 0x1FFF;
            (raw & 0x3FF, raw)
        }
        GICV3 => {
            let value: u64;
            // SAFETY: reading ICC_IAR1_EL1 acknowledges the group 1 interrupt; the interface is enabled.
            unsafe { asm!("mrs {}, icc_iar1_el1", out(reg) value, options(nomem, nostack)) };
            let intid = (value & 0xFF_FFFF) as u32;
            (intid, intid)
        }
        _ => return None,
    };
    (intid < FIRST_SPECIAL_INTID).then_some(Acknowledged { intid, raw })
}

/// Ends `interrupt` (priority drop and deactivation: EOImode is 0).
pub fn end_of_interrupt(interrupt: Acknowledged) {
    match VERSION.load(Ordering::Relaxed) {
        GICV2 => write(cpu_interface() + GICC_EOIR, interrupt.raw),
        GICV3 => {
            // SAFETY: writing the INTID just acknowledged to ICC_EOIR1_EL1 ends it.
            unsafe { asm!("msr icc_eoir1_el1, {}", "isb", in(reg) u64::from(interrupt.raw), options(nomem, nostack)) };
        }
        _ => {}
    }
}

/// Sends `WAKE_SGI` to CPU `cpu` (a CPU index whose interface is set up).
pub fn send_wake(cpu: usize) {
    let Some(target) = SGI_TARGETS.get(cpu).map(|target| target.load(Ordering::Relaxed)) else { return };
    match VERSION.load(Ordering::Relaxed) {
        // GICD_SGIR: TargetListFilter 0 (the list), CPUTargetList [23:16], the INTID.
        GICV2 => write(distributor() + GICV2_GICD_SGIR, (target as u32) << 16 | WAKE_SGI),
        GICV3 => {
            // ICC_SGI1R_EL1 (IHI 0069, 12.11.22): Aff3 [55:48], Aff2 [39:32],
            // Aff1 [23:16], the INTID [27:24], TargetList [15:0] (one bit per
            // Aff0 value 0-15).
            let (aff3, aff2, aff1, aff0) = ((target >> 32) & 0xFF, (target >> 16) & 0xFF, (target >> 8) & 0xFF, target & 0xFF);
            if aff0 >= 16 {
                return;
            }
            let value = aff3 << 48 | aff2 << 32 | u64::from(WAKE_SGI) << 24 | aff1 << 16 | 1 << aff0;
            // SAFETY: generates one group 1 SGI to the CPU named; no other effect.
            unsafe { asm!("msr icc_sgi1r_el1, {}", "isb", in(reg) value, options(nomem, nostack)) };
        }
        _ => {}
    }
}

/// Notes how to target this CPU with an SGI (`send_wake`).
fn note_sgi_target(target: u64) {
    let cpu = super::irq::cpu_index();
    if let Some(slot) = SGI_TARGETS.get(cpu) {
        slot.store(target, Ordering::Relaxed);
    }
}

/// Routes SPI `intid` to the calling CPU, level-sensitive, and enables
/// it: the UART's and the NIC's (both hold their line while they have
/// something to say). GICv2 names the CPU by its interface bit, which the
/// read-only ITARGETSR0-7 read back (IHI 0048B, GICD_ITARGETSRn; Linux
/// finds it so too); GICv3 by its affinity, in group 1.
fn route_spi_here(intid: usize, version: u8) {
    write_byte(distributor() + GICD_IPRIORITYR + intid, SOURCE_PRIORITY);
    make_level_sensitive(intid);
    if version == GICV3 {
        set_bit(distributor() + GICD_IGROUPR, intid);
        write_u64(distributor() + GICD_IROUTER + intid * 8, own_affinity().1);
    } else {
        let own_target = (read(distributor() + GICD_ITARGETSR) & 0xFF) as u8;
        write_byte(distributor() + GICD_ITARGETSR + intid, own_target);
    }
    set_bit(distributor() + GICD_ISENABLER, intid);
}

/// Routes the NIC's SPI to this (the boot) CPU; false without a GIC or
/// for an INTID that is no SPI (or is the UART's).
pub fn route_device_line(intid: u32) -> bool {
    let version = VERSION.load(Ordering::Relaxed);
    if version == NOT_READY || !(32..FIRST_SPECIAL_INTID).contains(&intid) || intid == uart::INTID.get() {
        return false;
    }
    route_spi_here(intid as usize, version);
    true
}

/// Masks or unmasks an SPI at the distributor (write-one registers: the
/// other bits are left alone). A GICv3 disable is complete once RWP clears.
pub fn set_device_line_masked(intid: u32, masked: bool) {
    let index = intid as usize;
    let register = if masked { GICD_ICENABLER } else { GICD_ISENABLER };
    write(distributor() + register + (index / 32) * 4, 1 << (index % 32));
    if masked && VERSION.load(Ordering::Relaxed) == GICV3 {
        poll(|| read(distributor() + GICD_CTLR) & GICD_CTLR_RWP == 0);
    }
}

fn make_level_sensitive(index: usize) {
    // ICFGR: two bits per INTID, the upper one set means edge triggered.
    let register = distributor() + GICD_ICFGR + (index / 16) * 4;
    write(register, read(register) & !(1 << ((index % 16) * 2 + 1)));
}

/// ID_AA64PFR0_EL1.GIC (bits 27:24) != 0: the ICC_* system registers exist.
fn has_gicv3_system_registers() -> bool {
    let features: u64;
    // SAFETY: reading an ID register has no side effect.
    unsafe { asm!("mrs {}, id_aa64pfr0_el1", out(reg) features, options(nomem, nostack)) };
    (features >> 24) & 0xF != 0
}

/// This CPU's affinity as GICv3 packs it: Aff3.Aff2.Aff1.Aff0 in 32 bits
/// (GICR_TYPER[63:32]) and, for GICD_IROUTER, Aff3 at bits 39:32.
fn own_affinity() -> (u32, u64) {
    let mpidr: u64;
    // SAFETY: reading MPIDR_EL1 has no side effect.
    unsafe { asm!("mrs {}, mpidr_el1", out(reg) mpidr, options(nomem, nostack)) };
    let low = mpidr & 0xFF_FFFF;
    let aff3 = (mpidr >> 32) & 0xFF;
    ((aff3 << 24 | low) as u32, aff3 << 32 | low)
}

/// Waits (bounded) until `condition` holds; false if it never did.
fn poll(mut condition: impl FnMut() -> bool) -> bool {
    (0..MAX_POLLS).any(|_| condition())
}

/// This CPU's redistributor frame: the one whose TYPER names our affinity.
fn find_own_redistributor() -> Option<usize> {
    let (packed_affinity, _) = own_affinity();
    (0..GICV3_MAX_REDISTRIBUTORS)
        .map(|index| redistributors() + index * GICV3_REDISTRIBUTOR_STRIDE)
        .scan(false, |after_last, frame| {
            // Stop after the frame whose TYPER.Last is set.
            if *after_last {
                return None;
            }
            let typer = read_u64(frame + GICR_TYPER);
            *after_last = typer & GICR_TYPER_LAST != 0;
            Some((frame, typer))
        })
        .find(|&(_, typer)| (typer >> 32) as u32 == packed_affinity)
        .map(|(frame, _)| frame)
}

fn init_gicv3() -> bool {
    let Some(redistributor) = find_own_redistributor() else {
        return false;
    };

    // Distributor: affinity routing on, group 1 enabled (IHI 0069, GICD_CTLR
    // with DS = 1); RWP says when a CTLR write took effect.
    write(distributor() + GICD_CTLR, GICV3_GICD_CTLR_ARE);
    poll(|| read(distributor() + GICD_CTLR) & GICD_CTLR_RWP == 0);
    write(distributor() + GICD_CTLR, GICV3_GICD_CTLR_ARE | GICV3_GICD_CTLR_ENABLE_GROUP1);
    poll(|| read(distributor() + GICD_CTLR) & GICD_CTLR_RWP == 0);

    route_spi_here(uart::INTID.get() as usize, GICV3);
    init_gicv3_cpu(redistributor);
    true
}

/// Per-CPU part of GICv3: wake the redistributor, enable the timer PPI,
/// turn on the CPU interface.
fn init_gicv3_cpu(redistributor: usize) {
    // Wake this CPU's redistributor (GICR_WAKER), then its PPI: group 1, priority, enable.
    let waker = redistributor + GICR_WAKER;
    write(waker, read(waker) & !GICR_WAKER_PROCESSOR_SLEEP);
    poll(|| read(waker) & GICR_WAKER_CHILDREN_ASLEEP == 0);
    let sgi_frame = redistributor + GICV3_SGI_FRAME;
    for intid in [timer::VIRTUAL_TIMER_INTID.get(), WAKE_SGI] {
        let intid = intid as usize;
        set_bit(sgi_frame + GICR_IGROUPR0, intid);
        write_byte(sgi_frame + GICR_IPRIORITYR + intid, SOURCE_PRIORITY);
        set_bit(sgi_frame + GICR_ISENABLER0, intid);
    }
    // The GICD_IROUTER form: Aff3 at bits 39:32, Aff2-Aff0 at 23:0.
    note_sgi_target(own_affinity().1);

    // CPU interface: system registers on, priority mask, group 1 on.
    // SAFETY: the ICC_* registers exist (checked by the caller); EL2, if
    // present, allowed EL1 to use them (boot.rs sets ICC_SRE_EL2).
    unsafe {
        asm!(
            "mrs {tmp}, icc_sre_el1",
            "orr {tmp}, {tmp}, #1",
            "msr icc_sre_el1, {tmp}",
            "isb",
            "msr icc_pmr_el1, {mask}",
            "msr icc_igrpen1_el1, {one}",
            "isb",
            tmp = out(reg) _,
            mask = in(reg) u64::from(PRIORITY_MASK),
            one = in(reg) 1u64,
            options(nomem, nostack),
        );
    }
}

/// Stops this CPU's interface from signalling interrupts, so that WFI in a
/// halted CPU sleeps for good even if a source stays pending. Only the
/// caller's interface is affected (GICv2 banks GICC per CPU; GICv3's is
/// per-CPU system registers). A CPU that never enabled its interface (the
/// secondaries) has nothing to do.
pub fn disable_this_cpu() {
    match VERSION.load(Ordering::Relaxed) {
        GICV2 => write(cpu_interface() + GICC_CTLR, 0),
        GICV3 => {
            let system_register_enable: u64;
            // SAFETY: the ICC_* registers exist on a GICv3 machine; ICC_SRE_EL1
            // is always accessible at EL1 (boot.rs set ICC_SRE_EL2.Enable).
            unsafe { asm!("mrs {}, icc_sre_el1", out(reg) system_register_enable, options(nomem, nostack)) };
            // ICC_IGRPEN1_EL1 is only usable once SRE is set, i.e. on the CPU that ran `init`.
            if system_register_enable & 1 != 0 {
                // SAFETY: writing 0 to ICC_IGRPEN1_EL1 disables group 1 interrupts for this CPU only.
                unsafe { asm!("msr icc_igrpen1_el1, xzr", "isb", options(nomem, nostack)) };
            }
        }
        _ => {}
    }
}
