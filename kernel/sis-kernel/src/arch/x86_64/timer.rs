//! Time: the monotonic clock is the TSC, and idle waits use the local APIC
//! timer in one-shot mode; both are calibrated once, for 2 ms, against the
//! ACPI PM timer (3.579545 MHz, ACPI 6.5 section 4.8.3.3).

use core::sync::atomic::{AtomicU64, Ordering};

use super::acpi::Platform;
use super::cpu::{self, inl};
use super::{apic, uart};

/// ACPI PM timer frequency in Hz (fixed by the ACPI spec).
const PM_TIMER_HZ: u64 = 3_579_545;
/// q35's PM timer port (PMBASE 0x600 + 8), when the FADT does not say.
const DEFAULT_PM_TIMER_PORT: u16 = 0x608;
/// Calibration window: 7159 PM ticks = 2 ms, short for boot yet long enough
/// that the port reads at both ends (~1 µs each under TCG) add < 0.1 % error.
const CALIBRATION_PM_TICKS: u32 = 7_159;
/// Bound on PM timer reads, so a dead timer cannot hang boot: about 100
/// times the reads a 2 ms window takes (a port read costs ~1 µs), so at most
/// ~0.2 s is lost before the fallback.
const MAX_CALIBRATION_READS: u32 = 200_000;
/// Used when calibration fails (and logged as a `clock` warning): QEMU's APIC
/// bus runs at 1 GHz, and 1 GHz is a plausible TSC; the clock is then only
/// approximate.
const FALLBACK_HZ: u64 = 1_000_000_000;

static TSC_AT_BOOT: AtomicU64 = AtomicU64::new(0);
/// Nanoseconds per TSC tick as a 32.32 fixed-point number.
static NS_PER_TSC_TICK_FIXED: AtomicU64 = AtomicU64::new(1 << 32);
static APIC_TIMER_HZ: AtomicU64 = AtomicU64::new(FALLBACK_HZ);


/// The 24-bit PM timer counter.
fn read_pm_timer(port: u16) -> u32 {
    // SAFETY: the FADT's PM_TMR_BLK (or q35's); reading it has no side effect.
    unsafe { inl(port) & 0x00ff_ffff }
}

/// Measures the TSC and APIC timer rates over `window_pm_ticks`, or `None`
/// when the PM timer does not advance. The reads at both ends come in the
/// same order right after a PM timer read, so their delays cancel out.
fn calibrate(port: u16, window_pm_ticks: u32) -> Option<(u64, u64)> {
    apic::timer_start(u32::MAX, false);
    // Start on a tick edge so the window is whole ticks.
    let first = read_pm_timer(port);
    let mut reads = 0;
    let mut start = first;
    while start == first {
        reads += 1;
        if reads > MAX_CALIBRATION_READS {
            return None;
        }
        start = read_pm_timer(port);
    }
    let tsc_start = cpu::rdtsc();
    let apic_start = apic::timer_current();
    let mut elapsed_pm;
    loop {
        elapsed_pm = read_pm_timer(port).wrapping_sub(start) & 0x00ff_ffff;
        if elapsed_pm >= window_pm_ticks {
            break;
        }
        reads += 1;
        if reads > MAX_CALIBRATION_READS {
            return None;
        }
    }
    let tsc_end = cpu::rdtsc();
    let apic_end = apic::timer_current();
    apic::timer_start(0, false);
    let elapsed_pm = u64::from(elapsed_pm);
    let tsc_hz = tsc_end.wrapping_sub(tsc_start) * PM_TIMER_HZ / elapsed_pm;
    let apic_hz = u64::from(apic_start.saturating_sub(apic_end)) * PM_TIMER_HZ / elapsed_pm;
    (tsc_hz > 0 && apic_hz > 0).then_some((tsc_hz, apic_hz))
}

