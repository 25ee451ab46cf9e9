//! What a process's fds hold: the console (fd 0 reads end-of-file, fds 1 and
//! 2 write to the command's output) or a file of the RAM VFS with its own
//! offset. The VFS is path-based and moves whole files, so a file fd keeps
//! its resolved path and reads or splices at its offset.

extern crate alloc;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use sis_abi::Errno;
use sis_syscall::flags::OpenFlags;
use sis_syscall::UserRange;
use sis_vfs::WriteMode;

use super::memory::UserMemory;
use crate::sync::{rank, IrqMutex};
use crate::{console, fs};

/// Most bytes a redirected `run` keeps (`run hello > /out`); a write past
/// it is ENOSPC, as a full disk would be.
const CAPTURE_MAX: usize = 64 * 1024;

/// Where fds 1 and 2 go: the console, or a buffer the shell writes to a
/// file when the `run` line was redirected. Children inherit it.
#[derive(Clone)]
pub enum Sink {
    Console,
    /// Dropped (`run --background`: its output would land inside other
    /// commands' output, as `cmd >/dev/null &` avoids in a POSIX shell).
    Discard,
    Capture(Arc<Captured>),
}

/// A redirected `run`'s output so far. Its lock is taken with no other held;
/// the heap (and the chaos hook's queue) are taken under it, since a write
/// reserves room and the shell copies the bytes out.
pub type Captured = IrqMutex<Vec<u8>, { rank::USER_OUTPUT }>;

pub enum File {
    /// fd 0: processes run without input (as under kunit or a CI runner);
    /// a read returns end-of-file.
    Input,
    Output(Sink),
    Vfs(VfsFile),
}

pub struct VfsFile {
    path: String,
    offset: u64,
    flags: OpenFlags,
}

impl File {
    /// write(2) of the checked `buffer`.
    pub fn write(&mut self, memory: &UserMemory, buffer: UserRange) -> Result<u64, Errno> {
        match self {
            File::Input => Err(Errno::EBADF),
            File::Output(Sink::Console) => {
                // Straight from the frames to the UART: no copy, no allocation.
                console::locked(|| memory.for_each_user_chunk(buffer, |chunk| {
                    write_unmarked(chunk);
                    Ok(())
                }))?;
                Ok(buffer.len)
            }
            File::Output(Sink::Discard) => Ok(buffer.len),
            File::Output(Sink::Capture(kept)) => {
                let mut kept = kept.lock();
                if kept.len() as u64 + buffer.len > CAPTURE_MAX as u64 {
                    return Err(Errno::ENOSPC);
                }
                crate::heap::fallible(|| kept.try_reserve(buffer.len as usize)).map_err(|_| Errno::ENOMEM)?;
                memory.for_each_user_chunk(buffer, |chunk| {
                    kept.extend_from_slice(chunk);
                    Ok(())
                })?;
                Ok(buffer.len)
            }
            File::Vfs(file) => file.write(memory, buffer),
        }
    }

    /// read(2) into the checked `buffer`.
    pub fn read(&mut self, memory: &mut UserMemory, buffer: UserRange) -> Result<u64, Errno> {
        match self {
            File::Input => Ok(0),
            File::Output(_) => Err(Errno::EBADF),
            File::Vfs(file) => file.read(memory, buffer),
        }
    }
}

/// Writes a program's bytes to the console with every protocol mark byte
/// (`\x01`, docs/PROTOCOL.md) shown as `?`: whatever a program prints (the
/// fuzzer prints random memory) can never forge a marker such as the end of
/// a command or a panic.
fn write_unmarked(bytes: &[u8]) {
    for (index, piece) in bytes.split(|&byte| byte == sis_abi::frame::MARK).enumerate() {
        if index > 0 {
            console::write_bytes(b"?");
        }
        console::write_bytes(piece);
    }
}

impl VfsFile {
    /// open(2) of the copied, checked `path` with `flags`.
    pub fn open(path: &str, flags: OpenFlags) -> Result<VfsFile, Errno> {
        let path = fs::with(|vfs| {
            let resolved = vfs.resolve("/", path)?;
            match vfs.stat(&resolved) {
                Ok(metadata) if metadata.kind == sis_vfs::NodeKind::Directory => return Err(Errno::EISDIR),
                Ok(_) => {}
                Err(Errno::ENOENT) if flags.has(OpenFlags::CREATE) => vfs.create(&resolved)?,
                Err(errno) => return Err(errno),
            }
            if flags.has(OpenFlags::TRUNCATE) {
                vfs.write(&resolved, &[], WriteMode::Truncate)?;
            }
            Ok(resolved)
        })?;
        Ok(VfsFile { path, offset: 0, flags })
    }

    fn read(&mut self, memory: &mut UserMemory, buffer: UserRange) -> Result<u64, Errno> {
        if !self.flags.has(OpenFlags::READ) {
            return Err(Errno::EBADF);
        }
        let content = fs::with(|vfs| vfs.read(&self.path))?;
        let start = (self.offset as usize).min(content.len());
        let count = (content.len() - start).min(buffer.len as usize);
        memory.copy_to_user(UserRange { address: buffer.address, len: count as u64 }, &content[start..start + count])?;
        self.offset += count as u64;
        Ok(count as u64)
    }

    fn write(&mut self, memory: &UserMemory, buffer: UserRange) -> Result<u64, Errno> {
        if !self.flags.has(OpenFlags::WRITE) {
            return Err(Errno::EBADF);
        }
        let mut data = Vec::new();
        crate::heap::fallible(|| data.try_reserve_exact(buffer.len as usize)).map_err(|_| Errno::ENOMEM)?;
        data.resize(buffer.len as usize, 0);
        memory.copy_from_user(buffer, &mut data)?;
        let append = self.flags.has(OpenFlags::APPEND);
        let written_end = fs::with(|vfs| {
            let size = vfs.stat(&self.path)?.size as u64;
            let at = if append { size } else { self.offset };
            if at == size {
                vfs.write(&self.path, &data, WriteMode::Append)?;
            } else {
                // Splice at the offset (zeros fill a gap past the end, as POSIX).
                let mut content = vfs.read(&self.path)?;
                let end = at as usize + data.len();
                if content.len() < end {
                    content.try_reserve(end - content.len()).map_err(|_| Errno::ENOMEM)?;
                    content.resize(end, 0);
                }
                content[at as usize..end].copy_from_slice(&data);
                vfs.write(&self.path, &content, WriteMode::Truncate)?;
            }
            Ok(at + data.len() as u64)
        })?;
        self.offset = written_end;
        Ok(buffer.len)
    }
}
