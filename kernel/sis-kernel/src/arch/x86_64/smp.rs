//! Secondary CPUs: INIT-SIPI-SIPI to all other CPUs through the local APIC
//! (Intel MP spec 1.4 appendix B.4; SDM Vol. 3A 8.4.4), a real-mode trampoline
//! copied below 1 MiB that goes straight to long mode on the boot page
//! tables, then a Rust function that checks in and joins the scheduler, or,
//! arriving after boot stopped waiting for it, parks for good.

use core::sync::atomic::{AtomicUsize, Ordering};

use super::acpi::Platform;
use super::{apic, descriptors, irq, timer};
use sis_mem::MemoryMap;

/// Where the trampoline is copied: page aligned, below 1 MiB, in
/// conventional RAM; the SIPI vector is its page number (0x08).
pub const TRAMPOLINE_PADDR: usize = 0x8000;
/// Secondaries with a stack; more check in nowhere and stay parked in the
/// trampoline (`__ap_stacks_*` in linker.ld hold this many 16 KiB stacks).
const MAX_SECONDARIES: usize = 8;
/// How long boot waits for the expected CPUs before going on without them.
const CHECK_IN_TIMEOUT_NS: u64 = 1_000_000_000;
/// Without a MADT the count is unknown: wait this long for whoever comes.
const UNKNOWN_COUNT_WAIT_NS: u64 = 20_000_000;
/// The second SIPI goes out if not all CPUs checked in by then (MP spec: 200 µs).
const SECOND_SIPI_AFTER_NS: u64 = 200_000;
/// How often a late secondary looks whether the kernel logs yet.
const LATE_POLL_NS: u64 = 1_000_000;

/// CPUs that checked in (the boot CPU counts from the start), plus
/// `CHECK_IN_CLOSED` once boot stopped waiting: one word, so a secondary
/// either counts before the close or sees it, never both or neither.
static CPUS_ONLINE: AtomicUsize = AtomicUsize::new(1);
const CHECK_IN_CLOSED: usize = 1 << (usize::BITS - 1);

// Real mode at CS:IP = 0x0800:0000. Loads its own GDT, kept in the copied
// page because a 16-bit `lgdt` takes only a 24-bit base, then enables PAE, loads
// the boot PML4, sets EFER.LME and turns on protection and paging together,
// which enters long mode directly (SDM Vol. 3A 9.8.5); a far jump to the
// 64-bit code segment follows. Each CPU takes a stack index with `lock xadd`.
core::arch::global_asm!(
    ".pushsection .rodata.ap_trampoline, \"a\"",
    ".balign 16",
    ".globl ap_trampoline_start",
    "ap_trampoline_start:",
    ".code16",
    "cli",
    "cld",
    "mov ax, cs",
    "mov ds, ax",
    // lgdt [ap_gdtr] relative to DS, encoded by hand (0F 01 /2, disp16):
    // the assembler rejects a label difference as a memory operand.
    ".byte 0x0f, 0x01, 0x16",
    ".word ap_gdtr - ap_trampoline_start",
    "mov eax, cr4",
    "or eax, 1 << 5",
    "mov cr4, eax",
    "mov eax, offset boot_pml4",
    "mov cr3, eax",
    "mov ecx, 0xC0000080",
    "rdmsr",
    "or eax, (1 << 8) | (1 << 11)", // LME | NXE (paging.rs sets execute-disable bits)
    "wrmsr",
    "mov eax, cr0",
    // CR0 after INIT is 0x60000010: clear CD and NW (caches on, as on the
    // boot CPU), then PG | WP | PE.
    "and eax, 0x9fffffff",
    "or eax, 0x80010001",
    "mov cr0, eax",
    // jmp far 0x08:ap_long_mode, with a 32-bit offset (0x66 prefix).
    ".byte 0x66, 0xea",
    ".long {base} + (ap_long_mode - ap_trampoline_start)",
    ".word 0x08",
    ".code64",
    "ap_long_mode:",
    "mov ax, 0x10",
    "mov ds, ax",
    "mov es, ax",
    "mov ss, ax",
    "xor eax, eax",
    "mov fs, ax",
    "mov gs, ax",
    "movabs rbx, offset ap_next_stack",
    "mov eax, 1",
    "lock xadd dword ptr [rbx], eax",
    "cmp eax, {max}",
    "jae 2f",
    "mov edi, eax",
    "inc eax",
    "shl rax, 14", // 16 KiB stacks
    "movabs rsp, offset __ap_stacks_bottom",
    "add rsp, rax",
    "xor ebp, ebp",
    "movabs rax, offset {entry}",
    "call rax",
    "2:",
    "cli",
    "hlt",
    "jmp 2b",
    ".balign 8",
    "ap_gdt:",
    ".quad 0",
    ".quad 0x00AF9A000000FFFF",
    ".quad 0x00CF92000000FFFF",
    "ap_gdtr:",
    ".word ap_gdtr - ap_gdt - 1",
    ".long {base} + (ap_gdt - ap_trampoline_start)",
    ".globl ap_trampoline_end",
    "ap_trampoline_end:",
    ".popsection",
    //
    ".pushsection .bss.ap_next_stack, \"aw\", @nobits",
    ".balign 4",
    "ap_next_stack: .long 0",
    ".popsection",
    base = const TRAMPOLINE_PADDR,
    max = const MAX_SECONDARIES,
    entry = sym secondary_main,
);

