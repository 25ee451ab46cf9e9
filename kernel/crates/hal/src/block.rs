//! Block devices: fixed-size blocks addressed by index.
//!
//! [`RamBlockDevice`] is the real RAM-backed disk the kernel mounts;
//! [`MockBlockDevice`] wraps one and injects faults so the file system's
//! error paths run against a real sequence of block operations.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::DeviceError;

/// A device made of `block_count` blocks of `block_size` bytes each.
///
/// Reads and writes move exactly one whole block. A write that fails leaves
/// the block's previous content in place (the devices here write a block
/// atomically; a driver for hardware that cannot promise this must say so).
pub trait BlockDevice {
    /// Size of one block in bytes; never 0 and constant for the device's life.
    fn block_size(&self) -> usize;

    /// Number of blocks; constant for the device's life.
    fn block_count(&self) -> u64;

    /// Reads block `index` into `buffer`.
    ///
    /// Errors: `Invalid` if `index >= block_count()` or
    /// `buffer.len() != block_size()`; `Io` if the device failed.
    fn read_block(&mut self, index: u64, buffer: &mut [u8]) -> Result<(), DeviceError>;

    /// Writes `data` to block `index`.
    ///
    /// Errors: `Invalid` if `index >= block_count()` or
    /// `data.len() != block_size()`; `Io` if the device failed; `NoSpace` if
    /// the device ran out of backing store (thin-provisioned devices).
    fn write_block(&mut self, index: u64, data: &[u8]) -> Result<(), DeviceError>;

    /// Makes every completed write durable.
    ///
    /// Errors: `Io` if the device failed.
    fn flush(&mut self) -> Result<(), DeviceError>;

    /// Total size in bytes, saturating at `u64::MAX`.
    fn capacity_bytes(&self) -> u64 {
        self.block_count().saturating_mul(self.block_size() as u64)
    }
}

/// A disk held in RAM. All of its memory is allocated up front, fallibly, so
/// asking for a disk larger than the heap fails with `NoMemory` at creation
/// instead of aborting the kernel later.
pub struct RamBlockDevice {
    block_size: usize,
    block_count: u64,
    /// The written blocks' bytes, in the order of their first write. Its
    /// capacity is the whole disk, reserved at creation, so it never
    /// reallocates; but nothing is cleared up front: clearing a 4 MiB disk
    /// cost about 2 ms of every boot under QEMU's TCG.
    storage: Vec<u8>,
    /// Per block: 1 + its place in `storage` (in blocks), or 0 while never
    /// written (it then reads as zeros).
    places: Vec<usize>,
}

impl RamBlockDevice {
    /// Creates a disk of `block_count` blocks of `block_size` bytes that
    /// reads as zeros until written.
    ///
    /// Errors: `Invalid` if `block_size` is 0 or the total size does not fit
    /// in `usize`; `NoMemory` if the storage cannot be allocated.
    pub fn new(block_size: usize, block_count: u64) -> Result<Self, DeviceError> {
        if block_size == 0 {
            return Err(DeviceError::Invalid);
        }
        let total_bytes = usize::try_from(block_count)
            .ok()
            .and_then(|count| count.checked_mul(block_size))
            .ok_or(DeviceError::Invalid)?;
        // Fits: block_count * block_size does (block_size >= 1).
        let count = block_count as usize;
        let mut storage = Vec::new();
        storage
            .try_reserve_exact(total_bytes)
            .map_err(|_| DeviceError::NoMemory)?;
        let mut places = Vec::new();
        places.try_reserve_exact(count).map_err(|_| DeviceError::NoMemory)?;
        places.resize(count, 0);
        Ok(RamBlockDevice {
            block_size,
            block_count,
            storage,
            places,
        })
    }

    /// Where block `index` is in `storage` (None if never written), after
    /// checking the index and length.
    fn stored_range(&self, index: u64, length: usize) -> Result<Option<core::ops::Range<usize>>, DeviceError> {
        if index >= self.block_count || length != self.block_size {
            return Err(DeviceError::Invalid);
        }
        // index < block_count, which fits in usize (checked at creation).
        let place = self.places[index as usize];
        Ok(place.checked_sub(1).map(|place| place * self.block_size..(place + 1) * self.block_size))
    }
}

