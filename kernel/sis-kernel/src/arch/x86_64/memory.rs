//! PVH start info (Xen `public/arch-x86/hvm/start_info.h`): the RAM map and
//! the RSDP address the loader hands over in ebx.

use core::sync::atomic::{AtomicU64, Ordering};

use sis_mem::discover::{from_pvh_memmap, PvhMemmapEntry};
use sis_mem::{MemoryMap, Region};

use super::boot::IDENTITY_MAPPED_BYTES;
use super::smp::TRAMPOLINE_PADDR;

/// `hvm_start_info.magic` ("xEn3" with the top bit of the first byte cleared).
const START_INFO_MAGIC: u32 = 0x336e_c578;
/// A memory map longer than this is treated as corrupt (QEMU gives ~5-8).
const MAX_MEMMAP_ENTRIES: usize = 128;

/// End of the highest usable RAM region (0 until the start info is read).
static RAM_END: AtomicU64 = AtomicU64::new(0);

/// End of the highest RAM region, or the identity map's end before the
/// memory map is known: the bound for reads that must not touch MMIO.
pub fn ram_end() -> u64 {
    match RAM_END.load(Ordering::Relaxed) {
        0 => IDENTITY_MAPPED_BYTES,
        end => end,
    }
}

/// `struct hvm_start_info`, version 1 layout.
#[repr(C)]
struct HvmStartInfo {
    magic: u32,
    version: u32,
    flags: u32,
    nr_modules: u32,
    modlist_paddr: u64,
    cmdline_paddr: u64,
    rsdp_paddr: u64,
    // Version 1 and newer:
    memmap_paddr: u64,
    memmap_entries: u32,
    reserved: u32,
}

/// What boot keeps from the start info.
pub struct StartInfo {
    pub memory: MemoryMap,
    /// Physical address of the ACPI RSDP, 0 if the loader gave none.
    pub rsdp_paddr: u64,
}

/// Whether `[paddr, paddr + bytes)` is non-null and identity-mapped. Page 0
/// is still mapped while this runs: QEMU's pvh.bin puts the memory map there.
fn is_mapped(paddr: usize, bytes: usize) -> bool {
    paddr != 0 && paddr.checked_add(bytes).is_some_and(|end| end as u64 <= IDENTITY_MAPPED_BYTES)
}

/// Reads the start info at `paddr`; boot calls it before it unmaps page 0. The memory map is clipped to the
/// identity-mapped low 4 GiB (RAM above it is not reachable here), and the
/// AP trampoline page is reserved.
pub fn read_start_info(paddr: usize) -> Result<StartInfo, &'static str> {
    if !is_mapped(paddr, core::mem::size_of::<HvmStartInfo>()) {
        return Err("hvm_start_info address is null or out of range");
    }
    // SAFETY: checked above to be mapped; the loader wrote it and nothing
    // writes it after. Read unaligned: the PVH spec promises no alignment.
    let info = unsafe { (paddr as *const HvmStartInfo).read_unaligned() };
    if info.magic != START_INFO_MAGIC {
        return Err("hvm_start_info magic is not 0x336ec578");
    }
    if info.version < 1 {
        return Err("hvm_start_info version 0 has no memory map");
    }
    let count = info.memmap_entries as usize;
    let entry_bytes = core::mem::size_of::<PvhMemmapEntry>();
    let memmap_paddr = info.memmap_paddr as usize;
    if count == 0 || count > MAX_MEMMAP_ENTRIES || !is_mapped(memmap_paddr, count * entry_bytes) {
        return Err("hvm_start_info memory map is empty, too long or out of range");
    }
    let mut clipped = [PvhMemmapEntry::default(); MAX_MEMMAP_ENTRIES];
    for (index, slot) in clipped[..count].iter_mut().enumerate() {
        // SAFETY: entry `index` < `count` lies in the mapped range checked
        // above; plain data, read unaligned as the spec promises no alignment.
        let entry = unsafe { (memmap_paddr as *const PvhMemmapEntry).add(index).read_unaligned() };
        let end = entry.addr.saturating_add(entry.size).min(IDENTITY_MAPPED_BYTES);
        *slot = PvhMemmapEntry { size: end.saturating_sub(entry.addr), ..entry };
    }
    let mut memory = from_pvh_memmap(&clipped[..count]);
    let highest = memory.usable().iter().map(|region| region.end() as u64).max().unwrap_or(0);
    RAM_END.store(highest, Ordering::Relaxed);
    memory.add_reserved(Region::new(TRAMPOLINE_PADDR, 4096));
    Ok(StartInfo { memory, rsdp_paddr: info.rsdp_paddr })
}
