//! User program commands: `programs` lists the embedded ELF files and the
//! segments the loader checked for each.

extern crate alloc;

use core::fmt::Write;

use sis_abi::Errno;

use super::{fail, CommandError, CommandResult, Invocation};
use crate::user;

pub fn programs(invocation: &mut Invocation<'_>) -> CommandResult {
    if !invocation.args.is_empty() {
        return Err(CommandError::Usage);
    }
    let _ = writeln!(invocation.out, "{:<8}  {:>6}  {:<14}  SEGMENTS", "NAME", "BYTES", "ENTRY");
    let mut refused = None;
    for program in user::programs() {
        let _ = write!(invocation.out, "{:<8}  {:>6}  ", program.name, program.elf.len());
        match program.image() {
            Ok(image) => {
                let _ = write!(invocation.out, "{:<#14x}  ", image.entry);
                for (index, segment) in image.segments().iter().enumerate() {
                    let permissions = match (segment.writable, segment.executable) {
                        (true, _) => "rw-",
                        (false, true) => "r-x",
                        (false, false) => "r--",
                    };
                    let separator = if index == 0 { "" } else { " " };
                    let _ = write!(invocation.out, "{separator}{permissions}@{:#x}+{}p", segment.address, segment.pages());
                }
                let _ = writeln!(invocation.out);
            }
            Err(error) => {
                let _ = writeln!(invocation.out, "refused: {}", error.message());
                refused.get_or_insert((program.name, error));
            }
        }
    }
    match refused {
        Some((name, error)) => fail(Errno::EINVAL, alloc::format!("{name}: {}", error.message())),
        None => Ok(()),
    }
}
