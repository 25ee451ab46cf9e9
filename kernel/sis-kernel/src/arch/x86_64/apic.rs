//! Interrupt controllers: the boot CPU's local xAPIC (timer, EOI, IPIs; Intel
//! SDM Vol. 3A chapter 10), the I/O APIC that routes COM1's IRQ (82093AA
//! datasheet), and the legacy 8259 PICs, remapped and masked for good.

use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use super::acpi::Platform;
use super::cpu::{outb, rdmsr, MSR_APIC_BASE};
use super::descriptors::{PIC_VECTOR_BASE, SPURIOUS_VECTOR, TIMER_VECTOR};
use crate::percpu::MAX_CPUS;
use crate::sync::InterruptsMasked;

/// The architectural default (SDM Vol. 3A 10.4.1): the fallback when
/// neither the MADT nor IA32_APIC_BASE gives the base.
const DEFAULT_LOCAL_APIC_BASE: u64 = 0xfee0_0000;
/// The PC's I/O APIC address, used when the MADT lists none.
const DEFAULT_IO_APIC_BASE: u64 = 0xfec0_0000;
/// Where the APICs may be: the top 32 MiB below 4 GiB, which paging.rs
/// maps uncached. Bases outside it are not used (`arch::mmio_base`).
const APIC_WINDOW: core::ops::Range<usize> = 0xfe00_0000..0x1_0000_0000;

// Local APIC register offsets (SDM Vol. 3A Table 10-1).
const ID: usize = 0x20;
const TASK_PRIORITY: usize = 0x80;
const END_OF_INTERRUPT: usize = 0xb0;
const SPURIOUS_INTERRUPT: usize = 0xf0;
const INTERRUPT_COMMAND_LOW: usize = 0x300;
const INTERRUPT_COMMAND_HIGH: usize = 0x310;
const LVT_TIMER: usize = 0x320;
const TIMER_INITIAL_COUNT: usize = 0x380;
const TIMER_CURRENT_COUNT: usize = 0x390;
const TIMER_DIVIDE: usize = 0x3e0;

const LVT_MASKED: u32 = 1 << 16;
const ICR_DELIVERY_PENDING: u32 = 1 << 12;

static LOCAL_APIC_BASE: AtomicU64 = AtomicU64::new(DEFAULT_LOCAL_APIC_BASE);

fn local_read(register: usize) -> u32 {
    let address = LOCAL_APIC_BASE.load(Ordering::Relaxed) as usize + register;
    // SAFETY: a local APIC register inside the uncached identity-mapped MMIO page.
    unsafe { core::ptr::read_volatile(address as *const u32) }
}

fn local_write(register: usize, value: u32) {
    let address = LOCAL_APIC_BASE.load(Ordering::Relaxed) as usize + register;
    // SAFETY: a local APIC register inside the uncached identity-mapped MMIO page.
    unsafe { core::ptr::write_volatile(address as *mut u32, value) };
}

/// Masks both 8259s after moving their vectors to PIC_VECTOR_BASE, so a
/// stray legacy interrupt can never look like a CPU exception (the BIOS left
/// them at 0x08-0x0f, on top of #DF..#GP).
fn disable_legacy_pics() {
    // SAFETY: the 8259 command/data ports; the ICW1-ICW4 sequence of the
    // 8259A datasheet, then OCW1 masking every line.
    unsafe {
        outb(0x20, 0x11); // ICW1: edge, cascade, ICW4 follows
        outb(0xa0, 0x11);
        outb(0x21, PIC_VECTOR_BASE); // ICW2: vector base
        outb(0xa1, PIC_VECTOR_BASE + 8);
        outb(0x21, 4); // ICW3: slave on IRQ 2
        outb(0xa1, 2);
        outb(0x21, 1); // ICW4: 8086 mode
        outb(0xa1, 1);
        outb(0x21, 0xff); // OCW1: mask all
        outb(0xa1, 0xff);
    }
}

