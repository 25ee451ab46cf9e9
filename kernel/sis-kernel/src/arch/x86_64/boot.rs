//! Boot path: the PVH note and 32-bit entry, the identity-mapped page tables,
//! the switch to long mode, then the ordered bring-up that ends in `kernel_main`.
//!
//! PVH boot (Xen `docs/misc/pvh.pandoc`, as implemented by QEMU's `pvh.bin`
//! option ROM under SeaBIOS): the loader enters the 32-bit physical address of
//! the `XEN_ELFNOTE_PHYS32_ENTRY` note in 32-bit protected mode with paging
//! off, flat 4 GiB CS/DS, interrupts off, and the physical address of
//! `hvm_start_info` in ebx. The GDTR it left may point anywhere: we load ours
//! before reloading any segment.
//!
//! Page tables (Intel SDM Vol. 3A, 4.5): one PML4 entry, four PDPT entries and
//! 2048 2 MiB pages identity-map the low 4 GiB (all RAM of `-m` up to 2G on
//! q35, the local APIC and the I/O APIC). The first 2 MiB use 4 KiB pages so
//! page 0 (null dereferences, `trigger_fault`; unmapped once the start info
//! is read) and the page below the boot stack (overflow guard) are unmapped.
//! The top 32 MiB (APIC MMIO) are mapped uncached.

use super::{acpi, apic, descriptors, exit, irq, memory, paging, smp, timer, uart};
use crate::arch::{BootInfo, DeviceWindows};

/// Highest physical address (exclusive) the boot page tables map.
pub const IDENTITY_MAPPED_BYTES: u64 = 4 << 30;

core::arch::global_asm!(
    // The PVH entry note. QEMU reads the descriptor as a pointer-sized value
    // and aligns the name by the PT_NOTE segment's p_align (linker.ld keeps it
    // 4), so the descriptor is a full 8-byte quad, as in Linux's PVH note.
    ".pushsection .note.pvh, \"a\", @note",
    ".balign 4",
    ".long 4",  // n_namesz: "Xen\0"
    ".long 8",  // n_descsz
    ".long 18", // n_type: XEN_ELFNOTE_PHYS32_ENTRY
    ".asciz \"Xen\"",
    ".balign 4",
    ".quad pvh_start32",
    ".popsection",
    //
    ".pushsection .bss.page_tables, \"aw\", @nobits",
    ".balign 4096",
    ".globl boot_pml4",
    "boot_pml4: .skip 4096",
    "boot_pdpt: .skip 4096",
    ".globl boot_pd",
    "boot_pd: .skip 4 * 4096",
    ".globl boot_pt",
    "boot_pt: .skip 4096",
    ".popsection",
    //
    // GDT (Intel SDM Vol. 3A, 3.4.5): 0x08 64-bit code, 0x10 flat data,
    // 0x18 the 16-byte TSS descriptor that descriptors.rs fills in, then
    // the ring-3 segments in SYSRET's order (descriptors.rs): 0x28 unused
    // 32-bit user code, 0x30 user data (DPL 3), 0x38 64-bit user code (DPL 3).
    ".pushsection .data.boot_gdt, \"aw\"",
    ".balign 16",
    ".globl boot_gdt",
    "boot_gdt:",
    ".quad 0",
    ".quad 0x00AF9A000000FFFF",
    ".quad 0x00CF92000000FFFF",
    ".quad 0",
    ".quad 0",
    ".quad 0",
    ".quad 0x00CFF2000000FFFF",
    ".quad 0x00AFFA000000FFFF",
    "boot_gdt_end:",
    ".balign 8",
    ".globl boot_gdtr",
    "boot_gdtr:",
    ".word boot_gdt_end - boot_gdt - 1",
    ".quad boot_gdt",
    ".popsection",
    //
    ".pushsection .text.boot, \"ax\"",
    ".code32",
    ".globl pvh_start32",
    "pvh_start32:",
    "cli",
    "cld",
    "mov esi, ebx", // keep hvm_start_info's address: rep stosd below uses edi
    "mov esp, offset __boot_stack_top",
    // Clear BSS (it holds the page tables): NOLOAD, so the loader left garbage.
    "mov edi, offset __bss_start",
    "mov ecx, offset __bss_end",
    "sub ecx, edi",
    "shr ecx, 2",
    "xor eax, eax",
    "rep stosd",
    // PML4[0] -> PDPT; PDPT[0..4] -> the four page directories.
    "mov eax, offset boot_pdpt",
    "or eax, 3", // present | writable
    "mov dword ptr [boot_pml4], eax",
    "mov eax, offset boot_pd",
    "or eax, 3",
    "mov edi, offset boot_pdpt",
    "mov ecx, 4",
    "2:",
    "mov dword ptr [edi], eax",
    "add eax, 4096",
    "add edi, 8",
    "loop 2b",
    // 2048 2 MiB pages: present | writable | page size.
    "mov eax, 0x83",
    "mov edi, offset boot_pd",
    "mov ecx, 2048",
    "2:",
    "mov dword ptr [edi], eax",
    "add eax, 0x200000",
    "add edi, 8",
    "loop 2b",
    // 0xFE00_0000.. (local APIC, I/O APIC): cache disable | write-through.
    "mov edi, offset boot_pd + 2032 * 8",
    "mov ecx, 16",
    "2:",
    "or dword ptr [edi], 0x18",
    "add edi, 8",
    "loop 2b",
    // The first 2 MiB through a page table. Page 0 stays mapped until the
    // start info is read (pvh.bin keeps the memory map there), then boot_main
    // unmaps it.
    "mov eax, offset boot_pt",
    "or eax, 3",
    "mov dword ptr [boot_pd], eax",
    "mov eax, 0x0003",
    "mov edi, offset boot_pt",
    "mov ecx, 512",
    "2:",
    "mov dword ptr [edi], eax",
    "add eax, 4096",
    "add edi, 8",
    "loop 2b",
    "mov eax, offset __boot_stack_guard",
    "shr eax, 12",
    "mov dword ptr [boot_pt + eax * 8], 0",
    // Long mode (SDM Vol. 3A, 9.8.5): CR3, CR4.PAE, EFER.LME, then CR0.PG.
    "mov eax, offset boot_pml4",
    "mov cr3, eax",
    "mov eax, cr4",
    "or eax, 1 << 5",
    "mov cr4, eax",
    "mov ecx, 0xC0000080",
    "rdmsr",
    "or eax, 1 << 8",
    "wrmsr",
    "mov eax, cr0",
    "or eax, 0x80010001", // PG | WP | PE
    "mov cr0, eax",
    "lgdt [boot_gdtr]",
    // Far return into the 64-bit code segment.
    "mov eax, 0x08",
    "push eax",
    "mov eax, offset pvh_start64",
    "push eax",
    "retf",
    ".code64",
    "pvh_start64:",
    "mov ax, 0x10",
    "mov ds, ax",
    "mov es, ax",
    "mov ss, ax",
    "xor eax, eax",
    "mov fs, ax",
    "mov gs, ax",
    "mov rsp, offset __boot_stack_top",
    "xor ebp, ebp", // frame-pointer walks stop here
    "mov edi, esi",
    "call {boot_main}",
    "4:",
    "cli",
    "hlt",
    "jmp 4b",
    ".popsection",
    boot_main = sym boot_main,
);