extern "C" {
    static ap_trampoline_start: u8;
    static ap_trampoline_end: u8;
}

/// A secondary CPU in Rust, on its own stack: CPU index, GDT/TSS/IDT (so a fault
/// here is reported, not a triple fault), check in, local APIC, join the
/// scheduler. A CPU whose check-in comes after boot stopped waiting (its
/// vCPU thread starved on a loaded host) parks instead: the kernel already
/// counted its CPUs, and nothing waits for this one.
extern "C" fn secondary_main(stack_index: u32) -> ! {
    // Stack index 0 is the first secondary, CPU index 1.
    let index = stack_index as usize + 1;
    irq::set_cpu_index(index);
    descriptors::init_secondary_cpu(index);
    super::user::init_this_cpu();
    apic::init_this_cpu();
    let checked_in = CPUS_ONLINE
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |online| {
            (online & CHECK_IN_CLOSED == 0).then_some(online + 1)
        })
        .is_ok();
    if !checked_in {
        // Said once the kernel's own lines run (never before its identity
        // line, which the CLI reads as the kernel's entry).
        while !crate::sched::is_running() {
            timer::wait_for_event(Some(timer::monotonic_ns().saturating_add(LATE_POLL_NS)));
        }
        crate::log_event!("smp", "late cpu parked", Warn, cpu = index as u64);
        park()
    }
    crate::secondary_main()
}

/// Halts this CPU for good with interrupts off: only an NMI wakes it, and
/// its IDT reports that.
fn park() -> ! {
    loop {
        // SAFETY: stops this CPU only; it holds no lock and owns nothing.
        unsafe { core::arch::asm!("cli", "hlt", options(nomem, nostack)) };
    }
}

/// CPUs that checked in, the boot CPU included.
pub fn cpus_online() -> usize {
    CPUS_ONLINE.load(Ordering::Acquire) & !CHECK_IN_CLOSED
}

/// Ends the check-in: a secondary arriving from now on parks.
fn close_check_in() {
    CPUS_ONLINE.fetch_or(CHECK_IN_CLOSED, Ordering::AcqRel);
}

/// Waits until `expected` CPUs checked in or `deadline_ns` passes.
fn wait_for_check_in(expected: usize, deadline_ns: u64) {
    crate::arch::spin_until(|| cpus_online() >= expected, deadline_ns);
}

/// Whether the trampoline page may be unmapped: no CPU runs it any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trampoline {
    /// Every expected CPU checked in (and so left it), or none was started.
    Unused,
    /// Some CPU may still run it, now or later (a started CPU that did not
    /// check in yet, or an unknown count): it stays mapped, or that CPU
    /// would fault on its next instruction fetch with no IDT and reset the
    /// machine (a triple fault).
    MayBeRunning,
}

/// Starts every other CPU and waits, bounded by the monotonic clock, until
/// the MADT's count checked in (capped at 1 + MAX_SECONDARIES), then closes
/// the check-in: a later CPU parks.
pub fn start_secondaries(platform: &Platform, memory: &MemoryMap) -> Trampoline {
    let trampoline = bring_up(platform, memory);
    close_check_in();
    trampoline
}

