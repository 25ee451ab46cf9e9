//! SBI calls into OpenSBI (RISC-V Supervisor Binary Interface spec v1.0/v2.0).
//!
//! Calling convention (SBI spec, chapter 3 "Binary Encoding"): `ecall` with the
//! extension id in a7, the function id in a6 and arguments in a0-a5; the
//! firmware returns an error code in a0 and a value in a1.

use core::arch::asm;
use core::sync::atomic::{AtomicU8, Ordering};

/// Base extension (SBI spec chapter 4).
const EID_BASE: usize = 0x10;
const FID_BASE_PROBE_EXTENSION: usize = 3;

/// Timer extension "TIME" (SBI spec chapter 6).
const EID_TIME: usize = 0x5449_4D45;
const FID_TIME_SET_TIMER: usize = 0;

/// Legacy `sbi_set_timer` (SBI spec chapter 5, EID 0x00), used only when the
/// firmware lacks the TIME extension (SBI v0.1 firmware).
const EID_LEGACY_SET_TIMER: usize = 0x00;

/// Hart state management "HSM" (SBI spec chapter 9).
const EID_HSM: usize = 0x48_534D;
const FID_HSM_HART_START: usize = 0;

/// System reset "SRST" (SBI spec chapter 10).
const EID_SRST: usize = 0x5352_5354;
/// Extension "sPI" (SBI spec chapter 7), `sbi_send_ipi`.
const EID_IPI: usize = 0x73_5049;
const FID_IPI_SEND_IPI: usize = 0;
const FID_SRST_SYSTEM_RESET: usize = 0;
/// `reset_type` 0: shutdown.
pub const RESET_TYPE_SHUTDOWN: usize = 0;
/// `reset_reason` 1: system failure (the exit code could not be delivered).
pub const RESET_REASON_SYSTEM_FAILURE: usize = 1;

/// `SBI_SUCCESS` (SBI spec table 1, "Standard SBI Errors").
const SBI_SUCCESS: isize = 0;

/// Result of one SBI call: the error code (a0) and the value (a1).
#[derive(Debug, Clone, Copy)]
pub struct SbiReturn {
    pub error: isize,
    pub value: usize,
}

impl SbiReturn {
    pub fn is_success(self) -> bool {
        self.error == SBI_SUCCESS
    }
}

fn call(extension: usize, function: usize, arg0: usize, arg1: usize, arg2: usize) -> SbiReturn {
    let error: isize;
    let value: usize;
    // SAFETY: an SBI ecall traps into the M-mode firmware, which only reads
    // a0-a7 and writes a0/a1 (SBI spec 3: "all registers except a0 & a1 must
    // be preserved across an SBI call by the callee"). It touches no memory
    // of ours for the calls made here.
    unsafe {
        asm!(
            "ecall",
            inlateout("a0") arg0 => error,
            inlateout("a1") arg1 => value,
            in("a2") arg2,
            in("a6") function,
            in("a7") extension,
            options(nostack),
        );
    }
    SbiReturn { error, value }
}

/// Cached answers of `probe_extension` for the extensions we use: probing
/// costs an M-mode round trip, and `set_timer` runs on every idle wait.
/// 0 = not probed yet, 1 = absent, 2 = present.
static TIME_PRESENT: AtomicU8 = AtomicU8::new(0);

/// Whether the firmware implements extension `extension` (SBI spec 4.4:
/// `sbi_probe_extension` returns 0 when it is not available).
pub fn has_extension(extension: usize) -> bool {
    let answer = call(EID_BASE, FID_BASE_PROBE_EXTENSION, extension, 0, 0);
    answer.is_success() && answer.value != 0
}

pub fn has_hsm() -> bool {
    has_extension(EID_HSM)
}

/// Program the next timer event at absolute `time` ticks: the supervisor
/// timer interrupt (sip.STIP) stays pending from then until the next call.
/// A call with a later time also clears a pending STIP (SBI spec 6.1).
pub fn set_timer(time_ticks: u64) {
    let present = match TIME_PRESENT.load(Ordering::Relaxed) {
        0 => {
            let is_present = has_extension(EID_TIME);
            TIME_PRESENT.store(if is_present { 2 } else { 1 }, Ordering::Relaxed);
            is_present
        }
        state => state == 2,
    };
    if present {
        call(EID_TIME, FID_TIME_SET_TIMER, time_ticks as usize, 0, 0);
    } else {
        call(EID_LEGACY_SET_TIMER, 0, time_ticks as usize, 0, 0);
    }
}

/// Start hart `hart_id` in S-mode at physical address `start_address` with
/// a0 = its hart id and a1 = `opaque`, satp = 0 and interrupts off
/// (SBI spec 9.1, `sbi_hart_start`).
pub fn hart_start(hart_id: usize, start_address: usize, opaque: usize) -> SbiReturn {
    call(EID_HSM, FID_HSM_HART_START, hart_id, start_address, opaque)
}

/// Raise a supervisor software interrupt (sip.SSIP) on hart `hart_id`
/// (SBI spec 7.1, `sbi_send_ipi` with a one-hart mask based at it).
pub fn send_ipi(hart_id: usize) -> SbiReturn {
    call(EID_IPI, FID_IPI_SEND_IPI, 1, hart_id, 0)
}

/// Ask the firmware to shut the system down (SBI spec 10.1). Returns only
/// if the firmware cannot (extension absent or no reset device).
pub fn system_reset(reset_type: usize, reason: usize) -> SbiReturn {
    call(EID_SRST, FID_SRST_SYSTEM_RESET, reset_type, reason, 0)
}
