//! Network devices: whole Ethernet frames in and out.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::rng::SeededRng;
use crate::DeviceError;

/// A frame-based network interface.
pub trait NetworkDevice {
    /// Largest frame `send` accepts, in bytes.
    fn mtu(&self) -> usize;

    /// Whether the link is up (cable in, peer present).
    fn is_link_up(&self) -> bool;

    /// Whether `send` would find room for a frame now. A device with a
    /// bounded transmit queue says false while it is full, so the stack
    /// keeps the frame for later instead of losing it; the default is true.
    fn can_send(&mut self) -> bool {
        true
    }

    /// Queues one frame for transmission. Success means the device took the
    /// frame, not that it arrived anywhere (a wire may lose it).
    ///
    /// Errors: `Invalid` if the frame is empty or longer than `mtu()`;
    /// `LinkDown` if the link is down; `NoSpace` if the transmit queue is
    /// full (try again later); `NoMemory` if a buffer could not be allocated;
    /// `Io` if the device failed.
    fn send(&mut self, frame: &[u8]) -> Result<(), DeviceError>;

    /// Takes the next received frame into `buffer`; returns its length, or
    /// `None` if no frame is waiting.
    ///
    /// Errors: `Invalid` if `buffer` is shorter than the waiting frame (the
    /// frame stays queued); `Io` if the device failed.
    fn receive(&mut self, buffer: &mut [u8]) -> Result<Option<usize>, DeviceError>;
}

/// Counters of a network device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetworkStats {
    /// Frames `send` accepted (including ones lost afterwards).
    pub sent_frames: u64,
    pub sent_bytes: u64,
    /// Frames accepted by `send` and then lost on purpose.
    pub lost_frames: u64,
    /// Frames handed out by `receive`.
    pub received_frames: u64,
}

/// The device used until networking lands: the link is up, every valid frame
/// is accepted and counted, nothing is ever received.
#[derive(Clone, Copy, Debug)]
pub struct NullNetworkDevice {
    mtu: usize,
    stats: NetworkStats,
}

impl NullNetworkDevice {
    /// Ethernet's payload MTU.
    pub const DEFAULT_MTU: usize = 1500;

    pub const fn new() -> Self {
        NullNetworkDevice {
            mtu: Self::DEFAULT_MTU,
            stats: NetworkStats {
                sent_frames: 0,
                sent_bytes: 0,
                lost_frames: 0,
                received_frames: 0,
            },
        }
    }

    pub fn stats(&self) -> NetworkStats {
        self.stats
    }
}

impl Default for NullNetworkDevice {
    fn default() -> Self {
        NullNetworkDevice::new()
    }
}

impl NetworkDevice for NullNetworkDevice {
    fn mtu(&self) -> usize {
        self.mtu
    }

    fn is_link_up(&self) -> bool {
        true
    }

    fn send(&mut self, frame: &[u8]) -> Result<(), DeviceError> {
        if frame.is_empty() || frame.len() > self.mtu {
            return Err(DeviceError::Invalid);
        }
        self.stats.sent_frames += 1;
        self.stats.sent_bytes += frame.len() as u64;
        Ok(())
    }

    fn receive(&mut self, _buffer: &mut [u8]) -> Result<Option<usize>, DeviceError> {
        Ok(None)
    }
}

/// A scripted network device: tests inject received frames, read back sent
/// ones, pull the link, and lose a seeded share of sent frames.
#[derive(Clone, Debug)]
pub struct MockNetworkDevice {
    mtu: usize,
    queue_capacity_frames: usize,
    is_link_up: bool,
    transmitted: VecDeque<Vec<u8>>,
    to_receive: VecDeque<Vec<u8>>,
    loss_per_mille: u16,
    loss_pattern: SeededRng,
    stats: NetworkStats,
}

impl MockNetworkDevice {
    /// A device with link up, no loss, and queues of `queue_capacity_frames`.
    pub fn new(mtu: usize, queue_capacity_frames: usize) -> Self {
        MockNetworkDevice {
            mtu,
            queue_capacity_frames,
            is_link_up: true,
            transmitted: VecDeque::new(),
            to_receive: VecDeque::new(),
            loss_per_mille: 0,
            loss_pattern: SeededRng::new(0),
            stats: NetworkStats::default(),
        }
    }

    /// Loses `per_mille`/1000 of accepted frames (values above 1000 lose all),
    /// chosen by a generator seeded with `seed` so a failing run replays.
    pub fn set_loss(&mut self, per_mille: u16, seed: u64) {
        self.loss_per_mille = per_mille.min(1000);
        self.loss_pattern = SeededRng::new(seed);
    }

    pub fn set_link_up(&mut self, is_up: bool) {
        self.is_link_up = is_up;
    }

    /// Queues a frame that a later `receive` returns.
    ///
    /// Errors: `Invalid` if empty or over the MTU; `NoSpace` if the receive
    /// queue is full; `NoMemory` if it cannot grow.
    pub fn inject_received(&mut self, frame: &[u8]) -> Result<(), DeviceError> {
        if frame.is_empty() || frame.len() > self.mtu {
            return Err(DeviceError::Invalid);
        }
        if self.to_receive.len() >= self.queue_capacity_frames {
            return Err(DeviceError::NoSpace);
        }
        let copy = copy_frame(frame)?;
        self.to_receive
            .try_reserve(1)
            .map_err(|_| DeviceError::NoMemory)?;
        self.to_receive.push_back(copy);
        Ok(())
    }

