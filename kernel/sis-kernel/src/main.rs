//! The SIS kernel: boots on aarch64, riscv64 and x86_64 to the `sis> ` shell.
//!
//! Boot order: the arch entry brings up console, clock, exceptions, memory
//! map and CPUs, then calls `kernel_main`, which sets up the heap, mounts the
//! RAM file system, starts the tasks and becomes the idle task.
#![no_std]
#![no_main]

extern crate alloc;

mod arch;
mod build_info;
#[cfg(feature = "chaos")]
mod chaos;
mod console;
mod cpu_time;
mod fs;
mod heap;
#[macro_use]
mod log;
mod metrics;
mod net;
pub mod panic;
mod percpu;
mod rng;
mod sched;
mod shell;
mod spin;
mod stacks;
mod sync;
#[cfg(feature = "stress")]
mod stress;
mod user;

use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use arch::BootInfo;

/// Accesses below this address are reported as null-pointer accesses (the
/// arch leaves at least this much unmapped at address 0).
pub const NULL_PAGE_BYTES: usize = 4096;

/// How long boot waits for the started secondaries, to go quiet and then
/// to join the scheduler.
const SECONDARY_JOIN_TIMEOUT_NS: u64 = 5_000_000_000;

/// Bytes of usable RAM the firmware reported.
static RAM_BYTES: AtomicUsize = AtomicUsize::new(0);

pub fn ram_bytes() -> usize {
    RAM_BYTES.load(Ordering::Relaxed)
}

/// Called by the arch entry code once the console, clock and memory map are up.
pub fn kernel_main(boot: BootInfo) -> ! {
    // The first line the kernel prints: the CLI's "kernel entry" stage.
    print!("SIS kernel ");
    let _ = build_info::write_identity(&mut console::Console);
    println!(" booting on {}", arch::NAME);
    log_event!("boot", "arch", Info, arch = arch::NAME, cpus = arch::cpus_online() as u64);

    let ram = boot.memory.total_usable_bytes();
    RAM_BYTES.store(ram, Ordering::Relaxed);
    let low = boot.memory.usable().iter().map(|r| r.start).min().unwrap_or(0);
    let high = boot.memory.usable().iter().map(|r| r.end()).max().unwrap_or(0);
    panic::set_frame_bounds(low, high);
    log_event!("boot", "memory", Info, ram_bytes = ram as u64, regions = boot.memory.usable().len() as u64);

    let Some(region) = sis_mem::heap::heap_region(&boot.memory, boot.kernel_end) else {
        panic!("no RAM left for the heap (memory map: {:?})", boot.memory.usable());
    };
    // SAFETY: heap_region returns RAM above the kernel image and outside every
    // reserved range; nothing else claims it.
    unsafe { heap::init(region) };
    log_event!("boot", "heap", Info, start = region.start as u64, size_bytes = region.size as u64);

    #[cfg(feature = "chaos")]
    {
        chaos::init();
        log_event!("chaos", "available", Info, mode = chaos::get().mode().name());
    }

    match fs::mount(region.size) {
        Ok(disk_bytes) => log_event!("fs", "mounted", Info, root = "/", disk_bytes = disk_bytes as u64),
        Err(errno) => log_event!("fs", "mount failed", Error, errno = errno.name()),
    }

    let online = arch::cpus_online();
    sched::init(online);
    // The devices are set up with every secondary asleep and nothing armed
    // (`secondary_main`): on x86_64 that keeps them off MMIO while the
    // memory map changes (docs/boot-x86_64.md). They went quiet right
    // after checking in, long before this.
    let deadline = arch::monotonic_ns().saturating_add(SECONDARY_JOIN_TIMEOUT_NS);
    arch::spin_until(|| SECONDARIES_QUIET.load(Ordering::Acquire) + 1 >= online, deadline);
    log_event!("sched", "started", Info, cpus = online as u64, slice_ms = sched::SLICE_NS / 1_000_000);
    // Only finds and resets the NIC; DHCP runs later in the `net` task.
    // Before the shell starts, so "net: interface up" always comes before
    // "shell: ready" (the shell may start at once on another CPU).
    rng::init(&boot.devices);
    net::init(&boot.devices);
    DEVICES_READY.store(true, Ordering::Release);
    arch::wake_secondaries();
    // They join within microseconds of the go; waiting for them (bounded)
    // makes `cpus` and `ps` complete from the first prompt on.
    if !sched::wait_for_cpus(online, SECONDARY_JOIN_TIMEOUT_NS) {
        log_event!("sched", "cpus missing", Warn, expected = online as u64, joined = sched::cpus().len() as u64);
    }
    sched::spawn("shell", shell::task).expect("a stack slot for the shell");
    sched::spawn("sampler", sampler_task).expect("a stack slot for the sampler");
    sched::idle_loop()
}

/// A secondary CPU, once its arch code set up its stack, vectors and timer
/// interrupt: sleeps until the boot CPU has started the scheduler and set
/// up the devices, then joins the scheduler and runs tasks.
pub fn secondary_main() -> ! {
    // Asleep with nothing armed until the go (`arch::wake_secondaries`),
    // not polling: under QEMU's TCG a polling vCPU takes host time from the
    // booting one, and on aarch64 each of its clock reads and timer writes
    // takes QEMU's big lock too (boot to prompt, -smp 4: bench/sched.ts).
    arch::quiet_before_start();
    SECONDARIES_QUIET.fetch_add(1, Ordering::AcqRel);
    while !DEVICES_READY.load(Ordering::Acquire) {
        // Idle time, as in the idle loop (`cpus`, sis_cpu_idle_seconds_total).
        cpu_time::idle_section(arch::cpu_index(), arch::wait_for_start);
    }
    sched::join_secondary();
    sched::idle_loop()
}

/// Secondaries asleep in `secondary_main` with nothing armed.
static SECONDARIES_QUIET: AtomicUsize = AtomicUsize::new(0);
/// The secondaries' go: the scheduler runs and the devices are set up.
static DEVICES_READY: AtomicBool = AtomicBool::new(false);

/// Background task: wakes once a second so `ps` shows a second task moving
/// and the metrics see the scheduler at work.
fn sampler_task() {
    loop {
        sched::sleep_ns(1_000_000_000);
    }
}
