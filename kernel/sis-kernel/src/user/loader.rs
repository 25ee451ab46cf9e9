//! The kernel half of loading a program: turns a checked `sis_loader::Image`
//! into mapped frames (file bytes copied, the rest zero, each segment with
//! its own permissions), adds the user stack and the read-only argument
//! page, and says where the program starts.

use sis_abi::Errno;
use sis_loader::Image;
use sis_syscall::limits::{PAGE_SIZE, USER_ARGS_ADDRESS, USER_STACK_PAGES, USER_STACK_TOP};

use super::memory::UserMemory;

/// Where a loaded program starts: `_start(args_address, args_len)` at
/// `entry` with the stack pointer at `stack_top`.
#[derive(Clone, Copy, Debug)]
pub struct Start {
    pub entry: u64,
    pub stack_top: u64,
    pub args_address: u64,
    pub args_len: u64,
}

/// Maps `image` (whose bytes are `elf`) and `args` into `memory`.
pub fn load(memory: &mut UserMemory, image: &Image, elf: &[u8], args: &[u8]) -> Result<Start, Errno> {
    for segment in image.segments() {
        memory.map_fresh(segment.address, segment.pages(), segment.writable, segment.executable)?;
        // sis_loader checked that the file bytes lie inside the file and fit
        // the segment; the pages are already zero beyond them.
        let from = segment.file_offset as usize;
        let bytes = elf.get(from..from + segment.file_size as usize).ok_or(Errno::EINVAL)?;
        memory.fill(segment.address, bytes)?;
    }
    let stack_bottom = USER_STACK_TOP - USER_STACK_PAGES * PAGE_SIZE;
    memory.map_fresh(stack_bottom, USER_STACK_PAGES, true, false)?;
    if args.len() as u64 > sis_syscall::limits::ARG_MAX {
        return Err(Errno::E2BIG);
    }
    memory.map_fresh(USER_ARGS_ADDRESS, 1, false, false)?;
    memory.fill(USER_ARGS_ADDRESS, args)?;
    Ok(Start { entry: image.entry, stack_top: USER_STACK_TOP, args_address: USER_ARGS_ADDRESS, args_len: args.len() as u64 })
}
