//! Secondary CPUs: PSCI CPU_ON for each MPIDR in the device tree, a boot stack each, then the scheduler.

use core::sync::atomic::{AtomicUsize, Ordering};

use super::memory::MAX_CPUS;
use super::{exit, gic, irq, psci, timer, uart};

/// CPUs that reached Rust code, the boot CPU included.
static ONLINE: AtomicUsize = AtomicUsize::new(1);

/// How long the boot CPU waits for the secondaries to check in. QEMU starts
/// one in well under a millisecond; this bounds a broken start, not a normal one.
const CHECK_IN_TIMEOUT_NS: u64 = 200_000_000;

/// Bytes of each secondary's stack slot (linker.ld reserves MAX_CPUS of them);
/// boot.rs gives the upper half to SP_EL0 and the lower half to SP_EL1.
const SECONDARY_STACK_BYTES: usize = 0x4000;

/// MPIDR_EL1 affinity fields Aff3 (bits 39:32) and Aff2..Aff0 (bits 23:0),
/// the value PSCI CPU_ON takes as target_cpu and the DTB's `/cpus/cpu@N/reg`.
const MPIDR_AFFINITY_MASK: u64 = 0xFF_00FF_FFFF;

unsafe extern "C" {
    fn __sis_secondary_entry();
    static __secondary_stacks: u8;
}

pub fn cpus_online() -> usize {
    ONLINE.load(Ordering::Acquire)
}

fn own_affinity() -> u64 {
    let mpidr: u64;
    // SAFETY: reading MPIDR_EL1 has no side effect.
    unsafe { core::arch::asm!("mrs {}, mpidr_el1", out(reg) mpidr, options(nomem, nostack)) };
    mpidr & MPIDR_AFFINITY_MASK
}

/// Starts every CPU in `cpu_ids` except this one, then waits (bounded, on the
/// monotonic clock) until each started CPU has checked in.
pub fn start_secondaries(cpu_ids: &[u64]) {
    let own = own_affinity();
    // Linker symbol: only its address means something.
    let stacks = core::ptr::addr_of!(__secondary_stacks) as usize;
    let entry = __sis_secondary_entry as unsafe extern "C" fn() as usize as u64;
    let mut started = 0;
    for (slot, &id) in cpu_ids.iter().filter(|&&id| id & MPIDR_AFFINITY_MASK != own).enumerate() {
        if slot + 1 >= MAX_CPUS {
            break;
        }
        let stack_top = stacks + (slot + 1) * SECONDARY_STACK_BYTES;
        // context_id (x0 at the secondary's entry) is its stack top.
        let status = psci::call(psci::CPU_ON, id, entry, stack_top as u64);
        if status == 0 {
            started += 1;
        } else {
            uart::write_bytes(b"aarch64: PSCI CPU_ON refused a CPU listed in the device tree\r\n");
        }
    }
    let expected = 1 + started;
    let deadline = timer::monotonic_ns() + CHECK_IN_TIMEOUT_NS;
    if !crate::arch::spin_until(|| cpus_online() >= expected, deadline) {
        uart::write_bytes(b"aarch64: timed out waiting for secondary CPUs\r\n");
    }
}

/// A secondary's Rust entry (from boot.rs, MMU on, own stack whose top
/// tells its index): check in, set up its timer interrupt, join the
/// scheduler. A CPU whose GIC interface cannot be set up stays parked.
pub extern "C" fn secondary_main(stack_top: usize) -> ! {
    let stacks = core::ptr::addr_of!(__secondary_stacks) as usize;
    irq::set_cpu_index((stack_top - stacks) / SECONDARY_STACK_BYTES);
    timer::stop_this_cpu();
    ONLINE.fetch_add(1, Ordering::AcqRel);
    if !gic::init_secondary_cpu() {
        exit::halt()
    }
    crate::secondary_main()
}

/// Ends CPU `cpu`'s `wait_for_event` (the scheduler queued work for it): a
/// software-generated interrupt through the GIC.
pub fn wake_cpu(cpu: usize) {
    gic::send_wake(cpu);
}
