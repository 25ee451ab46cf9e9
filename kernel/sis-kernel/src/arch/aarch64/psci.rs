//! PSCI calls (Arm DEN 0022, Power State Coordination Interface) for CPU_ON and SYSTEM_OFF.
//!
//! QEMU virt implements PSCI 1.0 itself and names the conduit in the DTB's
//! `/psci` `method`: `hvc` when the kernel runs at EL1 with no EL2 below it
//! (the default), `smc` with `virtualization=on` (hw/arm/virt.c). The entry
//! code knows which case it is in from the level it was entered at.

use core::arch::asm;
use core::sync::atomic::{AtomicBool, Ordering};

/// CPU_ON, SMC64 calling convention (DEN 0022 5.1.4).
pub const CPU_ON: u64 = 0xC400_0003;
/// SYSTEM_OFF (DEN 0022 5.1.9): does not return on success.
pub const SYSTEM_OFF: u64 = 0x8400_0008;

/// How PSCI calls reach the firmware (here: QEMU).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Conduit {
    Hvc,
    Smc,
}

static USE_SMC: AtomicBool = AtomicBool::new(false);

pub fn set_conduit(conduit: Conduit) {
    USE_SMC.store(conduit == Conduit::Smc, Ordering::Relaxed);
}

/// Issues a PSCI call and returns its status (0 = SUCCESS, negative = error).
pub fn call(function: u64, argument1: u64, argument2: u64, argument3: u64) -> i64 {
    let mut result = function;
    // SAFETY: a PSCI call per the SMC Calling Convention (DEN 0028): x0-x3 in,
    // x0 out, and x4-x17 may be clobbered by the callee, so they are declared so.
    unsafe {
        if USE_SMC.load(Ordering::Relaxed) {
            asm!("smc #0", inout("x0") result, inout("x1") argument1 => _, inout("x2") argument2 => _,
                 inout("x3") argument3 => _, out("x4") _, out("x5") _, out("x6") _, out("x7") _,
                 out("x8") _, out("x9") _, out("x10") _, out("x11") _, out("x12") _, out("x13") _,
                 out("x14") _, out("x15") _, out("x16") _, out("x17") _, options(nostack));
        } else {
            asm!("hvc #0", inout("x0") result, inout("x1") argument1 => _, inout("x2") argument2 => _,
                 inout("x3") argument3 => _, out("x4") _, out("x5") _, out("x6") _, out("x7") _,
                 out("x8") _, out("x9") _, out("x10") _, out("x11") _, out("x12") _, out("x13") _,
                 out("x14") _, out("x15") _, out("x16") _, out("x17") _, options(nostack));
        }
    }
    result as i64
}
