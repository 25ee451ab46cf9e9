//! Monotonic clock, the per-CPU deadline timer and idle: the Generic
//! Timer's virtual counter and EL1 virtual timer, woken by WFI.
//!
//! The virtual timer's PPI is the scheduler's tick (irq.rs): each CPU arms
//! its own timer for the end of a slice or for the idle loop's next deadline.
//! Idle runs WFI with IRQs masked in PSTATE: WFI still wakes when the GIC
//! signals a pending IRQ, whatever PSTATE.I says (Arm ARM DDI 0487, "WFI
//! wake-up events"), so a byte or tick that lands between the idle loop's
//! checks and the WFI is not lost; the handler runs once the loop unmasks.
//! QEMU halts the vCPU's host thread in WFI, so an idle CPU costs no host CPU.

use core::arch::asm;
use core::sync::atomic::{AtomicU64, Ordering};

use super::{gic, uart};
use crate::arch::InterruptNumber;

/// The EL1 virtual timer's PPI: from the device tree, else INTID 27 (Arm
/// Base System Architecture; QEMU virt's tree lists it as PPI 11 in
/// `/timer`).
pub static VIRTUAL_TIMER_INTID: InterruptNumber = InterruptNumber::new(27);

/// Counter value at boot: `monotonic_ns` counts from here.
static BOOT_TICKS: AtomicU64 = AtomicU64::new(0);
/// Counter frequency in Hz (CNTFRQ_EL0).
static FREQUENCY_HZ: AtomicU64 = AtomicU64::new(FALLBACK_FREQUENCY_HZ);
/// Nanoseconds per tick as 32.32 fixed point (16 << 32 at 62.5 MHz).
static NS_PER_TICK_FIXED: AtomicU64 = AtomicU64::new(16 << 32);

/// QEMU's counter rate (62.5 MHz, `GTIMER_SCALE` 16 ns) for the case where
/// CNTFRQ_EL0 reads 0: firmware is meant to program it and `-kernel` boots
/// have none, but QEMU presets it.
const FALLBACK_FREQUENCY_HZ: u64 = 62_500_000;
const NANOS_PER_SECOND: u128 = 1_000_000_000;

const CNTV_CTL_ENABLE: u64 = 1 << 0;

/// Records the boot tick and the counter frequency; stops this CPU's timers.
pub fn init() {
    let frequency: u64;
    // SAFETY: reading CNTFRQ_EL0 is always permitted at EL1 and has no side effect.
    unsafe { asm!("mrs {}, cntfrq_el0", out(reg) frequency, options(nomem, nostack)) };
    if frequency != 0 {
        FREQUENCY_HZ.store(frequency, Ordering::Relaxed);
    }
    let frequency = FREQUENCY_HZ.load(Ordering::Relaxed);
    NS_PER_TICK_FIXED.store(((NANOS_PER_SECOND << 32) / u128::from(frequency)) as u64, Ordering::Relaxed);
    BOOT_TICKS.store(ticks(), Ordering::Relaxed);
    stop_this_cpu();
}

/// CNTKCTL_EL1 (UNKNOWN out of reset): user mode may read the virtual
/// count (EL0VCTEN, bit 1) and nothing else. In particular it cannot touch
/// the timer registers (EL0VTEN, EL0PTEN clear): a process that could stop
/// the virtual timer would stop the preemption tick.
const USER_TIMER_ACCESS: u64 = 1 << 1;

/// Disables this CPU's virtual and physical EL1 timers, whose enable bits
/// are UNKNOWN out of reset, so they cannot hold an interrupt line high,
/// and sets what user mode may do with them (`USER_TIMER_ACCESS`).
pub fn stop_this_cpu() {
    // SAFETY: writing 0 to CNTV_CTL_EL0 / CNTP_CTL_EL0 disables the timers;
    // CNTKCTL_EL1 only governs EL0 access; EL1 may always write all three.
    unsafe {
        asm!(
            "msr cntv_ctl_el0, xzr",
            "msr cntp_ctl_el0, xzr",
            "msr cntkctl_el1, {access}",
            "isb",
            access = in(reg) USER_TIMER_ACCESS,
            options(nomem, nostack),
        );
    }
}