impl BlockDevice for RamBlockDevice {
    fn block_size(&self) -> usize {
        self.block_size
    }

    fn block_count(&self) -> u64 {
        self.block_count
    }

    fn read_block(&mut self, index: u64, buffer: &mut [u8]) -> Result<(), DeviceError> {
        match self.stored_range(index, buffer.len())? {
            Some(range) => buffer.copy_from_slice(&self.storage[range]),
            None => buffer.fill(0),
        }
        Ok(())
    }

    fn write_block(&mut self, index: u64, data: &[u8]) -> Result<(), DeviceError> {
        match self.stored_range(index, data.len())? {
            Some(range) => self.storage[range].copy_from_slice(data),
            None => {
                // First write: the block takes the next place. Within the
                // capacity reserved at creation (at most `block_count`
                // places are ever taken), so this never allocates.
                self.places[index as usize] = self.storage.len() / self.block_size + 1;
                self.storage.extend_from_slice(data);
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DeviceError> {
        // RAM is as durable as it gets.
        Ok(())
    }
}

/// Which operation a [`MockBlockDevice`] is about to perform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockOpKind {
    Read,
    Write,
    Flush,
}

/// One operation as seen by the fault injector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockOp {
    pub kind: BlockOpKind,
    /// The block index; 0 for `Flush`.
    pub index: u64,
    /// How many operations the device has seen before this one (from 0),
    /// counting failed ones.
    pub sequence: u64,
}

/// Decides, per operation, whether the mock fails it and with what.
type FaultPredicate = Box<dyn FnMut(&BlockOp) -> Option<DeviceError> + Send>;

/// When the mock fails an operation.
enum Fault {
    None,
    /// Fail the next `remaining` operations that match `kind` (any if `None`).
    Next {
        remaining: u64,
        kind: Option<BlockOpKind>,
        error: DeviceError,
    },
    /// Fail every `period`-th matching operation (the `period`-th, the
    /// `2 * period`-th, …), counting from when the fault was set.
    Every {
        period: u64,
        seen: u64,
        kind: Option<BlockOpKind>,
        error: DeviceError,
    },
    /// Fail whenever the predicate returns an error.
    When(FaultPredicate),
}

/// Counters a test reads to check that the code under test really hit the
/// device (and the injected faults).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MockBlockStats {
    pub reads: u64,
    pub writes: u64,
    pub flushes: u64,
    /// Operations failed on purpose.
    pub injected_failures: u64,
    /// Sum of the simulated latency of every operation, in nanoseconds.
    pub simulated_latency_ns: u64,
}

/// An in-memory block device that fails on command.
///
/// A failed operation has no effect on the stored data, so a test can check
/// that the code above it stayed consistent.
pub struct MockBlockDevice {
    inner: RamBlockDevice,
    fault: Fault,
    latency_per_op_ns: u64,
    stats: MockBlockStats,
}

impl MockBlockDevice {
    /// Creates a healthy mock disk; errors as for [`RamBlockDevice::new`].
    pub fn new(block_size: usize, block_count: u64) -> Result<Self, DeviceError> {
        Ok(MockBlockDevice {
            inner: RamBlockDevice::new(block_size, block_count)?,
            fault: Fault::None,
            latency_per_op_ns: 0,
            stats: MockBlockStats::default(),
        })
    }

    /// Fails the next `count` operations of `kind` (any kind if `None`) with `error`.
    pub fn fail_next(&mut self, count: u64, kind: Option<BlockOpKind>, error: DeviceError) {
        self.fault = Fault::Next {
            remaining: count,
            kind,
            error,
        };
    }

    /// Fails every `period`-th operation of `kind` (any kind if `None`) with
    /// `error`, counting from now. A period of 0 disables the fault.
    pub fn fail_every(&mut self, period: u64, kind: Option<BlockOpKind>, error: DeviceError) {
        self.fault = if period == 0 {
            Fault::None
        } else {
            Fault::Every {
                period,
                seen: 0,
                kind,
                error,
            }
        };
    }

