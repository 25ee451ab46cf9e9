//! The mounted root file system: a ramfs on a RAM-backed block device. The
//! disk's write path is where chaos injects disk faults (disk_full,
//! disk_fail, slow_io, random_panic), so they travel the same path a real
//! disk error would.

use sis_abi::Errno;
use sis_hal::block::{BlockDevice, RamBlockDevice};
use sis_hal::DeviceError;

use crate::heap;
use crate::sync::{rank, IrqMutex};

pub type Vfs = sis_vfs::Vfs<Disk>;

static ROOT: IrqMutex<Option<Vfs>, { rank::FILE_SYSTEM }> = IrqMutex::new(None);

const BLOCK_BYTES: usize = 512;
/// The disk takes an eighth of the heap, between 256 KiB and 4 MiB: room for
/// tests and chaos workloads without slowing boot (the blocks are zeroed).
const MIN_DISK_BYTES: usize = 256 * 1024;
const MAX_DISK_BYTES: usize = 4 * 1024 * 1024;

const README: &str = "\
SIS kernel
==========

A small Rust kernel for aarch64, riscv64 and x86_64, driven by the sis CLI.
This file lives in a RAM file system; try `ls /`, `help`, `version`.
";

/// The root file system's disk: RAM blocks, plus the chaos injection points
/// on the write path when the feature is on.
pub struct Disk {
    blocks: RamBlockDevice,
}

impl BlockDevice for Disk {
    fn block_size(&self) -> usize {
        self.blocks.block_size()
    }

    fn block_count(&self) -> u64 {
        self.blocks.block_count()
    }

    fn read_block(&mut self, index: u64, buffer: &mut [u8]) -> Result<(), DeviceError> {
        self.blocks.read_block(index, buffer)
    }

    fn write_block(&mut self, index: u64, data: &[u8]) -> Result<(), DeviceError> {
        #[cfg(feature = "chaos")]
        {
            use sis_chaos::Point;
            crate::chaos::check(Point::PanicPoint);
            crate::chaos::check(Point::IoDelay);
            if let Some(errno) = crate::chaos::block_write_error() {
                return Err(if errno == Errno::ENOSPC { DeviceError::NoSpace } else { DeviceError::Io });
            }
        }
        self.blocks.write_block(index, data)
    }

    fn flush(&mut self) -> Result<(), DeviceError> {
        self.blocks.flush()
    }
}

/// Creates the disk and the file system, with /README.md in it.
pub fn mount(heap_bytes: usize) -> Result<usize, Errno> {
    let disk_bytes = (heap_bytes / 8).clamp(MIN_DISK_BYTES, MAX_DISK_BYTES);
    let blocks = RamBlockDevice::new(BLOCK_BYTES, (disk_bytes / BLOCK_BYTES) as u64).map_err(|e| e.errno())?;
    let mut vfs = sis_vfs::Vfs::new(Disk { blocks }, sis_vfs::Limits::default())?;
    vfs.write("/README.md", README.as_bytes(), sis_vfs::WriteMode::Truncate)?;
    *ROOT.lock() = Some(vfs);
    Ok(disk_bytes)
}

/// Runs `f` on the mounted file system, as a fallible section: the VFS
/// allocates only with `try_reserve`, so an allocation failure (real or
/// injected by memory_pressure) reaches the caller as ENOMEM.
pub fn with<T>(f: impl FnOnce(&mut Vfs) -> Result<T, Errno>) -> Result<T, Errno> {
    let mut root = ROOT.lock();
    match root.as_mut() {
        Some(vfs) => heap::fallible(|| f(vfs)),
        None => Err(Errno::EIO),
    }
}
