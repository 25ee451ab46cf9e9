//! Reads what the firmware tells us about the machine: the device tree on
//! aarch64 and riscv64 (QEMU virt), the PVH start info memory map on x86_64.

use fdt::node::FdtNode;
use fdt::Fdt;

use crate::{MemoryMap, Region};

/// Most CPUs we record; the kernel supports up to this many.
pub const MAX_CPUS: usize = 8;

/// Most virtio-mmio transports we record (QEMU virt has 32 slots).
pub const MAX_VIRTIO_MMIO: usize = 32;

/// Why firmware-provided data could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscoverError {
    /// The pointer was null or misaligned.
    BadPointer,
    /// No flattened device tree magic (0xd00dfeed) at the address.
    BadMagic,
    /// The header's size is implausible or the blob is truncated.
    BadSize,
    /// The `fdt` crate rejected the blob.
    Malformed,
    /// The tree has no usable `/memory` node.
    NoMemory,
}

/// What the device tree says about memory and CPUs.
#[derive(Debug, Clone, Copy)]
pub struct DeviceTree {
    pub memory: MemoryMap,
    /// `reg` of every enabled `/cpus/cpu@*` node: hart ids (riscv) or MPIDR affinity (aarch64).
    pub cpu_ids: [u64; MAX_CPUS],
    pub cpu_count: usize,
    /// `/cpus/timebase-frequency` (the riscv `time` CSR rate).
    pub timebase_hz: Option<u64>,
    /// `reg` of every enabled `virtio,mmio` node, in tree order (QEMU
    /// lists every slot, most with no device behind them).
    pub virtio_mmio: [Region; MAX_VIRTIO_MMIO],
    /// Each slot's interrupt (same index as `virtio_mmio`), numbered as
    /// its controller numbers it (see `Devices::console_interrupt`).
    pub virtio_mmio_interrupts: [Option<u32>; MAX_VIRTIO_MMIO],
    pub virtio_mmio_count: usize,
    /// The devices the kernel drives directly (console, interrupt
    /// controller, power-off), where the tree describes them.
    pub devices: Devices,
}

/// MMIO windows of the devices the kernel drives itself; `None` where the
/// tree does not describe the device (the arch then says so and falls back).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Devices {
    /// The console UART: the node `/chosen/stdout-path` names, else the
    /// first `arm,pl011` or `ns16550a` node.
    pub console_uart: Option<Region>,
    /// The Arm GIC (`arm,cortex-a15-gic`, `arm,gic-400`, `arm,gic-v3`).
    pub gic: Option<Gic>,
    /// The RISC-V PLIC (`riscv,plic0`, `sifive,plic-1.0.0`).
    pub plic: Option<Region>,
    /// The SiFive test finisher QEMU ends on (`sifive,test0`, `sifive,test1`).
    pub test_finisher: Option<Region>,
    /// The console UART's interrupt, numbered as its controller numbers
    /// it: a GIC INTID (SPIs from 32, PPIs from 16) or a PLIC source.
    /// `None` where the tree gives none or names a controller this does
    /// not know.
    pub console_interrupt: Option<u32>,
    /// The Arm generic timer's virtual timer interrupt (a GIC INTID): the
    /// third of the `arm,armv8-timer` node's four (secure physical,
    /// non-secure physical, virtual, hypervisor; Arm timer binding).
    pub virtual_timer_interrupt: Option<u32>,
}

/// A GIC's first two `reg` entries (Arm GIC device tree binding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gic {
    /// 2 or 3, from the compatible string.
    pub version: u8,
    pub distributor: Region,
    /// GICv2: the CPU interface; GICv3: the first redistributor region.
    pub cpu_interface_or_redistributors: Region,
}

impl DeviceTree {
    pub fn cpu_ids(&self) -> &[u64] {
        &self.cpu_ids[..self.cpu_count]
    }

    pub fn virtio_mmio(&self) -> &[Region] {
        &self.virtio_mmio[..self.virtio_mmio_count]
    }

    pub fn virtio_mmio_interrupts(&self) -> &[Option<u32>] {
        &self.virtio_mmio_interrupts[..self.virtio_mmio_count]
    }
}

const FDT_MAGIC: u32 = 0xd00d_feed;
/// Larger blobs than this are not device trees QEMU or a board would pass.
const FDT_MAX_BYTES: usize = 16 << 20;

