//! Monotonic timers with one programmable deadline.

use crate::rng::SeededRng;
use crate::DeviceError;

/// A monotonic clock with one deadline interrupt.
pub trait Timer {
    /// Nanoseconds since an arbitrary start (boot); never goes backwards.
    fn now_ns(&self) -> u64;

    /// Arms the deadline: the timer interrupt fires once `now_ns()` reaches
    /// `deadline_ns`. A deadline in the past fires as soon as possible. A new
    /// deadline replaces the previous one.
    ///
    /// Errors: `Invalid` if the hardware cannot represent the deadline.
    fn set_deadline_ns(&mut self, deadline_ns: u64) -> Result<(), DeviceError>;

    /// Disarms the deadline, if any.
    fn cancel_deadline(&mut self);
}

/// A timer that moves only when the test says so.
///
/// With jitter enabled every [`MockTimer::advance_ns`] adds a seeded random
/// extra of up to `max_jitter_ns`, the way a real timer interrupt arrives a
/// little late; the sequence is reproducible from the seed.
#[derive(Clone, Debug)]
pub struct MockTimer {
    now_ns: u64,
    deadline_ns: Option<u64>,
    fired_count: u64,
    max_jitter_ns: u64,
    jitter: SeededRng,
}

impl MockTimer {
    /// A timer at 0 ns, no deadline, no jitter.
    pub fn new() -> Self {
        MockTimer {
            now_ns: 0,
            deadline_ns: None,
            fired_count: 0,
            max_jitter_ns: 0,
            jitter: SeededRng::new(0),
        }
    }

    /// Adds up to `max_jitter_ns` of seeded random delay to each advance.
    pub fn with_jitter(mut self, max_jitter_ns: u64, seed: u64) -> Self {
        self.max_jitter_ns = max_jitter_ns;
        self.jitter = SeededRng::new(seed);
        self
    }

    /// Moves time forward by `delta_ns` (plus jitter) and fires the deadline
    /// if it was reached. Returns whether it fired. Saturates at `u64::MAX`.
    pub fn advance_ns(&mut self, delta_ns: u64) -> bool {
        let extra_ns = self.jitter.below(self.max_jitter_ns.saturating_add(1));
        self.now_ns = self
            .now_ns
            .saturating_add(delta_ns)
            .saturating_add(extra_ns);
        self.poll()
    }

    /// Fires the deadline if it has been reached; returns whether it fired.
    pub fn poll(&mut self) -> bool {
        match self.deadline_ns {
            Some(deadline) if deadline <= self.now_ns => {
                self.deadline_ns = None;
                self.fired_count += 1;
                true
            }
            _ => false,
        }
    }

    /// The armed deadline, if any.
    pub fn deadline_ns(&self) -> Option<u64> {
        self.deadline_ns
    }

    /// How many times a deadline fired.
    pub fn fired_count(&self) -> u64 {
        self.fired_count
    }
}

impl Default for MockTimer {
    fn default() -> Self {
        MockTimer::new()
    }
}

impl Timer for MockTimer {
    fn now_ns(&self) -> u64 {
        self.now_ns
    }

    fn set_deadline_ns(&mut self, deadline_ns: u64) -> Result<(), DeviceError> {
        self.deadline_ns = Some(deadline_ns);
        Ok(())
    }

    fn cancel_deadline(&mut self) {
        self.deadline_ns = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_fires_once_when_reached() {
        let mut timer = MockTimer::new();
        timer.set_deadline_ns(100).unwrap();
        assert!(!timer.advance_ns(99));
        assert!(timer.advance_ns(1));
        assert!(!timer.advance_ns(1000), "fires only once");
        assert_eq!(timer.fired_count(), 1);
        assert_eq!(timer.now_ns(), 1100);
    }

    #[test]
    fn past_deadline_fires_at_next_poll_and_cancel_disarms() {
        let mut timer = MockTimer::new();
        timer.advance_ns(50);
        timer.set_deadline_ns(10).unwrap();
        assert!(timer.poll());
        timer.set_deadline_ns(60).unwrap();
        timer.cancel_deadline();
        assert!(!timer.advance_ns(100));
        assert_eq!(timer.deadline_ns(), None);
    }

    #[test]
    fn jitter_is_bounded_reproducible_and_monotonic() {
        let mut a = MockTimer::new().with_jitter(10, 42);
        let mut b = MockTimer::new().with_jitter(10, 42);
        let mut previous = 0;
        let mut saw_jitter = false;
        for _ in 0..1000 {
            a.advance_ns(100);
            b.advance_ns(100);
            let step = a.now_ns() - previous;
            assert!((100..=110).contains(&step));
            saw_jitter |= step != 100;
            previous = a.now_ns();
        }
        assert!(saw_jitter);
        assert_eq!(a.now_ns(), b.now_ns());
        a.advance_ns(u64::MAX);
        assert_eq!(a.now_ns(), u64::MAX, "saturates instead of wrapping");
    }
}
