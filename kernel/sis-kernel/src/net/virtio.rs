//! virtio-net through the `virtio-drivers` crate: the DMA/MMIO glue it needs
//! (`Hal`) and the NIC as a `sis_hal::NetworkDevice`.
//!
//! Memory is identity-mapped on every arch (RAM and the device windows), so
//! a buffer's physical address is its virtual address, and DMA buffers are
//! plain page-aligned heap allocations.

use alloc::alloc::{alloc_zeroed, dealloc};
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::alloc::Layout;
use core::ptr::NonNull;

use sis_hal::{DeviceError, NetworkDevice};
use virtio_drivers::device::net::VirtIONetRaw;
use virtio_drivers::transport::SomeTransport;

use super::transport::WithoutEventIdx;
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

/// A virtio-net device, ready to move frames. Transmission does not wait
/// for the device: a frame is queued with its own buffer and the buffer is
/// reclaimed once the device has used it, so a burst of TCP segments goes
/// out in one notification instead of one round trip to QEMU per frame.
pub struct VirtioNic {
    device: VirtIONetRaw<KernelHal, WithoutEventIdx<SomeTransport<'static>>, QUEUE_SIZE>,
    /// Receive buffers lent to the device, by descriptor token.
    receiving: [Option<Box<[u8]>>; QUEUE_SIZE],
    /// Transmit buffers in flight (by token, with the length handed over) and free ones.
    transmitting: [Option<(Box<[u8]>, usize)>; QUEUE_SIZE],
    free_transmit: Vec<Box<[u8]>>,
}

// SAFETY: the device's MMIO pointers are only used through `&mut self`, and
// the NIC lives behind the network stack's mutex.
unsafe impl Send for VirtioNic {}

impl VirtioNic {
    /// Initialises the device behind `transport` (virtio 1.2, 3.1) and lends
    /// it a receive buffer per descriptor.
    pub fn new(transport: SomeTransport<'static>) -> Result<Self, virtio_drivers::Error> {
        let mut nic = VirtioNic {
            device: VirtIONetRaw::new(WithoutEventIdx(transport))?,
            receiving: [const { None }; QUEUE_SIZE],
            transmitting: [const { None }; QUEUE_SIZE],
            free_transmit: (0..QUEUE_SIZE).map(|_| vec![0u8; RECEIVE_BUFFER_BYTES].into_boxed_slice()).collect(),
        };
        for _ in 0..QUEUE_SIZE {
            nic.lend_receive_buffer(vec![0u8; RECEIVE_BUFFER_BYTES].into_boxed_slice())?;
        }
        Ok(nic)
    }

    /// Clears the device's interrupt status (virtio 1.2, 4.1.4.5 and
    /// 4.2.2: reading the ISR, or writing InterruptACK), which lowers its
    /// interrupt line; the frames it announced are taken by the next poll.
    pub fn acknowledge_interrupt(&mut self) {
        self.device.ack_interrupt();
    }

    pub fn mac(&self) -> [u8; 6] {
        self.device.mac_address()
    }

    fn lend_receive_buffer(&mut self, mut buffer: Box<[u8]>) -> Result<(), virtio_drivers::Error> {
        // SAFETY: the buffer is kept in `receiving` untouched until the device
        // returns its token (receive_complete), and never freed before.
        let token = unsafe { self.device.receive_begin(&mut buffer)? };
        let slot = self.receiving.get_mut(usize::from(token)).ok_or(virtio_drivers::Error::WrongToken)?;
        *slot = Some(buffer);
        Ok(())
    }

    /// Takes back every transmit buffer the device has finished with.
    fn reclaim_transmitted(&mut self) {
        while let Some(token) = self.device.poll_transmit() {
            let Some((buffer, length)) = self.transmitting.get_mut(usize::from(token)).and_then(Option::take) else {
                return;
            };
            // SAFETY: the same buffer and length as handed to transmit_begin for this token.
            let _ = unsafe { self.device.transmit_complete(token, &buffer[..length]) };
            self.free_transmit.push(buffer);
        }
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

    fn can_send(&mut self) -> bool {
        self.reclaim_transmitted();
        !self.free_transmit.is_empty() && self.device.can_send()
    }

    fn send(&mut self, frame: &[u8]) -> Result<(), DeviceError> {
        if frame.is_empty() || frame.len() > FRAME_BYTES {
            return Err(DeviceError::Invalid);
        }
        self.reclaim_transmitted();
        let Some(mut buffer) = self.free_transmit.pop() else { return Err(DeviceError::NoSpace) };
        let header = match self.device.fill_buffer_header(&mut buffer) {
            Ok(header) => header,
            Err(_) => {
                self.free_transmit.push(buffer);
                return Err(DeviceError::Io);
            }
        };
        let length = header + frame.len();
        buffer[header..length].copy_from_slice(frame);
        // SAFETY: the buffer moves into `transmitting` and is not touched until
        // poll_transmit returns its token.
        match unsafe { self.device.transmit_begin(&buffer[..length]) } {
            Ok(token) => match self.transmitting.get_mut(usize::from(token)) {
                Some(slot) => {
                    *slot = Some((buffer, length));
                    Ok(())
                }
                None => {
                    // A token beyond the queue cannot happen; leak rather than
                    // free memory the device may still read.
                    core::mem::forget(buffer);
                    Err(DeviceError::Io)
                }
            },
            Err(virtio_drivers::Error::QueueFull) => {
                self.free_transmit.push(buffer);
                Err(DeviceError::NoSpace)
            }
            Err(_) => {
                self.free_transmit.push(buffer);
                Err(DeviceError::Io)
            }
        }
    }

    fn receive(&mut self, buffer: &mut [u8]) -> Result<Option<usize>, DeviceError> {
        let Some(token) = self.device.poll_receive() else { return Ok(None) };
        let Some(mut received) = self.receiving.get_mut(usize::from(token)).and_then(Option::take) else {
            return Err(DeviceError::Io);
        };
        // SAFETY: the same buffer receive_begin lent for this token.
        let completed = unsafe { self.device.receive_complete(token, &mut received) };
        let result = match completed {
            Ok((header, length)) if length <= buffer.len() && header + length <= received.len() => {
                buffer[..length].copy_from_slice(&received[header..header + length]);
                Ok(Some(length))
            }
            // An oversized frame (QEMU never sends one) is dropped.
            Ok(_) => Err(DeviceError::Invalid),
            Err(_) => Err(DeviceError::Io),
        };
        // The buffer goes straight back to the device either way.
        self.lend_receive_buffer(received).map_err(|_| DeviceError::Io)?;
        result
    }
}
