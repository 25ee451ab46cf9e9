//! PCI decoding switched on before the secondaries start: memory space and
//! bus mastering for every virtio function the drivers may use.
//!
//! Why here and not in the driver: turning on a function's memory decoding
//! or bus mastering changes QEMU's memory map, and QEMU 7.2 under MTTCG
//! races that change against another vCPU's MMIO (here a secondary writing
//! its local APIC timer in its idle loop): QEMU itself crashes with SIGSEGV
//! in `memory_region_dispatch_write` (seen under host load as "the kernel
//! ended the machine without a panic marker"; docs/boot-x86_64.md). Done
//! while the boot CPU runs alone, the map is final before any other vCPU
//! runs; the driver's own `set_command` later writes the same bits, which
//! QEMU treats as no change.

use virtio_drivers::transport::pci::bus::{Cam, Command, MmioCam, PciRoot};
use virtio_drivers::transport::pci::virtio_device_type;

use crate::arch::PciEcam;

/// Buses the drivers search (net/discover.rs: the first two).
const BUSES_SEARCHED: u8 = 2;

pub fn enable_virtio_functions(ecam: PciEcam) {
    // SAFETY: the ECAM window comes from the checksummed MCFG and lies inside
    // the identity map (acpi.rs checks); only the boot CPU runs, and the
    // drivers make their own root later.
    let mut root = PciRoot::new(unsafe { MmioCam::new(ecam.base as usize as *mut u8, Cam::Ecam) });
    let last = ecam.end_bus.min(ecam.start_bus.saturating_add(BUSES_SEARCHED - 1));
    for bus in ecam.start_bus..=last {
        // The iterator owns its own view of the window, so `root` is free
        // for the writes meanwhile.
        for (function, info) in root.enumerate_bus(bus) {
            if virtio_device_type(&info).is_some() {
                root.set_command(function, Command::MEMORY_SPACE | Command::BUS_MASTER);
            }
        }
    }
}