/// Builds a slice over the device tree blob at `ptr`, sized by its header.
///
/// # Safety
/// `ptr` must point to readable memory holding at least the 40-byte FDT
/// header and, if the magic matches, `totalsize` bytes, valid for `'static`.
pub unsafe fn device_tree_slice(ptr: *const u8) -> Result<&'static [u8], DiscoverError> {
    if ptr.is_null() || (ptr as usize) % 4 != 0 {
        return Err(DiscoverError::BadPointer);
    }
    // SAFETY: the caller guarantees the header is readable; both words are
    // 4-byte aligned (checked above) and big-endian by the FDT spec.
    let (magic, total) = unsafe {
        (
            u32::from_be(core::ptr::read(ptr as *const u32)),
            u32::from_be(core::ptr::read((ptr as *const u32).add(1))) as usize,
        )
    };
    if magic != FDT_MAGIC {
        return Err(DiscoverError::BadMagic);
    }
    if !(40..=FDT_MAX_BYTES).contains(&total) {
        return Err(DiscoverError::BadSize);
    }
    // SAFETY: the caller guarantees `totalsize` bytes are readable for 'static.
    Ok(unsafe { core::slice::from_raw_parts(ptr, total) })
}

/// Reads memory, reserved ranges, CPUs and the timebase from a device tree.
///
/// The blob's own range is reserved too, so the heap never overwrites it
/// while someone may still read it.
pub fn from_device_tree(blob: &[u8]) -> Result<DeviceTree, DiscoverError> {
    if blob.len() < 40 {
        return Err(DiscoverError::BadSize);
    }
    let fdt = Fdt::new(blob).map_err(|_| DiscoverError::Malformed)?;
    // One walk over every node picks up memory, the virtio transports and
    // the drivers' devices (each walk re-parses the structure block; this
    // used to take five).
    let mut memory = MemoryMap::new();
    let mut virtio_mmio = [Region::new(0, 0); MAX_VIRTIO_MMIO];
    let mut virtio_mmio_interrupts = [None; MAX_VIRTIO_MMIO];
    let mut virtio_mmio_count = 0;
    let mut found = FoundDevices::default();
    for node in fdt.all_nodes() {
        if !is_enabled(&node) {
            continue;
        }
        let is_memory = node.name == "memory" || node.name.starts_with("memory@");
        if is_memory && node.property("device_type").and_then(|p| p.as_str()).map_or(true, |kind| kind == "memory") {
            for region in node.reg().into_iter().flatten() {
                memory.add_usable(Region::new(region.starting_address as usize, region.size.unwrap_or(0)));
            }
        }
        let Some(compatible) = node.compatible() else { continue };
        if compatible.all().any(|name| name == "virtio,mmio") && virtio_mmio_count < MAX_VIRTIO_MMIO {
            if let Some(region) = node.reg().and_then(|mut regions| regions.next()) {
                virtio_mmio[virtio_mmio_count] = Region::new(region.starting_address as usize, region.size.unwrap_or(0));
                virtio_mmio_interrupts[virtio_mmio_count] = interrupt_of(&fdt, &node, 0);
                virtio_mmio_count += 1;
            }
        }
        found.consider(&fdt, &node, &compatible);
    }
    if memory.usable().is_empty() {
        return Err(DiscoverError::NoMemory);
    }

    for reservation in fdt.memory_reservations() {
        memory.add_reserved(Region::new(reservation.address() as usize, reservation.size()));
    }
    if let Some(reserved) = fdt.find_node("/reserved-memory") {
        for child in reserved.children() {
            if let Some(regions) = child.reg() {
                for region in regions {
                    memory.add_reserved(Region::new(region.starting_address as usize, region.size.unwrap_or(0)));
                }
            }
        }
    }
    memory.add_reserved(Region::new(blob.as_ptr() as usize, blob.len()));

    // The console: the node /chosen/stdout-path names, else the first UART.
    let (console_uart, console_interrupt) = match stdout_node(&fdt)
        .filter(|node| is_enabled(node))
        .and_then(|node| node_regs::<1>(&node).map(|[region]| (region, interrupt_of(&fdt, &node, 0))))
    {
        Some((region, interrupt)) => (Some(region), interrupt),
        None => (found.uart, found.uart_interrupt),
    };
    let mut tree = DeviceTree {
        memory,
        cpu_ids: [0; MAX_CPUS],
        cpu_count: 0,
        timebase_hz: None,
        virtio_mmio,
        virtio_mmio_interrupts,
        virtio_mmio_count,
        devices: Devices {
            console_uart,
            gic: found.gic,
            plic: found.plic,
            test_finisher: found.test_finisher,
            console_interrupt,
            virtual_timer_interrupt: found.virtual_timer_interrupt,
        },
    };
    if let Some(cpus) = fdt.find_node("/cpus") {
        tree.timebase_hz = cpus.property("timebase-frequency").and_then(|p| p.as_usize()).map(|hz| hz as u64);
        for cpu in cpus.children() {
            let is_cpu = cpu.property("device_type").and_then(|p| p.as_str()) == Some("cpu");
            if !is_cpu || !is_enabled(&cpu) || tree.cpu_count == MAX_CPUS {
                continue;
            }
            // /cpus has #size-cells = 0, so `reg` is just the id.
            if let Some(id) = cpu.reg().and_then(|mut regions| regions.next()) {
                tree.cpu_ids[tree.cpu_count] = id.starting_address as u64;
                tree.cpu_count += 1;
            }
            if tree.timebase_hz.is_none() {
                tree.timebase_hz =
                    cpu.property("timebase-frequency").and_then(|p| p.as_usize()).map(|hz| hz as u64);
            }
        }
    }
    Ok(tree)
}

