//! The chaos state: mode, rate, seed and delay in atomics, the seeded generator behind a spin lock, per-mode statistics.

use core::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};

use rand_core::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use spin::mutex::SpinMutex;

use crate::injection::{Effect, Injection};
use crate::mode::{ChaosError, Mode, Point};
use crate::stats::{ModeStats, Stats};

/// Failure rate at boot and after `reset`, in percent (the plan's default).
pub const DEFAULT_RATE_PERCENT: u8 = 10;
/// Generator seed at boot and after `reset`.
pub const DEFAULT_SEED: u64 = 0;
/// slow_io delay at boot and after `reset`, in microseconds.
pub const DEFAULT_DELAY_US: u32 = 1_000;

const MODES: usize = Mode::ALL.len();

/// The part that needs a lock: the generator and the counters that number
/// its draws.
struct Generator {
    /// Seeded lazily from `Chaos::seed` on the first draw, because seeding
    /// is not `const` and `Chaos` must be constructible in a `static`.
    rng: Option<Xoshiro256PlusPlus>,
    draws: u64,
    injections: u64,
}

impl Generator {
    const fn fresh() -> Self {
        Generator {
            rng: None,
            draws: 0,
            injections: 0,
        }
    }
}

/// Fault injection state for the whole kernel; `const fn new`, so it lives
/// in a `static`.
///
/// Determinism: the generator is drawn from only when a point matches the
/// active mode (one draw per such check, whatever the rate), so checks at
/// other points never shift the sequence. The same seed and the same
/// sequence of matching checks and settings give the same injections.
///
/// The mode-`none` path, and every non-matching point, costs one atomic
/// load. A matching check takes a spin lock with `try_lock`: if it is held
/// (an interrupt handler checking while the interrupted code was mid-check)
/// the check injects nothing and counts as `contended`, so the kernel can
/// never deadlock on it.
pub struct Chaos {
    mode: AtomicU8,
    rate_percent: AtomicU8,
    seed: AtomicU64,
    delay_us: AtomicU32,
    generator: SpinMutex<Generator>,
    checks: [AtomicU64; MODES],
    injections: [AtomicU64; MODES],
    contended: AtomicU64,
}

impl core::fmt::Debug for Chaos {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        formatter
            .debug_struct("Chaos")
            .field("stats", &self.stats())
            .finish()
    }
}

impl Chaos {
    pub const fn new() -> Self {
        Chaos {
            mode: AtomicU8::new(Mode::None as u8),
            rate_percent: AtomicU8::new(DEFAULT_RATE_PERCENT),
            seed: AtomicU64::new(DEFAULT_SEED),
            delay_us: AtomicU32::new(DEFAULT_DELAY_US),
            generator: SpinMutex::new(Generator::fresh()),
            checks: [const { AtomicU64::new(0) }; MODES],
            injections: [const { AtomicU64::new(0) }; MODES],
            contended: AtomicU64::new(0),
        }
    }

    pub fn mode(&self) -> Mode {
        Mode::from_u8(self.mode.load(Ordering::Relaxed)).unwrap_or(Mode::None)
    }

