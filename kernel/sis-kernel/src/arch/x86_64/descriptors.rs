//! Descriptor tables: the GDT (kernel and ring-3 segments, laid out as
//! SYSCALL/SYSRET need them), a TSS per CPU (RSP0 for traps from ring 3,
//! IST 1 for the double-fault stack) in the boot GDT or a secondary's own
//! GDT, and the 256-entry IDT pointing at the stubs in trap.rs (Intel SDM
//! Vol. 3A, 5.8.8, 6.14 and 7.7).

use core::arch::asm;
use core::ptr::addr_of_mut;

/// Local APIC timer interrupt.
pub const TIMER_VECTOR: u8 = 0x20;
/// COM1 receive interrupt, routed through the I/O APIC.
pub const UART_VECTOR: u8 = 0x21;
/// The boot CPU's "go" to the secondaries (`smp::wake_secondaries`).
pub const WAKE_VECTOR: u8 = 0x22;
/// The NIC's PCI interrupt, routed through the I/O APIC (arch/device_interrupt.rs).
pub const DEVICE_VECTOR: u8 = 0x23;
/// The legacy PICs are remapped here (and masked), clear of exceptions and of our vectors.
pub const PIC_VECTOR_BASE: u8 = 0xe0;
/// Local APIC spurious-interrupt vector (its low 4 bits must be 1s on old APICs).
pub const SPURIOUS_VECTOR: u8 = 0xff;

/// Vector of the double fault, which runs on its own stack (IST 1) so a
/// kernel stack overflow still gets a report instead of a triple fault.
const DOUBLE_FAULT_VECTOR: usize = 8;
const TSS_SELECTOR: u16 = 0x18;
const KERNEL_CODE_SELECTOR: u16 = 0x08;
/// GDT entries (boot.rs's `boot_gdt`): null, kernel code 0x08, kernel data
/// 0x10, the 16-byte TSS at 0x18, then the ring-3 trio SYSRET indexes from
/// STAR[63:48] = 0x28 (SDM Vol. 2B, SYSRET): +0 a 32-bit user code slot
/// (left null: no compatibility mode), +8 user data 0x30, +16 64-bit user
/// code 0x38.
pub const GDT_ENTRIES: usize = 8;
pub const SYSRET_SELECTOR_BASE: u16 = 0x28;
/// User data (SS) and 64-bit code (CS) with RPL 3, as SYSRET loads them.
pub const USER_DATA_SELECTOR: u16 = 0x30 | 3;
pub const USER_CODE_SELECTOR: u16 = 0x38 | 3;
/// Breakpoint: a DPL-3 gate, so `int3` in user mode arrives as #BP rather
/// than as #GP (every other gate is DPL 0: `int n` from ring 3 is #GP).
const BREAKPOINT_VECTOR: usize = 3;
/// Bytes between consecutive stubs in trap.rs (`.balign 16`).
const TRAP_STUB_BYTES: usize = 16;

/// 64-bit task-state segment (SDM Vol. 3A, Figure 7-11). Only IST 1 is used.
#[repr(C, packed(4))]
struct TaskStateSegment {
    reserved0: u32,
    privilege_stacks: [u64; 3],
    reserved1: u64,
    interrupt_stacks: [u64; 7],
    reserved2: u64,
    reserved3: u16,
    io_map_base: u16,
}

/// 64-bit interrupt gate (SDM Vol. 3A, Figure 6-8).
#[derive(Clone, Copy)]
#[repr(C)]
struct IdtEntry {
    offset_low: u16,
    selector: u16,
    ist: u8,
    type_attributes: u8,
    offset_middle: u16,
    offset_high: u32,
    reserved: u32,
}

impl IdtEntry {
    const MISSING: IdtEntry = IdtEntry {
        offset_low: 0,
        selector: 0,
        ist: 0,
        type_attributes: 0,
        offset_middle: 0,
        offset_high: 0,
        reserved: 0,
    };

    fn interrupt_gate(handler: usize, ist: u8, dpl: u8) -> IdtEntry {
        IdtEntry {
            offset_low: handler as u16,
            selector: KERNEL_CODE_SELECTOR,
            ist,
            // Present, DPL, 64-bit interrupt gate: IF is cleared on entry.
            type_attributes: 0x8e | (dpl << 5),
            offset_middle: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            reserved: 0,
        }
    }
}

#[repr(C, packed)]
struct DescriptorPointer {
    limit: u16,
    base: u64,
}

static mut TSS: TaskStateSegment = TaskStateSegment {
    reserved0: 0,
    privilege_stacks: [0; 3],
    reserved1: 0,
    interrupt_stacks: [0; 7],
    reserved2: 0,
    reserved3: 0,
    // No I/O permission bitmap: the base points past the segment limit.
    io_map_base: core::mem::size_of::<TaskStateSegment>() as u16,
};

static mut IDT: [IdtEntry; 256] = [IdtEntry::MISSING; 256];

/// The secondaries' own TSS, GDT and double-fault stack: a TSS is busy once
/// loaded, so each CPU needs one (SDM Vol. 3A, 7.2.2), and a double fault
/// (a task stack overflow) must find a stack of its own on every CPU.
const FAULT_STACK_BYTES: usize = 16 * 1024;
const SECONDARY_SLOTS: usize = crate::percpu::MAX_CPUS;

#[repr(C, align(16))]
struct FaultStack([u8; FAULT_STACK_BYTES]);