/// The drivers' devices met so far in the walk: for each, the first
/// enabled node compatible with one of its names whose `reg` has the
/// entries the driver needs (a node lacking them is passed over).
#[derive(Default)]
struct FoundDevices {
    uart: Option<Region>,
    uart_interrupt: Option<u32>,
    virtual_timer_interrupt: Option<u32>,
    gic: Option<Gic>,
    plic: Option<Region>,
    test_finisher: Option<Region>,
}

const UART_NAMES: &[&str] = &["arm,pl011", "ns16550a"];
const GIC_NAMES: &[&str] = &["arm,cortex-a15-gic", "arm,gic-400", "arm,gic-v3"];
const PLIC_NAMES: &[&str] = &["riscv,plic0", "sifive,plic-1.0.0"];
const TEST_FINISHER_NAMES: &[&str] = &["sifive,test0", "sifive,test1"];
const ARM_TIMER_NAMES: &[&str] = &["arm,armv8-timer", "arm,armv7-timer"];

impl FoundDevices {
    /// Records `node` (enabled, with `compatible`) for every device it is
    /// the first match of.
    fn consider(&mut self, fdt: &Fdt<'_>, node: &FdtNode<'_, '_>, compatible: &fdt::standard_nodes::Compatible<'_>) {
        let matched = |names: &[&'static str]| names.iter().copied().find(|&name| compatible.all().any(|c| c == name));
        if self.uart.is_none() && matched(UART_NAMES).is_some() {
            self.uart = node_regs::<1>(node).map(|[region]| region);
            self.uart_interrupt = self.uart.and_then(|_| interrupt_of(fdt, node, 0));
        }
        if self.virtual_timer_interrupt.is_none() && matched(ARM_TIMER_NAMES).is_some() {
            self.virtual_timer_interrupt = interrupt_of(fdt, node, 2);
        }
        if self.gic.is_none() {
            if let Some(name) = matched(GIC_NAMES) {
                self.gic = node_regs::<2>(node).map(|[distributor, second]| Gic {
                    version: if name == "arm,gic-v3" { 3 } else { 2 },
                    distributor,
                    cpu_interface_or_redistributors: second,
                });
            }
        }
        if self.plic.is_none() && matched(PLIC_NAMES).is_some() {
            self.plic = node_regs::<1>(node).map(|[region]| region);
        }
        if self.test_finisher.is_none() && matched(TEST_FINISHER_NAMES).is_some() {
            self.test_finisher = node_regs::<1>(node).map(|[region]| region);
        }
    }
}

/// The `index`th interrupt of `node`, numbered as its controller numbers
/// it (see `Devices::console_interrupt`). The controller is the node's
/// `interrupt-parent`, else the root's: QEMU's virt machines give devices
/// under the root none of their own (aarch64) or their own (riscv64), and
/// neither puts one on an intermediate node.
fn interrupt_of(fdt: &Fdt<'_>, node: &FdtNode<'_, '_>, index: usize) -> Option<u32> {
    let controller = node.interrupt_parent().or_else(|| fdt.find_node("/")?.interrupt_parent())?;
    let cells = controller.interrupt_cells()?;
    let compatible = controller.compatible()?;
    let is = |names: &[&str]| compatible.all().any(|name| names.contains(&name));
    let value = node.property("interrupts")?.value;
    let mut specifier = [0u32; 3];
    let mut taken = 0;
    for (slot, word) in specifier.iter_mut().zip(value.chunks_exact(4).skip(index.checked_mul(cells)?).take(cells)) {
        *slot = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        taken += 1;
    }
    if taken != cells {
        return None;
    }
    match cells {
        // Arm GIC binding: <type number flags>, type 0 an SPI, 1 a PPI.
        3 if is(GIC_NAMES) => match specifier[0] {
            0 => specifier[1].checked_add(32),
            1 => specifier[1].checked_add(16),
            _ => None,
        },
        // RISC-V PLIC binding: the source number alone.
        1 if is(PLIC_NAMES) => Some(specifier[0]),
        _ => None,
    }
}

/// The node's first N `reg` entries, if it has that many.
fn node_regs<const N: usize>(node: &FdtNode<'_, '_>) -> Option<[Region; N]> {
    let mut regions = [Region::new(0, 0); N];
    let mut reg = node.reg()?;
    for slot in regions.iter_mut() {
        let entry = reg.next()?;
        *slot = Region::new(entry.starting_address as usize, entry.size.unwrap_or(0));
    }
    Some(regions)
}

/// The node `/chosen/stdout-path` names (its `:options` suffix dropped).
fn stdout_node<'b, 'a>(fdt: &'b Fdt<'a>) -> Option<fdt::node::FdtNode<'b, 'a>> {
    let chosen = fdt.find_node("/chosen")?;
    let value = chosen.property("stdout-path")?.value;
    let text = core::str::from_utf8(value).ok()?.trim_end_matches('\0');
    let path = text.split(':').next()?;
    if path.is_empty() {
        return None;
    }
    fdt.find_node(path)
}

fn is_enabled(node: &FdtNode<'_, '_>) -> bool {
    node.property("status")
        .and_then(|p| p.as_str())
        .map_or(true, |status| status == "okay" || status == "ok")
}

/// One entry of the PVH start info memory map (`hvm_memmap_table_entry` in
/// Xen's `arch-x86/hvm/start_info.h`); types are E820's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C)]
pub struct PvhMemmapEntry {
    pub addr: u64,
    pub size: u64,
    pub kind: u32,
    pub reserved: u32,
}

/// E820 type of usable RAM.
pub const E820_RAM: u32 = 1;

/// Turns the PVH memory map into usable and reserved regions.
pub fn from_pvh_memmap(entries: &[PvhMemmapEntry]) -> MemoryMap {
    let mut memory = MemoryMap::new();
    for entry in entries {
        let region = Region::new(entry.addr as usize, entry.size as usize);
        if entry.kind == E820_RAM {
            memory.add_usable(region);
        } else {
            memory.add_reserved(region);
        }
    }
    memory
}

#[cfg(test)]
mod tests {
    use super::*;