/// Calibrates the clocks; `monotonic_ns` counts from here.
pub fn init(platform: &Platform) {
    let port = platform.pm_timer_port.unwrap_or(DEFAULT_PM_TIMER_PORT);
    // A first, tiny run warms up the code path: under TCG, code runs only
    // after QEMU translated it, and translating in the middle of the real
    // window made both rates read 5-8 % low.
    let rates = calibrate(port, 2).and_then(|_| calibrate(port, CALIBRATION_PM_TICKS));
    if rates.is_none() {
        // The logger needs no heap, so this is a record like any other
        // (in dmesg and the panic report's recent records).
        crate::log_event!(
            "clock",
            "calibration failed",
            Warn,
            reason = "the ACPI PM timer did not advance",
            pm_timer_port = u64::from(port),
            assumed_hz = FALLBACK_HZ
        );
    }
    let (tsc_hz, apic_hz) = rates.unwrap_or((FALLBACK_HZ, FALLBACK_HZ));
    NS_PER_TSC_TICK_FIXED.store((1_000_000_000u128 << 32).div_ceil(u128::from(tsc_hz)) as u64, Ordering::Relaxed);
    APIC_TIMER_HZ.store(apic_hz, Ordering::Relaxed);
    TSC_AT_BOOT.store(cpu::rdtsc().max(1), Ordering::Relaxed);
}

/// Nanoseconds since `init` (0 before it, so the clock never goes back).
/// QEMU gives every vCPU the same TSC (invariant, started together), so
/// readings on different CPUs agree.
pub fn monotonic_ns() -> u64 {
    let at_boot = TSC_AT_BOOT.load(Ordering::Relaxed);
    if at_boot == 0 {
        return 0;
    }
    let ticks = cpu::rdtsc().saturating_sub(at_boot);
    let fixed = NS_PER_TSC_TICK_FIXED.load(Ordering::Relaxed);
    ((u128::from(ticks) * u128::from(fixed)) >> 32) as u64
}

/// Raises TIMER_VECTOR on this CPU once `monotonic_ns()` reaches
/// `deadline_ns` (one-shot local APIC timer); `None` stops it. Deadlines
/// beyond the counter's width (~4 s at 1 GHz) fire early: callers re-check.
pub(in crate::arch) fn program_deadline(deadline_ns: Option<u64>) {
    match deadline_ns {
        Some(deadline) => {
            let remaining_ns = deadline.saturating_sub(monotonic_ns());
            let ticks = u128::from(remaining_ns) * u128::from(APIC_TIMER_HZ.load(Ordering::Relaxed)) / 1_000_000_000;
            apic::timer_start(ticks.clamp(1, u128::from(u32::MAX)) as u32, true);
        }
        None => apic::timer_start(0, false),
    }
}

/// Called with interrupts off: sleeps with `hlt` until COM1 has a byte,
/// `deadline_ns` passes, or any other interrupt arrives (callers re-check
/// their own conditions); returns with interrupts off again.
///
/// `sti; hlt` ends the masked stretch: `sti` takes effect only after the
/// next instruction, so an interrupt that arrives after the caller's checks
/// is taken during `hlt` and ends it rather than being lost before it
/// (SDM Vol. 2B, STI). Its handler runs right there.
pub fn wait_for_event(deadline_ns: Option<u64>) {
    // Only the boot CPU takes COM1's interrupt, so only it looks (a port
    // read is a trip through QEMU's I/O thread).
    if super::irq::cpu_index() == 0 && uart::has_input() {
        return;
    }
    if let Some(deadline) = deadline_ns {
        let now = monotonic_ns();
        if now >= deadline {
            return;
        }
        crate::arch::arm_timer_by(deadline, now);
    }
    // SAFETY: the IDT handles every vector; `hlt` resumes after the
    // interrupt, and `cli` restores the caller's interrupts-off state.
    unsafe { core::arch::asm!("sti", "hlt", "cli", options(nomem, nostack)) };
}
