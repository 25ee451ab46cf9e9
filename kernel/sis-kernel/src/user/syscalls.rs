//! What each validated call does. `sis_syscall::decode` has checked every
//! argument against the process (fds open, ranges inside its mappings with
//! the right access, flags, lengths, pids in range); what is left here needs
//! kernel state: the file system, the process table, the page map.
//!
//! The common calls (getpid, progress, uptime, yield, write to the console,
//! every rejected call) allocate nothing, log nothing and switch no tables.

use core::sync::atomic::Ordering;

use sis_abi::Errno;
use sis_syscall::decode::{check_args_text, STAT_SIZE, WAIT_STATUS_SIZE};
use sis_syscall::limits::{ARG_MAX, MAX_FDS};
use sis_syscall::path::{check_path_bytes, NAME_MAX};
use sis_syscall::{Call, UserRange};

use super::files::{File, VfsFile};
use super::process::Process;
use super::table;
use crate::{arch, fs, sched};

/// What the run loop does after a call.
pub enum Flow {
    /// Put the value in the return register and resume the program.
    Return(u64),
    /// The program asked to end with this status.
    Exit(u8),
}

/// Runs `call` for `process`.
pub fn dispatch(process: &mut Process, call: Call) -> Result<Flow, Errno> {
    let value = match call {
        Call::Exit { status } => return Ok(Flow::Exit(status)),
        Call::Write { fd, buffer } => {
            let Process { files, memory, .. } = process;
            files.get_mut(fd)?.write(memory, buffer)?
        }
        Call::Read { fd, buffer } => {
            let Process { files, memory, .. } = process;
            files.get_mut(fd)?.read(memory, buffer)?
        }
        Call::Open { path, flags } => {
            // Checked before anything is created or truncated.
            if process.files.open_count() >= MAX_FDS {
                return Err(Errno::EMFILE);
            }
            let mut bytes = [0u8; 256];
            let path = copy_path(process, path, &mut bytes)?;
            let file = VfsFile::open(path, flags)?;
            let fd = process.files.insert(File::Vfs(file))?;
            process.publish();
            fd.index() as u64
        }
        Call::Close { fd } => {
            process.files.remove(fd)?;
            process.publish();
            0
        }
        Call::Stat { path, out } => {
            let mut bytes = [0u8; 256];
            let path = copy_path(process, path, &mut bytes)?;
            let metadata = fs::with(|vfs| vfs.stat(path))?;
            let kind: u64 = match metadata.kind {
                sis_vfs::NodeKind::File => 1,
                sis_vfs::NodeKind::Directory => 2,
            };
            let mut result = [0u8; STAT_SIZE as usize];
            result[..8].copy_from_slice(&(metadata.size as u64).to_le_bytes());
            result[8..].copy_from_slice(&kind.to_le_bytes());
            process.memory.copy_to_user(out, &result)?;
            0
        }
        Call::Unlink { path } => {
            let mut bytes = [0u8; 256];
            let path = copy_path(process, path, &mut bytes)?;
            fs::with(|vfs| vfs.remove(path))?;
            0
        }
        Call::Mkdir { path } => {
            let mut bytes = [0u8; 256];
            let path = copy_path(process, path, &mut bytes)?;
            fs::with(|vfs| vfs.mkdir(path))?;
            0
        }
        Call::Getpid => u64::from(process.pid),
        Call::Sleep { ms } => {
            // Woken early only by `kill`, which the run loop then carries out.
            let slot = table::slot(process.slot);
            let deadline = arch::monotonic_ns().saturating_add(ms * 1_000_000);
            while arch::monotonic_ns() < deadline && !slot.is_kill_requested() {
                sched::block_until(deadline, || !slot.is_kill_requested());
            }
            0
        }
        Call::Yield => {
            sched::yield_now();
            0
        }
        Call::Mmap { pages, protection } => {
            let address = process.memory.mmap(pages, protection.writable)?;
            process.publish();
            address
        }
        Call::Munmap { address, pages } => {
            process.memory.munmap(address, pages)?;
            process.publish();
            0
        }
        Call::Uptime => arch::monotonic_ns(),
        Call::Getrandom { buffer } => {
            let Process { memory, random_state, .. } = process;
            memory.for_each_user_chunk_mut(buffer, |chunk| {
                for byte in chunk {
                    *byte = next_random(random_state) as u8;
                }
            })?;
            buffer.len
        }
        Call::Spawn { name, args } => {
            let mut name_bytes = [0u8; NAME_MAX as usize];
            let name_bytes = &mut name_bytes[..name.len as usize];
            process.memory.copy_from_user(name, name_bytes)?;
            let name = check_path_bytes(name_bytes)?;
            let mut arg_bytes = [0u8; ARG_MAX as usize];
            let arg_bytes = &mut arg_bytes[..args.len as usize];
            process.memory.copy_from_user(args, arg_bytes)?;
            check_args_text(arg_bytes)?;
            let child = super::spawn(name, arg_bytes, process.pid, process.pid, process.sink.clone())?;
            u64::from(child.pid)
        }
        Call::Wait { pid, status } => {
            let index = table::child_slot(process.pid, pid.get())?;
            let slot = table::slot(process.slot);
            // A waiter being killed stops waiting; the run loop ends it and
            // its child is orphaned.
            let Some(code) = table::wait_slot_unless(index, || slot.is_kill_requested()) else {
                return Err(Errno::ESRCH);
            };
            if let Some(out) = status {
                process.memory.copy_to_user(out, &(code as i32).to_le_bytes()[..WAIT_STATUS_SIZE as usize])?;
            }
            u64::from(pid.get())
        }
        Call::Progress { index } => {
            table::slot(process.slot).progress.store(index, Ordering::Relaxed);
            0
        }
    };
    Ok(Flow::Return(value))
}

/// Copies a checked path range into `buffer` and checks its bytes.
fn copy_path<'a>(process: &Process, path: UserRange, buffer: &'a mut [u8; 256]) -> Result<&'a str, Errno> {
    let bytes = &mut buffer[..path.len as usize];
    process.memory.copy_from_user(path, bytes)?;
    check_path_bytes(bytes)
}

/// xorshift64* (Vigna): getrandom's bytes. Not cryptographic: the kernel
/// has no entropy source yet (docs/SYSCALLS.md says so).
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32
}