    const RISCV: &[u8] = include_bytes!("../tests/data/riscv-virt-256m-3cpu.dtb");
    const RISCV_OPENSBI: &[u8] = include_bytes!("../tests/data/riscv-virt-opensbi-reserved.dtb");
    const AARCH64: &[u8] = include_bytes!("../tests/data/aarch64-virt-1g-4cpu.dtb");
    const AARCH64_GICV3: &[u8] = include_bytes!("../tests/data/aarch64-virt-gicv3.dtb");

    #[test]
    fn from_device_tree_reads_riscv_virt_memory_cpus_and_timebase() {
        let tree = from_device_tree(RISCV).unwrap();
        assert_eq!(tree.memory.usable(), &[Region::new(0x8000_0000, 256 << 20)]);
        assert_eq!(tree.cpu_ids(), &[0, 1, 2]);
        assert_eq!(tree.timebase_hz, Some(10_000_000));
    }

    #[test]
    fn from_device_tree_reserves_firmware_ranges_and_the_blob_itself() {
        let tree = from_device_tree(RISCV_OPENSBI).unwrap();
        let reserved = tree.memory.reserved();
        assert!(reserved.contains(&Region::new(0x87f0_0000, 0x10_0000)), "/memreserve/ entry: {reserved:?}");
        assert!(reserved.contains(&Region::new(0x8000_0000, 0x4_0000)), "/reserved-memory child: {reserved:?}");
        assert!(reserved.contains(&Region::new(RISCV_OPENSBI.as_ptr() as usize, RISCV_OPENSBI.len())));
    }