/// The virtual count. The ISB keeps the read from being performed early,
/// ahead of the code before it (Arm ARM DDI 0487, Generic Timer: counter
/// reads are not ordered otherwise), so readings never go back relative to
/// program order.
fn ticks() -> u64 {
    let count: u64;
    // SAFETY: CNTVCT_EL0 is readable at EL1 (EL2, if present, was told not to trap it).
    unsafe { asm!("isb", "mrs {}, cntvct_el0", out(reg) count, options(nomem, nostack)) };
    count
}

/// Nanoseconds since `init`: ticks times a 32.32 fixed-point ns-per-tick
/// (one multiply, no division: the clock is read on every task switch).
/// The factor is rounded down, so the clock never runs ahead; at 62.5 MHz
/// it is exact (16 ns per tick).
pub fn monotonic_ns() -> u64 {
    let elapsed = ticks().wrapping_sub(BOOT_TICKS.load(Ordering::Relaxed));
    let nanos = (u128::from(elapsed) * u128::from(NS_PER_TICK_FIXED.load(Ordering::Relaxed))) >> 32;
    u64::try_from(nanos).unwrap_or(u64::MAX)
}

/// The counter value at which `monotonic_ns()` first reads at least `deadline_ns`.
fn deadline_ticks(deadline_ns: u64) -> u64 {
    let frequency = u128::from(FREQUENCY_HZ.load(Ordering::Relaxed));
    // Rounded up, so a wake-up at this tick is never before the deadline.
    let delta = (u128::from(deadline_ns) * frequency).div_ceil(NANOS_PER_SECOND);
    let delta = u64::try_from(delta).unwrap_or(u64::MAX);
    BOOT_TICKS.load(Ordering::Relaxed).saturating_add(delta)
}

/// Raises this CPU's timer interrupt once `monotonic_ns()` reaches
/// `deadline_ns`; `None` disarms it (which also drops its level-triggered line).
pub(in crate::arch) fn program_deadline(deadline_ns: Option<u64>) {
    match deadline_ns {
        Some(deadline) => {
            let compare = deadline_ticks(deadline);
            // SAFETY: programs this CPU's virtual timer to raise its level
            // interrupt when CNTVCT >= CVAL (Arm ARM DDI 0487, Generic Timer,
            // CompareValue view); EL1 owns this timer.
            unsafe {
                asm!(
                    "msr cntv_cval_el0, {compare}",
                    "msr cntv_ctl_el0, {enable}",
                    "isb",
                    compare = in(reg) compare,
                    enable = in(reg) CNTV_CTL_ENABLE,
                    options(nomem, nostack),
                );
            }
        }
        // SAFETY: disabling this CPU's virtual timer, as in `stop_this_cpu`.
        None => unsafe { asm!("msr cntv_ctl_el0, xzr", "isb", options(nomem, nostack)) },
    }
}

/// Called with IRQs masked: sleeps in WFI until a console byte may be
/// waiting, the deadline passed, or another interrupt is pending; returns
/// with IRQs still masked (the caller unmasks, and the handler runs then).
pub fn wait_for_event(deadline_ns: Option<u64>) {
    // Only the boot CPU takes the UART's interrupt, so only it looks (a
    // device read is a trip through QEMU's I/O thread).
    if super::irq::cpu_index() == 0 && uart::has_input() {
        return;
    }
    if !gic::is_ready() {
        // No interrupt controller we can drive: nothing would
        // wake WFI, so return and let the caller poll. Reported at boot.
        core::hint::spin_loop();
        return;
    }
    if let Some(deadline) = deadline_ns {
        let now = monotonic_ns();
        if now >= deadline {
            return;
        }
        crate::arch::arm_timer_by(deadline, now);
    }
    // SAFETY: WFI only suspends this CPU until a wake-up event; DSB first so
    // earlier stores (e.g. console output) are not held back while asleep.
    unsafe { asm!("dsb sy", "wfi", options(nomem, nostack)) };
}
