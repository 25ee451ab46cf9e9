//! The few ACPI facts boot needs (ACPI 6.5 spec, chapter 5): the CPU count and
//! I/O APIC from the MADT, ISA interrupt overrides, and the PM timer port from
//! the FADT. Every table is bounds- and checksum-checked; anything missing or
//! malformed yields `None`s and boot falls back to the PC defaults.

use super::boot::IDENTITY_MAPPED_BYTES;

/// Most ISA interrupt source overrides kept (QEMU q35 lists 5).
const MAX_OVERRIDES: usize = 16;
/// Tables larger than this are treated as corrupt rather than walked.
const MAX_TABLE_BYTES: usize = 1 << 20;
const SDT_HEADER_BYTES: usize = 36;

/// An ISA IRQ that is wired to a different GSI or polarity (MADT type 2).
#[derive(Debug, Clone, Copy, Default)]
pub struct InterruptOverride {
    pub isa_irq: u8,
    pub gsi: u32,
    /// MPS INTI flags: bits 0-1 polarity, bits 2-3 trigger mode.
    pub flags: u16,
}

/// What boot learned from the firmware's ACPI tables.
#[derive(Debug, Clone, Copy)]
pub struct Platform {
    /// Enabled processors in the MADT, the boot CPU included.
    pub cpu_count: Option<usize>,
    /// The local APIC's MMIO base: the MADT header's 32-bit address, or its
    /// 64-bit Local APIC Address Override entry (type 5) if present.
    pub local_apic: Option<u64>,
    /// First I/O APIC of the MADT: MMIO base and first GSI.
    pub io_apic: Option<(u64, u32)>,
    pub overrides: [InterruptOverride; MAX_OVERRIDES],
    pub override_count: usize,
    /// FADT PM_TMR_BLK: the 3.579545 MHz ACPI power-management timer.
    pub pm_timer_port: Option<u16>,
    /// FADT PM1a_CNT_BLK: the PM1a control register (sleep type and enable).
    pub pm1a_control_port: Option<u16>,
    /// MCFG: the PCI ECAM window of segment 0, if it lies in the identity map.
    pub pci_ecam: Option<crate::arch::PciEcam>,
}

impl Platform {
    const fn empty() -> Platform {
        Platform {
            cpu_count: None,
            local_apic: None,
            io_apic: None,
            overrides: [InterruptOverride { isa_irq: 0, gsi: 0, flags: 0 }; MAX_OVERRIDES],
            override_count: 0,
            pm_timer_port: None,
            pm1a_control_port: None,
            pci_ecam: None,
        }
    }

    pub fn isa_override(&self, isa_irq: u8) -> Option<InterruptOverride> {
        self.overrides[..self.override_count].iter().copied().find(|o| o.isa_irq == isa_irq)
    }
}

/// Physical memory as a byte slice, if it lies inside the identity map and
/// off page 0 (unmapped on purpose).
fn physical_bytes(paddr: u64, length: usize) -> Option<&'static [u8]> {
    let end = paddr.checked_add(length as u64)?;
    if paddr < 4096 || end > IDENTITY_MAPPED_BYTES {
        return None;
    }
    // SAFETY: the range is identity-mapped (checked above) and firmware
    // tables are never written after boot; ACPI tables live in RAM the
    // memory map reports as reserved or ACPI-reclaimable, so the heap never
    // overlaps them.
    Some(unsafe { core::slice::from_raw_parts(paddr as *const u8, length) })
}

fn read_u16(bytes: &[u8], offset: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(offset..offset + 2)?.try_into().ok()?))
}

fn read_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(offset..offset + 4)?.try_into().ok()?))
}

fn read_u64(bytes: &[u8], offset: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(offset..offset + 8)?.try_into().ok()?))
}

fn checksum_ok(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |sum, byte| sum.wrapping_add(*byte)) == 0
}

/// A whole system description table (ACPI 5.2.6), checksum verified.
fn table_at(paddr: u64) -> Option<&'static [u8]> {
    let header = physical_bytes(paddr, SDT_HEADER_BYTES)?;
    let length = read_u32(header, 4)? as usize;
    if !(SDT_HEADER_BYTES..=MAX_TABLE_BYTES).contains(&length) {
        return None;
    }
    let table = physical_bytes(paddr, length)?;
    checksum_ok(table).then_some(table)
}

/// What `discover` found, kept for what is set up after boot (the NIC's
/// interrupt routing needs the MADT's overrides).
static PLATFORM: spin::Once<Platform> = spin::Once::new();

/// Keeps the boot CPU's `discover` result for `platform()`; once, at boot.
pub fn keep(platform: Platform) -> &'static Platform {
    PLATFORM.call_once(|| platform)
}

/// The platform `keep` kept (None before boot got that far).
pub fn platform() -> Option<&'static Platform> {
    PLATFORM.get()
}