    /// Fails each operation for which `predicate` returns an error.
    pub fn fail_when(
        &mut self,
        predicate: impl FnMut(&BlockOp) -> Option<DeviceError> + Send + 'static,
    ) {
        self.fault = Fault::When(Box::new(predicate));
    }

    /// Stops injecting faults.
    pub fn clear_faults(&mut self) {
        self.fault = Fault::None;
    }

    /// Adds `latency_ns` of simulated time to every later operation.
    pub fn set_latency_per_op_ns(&mut self, latency_ns: u64) {
        self.latency_per_op_ns = latency_ns;
    }

    /// What the device has seen so far.
    pub fn stats(&self) -> MockBlockStats {
        self.stats
    }

    /// Counts the operation, then decides whether it fails.
    fn begin(&mut self, kind: BlockOpKind, index: u64) -> Result<(), DeviceError> {
        let op = BlockOp {
            kind,
            index,
            sequence: self.stats.reads + self.stats.writes + self.stats.flushes,
        };
        match kind {
            BlockOpKind::Read => self.stats.reads += 1,
            BlockOpKind::Write => self.stats.writes += 1,
            BlockOpKind::Flush => self.stats.flushes += 1,
        }
        self.stats.simulated_latency_ns = self
            .stats
            .simulated_latency_ns
            .saturating_add(self.latency_per_op_ns);
        let matches = |filter: Option<BlockOpKind>| filter.is_none_or(|k| k == kind);
        let injected = match &mut self.fault {
            Fault::None => None,
            Fault::Next {
                remaining,
                kind: filter,
                error,
            } => {
                if *remaining > 0 && matches(*filter) {
                    *remaining -= 1;
                    Some(*error)
                } else {
                    None
                }
            }
            Fault::Every {
                period,
                seen,
                kind: filter,
                error,
            } => {
                if matches(*filter) {
                    *seen += 1;
                    (*seen % *period == 0).then_some(*error)
                } else {
                    None
                }
            }
            Fault::When(predicate) => predicate(&op),
        };
        match injected {
            Some(error) => {
                self.stats.injected_failures += 1;
                Err(error)
            }
            None => Ok(()),
        }
    }
}

impl BlockDevice for MockBlockDevice {
    fn block_size(&self) -> usize {
        self.inner.block_size()
    }

    fn block_count(&self) -> u64 {
        self.inner.block_count()
    }

    fn read_block(&mut self, index: u64, buffer: &mut [u8]) -> Result<(), DeviceError> {
        self.begin(BlockOpKind::Read, index)?;
        self.inner.read_block(index, buffer)
    }

    fn write_block(&mut self, index: u64, data: &[u8]) -> Result<(), DeviceError> {
        self.begin(BlockOpKind::Write, index)?;
        self.inner.write_block(index, data)
    }

