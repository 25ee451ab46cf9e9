//! User mode, the portable half: programs embedded at build time (build.rs,
//! from kernel/user), processes and their table, the loader, the run loop,
//! the syscalls and their statistics. The arch half is `arch::user`
//! (arch/mod.rs has the contract); docs/SYSCALLS.md describes it all.

extern crate alloc;

mod files;
mod frames;
mod loader;
mod memory;
mod process;
mod run;
pub mod stats;
mod syscalls;
pub mod table;

#[cfg(feature = "fuzz-break")]
mod broken;

use alloc::boxed::Box;

use sis_abi::Errno;

pub use files::{Captured, Sink};
use process::Process;

mod programs {
    include!(concat!(env!("OUT_DIR"), "/user_programs.rs"));
}

/// One embedded program.
pub struct Program {
    pub name: &'static str,
    pub elf: &'static [u8],
}

/// Every embedded program, in build order.
pub fn programs() -> impl Iterator<Item = Program> {
    programs::PROGRAMS.iter().map(|&(name, elf)| Program { name, elf })
}

/// The name of program number `index` (the process table keeps indexes).
pub fn program_name(index: usize) -> &'static str {
    programs::PROGRAMS.get(index).map_or("?", |&(name, _)| name)
}

impl Program {
    /// Its image checked for this arch: what the loader would map.
    pub fn image(&self) -> Result<sis_loader::Image, sis_loader::LoadError> {
        sis_loader::parse(self.elf, crate::arch::ELF_MACHINE)
    }
}

/// Why a process could not start.
#[derive(Clone, Copy, Debug)]
pub enum SpawnError {
    /// No program of that name (ENOENT).
    NoProgram,
    /// The embedded ELF file was refused (EINVAL).
    Refused(sis_loader::LoadError),
    /// Out of memory, process slots or task stacks.
    Errno(Errno),
}

impl SpawnError {
    pub fn errno(self) -> Errno {
        match self {
            SpawnError::NoProgram => Errno::ENOENT,
            SpawnError::Refused(_) => Errno::EINVAL,
            SpawnError::Errno(errno) => errno,
        }
    }
}

impl From<SpawnError> for Errno {
    fn from(error: SpawnError) -> Errno {
        error.errno()
    }
}

/// A started process.
#[derive(Clone, Copy, Debug)]
pub struct Child {
    pub pid: u32,
    /// Its process table slot (for `table::wait_slot`).
    pub slot: usize,
}

/// Starts program `name` with argument text `args` as a new process whose
/// parent is process `parent` (`table::KERNEL_PARENT` for the shell) and
/// whose exit wakes scheduler task `waker`.
pub fn spawn(name: &str, args: &[u8], parent: u32, waker: u32, sink: Sink) -> Result<Child, SpawnError> {
    let (index, program) = programs().enumerate().find(|(_, program)| program.name == name).ok_or(SpawnError::NoProgram)?;
    let image = program.image().map_err(SpawnError::Refused)?;
    let slot = table::claim(index, parent, waker).map_err(SpawnError::Errno)?;
    let process = match Process::load(program.name, slot, &image, program.elf, args, sink) {
        Ok(process) => process,
        Err(errno) => {
            table::release_unstarted(slot);
            return Err(SpawnError::Errno(errno));
        }
    };
    let raw = Box::into_raw(Box::new(process)) as usize;
    match crate::sched::spawn_with_argument(program.name, run::task, raw) {
        Ok(pid) => {
            table::set_pid(slot, pid);
            Ok(Child { pid, slot })
        }
        Err(crate::sched::NoStack) => {
            // SAFETY: the task was not created; `raw` is still only ours.
            drop(unsafe { Box::from_raw(raw as *mut Process) });
            table::release_unstarted(slot);
            Err(SpawnError::Errno(Errno::ENOMEM))
        }
    }
}

/// User frames held by all processes (the `sis_user_pages` gauge).
pub fn user_pages() -> u64 {
    frames::held()
}
