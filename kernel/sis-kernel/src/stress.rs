//! The `stress` soak workload (feature `stress`; docs/SOAK.md): a background
//! task that churns the VFS, the heap, short-lived tasks and the log with a
//! chosen mix and intensity until stopped, plus a deliberate leak as the
//! soak's positive control.
//!
//! Each iteration undoes its own work (files deleted, blocks freed,
//! children exit and are reaped), so without `--leak` every resource series
//! stays flat, and a soak that finds a trend has found a kernel leak.

extern crate alloc;

use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use sis_vfs::WriteMode;

use crate::sync::{rank, IrqMutex};
use crate::{arch, fs, metrics, sched};

/// What each iteration does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// Files, heap, tasks and log.
    Mixed,
    Fs,
    Heap,
    Tasks,
    /// Runs, but does nothing: the baseline of a soak.
    Idle,
}

impl Workload {
    pub const NAMES: [(&'static str, Workload); 5] = [
        ("mixed", Workload::Mixed),
        ("fs", Workload::Fs),
        ("heap", Workload::Heap),
        ("tasks", Workload::Tasks),
        ("idle", Workload::Idle),
    ];

    pub fn parse(name: &str) -> Option<Workload> {
        Self::NAMES.iter().find(|(candidate, _)| *candidate == name).map(|(_, workload)| *workload)
    }

    pub fn name(self) -> &'static str {
        Self::NAMES.iter().find(|(_, workload)| *workload == self).map_or("?", |(name, _)| name)
    }

