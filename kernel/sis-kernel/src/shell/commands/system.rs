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
    // Frames user processes hold (docs/SYSCALLS.md): 0 once they all exited.
    let _ = writeln!(out, "user_pages {}", crate::user::user_pages());
    Ok(())
}

pub fn cpus(invocation: &mut Invocation<'_>) -> CommandResult {
    if !invocation.args.is_empty() {
        return Err(CommandError::Usage);
    }
    let _ = writeln!(invocation.out, "cpus online: {}", arch::cpus_online());
    let _ = writeln!(invocation.out, "{:>3}  {:>7}  {:>10}  {:>10}  {:>7}", "CPU", "RUNNING", "BUSY_US", "IDLE_US", "TICKS");
    for cpu in crate::sched::cpus() {
        let running = cpu.running.map_or(alloc::string::String::from("-"), |pid| alloc::format!("{pid}"));
        let _ = writeln!(
            invocation.out,
            "{:>3}  {:>7}  {:>10}  {:>10}  {:>7}",
            cpu.cpu,
            running,
            cpu.busy_ns / 1_000,
            cpu.idle_ns / 1_000,
            cpu.ticks
        );
    }
    let _ = writeln!(invocation.out, "preemptions: {}", crate::sched::preemptions());
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
    if let [flag] = invocation.args {
        if flag == "--all-cpus" {
            return panic_on_every_cpu();
        }
    }
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

/// Tasks of `panic --all-cpus` that reached the barrier.
static PANICKERS_ARRIVED: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// `panic --all-cpus`: one task per CPU meets the others at a barrier, then
/// all panic at once; exactly one report must come out (panic.rs).
fn panic_on_every_cpu() -> CommandResult {
    for _ in 0..arch::cpus_online() {
        if crate::sched::spawn("panicker", panicker).is_err() {
            return fail(Errno::ENOMEM, "no free task stack slot");
        }
    }
    loop {
        crate::sched::sleep_ns(1_000_000);
    }
}

fn panicker() {
    use core::sync::atomic::Ordering;
    let cpus = arch::cpus_online();
    PANICKERS_ARRIVED.fetch_add(1, Ordering::AcqRel);
    // Bounded: a CPU that never joins must not turn this into a hang.
    let deadline = arch::monotonic_ns().saturating_add(2_000_000_000);
    while PANICKERS_ARRIVED.load(Ordering::Acquire) < cpus && arch::monotonic_ns() < deadline {
        core::hint::spin_loop();
    }
    panic!("panic on purpose on cpu {} (panic --all-cpus)", arch::cpu_index())
}

/// `overflow`: recurses on the shell's own stack until its guard page stops
/// it; the fault report names the task (stacks.rs).
pub fn overflow(invocation: &mut Invocation<'_>) -> CommandResult {
    if !invocation.args.is_empty() {
        return fail(Errno::EINVAL, "overflow takes no arguments");
    }
    let depth = recurse(0);
    fail(Errno::EIO, alloc::format!("recursed {depth} levels without reaching the guard page"))
}

/// One 512-byte frame per level; the addition after the call keeps it from
/// becoming a loop.
#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let frame = core::hint::black_box([depth as u8; 512]);
    recurse(depth + 1).wrapping_add(u64::from(frame[depth as usize % 512]))
}

/// `wx`: writes into kernel text, which W^X maps read-only.
pub fn wx(invocation: &mut Invocation<'_>) -> CommandResult {
    if !invocation.args.is_empty() {
        return fail(Errno::EINVAL, "wx takes no arguments");
    }
    let target = core::hint::black_box(wx as fn(&mut Invocation<'_>) -> CommandResult as usize) as *mut u8;
    // SAFETY: deliberately invalid: the store must fault (W^X); if it does
    // not, the function's first byte is rewritten with its own value.
    unsafe { target.write_volatile(target.read_volatile()) };
    fail(Errno::EIO, "writing into kernel text did not fault: W^X is off")
}

/// `null`: reads through a null struct pointer (a field at offset 16).
pub fn null(invocation: &mut Invocation<'_>) -> CommandResult {
    if !invocation.args.is_empty() {
        return fail(Errno::EINVAL, "null takes no arguments");
    }
    let address = core::hint::black_box(16usize) as *const u64;
    // SAFETY: deliberately invalid: page 0 is unmapped on every arch, so
    // the load faults and the fault report follows.
    let value = unsafe { address.read_volatile() };
    fail(Errno::EIO, alloc::format!("reading address 16 did not fault (read {value:#x})"))
}

/// Most bytes `random` prints at once.
const RANDOM_MAX_BYTES: usize = 256;

pub fn random(invocation: &mut Invocation<'_>) -> CommandResult {
    let count = match invocation.args {
        [] => 16,
        [count] => parse_number::<usize>(count).ok().filter(|c| (1..=RANDOM_MAX_BYTES).contains(c)).ok_or_else(|| {
            CommandError::Errno(Errno::EINVAL, alloc::format!("byte count must be 1-{RANDOM_MAX_BYTES}"))
        })?,
        _ => return Err(CommandError::Usage),
    };
    let mut bytes = [0u8; RANDOM_MAX_BYTES];
    match crate::rng::fill(&mut bytes[..count]) {
        None => return fail(Errno::ENODEV, "no entropy device (attach virtio-rng: docs/kernel-devices.md)"),
        Some(Err(error)) => return fail(error.errno(), alloc::format!("entropy device: {error}")),
        Some(Ok(())) => {}
    }
    for byte in &bytes[..count] {
        let _ = write!(invocation.out, "{byte:02x}");
    }
    let _ = writeln!(invocation.out);
    Ok(())
}

/// Takes the scheduler's rank, then the file system's: the inversion the lock-order
/// check exists for. Only where the check is compiled in (debug builds, and
/// release builds with `lock-order-check`); two locks of its own, so no real lock is
/// held when the check panics. tests/e2e/lockorder_test.ts runs it.
#[cfg(any(debug_assertions, feature = "lock-order-check"))]
pub fn lock_order_inversion(_invocation: &mut Invocation<'_>) -> CommandResult {
    use crate::sync::{rank, IrqMutex};
    static OUTER: IrqMutex<(), { rank::SCHEDULER }> = IrqMutex::new(());
    static INNER: IrqMutex<(), { rank::FILE_SYSTEM }> = IrqMutex::new(());
    let _outer = OUTER.lock();
    let _inner = INNER.lock();
    fail(Errno::EIO, "the lock-order check did not fire")
}
