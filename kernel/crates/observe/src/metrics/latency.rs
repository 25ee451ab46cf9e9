//! A lock-free log-linear latency histogram that answers percentile queries (p50/p95/p99).
//!
//! Values below 16 get a bucket each; above, every power of two is split into
//! 16 equal buckets (the scheme of HdrHistogram with 4 significant bits). A
//! percentile is answered with the middle of the bucket that holds the
//! nearest-rank sample, clamped to the smallest and largest value seen.
//!
//! **Error bound:** a bucket `[2^e + k·2^(e-4), 2^e + (k+1)·2^(e-4))` is at
//! most `2^(e-4)` wide and holds only values `≥ 2^e`, so its middle is within
//! `2^(e-5)` of any of them: the answer is within **1/32 (3.125 %)** of the
//! true nearest-rank percentile, and exact below 16. The host tests check
//! this bound against sorted samples.
//!
//! Cost: 976 counters (7.8 KiB) cover the whole `u64` range, so no value is
//! ever clipped; recording is one `leading_zeros` and one atomic add.

use core::sync::atomic::{AtomicU64, Ordering};

const SUB_BUCKET_BITS: u32 = 4;
const SUB_BUCKETS: usize = 1 << SUB_BUCKET_BITS;
/// 16 exact buckets, then 16 per power of two for exponents 4..=63.
const BUCKETS: usize = SUB_BUCKETS + (64 - SUB_BUCKET_BITS as usize) * SUB_BUCKETS;

/// Records durations (any unit; the kernel uses nanoseconds) and answers
/// percentiles within 1/32 relative error. `const fn new`, lock-free, no heap.
pub struct LatencyRecorder {
    counts: [AtomicU64; BUCKETS],
    min: AtomicU64,
    max: AtomicU64,
}

impl core::fmt::Debug for LatencyRecorder {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        formatter
            .debug_struct("LatencyRecorder")
            .field("count", &self.count())
            .field("min", &self.min())
            .field("max", &self.max())
            .finish()
    }
}

impl LatencyRecorder {
    pub const fn new() -> Self {
        LatencyRecorder {
            counts: [const { AtomicU64::new(0) }; BUCKETS],
            min: AtomicU64::new(u64::MAX),
            max: AtomicU64::new(0),
        }
    }

    pub fn record(&self, value: u64) {
        self.counts[bucket_of(value)].fetch_add(1, Ordering::Relaxed);
        self.min.fetch_min(value, Ordering::Relaxed);
        self.max.fetch_max(value, Ordering::Relaxed);
    }

    /// Values recorded so far.
    pub fn count(&self) -> u64 {
        self.counts
            .iter()
            .map(|count| count.load(Ordering::Relaxed))
            .fold(0, u64::saturating_add)
    }

    pub fn min(&self) -> Option<u64> {
        let min = self.min.load(Ordering::Relaxed);
        (self.count() > 0).then_some(min)
    }

    pub fn max(&self) -> Option<u64> {
        (self.count() > 0).then(|| self.max.load(Ordering::Relaxed))
    }

    /// The `percent`-th percentile (nearest rank: the smallest recorded value
    /// with at least `percent`% of the values at or below it), within 1/32.
    /// `None` when nothing was recorded; `percent` above 100 counts as 100.
    pub fn percentile(&self, percent: u8) -> Option<u64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let percent = u128::from(percent.min(100));
        // ceil(percent * total / 100), at least 1: computed in u128 so no
        // count can overflow it.
        let rank = ((percent * u128::from(total)).div_ceil(100)).max(1);
        let mut seen: u128 = 0;
        let (low, high) = (
            self.min.load(Ordering::Relaxed),
            self.max.load(Ordering::Relaxed),
        );
        for (bucket, count) in self.counts.iter().enumerate() {
            seen += u128::from(count.load(Ordering::Relaxed));
            if seen >= rank {
                return Some(bucket_middle(bucket).clamp(low.min(high), high));
            }
        }
        // Counts only grow, so a second pass always reaches the rank of the
        // first; answer the largest value if a racing reader ever did not.
        Some(high)
    }
}

