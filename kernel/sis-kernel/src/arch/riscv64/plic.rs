//! The PLIC (where the device tree says; QEMU virt's 0x0c00_0000 otherwise): routes the UART's receive interrupt to the boot hart.
//!
//! Register map from the RISC-V PLIC Specification v1.0.0, chapter 3
//! ("Memory Map"): priorities at base + 4 * source, enable bits per context
//! at base + 0x2000 + 0x80 * context, threshold and claim/complete per
//! context at base + 0x20_0000 + 0x1000 * context (+0 and +4). On virt each
//! hart h has two contexts: 2h for M-mode, 2h + 1 for S-mode
//! (hw/riscv/virt.c creates the PLIC with hart config "MS").

use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicUsize, Ordering};

/// MMIO base of the PLIC on QEMU virt (`VIRT_PLIC` in hw/riscv/virt.c): the
/// fallback when the device tree has no PLIC.
pub const DEFAULT_BASE: usize = 0x0c00_0000;

/// The PLIC in use; set once by the boot hart before it enables a source.
static BASE: AtomicUsize = AtomicUsize::new(DEFAULT_BASE);

/// Uses the PLIC at `base` (the device tree's).
pub fn use_base(base: usize) {
    BASE.store(base, Ordering::Relaxed);
}

fn plic_base() -> usize {
    BASE.load(Ordering::Relaxed)
}
const ENABLE_OFFSET: usize = 0x2000;
const ENABLE_STRIDE: usize = 0x80;
const CONTEXT_OFFSET: usize = 0x20_0000;
const CONTEXT_STRIDE: usize = 0x1000;
const CLAIM_COMPLETE: usize = 4;
/// Sources 1..=1023 exist; virt uses 1..=95 (`VIRT_IRQCHIP_NUM_SOURCES`).
const MAX_SOURCE: u32 = 1023;
/// The source numbers a device may have (0 means "no interrupt").
pub const SOURCES: core::ops::Range<u32> = 1..MAX_SOURCE + 1;
/// Claims per `acknowledge_all` call (the UART and the NIC are enabled).
const MAX_CLAIMS_PER_WAKE: usize = 4;

fn write_word(address: usize, value: u32) {
    // SAFETY: callers pass addresses inside the PLIC's register window
    // (computed from its base from in-range sources and contexts); MMIO is
    // identity-mapped because satp is bare.
    unsafe { write_volatile(address as *mut u32, value) }
}

fn read_word(address: usize) -> u32 {
    // SAFETY: as in `write_word`.
    unsafe { read_volatile(address as *const u32) }
}

/// The S-mode context of `hart_id` on virt.
pub fn supervisor_context(hart_id: usize) -> usize {
    2 * hart_id + 1
}

/// Route `source` to `context` with priority 1 and threshold 0, so any
/// pending request of it raises the context's external interrupt (SEIP).
pub fn enable(source: u32, context: usize) {
    if source == 0 || source > MAX_SOURCE {
        return;
    }
    write_word(plic_base() + 4 * source as usize, 1);
    set_enabled(source, context, true);
    write_word(plic_base() + CONTEXT_OFFSET + CONTEXT_STRIDE * context, 0);
}

/// Claim and complete every request pending for `context` (PLIC spec
/// 3.9/3.10); true if the NIC's source was among them. The NIC's source is
/// disabled before it is completed (one-shot, arch/device_interrupt.rs).
///
/// Called from the external-interrupt trap (irq.rs `dispatch`) before the
/// console handler reads the UART: the UART line is level-triggered and
/// stays asserted until its bytes are read, so the PLIC raises it again
/// if they are not drained.
pub fn acknowledge_all(context: usize) -> bool {
    let claim = plic_base() + CONTEXT_OFFSET + CONTEXT_STRIDE * context + CLAIM_COMPLETE;
    let mut device = false;
    // Bounded: a still-asserted level source is claimable again at once, so
    // "until zero" could repeat; a few rounds cover every source we enable.
    for _ in 0..MAX_CLAIMS_PER_WAKE {
        let source = read_word(claim);
        if source == 0 {
            break;
        }
        if crate::arch::device_interrupt::is_device_interrupt(source) {
            crate::arch::device_interrupt::mask_device_interrupt();
            device = true;
        }
        write_word(claim, source);
    }
    device
}

/// Sets or clears `source`'s enable bit for `context`.
fn set_enabled(source: u32, context: usize, enabled: bool) {
    let source = source as usize;
    let enable_word = plic_base() + ENABLE_OFFSET + ENABLE_STRIDE * context + 4 * (source / 32);
    let bits = read_word(enable_word);
    write_word(enable_word, if enabled { bits | 1 << (source % 32) } else { bits & !(1 << (source % 32)) });
}

/// Routes the NIC's source to the boot hart's S-mode context; false for
/// a number that is no source (or is the UART's).
pub fn route_device_line(source: u32) -> bool {
    if !SOURCES.contains(&source) || source == super::uart::IRQ.get() {
        return false;
    }
    enable(source, supervisor_context(super::boot::boot_hart_id()));
    true
}

/// Masks or unmasks the NIC's source at the boot hart's context.
pub fn set_device_line_masked(source: u32, masked: bool) {
    let context = supervisor_context(super::boot::boot_hart_id());
    set_enabled(source, context, !masked);
    if !masked {
        // QEMU 7.2's PLIC re-evaluates its outputs on a priority or
        // threshold write, not on an enable write: without this, a source
        // that became pending while masked would wait for the next
        // unrelated interrupt. Rewriting the threshold (0) is harmless on
        // a PLIC that does not need it.
        write_word(plic_base() + CONTEXT_OFFSET + CONTEXT_STRIDE * context, 0);
    }
}