    #[test]
    fn from_device_tree_reads_aarch64_virt() {
        let tree = from_device_tree(AARCH64).unwrap();
        assert_eq!(tree.memory.usable(), &[Region::new(0x4000_0000, 1 << 30)]);
        assert_eq!(tree.cpu_ids(), &[0, 1, 2, 3]);
        assert_eq!(tree.memory.total_usable_bytes(), 1 << 30);
    }

    #[test]
    fn from_device_tree_finds_the_devices_the_kernel_drives() {
        // aarch64 virt, GICv2: the PL011 of /chosen/stdout-path and the GIC.
        let devices = from_device_tree(AARCH64).unwrap().devices;
        assert_eq!(devices.console_uart, Some(Region::new(0x0900_0000, 0x1000)));
        assert_eq!(
            devices.gic,
            Some(Gic {
                version: 2,
                distributor: Region::new(0x0800_0000, 0x1_0000),
                cpu_interface_or_redistributors: Region::new(0x0801_0000, 0x1_0000),
            })
        );
        assert_eq!((devices.plic, devices.test_finisher), (None, None));
        // Its interrupts: the PL011 is SPI 1, the virtual timer PPI 11.
        assert_eq!((devices.console_interrupt, devices.virtual_timer_interrupt), (Some(33), Some(27)));
        // aarch64 virt with gic-version=3 (dumped by QEMU 7.2): the redistributors.
        let devices_v3 = from_device_tree(AARCH64_GICV3).unwrap().devices;
        assert_eq!((devices_v3.console_interrupt, devices_v3.virtual_timer_interrupt), (Some(33), Some(27)));
        let gic = devices_v3.gic.unwrap();
        assert_eq!(gic.version, 3);
        assert_eq!(gic.distributor, Region::new(0x0800_0000, 0x1_0000));
        assert_eq!(gic.cpu_interface_or_redistributors.start, 0x080a_0000);
        // riscv64 virt: the NS16550A, the PLIC and the test finisher.
        let devices = from_device_tree(RISCV_OPENSBI).unwrap().devices;
        assert_eq!(devices.console_uart, Some(Region::new(0x1000_0000, 0x100)));
        assert_eq!(devices.plic, Some(Region::new(0x0c00_0000, 0x60_0000)));
        assert_eq!(devices.test_finisher, Some(Region::new(0x10_0000, 0x1000)));
        assert_eq!(devices.gic, None);
        // The UART is PLIC source 10; there is no Arm timer.
        assert_eq!((devices.console_interrupt, devices.virtual_timer_interrupt), (Some(10), None));
        assert_eq!(from_device_tree(RISCV).unwrap().devices.console_interrupt, Some(10));
    }

    #[test]
    fn from_device_tree_lists_the_virtio_mmio_slots_of_both_virt_machines() {
        // QEMU virt has 32 slots of 0x200 bytes: riscv64 from 0x1000_1000
        // (8 of them), aarch64 from 0x0a00_0000 (32); the tree lists them
        // in reverse address order.
        let riscv = from_device_tree(RISCV).unwrap();
        assert_eq!(riscv.virtio_mmio().len(), 8);
        assert!(riscv.virtio_mmio().contains(&Region::new(0x1000_1000, 0x1000)), "{:?}", riscv.virtio_mmio());
        let aarch64 = from_device_tree(AARCH64).unwrap();
        assert_eq!(aarch64.virtio_mmio().len(), 32);
        assert!(aarch64.virtio_mmio().contains(&Region::new(0x0a00_0000, 0x200)), "{:?}", aarch64.virtio_mmio());
    }

    #[test]
    fn from_device_tree_reads_each_virtio_mmio_slot_s_interrupt() {
        // riscv64 virt: slot n (from 0x1000_1000, 0x1000 apart) is PLIC
        // source n + 1; aarch64 virt: slot n (from 0x0a00_0000, 0x200
        // apart) is SPI 16 + n, GIC INTID 48 + n.
        let riscv = from_device_tree(RISCV).unwrap();
        for (region, interrupt) in riscv.virtio_mmio().iter().zip(riscv.virtio_mmio_interrupts()) {
            assert_eq!(*interrupt, Some(((region.start - 0x1000_1000) / 0x1000 + 1) as u32), "{region:?}");
        }
        let aarch64 = from_device_tree(AARCH64).unwrap();
        for (region, interrupt) in aarch64.virtio_mmio().iter().zip(aarch64.virtio_mmio_interrupts()) {
            assert_eq!(*interrupt, Some(((region.start - 0x0a00_0000) / 0x200 + 48) as u32), "{region:?}");
        }
    }