extern "C" {
    static __kernel_end: u8;
    static mut boot_pt: [u64; 512];
}

/// Removes page 0 from the identity map, so null dereferences fault.
fn unmap_page_zero() {
    // SAFETY: boot_pt is the live page table of the first 2 MiB; only the
    // boot CPU runs, and `invlpg` drops the stale translation.
    unsafe {
        core::ptr::addr_of_mut!(boot_pt).cast::<u64>().write_volatile(0);
        core::arch::asm!("invlpg [{}]", in(reg) 0usize, options(nostack, preserves_flags));
    }
}

/// The first Rust code on the boot CPU, in long mode on the boot stack.
/// The order matters: the console first (so a fault can be reported), the
/// exception vectors before anything can fault, the clock before anything
/// waits, interrupt routing before the idle loop sleeps on it.
extern "C" fn boot_main(start_info_paddr: u32) -> ! {
    // The CPU index first: every lock reads it through GS.
    irq::set_cpu_index(0);
    uart::init();
    descriptors::init_boot_cpu();
    super::user::init_this_cpu();
    let start_info = match memory::read_start_info(start_info_paddr as usize) {
        Ok(info) => info,
        Err(reason) => panic!("PVH boot: {reason}"),
    };
    unmap_page_zero();
    // SAFETY: boot CPU, before the secondaries start.
    unsafe { paging::protect() };
    let platform = acpi::keep(acpi::discover(start_info.rsdp_paddr));
    exit::set_pm1a_control_port(platform.pm1a_control_port);
    apic::init_boot_cpu(platform);
    timer::init(platform);
    apic::route_isa_irq(platform, uart::COM1_ISA_IRQ, descriptors::UART_VECTOR);
    uart::enable_receive_interrupt();
    if smp::start_secondaries(platform, &start_info.memory) == smp::Trampoline::Unused {
        paging::retire_trampoline();
    }
    // A linker-script symbol: only its address is used, never its contents.
    let kernel_end = core::ptr::addr_of!(__kernel_end) as usize;
    let devices = DeviceWindows { pci_ecam: platform.pci_ecam, ..DeviceWindows::none() };
    crate::kernel_main(BootInfo { memory: start_info.memory, kernel_end, devices })
}
