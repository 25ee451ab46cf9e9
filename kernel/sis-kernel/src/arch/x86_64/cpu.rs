//! Thin wrappers over the x86 instructions the arch layer needs: port I/O,
//! MSRs, control registers and the time-stamp counter (Intel SDM Vol. 2).

use core::arch::asm;

/// IA32_APIC_BASE (Intel SDM Vol. 3A, 10.4.4).
pub const MSR_APIC_BASE: u32 = 0x1b;

/// Writes a byte to an I/O port.
///
/// # Safety
/// The port must belong to a device whose side effects the caller wants.
pub unsafe fn outb(port: u16, value: u8) {
    // SAFETY: the caller vouches for the port; `out` touches no memory.
    unsafe { asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags)) };
}

/// Writes a 16-bit word to an I/O port.
///
/// # Safety
/// As for [`outb`].
pub unsafe fn outw(port: u16, value: u16) {
    // SAFETY: the caller vouches for the port; `out` touches no memory.
    unsafe { asm!("out dx, ax", in("dx") port, in("ax") value, options(nomem, nostack, preserves_flags)) };
}

/// Reads a byte from an I/O port.
///
/// # Safety
/// As for [`outb`]: reading some device registers has side effects.
pub unsafe fn inb(port: u16) -> u8 {
    let value: u8;
    // SAFETY: the caller vouches for the port; `in` touches no memory.
    unsafe { asm!("in al, dx", in("dx") port, out("al") value, options(nomem, nostack, preserves_flags)) };
    value
}

/// Reads a 32-bit double word from an I/O port.
///
/// # Safety
/// As for [`inb`].
pub unsafe fn inl(port: u16) -> u32 {
    let value: u32;
    // SAFETY: the caller vouches for the port; `in` touches no memory.
    unsafe { asm!("in eax, dx", in("dx") port, out("eax") value, options(nomem, nostack, preserves_flags)) };
    value
}

/// Reads a model-specific register.
///
/// # Safety
/// The MSR must exist on this CPU, or `rdmsr` raises #GP.
pub unsafe fn rdmsr(msr: u32) -> u64 {
    let (low, high): (u32, u32);
    // SAFETY: the caller vouches that the MSR exists.
    unsafe { asm!("rdmsr", in("ecx") msr, out("eax") low, out("edx") high, options(nomem, nostack, preserves_flags)) };
    (u64::from(high) << 32) | u64::from(low)
}

/// Writes a model-specific register.
///
/// # Safety
/// The MSR must exist on this CPU, and the value must be one the kernel
/// can live with (EFER, STAR, LSTAR... change how the CPU behaves).
pub unsafe fn wrmsr(msr: u32, value: u64) {
    // SAFETY: the caller vouches for the MSR and the value.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32, options(nostack, preserves_flags))
    };
}

/// Reads the time-stamp counter (no serialisation: callers only need a
/// counter that never goes back on this CPU).
pub fn rdtsc() -> u64 {
    let (low, high): (u32, u32);
    // SAFETY: `rdtsc` only reads the counter; CR4.TSD is clear so it is allowed.
    unsafe { asm!("rdtsc", out("eax") low, out("edx") high, options(nomem, nostack, preserves_flags)) };
    (u64::from(high) << 32) | u64::from(low)
}

/// Disables maskable interrupts on this CPU.
pub fn disable_interrupts() {
    // SAFETY: clearing IF only delays interrupts; memory is untouched, but the
    // compiler must not move memory accesses across it (no `nomem`).
    unsafe { asm!("cli", options(nostack, preserves_flags)) };
}