/// Boot CPU: PICs off, local APIC software-enabled with the spurious vector,
/// priority 0 (accept every vector), timer masked until `timer::init`.
///
/// The base is the MADT's; the CPU's own IA32_APIC_BASE is where the APIC
/// answers, so a MADT that disagrees with it is logged and the MSR wins.
pub fn init_boot_cpu(platform: &Platform) {
    disable_legacy_pics();
    // SAFETY: IA32_APIC_BASE exists on every x86_64 CPU.
    let from_msr = Some(unsafe { rdmsr(MSR_APIC_BASE) } & 0x000f_ffff_ffff_f000).filter(|&base| base != 0);
    let fallback = from_msr.unwrap_or(DEFAULT_LOCAL_APIC_BASE);
    let described = platform.local_apic.map(|base| base as usize);
    let mut base = crate::arch::mmio_base("local apic", described, APIC_WINDOW, fallback as usize) as u64;
    if let Some(msr) = from_msr.filter(|&msr| msr != base) {
        crate::log_event!("devices", "local apic base disagrees", Warn, madt = base, ia32_apic_base = msr);
        base = msr;
    }
    LOCAL_APIC_BASE.store(base, Ordering::Relaxed);
    init_this_cpu();
}

/// The per-CPU part (every CPU, the secondaries from smp.rs): local APIC
/// software-enabled with the spurious vector, priority 0, timer stopped.
pub fn init_this_cpu() {
    APIC_IDS[super::irq::cpu_index().min(MAX_CPUS - 1)].store(local_apic_id(), Ordering::Relaxed);
    local_write(SPURIOUS_INTERRUPT, 0x100 | u32::from(SPURIOUS_VECTOR)); // bit 8: APIC enable
    local_write(TASK_PRIORITY, 0);
    local_write(LVT_TIMER, LVT_MASKED | u32::from(TIMER_VECTOR));
    local_write(TIMER_DIVIDE, 0b1011); // divide by 1
    local_write(TIMER_INITIAL_COUNT, 0);
}

/// This CPU's local APIC ID.
pub fn local_apic_id() -> u8 {
    (local_read(ID) >> 24) as u8
}

/// Signals the end of the in-service interrupt.
pub fn end_of_interrupt() {
    local_write(END_OF_INTERRUPT, 0);
}

/// Starts the APIC timer counting down from `ticks` (one-shot), raising
/// TIMER_VECTOR at zero when `interrupt` is set; 0 stops it.
pub fn timer_start(ticks: u32, interrupt: bool) {
    let mask = if interrupt { 0 } else { LVT_MASKED };
    local_write(LVT_TIMER, mask | u32::from(TIMER_VECTOR)); // bits 17-18 = 0: one-shot
    local_write(TIMER_INITIAL_COUNT, ticks);
}

/// The APIC timer's current count.
pub fn timer_current() -> u32 {
    local_read(TIMER_CURRENT_COUNT)
}

/// Each CPU's local APIC ID by CPU index, noted by `init_this_cpu`, for
/// `send_ipi_to`.
static APIC_IDS: [AtomicU8; MAX_CPUS] = [const { AtomicU8::new(0) }; MAX_CPUS];

/// Sends an IPI to CPU `cpu` (a CPU index; it ran `init_this_cpu`) and
/// waits, bounded, for the APIC to accept it. `command` as for
/// `send_ipi_to_others`. The two ICR writes must not be split by another
/// IPI from this CPU, so interrupts stay masked across them.
pub fn send_ipi_to(cpu: usize, command: u32) {
    let masked = InterruptsMasked::new();
    let apic_id = APIC_IDS[cpu.min(MAX_CPUS - 1)].load(Ordering::Relaxed);
    local_write(INTERRUPT_COMMAND_HIGH, u32::from(apic_id) << 24);
    local_write(INTERRUPT_COMMAND_LOW, command); // destination shorthand 00: the one above
    for _ in 0..100_000 {
        if local_read(INTERRUPT_COMMAND_LOW) & ICR_DELIVERY_PENDING == 0 {
            break;
        }
        core::hint::spin_loop();
    }
    drop(masked);
}

/// Sends an IPI to every CPU but this one (ICR destination shorthand 0b11)
/// and waits, bounded, for the APIC to accept it. `command` holds the
/// delivery mode, level and vector bits of the ICR's low word.
pub fn send_ipi_to_others(command: u32) {
    local_write(INTERRUPT_COMMAND_HIGH, 0);
    local_write(INTERRUPT_COMMAND_LOW, (0b11 << 18) | command);
    for _ in 0..100_000 {
        if local_read(INTERRUPT_COMMAND_LOW) & ICR_DELIVERY_PENDING == 0 {
            break;
        }
        core::hint::spin_loop();
    }
}

/// The NIC's I/O APIC pin, once `route_device_line` routed it.
static DEVICE_PIN: spin::Once<IoApicPin> = spin::Once::new();

