//! Finding virtio devices (the NIC, the entropy source): the virtio-mmio slots of the device tree
//! (aarch64, riscv64 virt) or PCI bus 0 through the ECAM window of ACPI's
//! MCFG (x86_64 q35). Firmware (SeaBIOS) has assigned the PCI BARs already.

use core::ptr::NonNull;

use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
use virtio_drivers::transport::pci::bus::{Cam, Command, ConfigurationAccess, DeviceFunction, MmioCam, PciRoot};
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

/// A virtio device found in the windows.
pub struct Found {
    pub transport: SomeTransport<'static>,
    pub location: Location,
    /// Its interrupt line as the arch's interrupt controller numbers it
    /// (`arch::route_device_interrupt`): the device tree's for a
    /// virtio-mmio slot, the line the firmware assigned for a PCI function
    /// (Interrupt Line register, when it has an INTx pin).
    pub interrupt: Option<u32>,
}

/// The first virtio-net device in the windows.
pub fn find_network_device(windows: &DeviceWindows) -> Option<Found> {
    find_device(windows, DeviceType::Network)
}

/// The first virtio device of `kind` in the windows.
pub fn find_device(windows: &DeviceWindows, kind: DeviceType) -> Option<Found> {
    for (region, interrupt) in windows.virtio_mmio() {
        let Some(header) = NonNull::new(region.start as *mut VirtIOHeader) else { continue };
        // SAFETY: the region is a virtio-mmio slot from the device tree,
        // identity-mapped as device memory, used by nothing else; a slot
        // with no device behind it reads device id 0 and is refused here.
        let Ok(transport) = (unsafe { MmioTransport::new(header, region.size) }) else { continue };
        if transport.device_type() == kind {
            return Some(Found { transport: SomeTransport::Mmio(transport), location: Location::Mmio(region.start), interrupt });
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
    let cam = unsafe { MmioCam::new(ecam.base as usize as *mut u8, Cam::Ecam) };
    // SAFETY: this second view only reads the interrupt line and pin, which
    // nothing here writes.
    let reader = unsafe { cam.unsafe_clone() };
    let mut root = PciRoot::new(cam);
    for bus in ecam.start_bus..=ecam.end_bus.min(ecam.start_bus.saturating_add(1)) {
        let found = root
            .enumerate_bus(bus)
            .find(|(_, info)| virtio_device_type(info) == Some(kind))
            .map(|(function, _)| function);
        let Some(function) = found else { continue };
        root.set_command(function, Command::MEMORY_SPACE | Command::BUS_MASTER);
        let location = Location::Pci { bus: function.bus, device: function.device, function: function.function };
        if let Ok(transport) = PciTransport::new::<KernelHal, _>(&mut root, function) {
            let interrupt = pci_interrupt_line(&reader, function);
            return Some(Found { transport: SomeTransport::Pci(transport), location, interrupt });
        }
    }
    None
}

/// The ISA IRQ the firmware routed the function's INTx pin to: the
/// Interrupt Line register (PCI Local Bus 3.0, 6.2.4), read only when the
/// Interrupt Pin register says the function has a pin. 0xFF means
/// "unknown or not connected" (x86 PC convention); 16 and up is no ISA IRQ.
fn pci_interrupt_line(config: &impl ConfigurationAccess, function: DeviceFunction) -> Option<u32> {
    let word = config.read_word(function, 0x3C);
    let (line, pin) = (word & 0xFF, (word >> 8) & 0xFF);
    (pin != 0 && line < 16).then_some(line)
}
