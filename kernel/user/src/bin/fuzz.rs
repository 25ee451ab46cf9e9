//! `run fuzz seed=S calls=N`: the syscall fuzzer's agent. It makes the calls
//! sis-fuzz generates for the seed (all of a run, or an explicit index list
//! for replay and delta debugging), tells the kernel the index of each call
//! before making it (`progress`, so a panic report names it), and ends with
//! one summary line. Argument text: sis-fuzz `plan` (docs/FUZZ.md).
//!
//! Output, one line each, all starting `fuzz: `:
//! - `fuzz: layout buffer=0x.. buffer_len=0x.. text=0x.. kernel=0x.. unmapped=0x..`
//!   (what the CLI needs to list the calls exactly as they were made);
//! - `fuzz: at index=I calls=N` about once a second (the CLI's sign of life:
//!   no line for its timeout is a hang);
//! - `fuzz: done seed=S calls=N failed=F elapsed_ms=M`.
#![no_std]
#![no_main]

use core::cell::UnsafeCell;
use sis_fuzz::plan::{self, Plan, Selection};
use sis_fuzz::{generate, Call, Layout};
use sis_user::{print, print_hex, syscall, Sysno};

/// Two pages of scratch memory the kernel may read from and write into:
/// the "valid buffer" of the generator. Page-aligned and a whole number of
/// pages, so "straddles the end" pointers sit at the same page offsets on
/// every arch.
#[repr(C, align(4096))]
struct Buffer(UnsafeCell<[u8; 8192]>);

// SAFETY: the program is single-threaded and never reads or writes the
// buffer itself; only the kernel does, during a syscall.
unsafe impl Sync for Buffer {}

static BUFFER: Buffer = Buffer(UnsafeCell::new([0; 8192]));

/// The kernel image's first byte on this arch (its linker.ld), as in badptr.
#[cfg(target_arch = "aarch64")]
const KERNEL_IMAGE: u64 = 0x4020_0000;
#[cfg(target_arch = "riscv64")]
const KERNEL_IMAGE: u64 = 0x8020_0000;
#[cfg(target_arch = "x86_64")]
const KERNEL_IMAGE: u64 = 0x10_0000;

/// Between the image (128 GiB) and the mmap area (192 GiB): never mapped.
const UNMAPPED: u64 = 0x2f_0000_0000;

/// Calls between two looks at the clock (one uptime trap per batch).
const CLOCK_BATCH: u64 = 1024;
const NANOS_PER_MS: u64 = 1_000_000;
/// Milliseconds between two `fuzz: at` lines.
const HEARTBEAT_MS: u64 = 1000;

fn layout() -> Layout {
    Layout {
        buffer: BUFFER.0.get() as u64,
        buffer_len: 8192,
        text: main as *const () as usize as u64,
        kernel: KERNEL_IMAGE,
        unmapped: UNMAPPED,
    }
}

/// The raw call with all six argument registers (the runtime's wrapper
/// passes four; the fuzzer fills the last two with garbage on purpose).
#[inline(always)]
fn raw_syscall(call: &Call) -> u64 {
    let [a0, a1, a2, a3, a4, a5] = call.args;
    let result: u64;
    // SAFETY: the syscall instruction traps to the kernel, which validates
    // every argument; the only user memory it may write is what a pointer
    // names, and every pointer the generator makes is the buffer, read-only
    // text (refused), or not ours (refused). Only the listed registers change.
    unsafe {
        #[cfg(target_arch = "aarch64")]
        core::arch::asm!("svc #0", in("x8") call.number, inlateout("x0") a0 => result,
            in("x1") a1, in("x2") a2, in("x3") a3, in("x4") a4, in("x5") a5, options(nostack));
        #[cfg(target_arch = "riscv64")]
        core::arch::asm!("ecall", in("a7") call.number, inlateout("a0") a0 => result,
            in("a1") a1, in("a2") a2, in("a3") a3, in("a4") a4, in("a5") a5, options(nostack));
        #[cfg(target_arch = "x86_64")]
        core::arch::asm!("syscall", inlateout("rax") call.number => result, in("rdi") a0,
            in("rsi") a1, in("rdx") a2, in("r10") a3, in("r8") a4, in("r9") a5,
            lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    result
}

fn uptime_ms() -> u64 {
    syscall(Sysno::Uptime, 0, 0, 0, 0) / NANOS_PER_MS
}

fn print_decimal(mut value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    let _ = sis_user::write(1, &digits[at..]);
}

/// Counts and clock of a run.
struct Fuzzer {
    seed: u64,
    layout: Layout,
    calls: u64,
    failed: u64,
    started_ms: u64,
    next_heartbeat_ms: u64,
    deadline_ms: Option<u64>,
}

impl Fuzzer {
    /// Makes call `index`; false once the time limit has passed.
    fn call(&mut self, index: u64) -> bool {
        let call = generate(self.seed, index, &self.layout);
        syscall(Sysno::Progress, index, 0, 0, 0);
        if sis_user::decode_return(raw_syscall(&call)).is_err() {
            self.failed += 1;
        }
        self.calls += 1;
        if self.calls % CLOCK_BATCH == 0 {
            let now = uptime_ms();
            if now >= self.next_heartbeat_ms {
                self.next_heartbeat_ms = now + HEARTBEAT_MS;
                print("fuzz: at index=");
                print_decimal(index);
                print(" calls=");
                print_decimal(self.calls);
                print("\n");
            }
            if self.deadline_ms.is_some_and(|deadline| now >= deadline) {
                return false;
            }
        }
        true
    }
}

fn main(args: &str) -> u8 {
    let plan: Plan = match plan::parse(args) {
        Ok(plan) => plan,
        Err(error) => {
            print("fuzz: bad arguments: ");
            print(error.describe());
            print("\n");
            return 2;
        }
    };
    let layout = layout();
    print("fuzz: layout buffer=");
    print_hex(layout.buffer);
    print(" buffer_len=");
    print_hex(layout.buffer_len);
    print(" text=");
    print_hex(layout.text);
    print(" kernel=");
    print_hex(layout.kernel);
    print(" unmapped=");
    print_hex(layout.unmapped);
    print("\n");
    let started_ms = uptime_ms();
    let mut fuzzer = Fuzzer {
        seed: plan.seed,
        layout,
        calls: 0,
        failed: 0,
        started_ms,
        next_heartbeat_ms: started_ms + HEARTBEAT_MS,
        deadline_ms: plan.time_limit_ms.map(|ms| started_ms.saturating_add(ms)),
    };
    match plan.selection {
        Selection::Run { start, count } => {
            let mut index = start;
            while count == 0 || index - start < count {
                if !fuzzer.call(index) {
                    break;
                }
                index = index.wrapping_add(1);
            }
        }
        Selection::List(list) => {
            // Checked by plan::parse: every range is well formed.
            for (first, last) in plan::ranges(list).flatten() {
                let mut index = first;
                loop {
                    fuzzer.call(index);
                    if index == last {
                        break;
                    }
                    index += 1;
                }
            }
        }
    }
    print("fuzz: done seed=");
    print_decimal(fuzzer.seed);
    print(" calls=");
    print_decimal(fuzzer.calls);
    print(" failed=");
    print_decimal(fuzzer.failed);
    print(" elapsed_ms=");
    print_decimal(uptime_ms() - fuzzer.started_ms);
    print("\n");
    0
}

sis_user::entry!(main);
