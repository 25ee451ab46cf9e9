//! One user process as its own task holds it: pid, program, memory (address
//! space, page map, mappings, budget), open files and saved registers. Only
//! the process's task touches it, so the syscall path takes no lock; what
//! others need to see (ps, metrics, the panic report) is mirrored into its
//! slot of the process table.

use core::sync::atomic::Ordering;

use sis_abi::Errno;
use sis_syscall::{Fd, FdTable};

use super::files::{File, Sink};
use super::memory::UserMemory;
use super::{loader, table};
use crate::arch::user::Registers;

pub struct Process {
    /// 0 until its task starts and learns its scheduler pid.
    pub pid: u32,
    pub program: &'static str,
    /// Its slot in the process table.
    pub slot: usize,
    pub memory: UserMemory,
    pub files: FdTable<File>,
    pub registers: Registers,
    pub sink: Sink,
    /// getrandom's generator state (xorshift64*; see syscalls.rs).
    pub random_state: u64,
}

impl Process {
    /// Loads `elf` (checked as `image`) with argument text `args` into a new
    /// address space, with fds 0, 1 and 2 open on the console or `sink`.
    pub fn load(program: &'static str, slot: usize, image: &sis_loader::Image, elf: &[u8], args: &[u8], sink: Sink) -> Result<Process, Errno> {
        let mut memory = UserMemory::new()?;
        let start = loader::load(&mut memory, image, elf, args)?;
        let mut files = FdTable::default();
        files.insert(File::Input)?;
        files.insert(File::Output(sink.clone()))?;
        files.insert(File::Output(sink.clone()))?;
        let registers = Registers::new(start.entry, start.stack_top, start.args_address, start.args_len);
        let process = Process {
            pid: 0,
            program,
            slot,
            memory,
            files,
            registers,
            sink,
            random_state: crate::arch::monotonic_ns() ^ (slot as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
        };
        process.publish();
        Ok(process)
    }

    /// Mirrors its page and fd counts into its table slot.
    pub fn publish(&self) {
        let slot = table::slot(self.slot);
        slot.pages.store(self.memory.page_count(), Ordering::Relaxed);
        slot.fds.store(self.files.open_count() as u64, Ordering::Relaxed);
    }
}

impl sis_syscall::Process for Process {
    fn address_space(&self) -> &dyn sis_syscall::AddressSpace {
        self.memory.mappings()
    }

    fn fd_is_open(&self, fd: Fd) -> bool {
        self.files.is_open(fd)
    }
}