fn bring_up(platform: &Platform, memory: &MemoryMap) -> Trampoline {
    let expected = platform.cpu_count.map(|count| count.min(1 + MAX_SECONDARIES));
    if expected == Some(1) {
        return Trampoline::Unused;
    }
    let trampoline_is_ram = memory
        .usable()
        .iter()
        .any(|region| region.start <= TRAMPOLINE_PADDR && TRAMPOLINE_PADDR + 4096 <= region.end());
    if !trampoline_is_ram {
        return Trampoline::Unused;
    }
    // SAFETY: the trampoline symbols bound one contiguous block in .rodata;
    // the destination page is RAM (checked above), reserved in the memory
    // map, identity-mapped, and nothing else uses it.
    unsafe {
        let start = core::ptr::addr_of!(ap_trampoline_start);
        let length = core::ptr::addr_of!(ap_trampoline_end) as usize - start as usize;
        core::ptr::copy_nonoverlapping(start, TRAMPOLINE_PADDR as *mut u8, length.min(4096));
    }
    // INIT (delivery mode 0b101, level assert), then STARTUP (0b110) with the
    // trampoline's page number as vector. No 10 ms wait after INIT: CPUs
    // since the Pentium 4 need none (Linux dropped it too), nor does QEMU.
    if cfg!(feature = "late-secondary") {
        // The test build: boot stopped waiting before the secondaries even
        // start, as if every one's vCPU were starved (tests/e2e/x86_boot_test.ts).
        close_check_in();
    }
    apic::send_ipi_to_others(0x4500);
    let sipi = 0x4600 | (TRAMPOLINE_PADDR >> 12) as u32;
    apic::send_ipi_to_others(sipi);
    if cfg!(feature = "late-secondary") {
        return Trampoline::MayBeRunning;
    }
    let start = timer::monotonic_ns();
    let Some(expected) = expected else {
        wait_for_check_in(usize::MAX, start + UNKNOWN_COUNT_WAIT_NS);
        return Trampoline::MayBeRunning;
    };
    wait_for_check_in(expected, start + SECOND_SIPI_AFTER_NS);
    if cpus_online() < expected {
        // Ignored by CPUs the first SIPI already started (they left wait-for-SIPI).
        apic::send_ipi_to_others(sipi);
    }
    wait_for_check_in(expected, start + CHECK_IN_TIMEOUT_NS);
    if cpus_online() >= expected {
        Trampoline::Unused
    } else {
        Trampoline::MayBeRunning
    }
}

/// Before a secondary tells the boot CPU it joined (interrupts off):
/// disarms its timer and takes an interrupt already pending (its EOI is a
/// device write), so from then on until the go nothing makes this CPU
/// touch a device. QEMU 7.2's multi-threaded TCG crashes (SIGSEGV in
/// `memory_region_dispatch_write`) when a vCPU writes MMIO while another
/// changes the memory map, as the boot CPU's PCI setup does
/// (docs/boot-x86_64.md).
pub fn quiet_before_start() {
    crate::arch::deadline::set_timer_deadline(None);
    // SAFETY: `sti` takes effect after the next instruction, so a pending
    // interrupt is taken at the `nop` (its handler runs, on this stack);
    // `cli` restores the caller's interrupts-off state.
    unsafe { core::arch::asm!("sti", "nop", "cli", options(nomem, nostack)) };
}

/// A secondary waiting for the boot CPU's go (`crate::secondary_main`),
/// interrupts off, after `quiet_before_start`: halts until
/// `wake_secondaries`' IPI (or any interrupt; the caller re-checks), with
/// no device access at all: no timer.
pub fn wait_for_start() {
    timer::wait_for_event(None);
}

/// Sends the secondaries the go (`wait_for_start`): a fixed IPI on
/// `WAKE_VECTOR` to every CPU but this one.
pub fn wake_secondaries() {
    apic::send_ipi_to_others(WAKE_IPI);
}

/// Ends CPU `cpu`'s `wait_for_event` (the scheduler queued work for it): the
/// same fixed IPI on `WAKE_VECTOR`, to that CPU only.
pub fn wake_cpu(cpu: usize) {
    apic::send_ipi_to(cpu, WAKE_IPI);
}

/// ICR low word of the wake-up IPI: fixed delivery (000), level assert (bit
/// 14), the vector.
const WAKE_IPI: u32 = 0x4000 | descriptors::WAKE_VECTOR as u32;