/// Routes the NIC's PCI interrupt, which the firmware wired to ISA IRQ
/// `line` (its Interrupt Line register; SeaBIOS routes PCI INTx to IRQs
/// 10 and 11, and QEMU's MADT overrides them as level, active high), to
/// `DEVICE_VECTOR` on this (the boot) CPU. False for a line that is no ISA
/// IRQ, the UART's, or that the I/O APIC does not take.
pub fn route_device_line(line: u32) -> bool {
    let Ok(isa_irq) = u8::try_from(line) else { return false };
    let Some(platform) = super::acpi::platform() else { return false };
    if isa_irq >= 16 || isa_irq == super::uart::COM1_ISA_IRQ || DEVICE_PIN.get().is_some() {
        return false;
    }
    // Masked, so the interrupt cannot come before its pin is known.
    let _masked = InterruptsMasked::new();
    let Some(pin) = route_isa_irq(platform, isa_irq, super::descriptors::DEVICE_VECTOR) else { return false };
    DEVICE_PIN.call_once(|| pin);
    true
}

/// Masks or unmasks the NIC's pin (the one `route_device_line` routed
/// `_line` to).
pub fn set_device_line_masked(_line: u32, masked: bool) {
    if let Some(&pin) = DEVICE_PIN.get() {
        let _masked = InterruptsMasked::new();
        set_pin_masked(pin, masked);
    }
}

/// One I/O APIC input: the chip's MMIO base and the pin.
#[derive(Clone, Copy)]
pub struct IoApicPin {
    base: usize,
    pin: u32,
}

/// Routes ISA IRQ `isa_irq` to `vector` on this CPU through the I/O APIC,
/// honouring the MADT's interrupt source override for it; the pin, or
/// None when the override names a GSI below the I/O APIC's first.
pub fn route_isa_irq(platform: &Platform, isa_irq: u8, vector: u8) -> Option<IoApicPin> {
    let described = platform.io_apic.map(|(base, _)| base as usize);
    let io_apic_base = crate::arch::mmio_base("io apic", described, APIC_WINDOW, DEFAULT_IO_APIC_BASE as usize);
    let gsi_base = platform.io_apic.map_or(0, |(_, gsi_base)| gsi_base);
    let (gsi, flags) = match platform.isa_override(isa_irq) {
        Some(routing) => (routing.gsi, routing.flags),
        None => (u32::from(isa_irq), 0),
    };
    let pin = IoApicPin { base: io_apic_base, pin: gsi.checked_sub(gsi_base)? };
    // MPS INTI flags: polarity 0b11 = active low, trigger 0b11 = level;
    // 0b00 means "bus default", which for ISA is active high, edge.
    let active_low = flags & 0b11 == 0b11;
    let level = (flags >> 2) & 0b11 == 0b11;
    let low = u32::from(vector) | (u32::from(active_low) << 13) | (u32::from(level) << 15); // fixed, physical, unmasked
    let high = u32::from(local_apic_id()) << 24;
    // Only the boot CPU routes: at boot (the UART), and when the NIC starts.
    write_redirection(pin, 1, high);
    write_redirection(pin, 0, low);
    Some(pin)
}

/// Masks or unmasks `pin` (bit 16 of its redirection entry's low word).
pub fn set_pin_masked(pin: IoApicPin, masked: bool) {
    let low = read_redirection(pin, 0);
    write_redirection(pin, 0, if masked { low | LVT_MASKED } else { low & !LVT_MASKED });
}

/// IOREGSEL/IOWIN of the I/O APIC (identity-mapped uncached): the
/// redirection entry of a pin is registers 0x10 + 2 * pin (`half` 0, the
/// low word) and the next one (`half` 1). IOREGSEL then IOWIN is not
/// atomic: after boot only the NIC's pin is touched, with interrupts
/// masked, by its task (unmask) and its interrupt (mask), which can only
/// fire once the unmask is written.
fn write_redirection(pin: IoApicPin, half: u32, value: u32) {
    // SAFETY: IOREGSEL/IOWIN of the I/O APIC at the base the MADT gave.
    unsafe {
        core::ptr::write_volatile(pin.base as *mut u32, 0x10 + 2 * pin.pin + half);
        core::ptr::write_volatile((pin.base + 0x10) as *mut u32, value);
    }
}

fn read_redirection(pin: IoApicPin, half: u32) -> u32 {
    // SAFETY: as in `write_redirection`.
    unsafe {
        core::ptr::write_volatile(pin.base as *mut u32, 0x10 + 2 * pin.pin + half);
        core::ptr::read_volatile((pin.base + 0x10) as *const u32)
    }
}