static mut SECONDARY_TSS: [TaskStateSegment; SECONDARY_SLOTS] = [const { TaskStateSegment {
    reserved0: 0,
    privilege_stacks: [0; 3],
    reserved1: 0,
    interrupt_stacks: [0; 7],
    reserved2: 0,
    reserved3: 0,
    io_map_base: core::mem::size_of::<TaskStateSegment>() as u16,
} }; SECONDARY_SLOTS];
static mut SECONDARY_GDT: [[u64; GDT_ENTRIES]; SECONDARY_SLOTS] = [[0; GDT_ENTRIES]; SECONDARY_SLOTS];
static mut SECONDARY_FAULT_STACKS: [FaultStack; SECONDARY_SLOTS] =
    [const { FaultStack([0; FAULT_STACK_BYTES]) }; SECONDARY_SLOTS];

/// The two quadwords of a 64-bit available-TSS descriptor (SDM Vol. 3A, Figure 7-4).
fn tss_descriptor(tss: *const TaskStateSegment) -> (u64, u64) {
    let base = tss as u64;
    let limit = (core::mem::size_of::<TaskStateSegment>() - 1) as u64;
    let low = (limit & 0xffff)
        | ((base & 0xff_ffff) << 16)
        | (0x89 << 40)
        | (((limit >> 16) & 0xf) << 48)
        | (((base >> 24) & 0xff) << 56);
    (low, base >> 32)
}

/// A secondary (CPU `index` >= 1): its own GDT (the boot GDT's code and
/// data descriptors, same selectors, plus its TSS), its TSS with a
/// double-fault stack (its RSP0 slot goes to the CPU block), then the
/// shared IDT.
pub fn init_secondary_cpu(index: usize) {
    let slot = index.min(SECONDARY_SLOTS - 1);
    // SAFETY: each CPU writes only its own slot, once, before loading it;
    // the boot GDT's first three entries never change after boot.
    unsafe {
        let tss = addr_of_mut!(SECONDARY_TSS[slot]);
        let stack = addr_of_mut!(SECONDARY_FAULT_STACKS[slot]);
        (*tss).interrupt_stacks[0] = stack as u64 + FAULT_STACK_BYTES as u64;
        let gdt = addr_of_mut!(SECONDARY_GDT[slot]);
        let boot = addr_of_mut!(boot_gdt);
        let (gdt, boot) = (&mut *gdt, &*boot);
        gdt[..3].copy_from_slice(&boot[..3]);
        gdt[5..].copy_from_slice(&boot[5..]);
        let (low, high) = tss_descriptor(tss);
        gdt[3] = low;
        gdt[4] = high;
        super::irq::set_rsp0_slot(addr_of_mut!((*tss).privilege_stacks).cast::<u64>());
        let pointer = DescriptorPointer {
            limit: (core::mem::size_of::<[u64; GDT_ENTRIES]>() - 1) as u16,
            base: gdt.as_ptr() as u64,
        };
        asm!("lgdt [{}]", in(reg) &pointer, options(readonly, nostack, preserves_flags));
        asm!("ltr {0:x}", in(reg) TSS_SELECTOR, options(nostack, preserves_flags));
    }
    load_idt();
}

extern "C" {
    static mut boot_gdt: [u64; GDT_ENTRIES];
    static __fault_stack_top: u8;
    static trap_stubs: u8;
}

/// Boot CPU: fills the TSS descriptor and the IDT, then loads TR and IDTR.
pub fn init_boot_cpu() {
    // SAFETY: runs once on the boot CPU before any other CPU starts and before
    // interrupts are enabled, so nothing else reads these tables meanwhile.
    unsafe {
        let tss = addr_of_mut!(TSS);
        (*tss).interrupt_stacks[0] = core::ptr::addr_of!(__fault_stack_top) as u64;
        // System-segment descriptor: type 0x9 (available 64-bit TSS), present.
        super::irq::set_rsp0_slot(addr_of_mut!((*tss).privilege_stacks).cast::<u64>());
        let (low, high) = tss_descriptor(tss);
        let gdt = addr_of_mut!(boot_gdt);
        (*gdt)[3] = low;
        (*gdt)[4] = high;
        asm!("ltr {0:x}", in(reg) TSS_SELECTOR, options(nostack, preserves_flags));

        let stubs = core::ptr::addr_of!(trap_stubs) as usize;
        let idt = addr_of_mut!(IDT);
        for (vector, entry) in (*idt).iter_mut().enumerate() {
            let ist = if vector == DOUBLE_FAULT_VECTOR { 1 } else { 0 };
            let dpl = if vector == BREAKPOINT_VECTOR { 3 } else { 0 };
            *entry = IdtEntry::interrupt_gate(stubs + vector * TRAP_STUB_BYTES, ist, dpl);
        }
    }
    load_idt();
}

/// Loads the shared IDT on this CPU (the secondaries call it too).
pub fn load_idt() {
    let pointer = DescriptorPointer {
        limit: (core::mem::size_of::<[IdtEntry; 256]>() - 1) as u16,
        base: core::ptr::addr_of!(IDT) as u64,
    };
    // SAFETY: the IDT is static and fully filled by init_boot_cpu, which runs
    // before any caller; `lidt` only reads the 10-byte pointer.
    unsafe { asm!("lidt [{}]", in(reg) &pointer, options(readonly, nostack, preserves_flags)) };
}