    #[test]
    fn from_device_tree_rejects_garbage_without_panicking() {
        assert_eq!(from_device_tree(&[]).unwrap_err(), DiscoverError::BadSize);
        assert_eq!(from_device_tree(&[0u8; 64]).unwrap_err(), DiscoverError::Malformed);
        let mut truncated = RISCV.to_vec();
        truncated.truncate(100);
        assert!(from_device_tree(&truncated).is_err());
    }

    /// A flattened device tree built by hand (Devicetree Specification
    /// v0.4, chapter 5): nodes as (depth, name, properties), in tree order.
    fn build_tree(nodes: &[(usize, &str, &[(&str, &[u8])])]) -> Vec<u8> {
        let (mut structure, mut strings) = (Vec::new(), Vec::new());
        let word = |out: &mut Vec<u8>, value: u32| out.extend_from_slice(&value.to_be_bytes());
        let pad = |out: &mut Vec<u8>| out.resize(out.len().div_ceil(4) * 4, 0);
        let mut open = 0;
        for &(depth, name, properties) in nodes {
            for _ in depth..open {
                word(&mut structure, 2); // FDT_END_NODE
            }
            word(&mut structure, 1); // FDT_BEGIN_NODE
            structure.extend_from_slice(name.as_bytes());
            structure.push(0);
            pad(&mut structure);
            for &(property, value) in properties {
                word(&mut structure, 3); // FDT_PROP
                word(&mut structure, value.len() as u32);
                word(&mut structure, strings.len() as u32);
                strings.extend_from_slice(property.as_bytes());
                strings.push(0);
                structure.extend_from_slice(value);
                pad(&mut structure);
            }
            open = depth + 1;
        }
        for _ in 0..open {
            word(&mut structure, 2);
        }
        word(&mut structure, 9); // FDT_END
        let reservations = 40;
        let structure_at = reservations + 16;
        let strings_at = structure_at + structure.len();
        let mut blob = Vec::new();
        for value in [0xd00d_feed, (strings_at + strings.len()) as u32, structure_at as u32, strings_at as u32, reservations as u32, 17, 16, 0, strings.len() as u32, structure.len() as u32] {
            word(&mut blob, value);
        }
        blob.extend_from_slice(&[0; 16]); // the reservation list's terminator
        blob.extend_from_slice(&structure);
        blob.extend_from_slice(&strings);
        blob
    }

    fn cells(values: &[u32]) -> Vec<u8> {
        values.iter().flat_map(|value| value.to_be_bytes()).collect()
    }

    /// A GIC-rooted tree whose console has `interrupts` (none if empty).
    fn tree_with_console_interrupts(interrupts: &[u8], parent: Option<u32>) -> Vec<u8> {
        let (two, one, gic_phandle) = (cells(&[2]), cells(&[1]), cells(&[1]));
        let memory_reg = cells(&[0, 0x4000_0000, 0, 0x1000_0000]);
        let uart_reg = cells(&[0, 0x0900_0000, 0, 0x1000]);
        let gic_reg = cells(&[0, 0x0800_0000, 0, 0x1_0000, 0, 0x0801_0000, 0, 0x1_0000]);
        let three = cells(&[3]);
        let parent_cells = parent.map(|phandle| cells(&[phandle]));
        let mut root: Vec<(&str, &[u8])> = vec![("#address-cells", &two), ("#size-cells", &two)];
        if let Some(parent_cells) = &parent_cells {
            root.push(("interrupt-parent", parent_cells));
        }
        let mut uart: Vec<(&str, &[u8])> = vec![("compatible", b"arm,pl011\0"), ("reg", &uart_reg)];
        if !interrupts.is_empty() {
            uart.push(("interrupts", interrupts));
        }
        build_tree(&[
            (0, "", &root),
            (1, "memory@40000000", &[("device_type", b"memory\0"), ("reg", &memory_reg)]),
            (1, "intc@8000000", &[
                ("compatible", b"arm,cortex-a15-gic\0"),
                ("#interrupt-cells", &three),
                ("interrupt-controller", b""),
                ("reg", &gic_reg),
                ("phandle", &gic_phandle),
            ]),
            (1, "pl011@9000000", &uart),
            (1, "cpus", &[("#address-cells", &one), ("#size-cells", &cells(&[0]))]),
        ])
    }