    /// Switches mode; the generator keeps its place (a replay issues the
    /// same `chaos mode` commands at the same points, so it stays in step).
    pub fn set_mode(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::Relaxed);
    }

    pub fn rate_percent(&self) -> u8 {
        self.rate_percent.load(Ordering::Relaxed)
    }

    /// Sets the chance, in percent, that a matching check injects.
    pub fn set_rate(&self, rate_percent: u8) -> Result<(), ChaosError> {
        if rate_percent > 100 {
            return Err(ChaosError::InvalidRate);
        }
        self.rate_percent.store(rate_percent, Ordering::Relaxed);
        Ok(())
    }

    pub fn seed(&self) -> u64 {
        self.seed.load(Ordering::Relaxed)
    }

    /// Reseeds: the next draws are the seed's sequence from its start, and
    /// the draw and injection numbering restarts at 1.
    pub fn set_seed(&self, seed: u64) {
        let mut generator = self.generator.lock();
        self.seed.store(seed, Ordering::Relaxed);
        *generator = Generator::fresh();
    }

    pub fn delay_us(&self) -> u32 {
        self.delay_us.load(Ordering::Relaxed)
    }

    /// Sets how long a slow_io injection delays, in microseconds.
    pub fn set_delay_us(&self, delay_us: u32) {
        self.delay_us.store(delay_us, Ordering::Relaxed);
    }

    /// Asks whether the operation at `point` should fail (or be delayed, or
    /// panic) now. `None`: go on normally.
    pub fn should_inject(&self, point: Point) -> Option<Injection> {
        let mode = self.mode();
        if mode.point() != Some(point) {
            return None;
        }
        let Some(mut generator) = self.generator.try_lock() else {
            self.contended.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        self.checks[mode.index()].fetch_add(1, Ordering::Relaxed);
        let seed = self.seed();
        let rng = generator
            .rng
            .get_or_insert_with(|| Xoshiro256PlusPlus::seed_from_u64(seed));
        // A uniform draw in 0..100 from the top of a 64-bit product
        // (Lemire's multiply-shift; the bias is below 2^-57).
        let draw = ((u128::from(rng.next_u64()) * 100) >> 64) as u8;
        generator.draws += 1;
        if draw >= self.rate_percent() {
            return None;
        }
        generator.injections += 1;
        self.injections[mode.index()].fetch_add(1, Ordering::Relaxed);
        let effect = match mode {
            Mode::SlowIo => Effect::Delay {
                delay_us: self.delay_us(),
            },
            Mode::RandomPanic => Effect::Panic,
            // `mode.point()` matched, so the mode is not `None`, and every
            // other mode has an errno; EIO is an unreachable fallback.
            _ => Effect::Fail(mode.errno().unwrap_or(sis_abi::Errno::EIO)),
        };
        Some(Injection {
            mode,
            point,
            effect,
            check: generator.draws,
            sequence: generator.injections,
        })
    }

    /// Settings and per-mode statistics now.
    pub fn stats(&self) -> Stats {
        let per_mode = core::array::from_fn(|index| ModeStats {
            checks: self.checks[index].load(Ordering::Relaxed),
            injections: self.injections[index].load(Ordering::Relaxed),
        });
        Stats {
            mode: self.mode(),
            rate_percent: self.rate_percent(),
            seed: self.seed(),
            delay_us: self.delay_us(),
            per_mode,
            contended: self.contended.load(Ordering::Relaxed),
        }
    }

    /// Zeroes the statistics only; settings and the generator stay.
    pub fn reset_stats(&self) {
        for counter in self
            .checks
            .iter()
            .chain(&self.injections)
            .chain([&self.contended])
        {
            counter.store(0, Ordering::Relaxed);
        }
    }

    /// `chaos reset`: back to the boot state (mode none, default rate, seed
    /// and delay, generator at the start of its sequence, statistics zero),
    /// so a run after a reset replays like a run after boot.
    pub fn reset(&self) {
        self.set_mode(Mode::None);
        self.rate_percent
            .store(DEFAULT_RATE_PERCENT, Ordering::Relaxed);
        self.delay_us.store(DEFAULT_DELAY_US, Ordering::Relaxed);
        self.set_seed(DEFAULT_SEED);
        self.reset_stats();
    }
}

impl Default for Chaos {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sis_abi::Errno;
    use std::vec::Vec;

    /// A fixed script of checks at every point, with mode switches.
    fn script(chaos: &Chaos) -> Vec<Option<Injection>> {
        let mut outcomes = Vec::new();
        for (step, mode) in [
            Mode::DiskFull,
            Mode::MemoryPressure,
            Mode::SlowIo,
            Mode::DiskFail,
        ]
        .into_iter()
        .enumerate()
        {
            chaos.set_mode(mode);
            for index in 0..500 {
                let point = Point::ALL[(index * 7 + step) % Point::ALL.len()];
                outcomes.push(chaos.should_inject(point));
            }
        }
        outcomes
    }

    fn configured(seed: u64, rate: u8) -> Chaos {
        let chaos = Chaos::new();
        chaos.set_seed(seed);
        chaos.set_rate(rate).unwrap();
        chaos
    }

    #[test]
    fn same_seed_and_checks_give_the_same_injections() {
        let first = script(&configured(42, 30));
        let second = script(&configured(42, 30));
        assert_eq!(first, second);
        assert!(first.iter().flatten().count() > 50, "the script injects");
        let other_seed = script(&configured(43, 30));
        assert_ne!(first, other_seed);
    }

