//! Secondary harts: started with SBI HSM, counted in, then running tasks.

use core::fmt::Write;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::boot::{self, MAX_HARTS};
use super::{idle, irq, mmu, sbi, timer, uart};

/// Harts that reached Rust code, the boot hart included.
static CPUS_ONLINE: AtomicUsize = AtomicUsize::new(1);

/// Hart id + 1 (0: unused) of the secondary with each stack index, written
/// before its sbi_hart_start; read by boot.rs's `sis_late_secondary`.
pub static SECONDARY_HART_IDS: [AtomicUsize; MAX_HARTS] = [const { AtomicUsize::new(0) }; MAX_HARTS];

/// How long boot waits for the secondaries to check in. They need a few
/// milliseconds under TCG; the bound only matters if one never arrives.
const CHECK_IN_TIMEOUT_NS: u64 = 200_000_000;
/// Sleep granularity of that wait: short, since boot time counts.
const CHECK_IN_POLL_NS: u64 = 250_000;

pub fn cpus_online() -> usize {
    CPUS_ONLINE.load(Ordering::Acquire)
}

/// Start every hart in `hart_ids` except `boot_hart_id`, giving each a
/// stack index from 1, and wait (bounded, on the monotonic clock) until
/// each one that the firmware agreed to start has checked in.
pub fn start_secondaries(boot_hart_id: usize, hart_ids: &[u64]) {
    let boot_hart_id = boot_hart_id as u64;
    if hart_ids.iter().all(|&hart_id| hart_id == boot_hart_id) {
        return;
    }
    if !sbi::has_hsm() {
        uart::write(b"riscv64: warning: firmware lacks SBI HSM; secondary harts stay stopped\r\n");
        return;
    }
    let mut expected = 1;
    let mut next_index = 1;
    for &hart_id in hart_ids.iter().filter(|&&hart_id| hart_id != boot_hart_id) {
        if next_index >= MAX_HARTS {
            break;
        }
        let hart_id = hart_id as usize;
        SECONDARY_HART_IDS[next_index].store(hart_id.wrapping_add(1), Ordering::Release);
        let answer = sbi::hart_start(hart_id, boot::secondary_entry_address(), next_index);
        if answer.is_success() {
            expected += 1;
            next_index += 1;
        } else {
            SECONDARY_HART_IDS[next_index].store(0, Ordering::Release);
            let _ = write!(uart::Writer, "riscv64: warning: sbi_hart_start({hart_id}) failed: {}\r\n", answer.error);
        }
    }
    let deadline_ns = timer::monotonic_ns().saturating_add(CHECK_IN_TIMEOUT_NS);
    while cpus_online() < expected {
        let now_ns = timer::monotonic_ns();
        if now_ns >= deadline_ns {
            let _ = write!(
                uart::Writer,
                "riscv64: warning: {} of {expected} harts checked in within {} ms\r\n",
                cpus_online(),
                CHECK_IN_TIMEOUT_NS / 1_000_000
            );
            return;
        }
        idle::wait_for_event(Some(deadline_ns.min(now_ns + CHECK_IN_POLL_NS)));
    }
}

/// First Rust code of a secondary hart (from `sis_secondary_start` in
/// boot.rs): take its CPU index, check in, enable its timer interrupt and
/// join the scheduler.
pub extern "C" fn secondary_main(_hart_id: usize, index: usize) -> ! {
    irq::set_cpu_index(index);
    mmu::enable_on_this_hart();
    CPUS_ONLINE.fetch_add(1, Ordering::Release);
    idle::init_secondary();
    crate::secondary_main()
}

/// Ends CPU `cpu`'s `wait_for_event` (the scheduler queued work for it): a
/// supervisor software interrupt through the firmware, which irq.rs clears.
pub fn wake_cpu(cpu: usize) {
    let hart_id = if cpu == 0 {
        boot::boot_hart_id()
    } else {
        // Stored + 1 by `start_secondaries` (0: no hart at that index).
        match SECONDARY_HART_IDS.get(cpu).map(|id| id.load(Ordering::Acquire)) {
            Some(stored) if stored != 0 => stored - 1,
            _ => return,
        }
    };
    let answer = sbi::send_ipi(hart_id);
    debug_assert!(answer.is_success(), "sbi_send_ipi({hart_id}) failed: {}", answer.error);
}
