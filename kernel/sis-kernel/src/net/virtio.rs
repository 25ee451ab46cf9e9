//! virtio-net through the `virtio-drivers` crate: the DMA/MMIO glue it needs
//! (`Hal`) and the NIC as a `sis_hal::NetworkDevice`.
//!
//! Memory is identity-mapped on every arch (RAM and the device windows), so
//! a buffer's physical address is its virtual address, and DMA buffers are
//! plain page-aligned heap allocations.

use alloc::alloc::{alloc_zeroed, dealloc};
use core::alloc::Layout;
use core::ptr::NonNull;

use sis_hal::{DeviceError, NetworkDevice};
use virtio_drivers::device::net::VirtIONet;
use virtio_drivers::transport::SomeTransport;
use virtio_drivers::{BufferDirection, Hal, PhysAddr, PAGE_SIZE};

/// Descriptors per virtqueue: 16 receive buffers in flight is plenty for
/// TCG speeds, and each costs one 2 KiB buffer.
const QUEUE_SIZE: usize = 16;
/// Receive buffer: one Ethernet frame (1514 bytes) plus the virtio-net header.
const RECEIVE_BUFFER_BYTES: usize = 2048;
/// Largest frame we send or accept: Ethernet without VLAN tag or FCS.
pub const FRAME_BYTES: usize = 1514;

pub struct KernelHal;

// SAFETY: dma_alloc returns zeroed, page-aligned heap memory that nothing
// else uses until dma_dealloc; physical equals virtual (identity map), so the
// addresses handed to the device are the memory the driver reads.
unsafe impl Hal for KernelHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let Ok(layout) = Layout::from_size_align(pages * PAGE_SIZE, PAGE_SIZE) else {
            return (0, NonNull::dangling());
        };
        // SAFETY: the layout has a non-zero size (virtio-drivers asks for at
        // least one page).
        let pointer = unsafe { alloc_zeroed(layout) };
        match NonNull::new(pointer) {
            Some(pointer) => (pointer.as_ptr() as PhysAddr, pointer),
            // virtio-drivers turns a zero physical address into DmaError.
            None => (0, NonNull::dangling()),
        }
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        let Ok(layout) = Layout::from_size_align(pages * PAGE_SIZE, PAGE_SIZE) else { return -1 };
        // SAFETY: vaddr came from dma_alloc with this very layout (same page
        // count, per the trait's contract).
        unsafe { dealloc(vaddr.as_ptr(), layout) };
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, _size: usize) -> NonNull<u8> {
        // Identity map: device windows are mapped at their physical address.
        NonNull::new(paddr as usize as *mut u8).unwrap_or(NonNull::dangling())
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        // Identity-mapped and cache-coherent for QEMU's devices: no bounce
        // buffer, no cache maintenance.
        buffer.as_ptr() as *mut u8 as usize as PhysAddr
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}

/// A virtio-net device, ready to move frames.
pub struct VirtioNic {
    device: VirtIONet<KernelHal, SomeTransport<'static>, QUEUE_SIZE>,
}

// SAFETY: the device's MMIO pointers are only used through `&mut self`, and
// the NIC lives behind the network stack's mutex.
unsafe impl Send for VirtioNic {}

impl VirtioNic {
    /// Initialises the device behind `transport` (virtio 1.2, 3.1).
    pub fn new(transport: SomeTransport<'static>) -> Result<Self, virtio_drivers::Error> {
        Ok(VirtioNic { device: VirtIONet::new(transport, RECEIVE_BUFFER_BYTES)? })
    }

    pub fn mac(&self) -> [u8; 6] {
        self.device.mac_address()
    }
}

impl NetworkDevice for VirtioNic {
    fn mtu(&self) -> usize {
        FRAME_BYTES
    }

    fn is_link_up(&self) -> bool {
        // QEMU's user network has no cable to pull; the device offers no
        // status feature we negotiate.
        true
    }

    fn send(&mut self, frame: &[u8]) -> Result<(), DeviceError> {
        if frame.is_empty() || frame.len() > FRAME_BYTES {
            return Err(DeviceError::Invalid);
        }
        if !self.device.can_send() {
            return Err(DeviceError::NoSpace);
        }
        let mut buffer = self.device.new_tx_buffer(frame.len());
        buffer.packet_mut().copy_from_slice(frame);
        self.device.send(buffer).map_err(|_| DeviceError::Io)
    }

    fn receive(&mut self, buffer: &mut [u8]) -> Result<Option<usize>, DeviceError> {
        let received = match self.device.receive() {
            Ok(received) => received,
            Err(virtio_drivers::Error::NotReady) => return Ok(None),
            Err(_) => return Err(DeviceError::Io),
        };
        let packet = received.packet();
        let length = packet.len();
        let fits = length <= buffer.len();
        if fits {
            buffer[..length].copy_from_slice(packet);
        }
        // The buffer goes back to the device either way; an oversized frame
        // (never sent by QEMU) is dropped rather than left to block the queue.
        self.device.recycle_rx_buffer(received).map_err(|_| DeviceError::Io)?;
        if fits { Ok(Some(length)) } else { Err(DeviceError::Invalid) }
    }
}
