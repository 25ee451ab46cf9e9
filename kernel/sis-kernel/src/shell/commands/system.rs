//! System commands: echo, version, uptime, memstats, cpus, frame, poweroff,
//! panic, fault.

use core::fmt::Write;

use sis_abi::{exit, Errno};

use super::{fail, join_words, parse_number, CommandError, CommandResult, Invocation};
use crate::{arch, build_info, console, heap};

pub fn echo(invocation: &mut Invocation<'_>) -> CommandResult {
    let _ = writeln!(invocation.out, "{}", join_words(invocation.args));
    Ok(())
}

pub fn version(invocation: &mut Invocation<'_>) -> CommandResult {
    match invocation.args {
        [] => {
            let _ = build_info::write_version_line(invocation.out);
        }
        [flag] if flag == "--json" => {
            let _ = build_info::write_json(invocation.out);
        }
        _ => return Err(CommandError::Usage),
    }
    let _ = writeln!(invocation.out);
    Ok(())
}

pub fn uptime(invocation: &mut Invocation<'_>) -> CommandResult {
    if !invocation.args.is_empty() {
        return Err(CommandError::Usage);
    }
    let ns = arch::monotonic_ns();
    let _ = writeln!(invocation.out, "up {}.{:03} s", ns / 1_000_000_000, ns / 1_000_000 % 1000);
    Ok(())
}

pub fn memstats(invocation: &mut Invocation<'_>) -> CommandResult {
    if !invocation.args.is_empty() {
        return Err(CommandError::Usage);
    }
    let heap = heap::stats();
    let out = &mut invocation.out;
    let _ = writeln!(out, "ram_bytes {}", crate::ram_bytes());
    let _ = writeln!(out, "heap_size_bytes {}", heap.size_bytes);
    let _ = writeln!(out, "heap_current_bytes {}", heap.current_bytes);
    let _ = writeln!(out, "heap_peak_bytes {}", heap.peak_bytes);
    let _ = writeln!(out, "heap_allocations {}", heap.allocations);
    let _ = writeln!(out, "heap_frees {}", heap.frees);
    let _ = writeln!(out, "heap_failed_allocations {}", heap.failed_allocations);
    Ok(())
}

pub fn cpus(invocation: &mut Invocation<'_>) -> CommandResult {
    if !invocation.args.is_empty() {
        return Err(CommandError::Usage);
    }
    let _ = writeln!(invocation.out, "cpus online: {}", arch::cpus_online());
    Ok(())
}

pub fn frame(invocation: &mut Invocation<'_>) -> CommandResult {
    match invocation.args {
        [mode] if mode == "on" => {
            invocation.out.flush();
            console::set_framed(true);
            invocation.shell.reset_sequence();
            console::write_marker(format_args!("{}", sis_abi::frame::READY));
            Ok(())
        }
        [mode] if mode == "off" => {
            console::set_framed(false);
            Ok(())
        }
        _ => Err(CommandError::Usage),
    }
}

pub fn poweroff(invocation: &mut Invocation<'_>) -> CommandResult {
    let code = match invocation.args {
        [] => 0,
        [code] => parse_number::<u8>(code).ok().filter(|&c| c <= exit::POWEROFF_MAX).ok_or_else(|| {
            CommandError::Errno(Errno::EINVAL, alloc::format!("exit code must be 0-{}", exit::POWEROFF_MAX))
        })?,
        _ => return Err(CommandError::Usage),
    };
    crate::log_event!("power", "off", Info, code = code);
    arch::poweroff(code)
}

pub fn panic(invocation: &mut Invocation<'_>) -> CommandResult {
    let message = if invocation.args.is_empty() {
        alloc::string::String::from("panic requested from the shell")
    } else {
        join_words(invocation.args)
    };
    panic!("{}", message)
}

pub fn fault(invocation: &mut Invocation<'_>) -> CommandResult {
    if !invocation.args.is_empty() {
        return fail(Errno::EINVAL, "fault takes no arguments");
    }
    arch::trigger_fault()
}