    fn flush(&mut self) -> Result<(), DeviceError> {
        self.begin(BlockOpKind::Flush, 0)?;
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ram_disk_round_trips_blocks_and_starts_zeroed() {
        let mut disk = RamBlockDevice::new(16, 4).unwrap();
        assert_eq!(disk.capacity_bytes(), 64);
        let mut buffer = [0xffu8; 16];
        disk.read_block(3, &mut buffer).unwrap();
        assert_eq!(buffer, [0u8; 16]);
        disk.write_block(2, &[7u8; 16]).unwrap();
        disk.read_block(2, &mut buffer).unwrap();
        assert_eq!(buffer, [7u8; 16]);
        disk.read_block(1, &mut buffer).unwrap();
        assert_eq!(buffer, [0u8; 16], "neighbouring block untouched");
    }

    #[test]
    fn ram_disk_rejects_bad_requests() {
        let mut disk = RamBlockDevice::new(16, 4).unwrap();
        let mut buffer = [0u8; 16];
        assert_eq!(disk.read_block(4, &mut buffer), Err(DeviceError::Invalid));
        assert_eq!(
            disk.read_block(u64::MAX, &mut buffer),
            Err(DeviceError::Invalid)
        );
        assert_eq!(disk.write_block(0, &[0u8; 15]), Err(DeviceError::Invalid));
        assert_eq!(
            disk.read_block(0, &mut [0u8; 17]),
            Err(DeviceError::Invalid)
        );
    }

    #[test]
    fn ram_disk_reads_zeros_until_written_and_blocks_written_out_of_order_stay_apart() {
        let mut disk = RamBlockDevice::new(16, 8).unwrap();
        let reserved = disk.storage.capacity();
        let mut buffer = [0xAAu8; 16];
        disk.read_block(3, &mut buffer).unwrap();
        assert_eq!(buffer, [0; 16]);
        disk.write_block(5, &[5; 16]).unwrap();
        disk.write_block(2, &[2; 16]).unwrap();
        disk.write_block(5, &[55; 16]).unwrap();
        disk.write_block(7, &[7; 16]).unwrap();
        for (index, expected) in [(0, 0), (2, 2), (3, 0), (5, 55), (6, 0), (7, 7)] {
            disk.read_block(index, &mut buffer).unwrap();
            assert_eq!(buffer, [expected; 16], "block {index}");
        }
        // An overwrite reuses the block's place: three blocks, three places.
        assert_eq!(disk.storage.len(), 3 * 16);
        for index in 0..8 {
            disk.write_block(index, &[index as u8; 16]).unwrap();
        }
        assert_eq!(disk.storage.len(), 8 * 16);
        assert_eq!(disk.storage.capacity(), reserved, "writes never reallocate the storage");
    }

    #[test]
    fn ram_disk_creation_fails_cleanly() {
        assert_eq!(RamBlockDevice::new(0, 4).err(), Some(DeviceError::Invalid));
        assert_eq!(
            RamBlockDevice::new(4096, u64::MAX).err(),
            Some(DeviceError::Invalid)
        );
        // Fits in usize but not in any heap: try_reserve reports it.
        assert_eq!(
            RamBlockDevice::new(1 << 20, 1 << 40).err(),
            Some(DeviceError::NoMemory)
        );
    }

    #[test]
    fn mock_fails_next_writes_without_touching_data() {
        let mut disk = MockBlockDevice::new(8, 2).unwrap();
        disk.write_block(0, &[1u8; 8]).unwrap();
        disk.fail_next(2, Some(BlockOpKind::Write), DeviceError::Io);
        let mut buffer = [0u8; 8];
        // Reads are not matched by the filter.
        disk.read_block(0, &mut buffer).unwrap();
        assert_eq!(disk.write_block(0, &[2u8; 8]), Err(DeviceError::Io));
        assert_eq!(disk.write_block(1, &[2u8; 8]), Err(DeviceError::Io));
        disk.read_block(0, &mut buffer).unwrap();
        assert_eq!(buffer, [1u8; 8], "failed write left the block intact");
        disk.write_block(0, &[3u8; 8]).unwrap();
        let stats = disk.stats();
        assert_eq!(
            (stats.reads, stats.writes, stats.injected_failures),
            (2, 4, 2)
        );
    }

    #[test]
    fn mock_fails_every_kth_operation() {
        let mut disk = MockBlockDevice::new(8, 2).unwrap();
        disk.fail_every(3, None, DeviceError::NoSpace);
        let results: Vec<bool> = (0..9).map(|_| disk.flush().is_ok()).collect();
        assert_eq!(
            results,
            [true, true, false, true, true, false, true, true, false]
        );
        disk.fail_every(0, None, DeviceError::Io);
        assert!(disk.flush().is_ok());
    }

    #[test]
    fn mock_fails_from_a_predicate_and_counts_latency() {
        let mut disk = MockBlockDevice::new(8, 4).unwrap();
        disk.set_latency_per_op_ns(1_000);
        disk.fail_when(|op| {
            (op.kind == BlockOpKind::Write && op.index == 3).then_some(DeviceError::Io)
        });
        assert!(disk.write_block(2, &[0u8; 8]).is_ok());
        assert_eq!(disk.write_block(3, &[0u8; 8]), Err(DeviceError::Io));
        disk.clear_faults();
        assert!(disk.write_block(3, &[0u8; 8]).is_ok());
        assert_eq!(disk.stats().simulated_latency_ns, 3_000);
        assert_eq!(disk.stats().injected_failures, 1);
    }
}
