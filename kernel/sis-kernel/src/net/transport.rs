//! A virtio transport that never offers `VIRTIO_F_EVENT_IDX`, for the NIC and
//! the entropy device.
//!
//! With that feature negotiated, virtio-drivers 0.13 decides whether to
//! notify the device by `avail_idx >= avail_event + 1` (`VirtQueue::
//! should_notify`), which is false once `avail_idx` has wrapped past 65,535
//! while the device's `avail_event` has not: a device that lags behind the
//! driver at that moment (QEMU's virtio-pci, whose notifications its I/O
//! thread handles later) would wait for a notification that never comes.
//! Without the feature, suppression falls back to the rings' flags, which
//! have no such arithmetic. It is also faster here: 10 MB echo transfers
//! ran at 40-58 MB/s on every arch against 22-53 with the feature (a hand
//! probe, 12 transfers per boot, two to seven boots per arch, 2026-12-05;
//! `bench/net.ts` reads one transfer per boot).

use virtio_drivers::transport::{DeviceStatus, DeviceType, InterruptStatus, Transport};
use virtio_drivers::PhysAddr;
use zerocopy::{FromBytes, Immutable, IntoBytes};

/// `VIRTIO_F_EVENT_IDX` (virtio 1.2, 6: reserved feature bits).
const EVENT_IDX: u64 = 1 << 29;

/// `T` with `VIRTIO_F_EVENT_IDX` removed from the device's offered features.
pub struct WithoutEventIdx<T>(pub T);

impl<T: Transport> Transport for WithoutEventIdx<T> {
    fn device_type(&self) -> DeviceType {
        self.0.device_type()
    }

    fn read_device_features(&mut self) -> u64 {
        self.0.read_device_features() & !EVENT_IDX
    }

    fn write_driver_features(&mut self, driver_features: u64) {
        self.0.write_driver_features(driver_features & !EVENT_IDX)
    }

    fn max_queue_size(&mut self, queue: u16) -> u32 {
        self.0.max_queue_size(queue)
    }

    fn notify(&mut self, queue: u16) {
        self.0.notify(queue)
    }

    fn get_status(&self) -> DeviceStatus {
        self.0.get_status()
    }

    fn set_status(&mut self, status: DeviceStatus) {
        self.0.set_status(status)
    }

    fn set_guest_page_size(&mut self, guest_page_size: u32) {
        self.0.set_guest_page_size(guest_page_size)
    }

    fn requires_legacy_layout(&self) -> bool {
        self.0.requires_legacy_layout()
    }

    fn queue_set(&mut self, queue: u16, size: u32, descriptors: PhysAddr, driver_area: PhysAddr, device_area: PhysAddr) {
        self.0.queue_set(queue, size, descriptors, driver_area, device_area)
    }

    fn queue_unset(&mut self, queue: u16) {
        self.0.queue_unset(queue)
    }

    fn queue_used(&mut self, queue: u16) -> bool {
        self.0.queue_used(queue)
    }

    fn ack_interrupt(&mut self) -> InterruptStatus {
        self.0.ack_interrupt()
    }

    fn read_config_generation(&self) -> u32 {
        self.0.read_config_generation()
    }

    fn read_config_space<V: FromBytes + IntoBytes>(&self, offset: usize) -> virtio_drivers::Result<V> {
        self.0.read_config_space(offset)
    }

    fn write_config_space<V: IntoBytes + Immutable>(&mut self, offset: usize, value: V) -> virtio_drivers::Result<()> {
        self.0.write_config_space(offset, value)
    }
}
