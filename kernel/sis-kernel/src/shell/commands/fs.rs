//! File commands over the VFS: ls, cat, touch, write, rm, mkdir, rmdir, cd,
//! pwd, and `> path` redirection.

extern crate alloc;

use alloc::format;
use alloc::string::String;
use core::fmt::Write;

use sis_abi::Errno;
use sis_vfs::{NodeKind, WriteMode};

use super::{join_words, CommandError, CommandResult, Invocation};
use crate::fs;
use crate::shell::Shell;

/// `error: <ERRNO>: <path>: <description>`.
fn path_error(path: &str, errno: Errno) -> CommandError {
    CommandError::Errno(errno, format!("{}: {}", path, errno.description()))
}

/// The absolute path `path` names from the shell's working directory.
fn resolve(shell: &Shell, path: &str) -> Result<String, CommandError> {
    fs::with(|vfs| vfs.resolve(&shell.cwd, path)).map_err(|errno| path_error(path, errno))
}

/// Resolves `path` and runs `op` on the VFS with it, naming the path in errors.
fn on_path<T>(
    shell: &Shell,
    path: &str,
    op: impl FnOnce(&mut fs::Vfs, &str) -> Result<T, Errno>,
) -> Result<T, CommandError> {
    let absolute = resolve(shell, path)?;
    fs::with(|vfs| op(vfs, &absolute)).map_err(|errno| path_error(path, errno))
}

pub fn ls(invocation: &mut Invocation<'_>) -> CommandResult {
    let path = match invocation.args {
        [] => ".",
        [path] => path.as_str(),
        _ => return Err(CommandError::Usage),
    };
    let entries = on_path(invocation.shell, path, |vfs, absolute| vfs.list(absolute))?;
    for entry in entries {
        let (kind, suffix) = match entry.kind {
            NodeKind::Directory => ('d', "/"),
            NodeKind::File => ('-', ""),
        };
        let _ = writeln!(invocation.out, "{} {:>8} {}{}", kind, entry.size, entry.name, suffix);
    }
    Ok(())
}

pub fn cat(invocation: &mut Invocation<'_>) -> CommandResult {
    let [path] = invocation.args else { return Err(CommandError::Usage) };
    let data = on_path(invocation.shell, path, |vfs, absolute| vfs.read(absolute))?;
    let text = String::from_utf8_lossy(&data);
    let _ = invocation.out.write_str(&text);
    if !text.is_empty() && !text.ends_with('\n') {
        let _ = writeln!(invocation.out);
    }
    Ok(())
}

pub fn touch(invocation: &mut Invocation<'_>) -> CommandResult {
    let [path] = invocation.args else { return Err(CommandError::Usage) };
    on_path(invocation.shell, path, |vfs, absolute| vfs.create(absolute))
}

pub fn write(invocation: &mut Invocation<'_>) -> CommandResult {
    let [path, words @ ..] = invocation.args else { return Err(CommandError::Usage) };
    if words.is_empty() {
        return Err(CommandError::Usage);
    }
    let mut text = join_words(words);
    text.push('\n');
    on_path(invocation.shell, path, |vfs, absolute| vfs.write(absolute, text.as_bytes(), WriteMode::Truncate))
        .map(|_| ())
}

/// Writes a redirected command's output to `path`.
pub fn write_redirect(shell: &Shell, path: &str, data: &[u8], is_append: bool) -> CommandResult {
    let mode = if is_append { WriteMode::Append } else { WriteMode::Truncate };
    on_path(shell, path, |vfs, absolute| vfs.write(absolute, data, mode)).map(|_| ())
}

pub fn rm(invocation: &mut Invocation<'_>) -> CommandResult {
    let [path] = invocation.args else { return Err(CommandError::Usage) };
    on_path(invocation.shell, path, |vfs, absolute| vfs.remove(absolute))
}

pub fn mkdir(invocation: &mut Invocation<'_>) -> CommandResult {
    let [path] = invocation.args else { return Err(CommandError::Usage) };
    on_path(invocation.shell, path, |vfs, absolute| vfs.mkdir(absolute))
}

pub fn rmdir(invocation: &mut Invocation<'_>) -> CommandResult {
    let [path] = invocation.args else { return Err(CommandError::Usage) };
    on_path(invocation.shell, path, |vfs, absolute| vfs.rmdir(absolute))
}

pub fn cd(invocation: &mut Invocation<'_>) -> CommandResult {
    let path = match invocation.args {
        [] => "/",
        [path] => path.as_str(),
        _ => return Err(CommandError::Usage),
    };
    let absolute = resolve(invocation.shell, path)?;
    let metadata = fs::with(|vfs| vfs.stat(&absolute)).map_err(|errno| path_error(path, errno))?;
    if metadata.kind != NodeKind::Directory {
        return Err(path_error(path, Errno::ENOTDIR));
    }
    invocation.shell.cwd = absolute;
    Ok(())
}

pub fn pwd(invocation: &mut Invocation<'_>) -> CommandResult {
    if !invocation.args.is_empty() {
        return Err(CommandError::Usage);
    }
    let _ = writeln!(invocation.out, "{}", invocation.shell.cwd);
    Ok(())
}