impl Default for LatencyRecorder {
    fn default() -> Self {
        Self::new()
    }
}

fn bucket_of(value: u64) -> usize {
    if value < SUB_BUCKETS as u64 {
        return value as usize;
    }
    let exponent = 63 - value.leading_zeros(); // >= 4
    let shift = exponent - SUB_BUCKET_BITS;
    let sub_bucket = ((value >> shift) as usize) & (SUB_BUCKETS - 1);
    SUB_BUCKETS + (shift as usize) * SUB_BUCKETS + sub_bucket
}

/// The lowest value of a bucket and its width.
fn bucket_range(bucket: usize) -> (u64, u64) {
    if bucket < SUB_BUCKETS {
        return (bucket as u64, 1);
    }
    let shift = ((bucket - SUB_BUCKETS) / SUB_BUCKETS) as u32;
    let sub_bucket = ((bucket - SUB_BUCKETS) % SUB_BUCKETS) as u64;
    ((SUB_BUCKETS as u64 + sub_bucket) << shift, 1 << shift)
}

fn bucket_middle(bucket: usize) -> u64 {
    let (low, width) = bucket_range(bucket);
    low + (width - 1) / 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// The nearest-rank percentile of sorted samples, the reference answer.
    fn exact(sorted: &[u64], percent: u64) -> u64 {
        let rank = ((percent * sorted.len() as u64).div_ceil(100)).max(1);
        sorted[rank as usize - 1]
    }

    /// A small xorshift so the test needs no dependency.
    fn samples(seed: u64, count: usize) -> Vec<u64> {
        let mut state = seed;
        (0..count)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Spread over many octaves: 1 ns .. ~1 s, log-uniform.
                let octave = state % 30;
                (state >> 8) % (1 << octave) + (1 << octave)
            })
            .collect()
    }

    #[test]
    fn buckets_cover_u64_and_hold_their_values() {
        for value in [
            0,
            1,
            15,
            16,
            17,
            31,
            32,
            33,
            1000,
            1 << 40,
            u64::MAX - 1,
            u64::MAX,
        ] {
            let bucket = bucket_of(value);
            assert!(bucket < BUCKETS);
            let (low, width) = bucket_range(bucket);
            assert!(low <= value && value - low < width, "{value}");
        }
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn percentiles_stay_within_one_thirty_second_of_the_exact_answer() {
        for seed in [1, 7, 12345] {
            let recorder = LatencyRecorder::new();
            let mut values = samples(seed, 20_000);
            for &value in &values {
                recorder.record(value);
            }
            values.sort_unstable();
            for percent in [1, 50, 90, 95, 99, 100] {
                let truth = exact(&values, percent) as f64;
                let answer = recorder.percentile(percent as u8).unwrap() as f64;
                assert!(
                    (answer - truth).abs() <= truth / 32.0,
                    "p{percent}: {answer} vs {truth}"
                );
            }
        }
    }

    #[test]
    fn small_values_and_single_samples_are_exact() {
        let recorder = LatencyRecorder::new();
        assert_eq!(recorder.percentile(50), None);
        assert_eq!(recorder.min(), None);
        recorder.record(2500);
        for percent in [0, 50, 99, 100, 255] {
            assert_eq!(
                recorder.percentile(percent),
                Some(2500),
                "clamped to min and max"
            );
        }
        let small = LatencyRecorder::new();
        for value in 0..10 {
            small.record(value);
        }
        assert_eq!(small.percentile(50), Some(4));
        assert_eq!(small.percentile(100), Some(9));
        assert_eq!(small.count(), 10);
        assert_eq!((small.min(), small.max()), (Some(0), Some(9)));
    }
}
