//! Finding virtio devices (the NIC, the entropy source): the virtio-mmio slots of the device tree
//! (aarch64, riscv64 virt) or PCI bus 0 through the ECAM window of ACPI's
//! MCFG (x86_64 q35). Firmware (SeaBIOS) has assigned the PCI BARs already.

use core::ptr::NonNull;

use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
use virtio_drivers::transport::pci::bus::{Cam, Command, MmioCam, PciRoot};
use virtio_drivers::transport::pci::{virtio_device_type, PciTransport};
use virtio_drivers::transport::{DeviceType, SomeTransport, Transport};

use super::virtio::KernelHal;
use crate::arch::DeviceWindows;

/// Where the NIC was found, for `ifconfig`.
#[derive(Clone, Copy, Debug)]
pub enum Location {
    Mmio(usize),
    Pci { bus: u8, device: u8, function: u8 },
}

/// The first virtio-net device in the windows, with its transport.
pub fn find_network_device(windows: &DeviceWindows) -> Option<(SomeTransport<'static>, Location)> {
    find_device(windows, DeviceType::Network)
}

/// The first virtio device of `kind` in the windows, with its transport.
pub fn find_device(windows: &DeviceWindows, kind: DeviceType) -> Option<(SomeTransport<'static>, Location)> {
    for region in windows.virtio_mmio() {
        let Some(header) = NonNull::new(region.start as *mut VirtIOHeader) else { continue };
        // SAFETY: the region is a virtio-mmio slot from the device tree,
        // identity-mapped as device memory, used by nothing else; a slot
        // with no device behind it reads device id 0 and is refused here.
        let Ok(transport) = (unsafe { MmioTransport::new(header, region.size) }) else { continue };
        if transport.device_type() == kind {
            return Some((SomeTransport::Mmio(transport), Location::Mmio(region.start)));
        }
        // Dropping an MmioTransport resets its device (virtio-drivers' Drop
        // writes status 0): a device another driver already set up (the
        // entropy source, found first) would stop answering. Nothing is
        // owned by the transport, so forgetting it leaks nothing.
        core::mem::forget(transport);
    }
    let ecam = windows.pci_ecam?;
    // SAFETY: the ECAM window comes from the checksummed MCFG, lies inside the
    // identity map (acpi.rs checks) and is only accessed through this root.
    let mut root = PciRoot::new(unsafe { MmioCam::new(ecam.base as usize as *mut u8, Cam::Ecam) });
    for bus in ecam.start_bus..=ecam.end_bus.min(ecam.start_bus.saturating_add(1)) {
        let found = root
            .enumerate_bus(bus)
            .find(|(_, info)| virtio_device_type(info) == Some(kind))
            .map(|(function, _)| function);
        let Some(function) = found else { continue };
        root.set_command(function, Command::MEMORY_SPACE | Command::BUS_MASTER);
        let location = Location::Pci { bus: function.bus, device: function.device, function: function.function };
        if let Ok(transport) = PciTransport::new::<KernelHal, _>(&mut root, function) {
            return Some((SomeTransport::Pci(transport), location));
        }
    }
    None
}