    /// Pins the generator: a replay across kernel versions and archs is
    /// only possible while this holds. The same numbers came out of the
    /// kernel on riscv64 under QEMU (seed 42, rate 30, 100 block writes in
    /// disk_full: 30 injections, the first at checks 7, 9 and 14).
    #[test]
    fn the_sequence_for_a_seed_never_changes() {
        let chaos = configured(42, 30);
        chaos.set_mode(Mode::DiskFull);
        let fired: Vec<u64> = (0..100)
            .filter_map(|_| chaos.should_inject(Point::BlockWrite))
            .map(|injection| injection.check)
            .collect();
        assert_eq!(fired.len(), 30);
        assert_eq!(fired[..3], [7, 9, 14]);
    }

    #[test]
    fn reseeding_and_reset_replay_from_the_start() {
        let chaos = configured(7, 50);
        let first = script(&chaos);
        chaos.set_seed(7);
        assert_eq!(script(&chaos), first);
        chaos.reset();
        chaos.set_seed(7);
        chaos.set_rate(50).unwrap();
        assert_eq!(script(&chaos), first);
    }

    #[test]
    fn checks_at_other_points_do_not_shift_the_sequence() {
        let quiet = configured(99, 40);
        let noisy = configured(99, 40);
        quiet.set_mode(Mode::NetworkFail);
        noisy.set_mode(Mode::NetworkFail);
        let mut quiet_outcomes = Vec::new();
        let mut noisy_outcomes = Vec::new();
        for _ in 0..1000 {
            quiet_outcomes.push(quiet.should_inject(Point::NetworkSend));
            for point in [
                Point::Allocation,
                Point::BlockWrite,
                Point::IoDelay,
                Point::PanicPoint,
            ] {
                assert_eq!(noisy.should_inject(point), None);
            }
            noisy_outcomes.push(noisy.should_inject(Point::NetworkSend));
        }
        assert_eq!(quiet_outcomes, noisy_outcomes);
        assert_eq!(noisy.stats().for_mode(Mode::NetworkFail).checks, 1000);
    }

    #[test]
    fn observed_rate_lies_within_a_binomial_confidence_interval() {
        const CHECKS: u64 = 100_000;
        for seed in [1, 2, 0xfeed_face] {
            for rate in [1u8, 5, 10, 25, 50, 75, 90, 99] {
                let chaos = configured(seed, rate);
                chaos.set_mode(Mode::DiskFail);
                let injected = (0..CHECKS)
                    .filter(|_| chaos.should_inject(Point::BlockWrite).is_some())
                    .count();
                let probability = f64::from(rate) / 100.0;
                let expected = CHECKS as f64 * probability;
                let sigma = (CHECKS as f64 * probability * (1.0 - probability)).sqrt();
                // Five standard deviations: a fair generator falls outside
                // with probability below 6e-7.
                assert!(
                    (injected as f64 - expected).abs() <= 5.0 * sigma,
                    "seed {seed} rate {rate}: {injected} injections, expected {expected} ± {}",
                    5.0 * sigma
                );
            }
        }
    }

    #[test]
    fn rates_zero_and_hundred_are_exact() {
        let never = configured(5, 0);
        never.set_mode(Mode::MemoryPressure);
        assert!((0..10_000).all(|_| never.should_inject(Point::Allocation).is_none()));
        let always = configured(5, 100);
        always.set_mode(Mode::MemoryPressure);
        assert!((0..10_000).all(|_| always.should_inject(Point::Allocation).is_some()));
        assert_eq!(always.set_rate(101), Err(ChaosError::InvalidRate));
        assert_eq!(always.rate_percent(), 100);
    }

