//! Random number sources.

use crate::DeviceError;

/// A source of random bytes.
pub trait Rng {
    /// Fills `buffer` with random bytes.
    ///
    /// Errors: `Io` if the entropy source failed (for example RDRAND kept
    /// reporting no data); `buffer` content is then unspecified.
    fn fill_bytes(&mut self, buffer: &mut [u8]) -> Result<(), DeviceError>;
}

/// A deterministic generator (xorshift64*), for tests and for the mocks'
/// seeded patterns. Not cryptographic: never use it where an attacker could
/// profit from predicting it.
#[derive(Clone, Debug)]
pub struct SeededRng {
    state: u64,
}

impl SeededRng {
    /// A generator whose sequence depends only on `seed` (0 is allowed).
    pub const fn new(seed: u64) -> Self {
        // xorshift has a fixed point at 0; mixing in a constant avoids it.
        SeededRng {
            state: seed ^ 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// The next 64 random bits (Vigna's xorshift64*).
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..bound`, or 0 when `bound` is 0. The slight modulo bias
    /// does not matter for test patterns.
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            0
        } else {
            self.next_u64() % bound
        }
    }
}

impl Rng for SeededRng {
    fn fill_bytes(&mut self, buffer: &mut [u8]) -> Result<(), DeviceError> {
        for chunk in buffer.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_zero_seed_is_not_stuck() {
        let mut a = SeededRng::new(0);
        let mut b = SeededRng::new(0);
        let first = a.next_u64();
        assert_ne!(first, 0);
        assert_eq!(first, b.next_u64());
        assert_ne!(a.next_u64(), first);
        assert_ne!(SeededRng::new(1).next_u64(), SeededRng::new(2).next_u64());
    }

    #[test]
    fn fill_bytes_covers_odd_lengths() {
        let mut rng = SeededRng::new(7);
        let mut buffer = [0u8; 13];
        rng.fill_bytes(&mut buffer).unwrap();
        assert!(buffer[8..].iter().any(|&b| b != 0));
        assert_eq!(rng.below(0), 0);
        assert!((0..100).all(|_| rng.below(3) < 3));
    }
}
