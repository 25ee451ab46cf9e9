//! The mounted root file system: a ramfs on a RAM-backed block device, so
//! disk faults injected under it hit a real write path.

use sis_abi::Errno;
use sis_hal::block::RamBlockDevice;
use spin::Mutex;

pub type Disk = RamBlockDevice;
pub type Vfs = sis_vfs::Vfs<Disk>;

static ROOT: Mutex<Option<Vfs>> = Mutex::new(None);

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

/// Creates the disk and the file system, with /README.md in it.
pub fn mount(heap_bytes: usize) -> Result<usize, Errno> {
    let disk_bytes = (heap_bytes / 8).clamp(MIN_DISK_BYTES, MAX_DISK_BYTES);
    let disk = RamBlockDevice::new(BLOCK_BYTES, (disk_bytes / BLOCK_BYTES) as u64).map_err(|e| e.errno())?;
    let mut vfs = sis_vfs::Vfs::new(disk, sis_vfs::Limits::default())?;
    vfs.write("/README.md", README.as_bytes(), sis_vfs::WriteMode::Truncate)?;
    *ROOT.lock() = Some(vfs);
    Ok(disk_bytes)
}

/// Runs `f` on the mounted file system.
pub fn with<T>(f: impl FnOnce(&mut Vfs) -> Result<T, Errno>) -> Result<T, Errno> {
    let mut root = ROOT.lock();
    match root.as_mut() {
        Some(vfs) => f(vfs),
        None => Err(Errno::EIO),
    }
}