    #[test]
    fn console_interrupt_is_read_through_the_gic_binding_and_bad_entries_give_none() {
        let interrupt = |interrupts: &[u8], parent| {
            from_device_tree(&tree_with_console_interrupts(interrupts, parent)).unwrap().devices.console_interrupt
        };
        // The hand-built tree is read like QEMU's: SPI 1 is INTID 33, PPI 11 is 27.
        assert_eq!(interrupt(&cells(&[0, 1, 4]), Some(1)), Some(33));
        assert_eq!(interrupt(&cells(&[1, 11, 4]), Some(1)), Some(27));
        // Each of these gives no number (the kernel then uses QEMU's and warns):
        assert_eq!(interrupt(&cells(&[0, 1]), Some(1)), None, "a truncated specifier");
        assert_eq!(interrupt(&cells(&[2, 1, 4]), Some(1)), None, "an unknown interrupt type");
        assert_eq!(interrupt(&cells(&[0, u32::MAX, 4]), Some(1)), None, "a number past the INTID space");
        assert_eq!(interrupt(&cells(&[0, 1, 4]), Some(7)), None, "an interrupt-parent naming no node");
        assert_eq!(interrupt(&cells(&[0, 1, 4]), None), None, "no interrupt parent at all");
        assert_eq!(interrupt(&[], Some(1)), None, "no interrupts property");
        assert_eq!(interrupt(&[0, 0, 0], Some(1)), None, "a property shorter than one cell");
    }

    #[test]
    fn device_tree_slice_checks_magic_and_size() {
        let mut aligned = vec![0u32; RISCV.len().div_ceil(4)];
        // SAFETY: the vector has at least RISCV.len() bytes.
        unsafe { core::ptr::copy_nonoverlapping(RISCV.as_ptr(), aligned.as_mut_ptr() as *mut u8, RISCV.len()) };
        // SAFETY: the vector holds the whole blob and outlives the slice's use here.
        let slice = unsafe { device_tree_slice(aligned.as_ptr() as *const u8) }.unwrap();
        assert_eq!(slice.len(), RISCV.len());
        let zeros = [0u32; 16];
        // SAFETY: 64 readable bytes, more than the header.
        assert_eq!(unsafe { device_tree_slice(zeros.as_ptr() as *const u8) }.unwrap_err(), DiscoverError::BadMagic);
        // SAFETY: null is rejected before any read.
        assert_eq!(unsafe { device_tree_slice(core::ptr::null()) }.unwrap_err(), DiscoverError::BadPointer);
    }

    #[test]
    fn from_pvh_memmap_splits_ram_from_reserved() {
        // What QEMU q35 with -m 512M reports through PVH.
        let entries = [
            PvhMemmapEntry { addr: 0, size: 0x9fc00, kind: E820_RAM, reserved: 0 },
            PvhMemmapEntry { addr: 0x9fc00, size: 0x400, kind: 2, reserved: 0 },
            PvhMemmapEntry { addr: 0xf0000, size: 0x10000, kind: 2, reserved: 0 },
            PvhMemmapEntry { addr: 0x10_0000, size: 0x1ff0_0000, kind: E820_RAM, reserved: 0 },
            PvhMemmapEntry { addr: 0xb000_0000, size: 0x1000_0000, kind: 2, reserved: 0 },
        ];
        let map = from_pvh_memmap(&entries);
        assert_eq!(map.usable().len(), 2);
        assert_eq!(map.reserved().len(), 3);
        assert_eq!(map.total_usable_bytes(), 0x9fc00 + 0x1ff0_0000);
    }

    #[test]
    fn memory_map_counts_entries_it_cannot_hold() {
        let entries: Vec<_> = (0..20)
            .map(|i| PvhMemmapEntry { addr: i << 20, size: 1 << 20, kind: E820_RAM, reserved: 0 })
            .collect();
        let map = from_pvh_memmap(&entries);
        assert_eq!(map.usable().len(), crate::MAX_REGIONS);
        assert_eq!(map.dropped, 4);
    }
}