    fn has(self, part: Workload) -> bool {
        self == part || (self == Workload::Mixed && part != Workload::Idle)
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Config {
    pub workload: Workload,
    /// Iterations per 10 ms tick (the task sleeps between ticks so the shell stays responsive).
    pub intensity: u32,
    /// Heap bytes leaked on purpose per iteration (0: none).
    pub leak_bytes: usize,
}

/// Largest intensity: 100 iterations per tick keeps a tick well under a
/// scrape interval even on a slow emulated CPU.
pub const MAX_INTENSITY: u32 = 100;
/// Largest leak per iteration: a quarter MiB, so a typo leaks slowly enough to see.
pub const MAX_LEAK_BYTES: usize = 256 * 1024;
/// Children alive at once at most: each holds a 64 KiB stack.
const MAX_CHILDREN: u32 = 4;
const TICK_NS: u64 = 10_000_000;
/// A progress record every this many iterations: log churn without flooding the console.
const LOG_EVERY: u64 = 1024;

/// Copied in and out whole; nothing is taken under it.
static CONFIG: IrqMutex<Config, { rank::STRESS_CONFIG }> = IrqMutex::new(Config { workload: Workload::Mixed, intensity: 10, leak_bytes: 0 });
static IS_RUNNING: AtomicBool = AtomicBool::new(false);
static IS_TASK_ALIVE: AtomicBool = AtomicBool::new(false);
static CHILDREN: AtomicU32 = AtomicU32::new(0);
static ITERATIONS: AtomicU64 = AtomicU64::new(0);
static LEAKED_BYTES: AtomicU64 = AtomicU64::new(0);
static ERRORS: AtomicU64 = AtomicU64::new(0);

/// Why `start` refused.
#[derive(Clone, Copy, Debug)]
pub enum StartError {
    AlreadyRunning,
    /// The previous run was stopped but its task has not seen it yet.
    Stopping,
    /// Every task stack slot is in use.
    NoStack,
}

pub fn start(config: Config) -> Result<(), StartError> {
    if IS_RUNNING.load(Ordering::Relaxed) {
        return Err(StartError::AlreadyRunning);
    }
    if IS_TASK_ALIVE.load(Ordering::Relaxed) {
        return Err(StartError::Stopping);
    }
    *CONFIG.lock() = config;
    IS_RUNNING.store(true, Ordering::Relaxed);
    IS_TASK_ALIVE.store(true, Ordering::Relaxed);
    if sched::spawn("stress", stress_task).is_err() {
        IS_RUNNING.store(false, Ordering::Relaxed);
        IS_TASK_ALIVE.store(false, Ordering::Relaxed);
        return Err(StartError::NoStack);
    }
    crate::log_event!(
        "stress",
        "started",
        Info,
        workload = config.workload.name(),
        intensity = u64::from(config.intensity),
        leak_bytes = config.leak_bytes as u64
    );
    Ok(())
}

/// Asks the task to stop after its current tick; true if it was running.
pub fn stop() -> bool {
    let was_running = IS_RUNNING.swap(false, Ordering::Relaxed);
    if was_running {
        crate::log_event!("stress", "stopped", Info, iterations = ITERATIONS.load(Ordering::Relaxed));
    }
    was_running
}

#[derive(Clone, Copy, Debug)]
pub struct Status {
    pub is_running: bool,
    pub config: Config,
    pub iterations: u64,
    pub leaked_bytes: u64,
    pub errors: u64,
    pub children: u32,
}

pub fn status() -> Status {
    Status {
        is_running: IS_RUNNING.load(Ordering::Relaxed),
        config: *CONFIG.lock(),
        iterations: ITERATIONS.load(Ordering::Relaxed),
        leaked_bytes: LEAKED_BYTES.load(Ordering::Relaxed),
        errors: ERRORS.load(Ordering::Relaxed),
        children: CHILDREN.load(Ordering::Relaxed),
    }
}

/// xorshift64: sizes and contents vary without a dependency or a lock.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}

fn stress_task() {
    let mut random = Random(arch::monotonic_ns() | 1);
    let _ = fs::with(|vfs| if vfs.is_dir("/stress") { Ok(()) } else { vfs.mkdir("/stress") });
    while IS_RUNNING.load(Ordering::Relaxed) {
        let config = *CONFIG.lock();
        for _ in 0..config.intensity {
            iteration(&config, &mut random);
        }
        sched::sleep_ns(TICK_NS);
    }
    IS_TASK_ALIVE.store(false, Ordering::Relaxed);
}

fn iteration(config: &Config, random: &mut Random) {
    let count = ITERATIONS.fetch_add(1, Ordering::Relaxed) + 1;
    metrics::resources().stress_iterations.inc();
    if config.workload.has(Workload::Fs) {
        churn_file(random, count);
    }
    if config.workload.has(Workload::Heap) {
        churn_heap(random);
    }
    if config.workload.has(Workload::Tasks) && CHILDREN.load(Ordering::Relaxed) < MAX_CHILDREN {
        CHILDREN.fetch_add(1, Ordering::Relaxed);
        if sched::spawn("stress-child", child_task).is_err() {
            // No stack slot free: this round runs without a new child.
            CHILDREN.fetch_sub(1, Ordering::Relaxed);
        }
    }
    if config.workload != Workload::Idle && count % LOG_EVERY == 0 {
        crate::log_event!("stress", "progress", Info, iterations = count, errors = ERRORS.load(Ordering::Relaxed));
    }
    if config.leak_bytes > 0 {
        leak(config.leak_bytes);
    }
}

/// Create, write, read back and check, delete.
fn churn_file(random: &mut Random, count: u64) {
    let path = file_path(count % 8);
    let length = 64 + random.below(4032) as usize;
    let seed = random.next() as u8;
    let mut data = Vec::new();
    if crate::heap::fallible(|| data.try_reserve_exact(length)).is_err() {
        ERRORS.fetch_add(1, Ordering::Relaxed);
        return;
    }
    data.extend((0..length).map(|index| seed.wrapping_add(index as u8)));
    let path = path.as_str();
    let result = fs::with(|vfs| {
        vfs.write(path, &data, WriteMode::Truncate)?;
        let read = vfs.read(path)?;
        vfs.remove(path)?;
        Ok(read)
    });
    match result {
        Ok(read) if read == data => {}
        Ok(_) => {
            ERRORS.fetch_add(1, Ordering::Relaxed);
            crate::log_event!("stress", "file read back differs", Error, path = path);
        }
        Err(_) => {
            // Under chaos disk faults a write fails on purpose; leave nothing behind.
            ERRORS.fetch_add(1, Ordering::Relaxed);
            let _ = fs::with(|vfs| vfs.remove(path));
        }
    }
}

/// `/stress/f<slot>` for slots 0-7 (eight names reused, so the tree stays small).
fn file_path(slot: u64) -> alloc::string::String {
    let mut path = alloc::string::String::from("/stress/f");
    path.push(char::from(b'0' + slot as u8));
    path
}

/// Allocate a few blocks of varied sizes, touch them, free them.
fn churn_heap(random: &mut Random) {
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    for _ in 0..1 + random.below(8) {
        let size = 16 + random.below(16 * 1024) as usize;
        let mut block = Vec::new();
        if crate::heap::fallible(|| block.try_reserve_exact(size)).is_err() {
            ERRORS.fetch_add(1, Ordering::Relaxed);
            break;
        }
        block.resize(size, size as u8);
        blocks.push(block);
    }
    let checksum: u64 = blocks.iter().map(|block| u64::from(block[block.len() - 1])).sum();
    core::hint::black_box(checksum);
}

/// The deliberate leak: allocated, touched, never freed. Stops (with a
/// warning, once) when the heap cannot give more, rather than panicking.
fn leak(bytes: usize) {
    let mut block: Vec<u8> = Vec::new();
    if crate::heap::fallible(|| block.try_reserve_exact(bytes)).is_err() {
        if ERRORS.fetch_add(1, Ordering::Relaxed) == 0 {
            crate::log_event!("stress", "leak allocation failed", Warn, bytes = bytes as u64);
        }
        return;
    }
    block.resize(bytes, 0x4c);
    LEAKED_BYTES.fetch_add(bytes as u64, Ordering::Relaxed);
    core::mem::forget(block);
}

/// A short-lived task: a little heap work and a yield, then it exits and is reaped.
fn child_task() {
    let block = alloc::vec![0x5a_u8; 512];
    core::hint::black_box(&block);
    sched::yield_now();
    drop(block);
    CHILDREN.fetch_sub(1, Ordering::Relaxed);
}
