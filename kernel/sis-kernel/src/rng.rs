//! The kernel's entropy source: a virtio-rng device (virtio-drivers'
//! `VirtIORng`), found like the NIC, as a `sis_hal::Rng`.
//!
//! None of the CPU models the QEMU profiles use has a random-number
//! instruction (cortex-a72 lacks FEAT_RNG, qemu64 lacks RDRAND, riscv64
//! virt has no Zkr), so the device is the only real source; a machine
//! without one (the default QEMU argv) boots with `rng: no device` logged,
//! `random` answers ENODEV, and the network stack seeds itself from the
//! clock and its MAC as before (docs/kernel-devices.md).

use sis_hal::{DeviceError, Rng};
use virtio_drivers::device::rng::VirtIORng;
use virtio_drivers::transport::{DeviceType, SomeTransport};

use crate::arch::DeviceWindows;
use crate::net::discover::{find_device, Found, Location};
use crate::net::transport::WithoutEventIdx;
use crate::net::virtio::KernelHal;
use crate::sync::{rank, IrqMutex};

/// How many empty answers in a row count as a failed device.
const MAX_EMPTY_REQUESTS: u32 = 16;

/// A virtio entropy device.
pub struct VirtioRng {
    device: VirtIORng<KernelHal, WithoutEventIdx<SomeTransport<'static>>>,
}

impl Rng for VirtioRng {
    fn fill_bytes(&mut self, buffer: &mut [u8]) -> Result<(), DeviceError> {
        let mut filled = 0;
        let mut empty_answers = 0;
        while filled < buffer.len() {
            let got = self.device.request_entropy(&mut buffer[filled..]).map_err(|_| DeviceError::Io)?;
            if got == 0 {
                empty_answers += 1;
                if empty_answers == MAX_EMPTY_REQUESTS {
                    return Err(DeviceError::Io);
                }
            }
            filled += got.min(buffer.len() - filled);
        }
        Ok(())
    }
}

/// The device, once found. Its lock is innermost but for the console: a
/// request is filled into the caller's buffer and allocates nothing.
static DEVICE: IrqMutex<Option<VirtioRng>, { rank::RNG }> = IrqMutex::new(None);

/// Looks for a virtio-rng device and keeps it.
pub fn init(windows: &DeviceWindows) {
    let Some(Found { transport, location, .. }) = find_device(windows, DeviceType::EntropySource) else {
        log_event!("rng", "no device", Info);
        return;
    };
    match VirtIORng::<KernelHal, _>::new(WithoutEventIdx(transport)) {
        Ok(device) => {
            *DEVICE.lock() = Some(VirtioRng { device });
            let at = match location {
                Location::Mmio(address) => alloc::format!("mmio {address:#x}"),
                Location::Pci { bus, device, function } => alloc::format!("pci {bus:02x}:{device:02x}.{function}"),
            };
            log_event!("rng", "device up", Info, driver = "virtio-rng", at = at.as_str());
        }
        Err(error) => {
            let reason = alloc::format!("{error:?}");
            log_event!("rng", "virtio-rng init failed", Error, error = reason.as_str());
        }
    }
}

/// Fills `buffer` from the device. Errors: `None` without a device, else
/// the device's error.
pub fn fill(buffer: &mut [u8]) -> Option<Result<(), DeviceError>> {
    DEVICE.lock().as_mut().map(|device| device.fill_bytes(buffer))
}