/// Reads the tables reachable from the RSDP (ACPI 5.2.5); `rsdp_paddr` 0
/// (start info without one) gives the empty platform.
pub fn discover(rsdp_paddr: u64) -> Platform {
    let mut platform = Platform::empty();
    let Some(rsdp) = physical_bytes(rsdp_paddr, 20) else { return platform };
    if &rsdp[..8] != b"RSD PTR " || !checksum_ok(rsdp) {
        return platform;
    }
    // Revision 2+ has the XSDT (64-bit entries) in the extended RSDP.
    let xsdt = if rsdp[15] >= 2 {
        physical_bytes(rsdp_paddr, 36).and_then(|extended| read_u64(extended, 24)).filter(|&paddr| paddr != 0)
    } else {
        None
    };
    let (root, entry_bytes) = match xsdt {
        Some(paddr) => (table_at(paddr), 8),
        None => (read_u32(rsdp, 16).and_then(|paddr| table_at(u64::from(paddr))), 4),
    };
    let Some(root) = root else { return platform };
    let mut offset = SDT_HEADER_BYTES;
    while offset + entry_bytes <= root.len() {
        let paddr = if entry_bytes == 8 { read_u64(root, offset) } else { read_u32(root, offset).map(u64::from) };
        offset += entry_bytes;
        let Some(table) = paddr.and_then(table_at) else { continue };
        match &table[..4] {
            b"APIC" => read_madt(table, &mut platform),
            b"MCFG" => platform.pci_ecam = read_mcfg(table),
            b"FACP" => {
                // PM_TMR_BLK (FADT offset 76): a 32-bit I/O port address.
                platform.pm_timer_port =
                    read_u32(table, 76).and_then(|port| u16::try_from(port).ok()).filter(|&port| port != 0);
                // PM1a_CNT_BLK (FADT offset 64): where power-off writes SLP_TYP | SLP_EN.
                platform.pm1a_control_port =
                    read_u32(table, 64).and_then(|port| u16::try_from(port).ok()).filter(|&port| port != 0);
            }
            _ => {}
        }
    }
    platform
}

/// MCFG (PCI Firmware Specification 3.2, 4.1.2): after the header and 8
/// reserved bytes, 16-byte entries of base address, segment, start and end
/// bus. Only segment 0 is used, and only if its window for the listed buses
/// lies in the identity map.
fn read_mcfg(table: &[u8]) -> Option<crate::arch::PciEcam> {
    let mut offset = SDT_HEADER_BYTES + 8;
    while offset + 16 <= table.len() {
        let base = read_u64(table, offset)?;
        let segment = read_u16(table, offset + 8)?;
        let (start_bus, end_bus) = (table[offset + 10], table[offset + 11]);
        offset += 16;
        if segment != 0 || end_bus < start_bus {
            continue;
        }
        // 1 MiB of configuration space per bus (32 devices x 8 functions x 4 KiB).
        let end = base.checked_add((u64::from(end_bus) + 1) << 20)?;
        if end <= IDENTITY_MAPPED_BYTES {
            return Some(crate::arch::PciEcam { base, start_bus, end_bus });
        }
    }
    None
}

/// MADT (ACPI 5.2.12): processor local APICs, I/O APICs, interrupt overrides.
fn read_madt(table: &[u8], platform: &mut Platform) {
    let mut cpu_count = 0;
    platform.local_apic = read_u32(table, SDT_HEADER_BYTES).filter(|&address| address != 0).map(u64::from);
    let mut offset = 44; // header (36) + local APIC address (4) + flags (4)
    while offset + 2 <= table.len() {
        let kind = table[offset];
        let length = table[offset + 1] as usize;
        if length < 2 || offset + length > table.len() {
            break;
        }
        let entry = &table[offset..offset + length];
        match kind {
            // Processor Local APIC: flags bit 0 "enabled". Online-capable but
            // disabled CPUs (hotplug slots) are not running and not counted.
            0 if length >= 8 && read_u32(entry, 4).is_some_and(|flags| flags & 1 != 0) => cpu_count += 1,
            1 if length >= 12 && platform.io_apic.is_none() => {
                if let (Some(address), Some(gsi_base)) = (read_u32(entry, 4), read_u32(entry, 8)) {
                    platform.io_apic = Some((u64::from(address), gsi_base));
                }
            }
            2 if length >= 10 && platform.override_count < MAX_OVERRIDES => {
                if let (Some(gsi), Some(flags)) = (read_u32(entry, 4), read_u16(entry, 8)) {
                    platform.overrides[platform.override_count] = InterruptOverride { isa_irq: entry[3], gsi, flags };
                    platform.override_count += 1;
                }
            }
            // Local APIC Address Override: a 64-bit address replacing the header's.
            5 if length >= 12 => {
                if let Some(address) = read_u64(entry, 4).filter(|&address| address != 0) {
                    platform.local_apic = Some(address);
                }
            }
            _ => {}
        }
        offset += length;
    }
    if cpu_count > 0 {
        platform.cpu_count = Some(cpu_count);
    }
}