    /// The oldest frame that went out on the wire (not lost), if any.
    pub fn take_sent(&mut self) -> Option<Vec<u8>> {
        self.transmitted.pop_front()
    }

    pub fn stats(&self) -> NetworkStats {
        self.stats
    }
}

/// Copies a frame into a fallibly allocated buffer.
fn copy_frame(frame: &[u8]) -> Result<Vec<u8>, DeviceError> {
    let mut copy = Vec::new();
    copy.try_reserve_exact(frame.len())
        .map_err(|_| DeviceError::NoMemory)?;
    copy.extend_from_slice(frame);
    Ok(copy)
}

impl NetworkDevice for MockNetworkDevice {
    fn mtu(&self) -> usize {
        self.mtu
    }

    fn is_link_up(&self) -> bool {
        self.is_link_up
    }

    fn send(&mut self, frame: &[u8]) -> Result<(), DeviceError> {
        if frame.is_empty() || frame.len() > self.mtu {
            return Err(DeviceError::Invalid);
        }
        if !self.is_link_up {
            return Err(DeviceError::LinkDown);
        }
        if self.transmitted.len() >= self.queue_capacity_frames {
            return Err(DeviceError::NoSpace);
        }
        let is_lost = self.loss_pattern.below(1000) < u64::from(self.loss_per_mille);
        if is_lost {
            self.stats.lost_frames += 1;
        } else {
            let copy = copy_frame(frame)?;
            self.transmitted
                .try_reserve(1)
                .map_err(|_| DeviceError::NoMemory)?;
            self.transmitted.push_back(copy);
        }
        self.stats.sent_frames += 1;
        self.stats.sent_bytes += frame.len() as u64;
        Ok(())
    }

    fn receive(&mut self, buffer: &mut [u8]) -> Result<Option<usize>, DeviceError> {
        let Some(frame) = self.to_receive.front() else {
            return Ok(None);
        };
        if buffer.len() < frame.len() {
            return Err(DeviceError::Invalid);
        }
        let length = frame.len();
        buffer[..length].copy_from_slice(frame);
        self.to_receive.pop_front();
        self.stats.received_frames += 1;
        Ok(Some(length))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_device_counts_valid_frames_and_receives_nothing() {
        let mut device = NullNetworkDevice::new();
        device.send(&[1, 2, 3]).unwrap();
        assert_eq!(device.send(&[]), Err(DeviceError::Invalid));
        assert_eq!(device.send(&[0; 1501]), Err(DeviceError::Invalid));
        assert_eq!(device.receive(&mut [0; 64]), Ok(None));
        assert_eq!(device.stats().sent_frames, 1);
        assert_eq!(device.stats().sent_bytes, 3);
    }

    #[test]
    fn mock_delivers_frames_in_order_and_keeps_them_on_short_buffers() {
        let mut device = MockNetworkDevice::new(64, 2);
        device.inject_received(b"first").unwrap();
        device.inject_received(b"second").unwrap();
        assert_eq!(device.inject_received(b"third"), Err(DeviceError::NoSpace));
        let mut small = [0u8; 3];
        assert_eq!(device.receive(&mut small), Err(DeviceError::Invalid));
        let mut buffer = [0u8; 64];
        assert_eq!(device.receive(&mut buffer), Ok(Some(5)));
        assert_eq!(&buffer[..5], b"first");
        assert_eq!(device.receive(&mut buffer), Ok(Some(6)));
        assert_eq!(device.receive(&mut buffer), Ok(None));
        assert_eq!(device.stats().received_frames, 2);
    }

    #[test]
    fn mock_send_honours_link_mtu_and_queue() {
        let mut device = MockNetworkDevice::new(4, 1);
        assert_eq!(device.send(b"12345"), Err(DeviceError::Invalid));
        device.set_link_up(false);
        assert_eq!(device.send(b"1"), Err(DeviceError::LinkDown));
        device.set_link_up(true);
        device.send(b"1").unwrap();
        assert_eq!(device.send(b"2"), Err(DeviceError::NoSpace));
        assert_eq!(device.take_sent().as_deref(), Some(&b"1"[..]));
        device.send(b"2").unwrap();
    }

    #[test]
    fn seeded_loss_is_reproducible_and_roughly_the_asked_share() {
        let run = |seed| {
            let mut device = MockNetworkDevice::new(8, 10_000);
            device.set_loss(250, seed);
            for _ in 0..4000 {
                device.send(b"x").unwrap();
            }
            let mut delivered = 0;
            while device.take_sent().is_some() {
                delivered += 1;
            }
            assert_eq!(device.stats().lost_frames + delivered, 4000);
            device.stats().lost_frames
        };
        let lost = run(9);
        assert_eq!(lost, run(9));
        assert!((800..1200).contains(&lost), "lost {lost} of 4000 at 25%");
        let mut all_lost = MockNetworkDevice::new(8, 4);
        all_lost.set_loss(5000, 1);
        all_lost.send(b"x").unwrap();
        assert_eq!(all_lost.take_sent(), None);
    }
}
