//! Monotonic clock from the `time` CSR and the one-shot deadline timer (SBI TIME).
//!
//! `rdtime` reads the platform's constant-rate counter (RISC-V unprivileged
//! spec, "Zicntr": `time` is a read-only shadow of `mtime`); its rate is
//! /cpus/timebase-frequency in the device tree (10 MHz on QEMU virt).

use core::arch::asm;
use core::sync::atomic::{AtomicU64, Ordering};

use super::sbi;

const NANOSECONDS_PER_SECOND: u64 = 1_000_000_000;
/// QEMU virt's timebase (`RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ`), used until
/// the device tree has been read and if it lacks the property.
pub const DEFAULT_TIMEBASE_HZ: u64 = 10_000_000;
/// Highest rate accepted from the device tree: keeps the tick/ns conversions
/// below free of overflow (`(NANOSECONDS_PER_SECOND - 1) * hz` < 2^64).
const MAX_TIMEBASE_HZ: u64 = 16_000_000_000;

/// `time` at boot: `monotonic_ns` counts from here.
static BOOT_TICKS: AtomicU64 = AtomicU64::new(0);
static TIMEBASE_HZ: AtomicU64 = AtomicU64::new(DEFAULT_TIMEBASE_HZ);
/// Last value each hart gave `sbi::set_timer` (the timer is per hart), so
/// repeated idle waits with the same deadline skip the M-mode round trip.
static PROGRAMMED_TICKS: [AtomicU64; super::boot::MAX_HARTS] =
    [const { AtomicU64::new(0) }; super::boot::MAX_HARTS];

pub fn read_ticks() -> u64 {
    let ticks: u64;
    // SAFETY: reading the `time` CSR has no side effect; OpenSBI enables
    // S-mode access to it (mcounteren.TM) or emulates it.
    unsafe { asm!("rdtime {}", out(reg) ticks, options(nomem, nostack)) };
    ticks
}

/// Start the clock at the current tick: called first thing at boot.
pub fn start() {
    BOOT_TICKS.store(read_ticks(), Ordering::Relaxed);
}

/// Adopt the device tree's timebase (ignored when absent, zero or absurd).
pub fn set_timebase(hz: Option<u64>) {
    if let Some(hz) = hz.filter(|&hz| hz > 0 && hz <= MAX_TIMEBASE_HZ) {
        TIMEBASE_HZ.store(hz, Ordering::Relaxed);
    }
}

pub fn timebase_hz() -> u64 {
    TIMEBASE_HZ.load(Ordering::Relaxed)
}

/// Nanoseconds since `start()`; never goes back since `time` never does.
pub fn monotonic_ns() -> u64 {
    let elapsed_ticks = read_ticks().wrapping_sub(BOOT_TICKS.load(Ordering::Relaxed));
    ticks_to_ns(elapsed_ticks, timebase_hz())
}

/// Split into whole seconds and the rest so no product can overflow.
fn ticks_to_ns(ticks: u64, hz: u64) -> u64 {
    let seconds = ticks / hz;
    let rest_ns = (ticks % hz) * NANOSECONDS_PER_SECOND / hz;
    seconds.saturating_mul(NANOSECONDS_PER_SECOND).saturating_add(rest_ns)
}

/// Rounded up, so a timer set from it never fires before `ns`.
fn ns_to_ticks_ceiling(ns: u64, hz: u64) -> u64 {
    let seconds = ns / NANOSECONDS_PER_SECOND;
    let rest_ticks = ((ns % NANOSECONDS_PER_SECOND) * hz).div_ceil(NANOSECONDS_PER_SECOND);
    seconds.saturating_mul(hz).saturating_add(rest_ticks)
}

/// Raise sip.STIP once `monotonic_ns()` reaches `deadline_ns`, or never
/// (`None`); either way a stale pending STIP is cleared (SBI spec 6.1).
pub(in crate::arch) fn program_deadline(deadline_ns: Option<u64>) {
    let ticks = match deadline_ns {
        Some(ns) => BOOT_TICKS
            .load(Ordering::Relaxed)
            .saturating_add(ns_to_ticks_ceiling(ns, timebase_hz())),
        None => u64::MAX,
    };
    let programmed = &PROGRAMMED_TICKS[super::irq::cpu_index().min(super::boot::MAX_HARTS - 1)];
    if programmed.swap(ticks, Ordering::Relaxed) != ticks {
        sbi::set_timer(ticks);
    }
}

