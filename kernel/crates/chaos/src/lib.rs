//! Deterministic fault injection for the SIS kernel: modes, injection points, rate, seed and statistics.
//!
//! The kernel keeps one [`Chaos`] in a `static` (behind its `chaos` cargo
//! feature) and asks it at every injection point whether to fail:
//!
//! ```
//! use sis_chaos::{Chaos, Effect, Mode, Point};
//! static CHAOS: Chaos = Chaos::new();
//! CHAOS.set_mode(Mode::DiskFull);
//! CHAOS.set_rate(100).unwrap();
//! let injection = CHAOS.should_inject(Point::BlockWrite).expect("rate 100 always fires");
//! assert_eq!(injection.effect, Effect::Fail(sis_abi::Errno::ENOSPC));
//! ```
//!
//! Same seed and the same sequence of checks give the same injections; the
//! rules are in `docs/CHAOS.md`.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

mod engine;
mod injection;
mod mode;
mod stats;

pub use engine::{Chaos, DEFAULT_DELAY_US, DEFAULT_RATE_PERCENT, DEFAULT_SEED};
pub use injection::{Effect, Injection};
pub use mode::{parse_delay_us, parse_rate, parse_seed, ChaosError, Mode, Point};
pub use stats::{ModeStats, Stats};