    #[test]
    fn each_mode_injects_its_effect_at_its_point_only() {
        let chaos = configured(3, 100);
        chaos.set_delay_us(2_500);
        let expected = [
            (
                Mode::DiskFull,
                Point::BlockWrite,
                Effect::Fail(Errno::ENOSPC),
            ),
            (Mode::DiskFail, Point::BlockWrite, Effect::Fail(Errno::EIO)),
            (
                Mode::NetworkFail,
                Point::NetworkSend,
                Effect::Fail(Errno::ENETDOWN),
            ),
            (
                Mode::MemoryPressure,
                Point::Allocation,
                Effect::Fail(Errno::ENOMEM),
            ),
            (Mode::RandomPanic, Point::PanicPoint, Effect::Panic),
            (
                Mode::SlowIo,
                Point::IoDelay,
                Effect::Delay { delay_us: 2_500 },
            ),
        ];
        for (mode, point, effect) in expected {
            chaos.set_mode(mode);
            for other in Point::ALL.into_iter().filter(|&other| other != point) {
                assert_eq!(chaos.should_inject(other), None, "{mode} at {other}");
            }
            let injection = chaos.should_inject(point).unwrap();
            assert_eq!(
                (injection.mode, injection.point, injection.effect),
                (mode, point, effect)
            );
        }
        chaos.set_mode(Mode::None);
        assert!(Point::ALL
            .into_iter()
            .all(|point| chaos.should_inject(point).is_none()));
    }

    #[test]
    fn statistics_count_checks_and_injections_per_mode() {
        let chaos = configured(11, 100);
        chaos.set_mode(Mode::DiskFull);
        for _ in 0..3 {
            chaos.should_inject(Point::BlockWrite);
        }
        chaos.should_inject(Point::Allocation); // not a disk_full point: not a check
        chaos.set_mode(Mode::SlowIo);
        chaos.set_rate(0).unwrap();
        chaos.should_inject(Point::IoDelay);
        let stats = chaos.stats();
        assert_eq!(
            stats.for_mode(Mode::DiskFull),
            ModeStats {
                checks: 3,
                injections: 3
            }
        );
        assert_eq!(
            stats.for_mode(Mode::SlowIo),
            ModeStats {
                checks: 1,
                injections: 0
            }
        );
        assert_eq!(stats.for_mode(Mode::MemoryPressure), ModeStats::default());
        assert_eq!(
            (stats.mode, stats.rate_percent, stats.seed),
            (Mode::SlowIo, 0, 11)
        );

        chaos.reset_stats();
        assert_eq!(chaos.stats().for_mode(Mode::DiskFull), ModeStats::default());
        assert_eq!(chaos.mode(), Mode::SlowIo, "reset_stats keeps settings");

        chaos.set_delay_us(9);
        chaos.reset();
        let stats = chaos.stats();
        assert_eq!(
            (stats.mode, stats.rate_percent, stats.seed, stats.delay_us),
            (
                Mode::None,
                DEFAULT_RATE_PERCENT,
                DEFAULT_SEED,
                DEFAULT_DELAY_US
            )
        );
    }

    #[test]
    fn injections_are_numbered_from_the_seed() {
        let chaos = configured(1, 100);
        chaos.set_mode(Mode::DiskFail);
        let first = chaos.should_inject(Point::BlockWrite).unwrap();
        let second = chaos.should_inject(Point::BlockWrite).unwrap();
        assert_eq!(
            (first.check, first.sequence, second.check, second.sequence),
            (1, 1, 2, 2)
        );
        chaos.set_seed(1);
        assert_eq!(chaos.should_inject(Point::BlockWrite).unwrap().sequence, 1);
    }

    #[test]
    fn a_held_lock_skips_the_check_instead_of_deadlocking() {
        let chaos = configured(1, 100);
        chaos.set_mode(Mode::DiskFull);
        let guard = chaos.generator.lock();
        assert_eq!(chaos.should_inject(Point::BlockWrite), None);
        drop(guard);
        assert!(chaos.should_inject(Point::BlockWrite).is_some());
        let stats = chaos.stats();
        assert_eq!(stats.contended, 1);
        assert_eq!(stats.for_mode(Mode::DiskFull).checks, 1);
    }

    #[test]
    fn concurrent_checks_keep_the_statistics_consistent() {
        static SHARED: Chaos = Chaos::new();
        SHARED.set_rate(50).unwrap();
        SHARED.set_mode(Mode::NetworkFail);
        let injected: usize = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        (0..10_000)
                            .filter(|_| SHARED.should_inject(Point::NetworkSend).is_some())
                            .count()
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|worker| worker.join().unwrap())
                .sum()
        });
        let stats = SHARED.stats();
        let network = stats.for_mode(Mode::NetworkFail);
        assert_eq!(network.injections, injected as u64);
        assert_eq!(network.checks + stats.contended, 40_000);
    }
}
