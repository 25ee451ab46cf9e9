//! The link layer between a `sis_hal::NetworkDevice` and smoltcp: frames in
//! and out, counted, and dropped on purpose where fault injection asks.
//!
//! Drops happen here, at the driver boundary, on both directions, so the
//! stack above sees exactly what a lossy wire would give it and TCP has to
//! retransmit (docs/NETWORK.md).
//!
//! Frames smoltcp sends go through a short backlog in front of the device's
//! queue. smoltcp decides what to send before it asks the device for room,
//! and a fast retransmission decided while the device is full is forgotten
//! (its flag is cleared before the send fails), leaving the loss to a
//! retransmission timeout of a second or more. The stack therefore only
//! lets smoltcp send while the backlog has room for one frame per socket
//! ([`Link::transmit_room`]), and the backlog drains into the device as its
//! queue frees up.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

use sis_hal::NetworkDevice;
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

/// Which way a frame is going.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Receive,
    Transmit,
}

/// Asked once per frame: `true` drops it (fault injection). The kernel
/// passes its chaos check; host tests pass a seeded generator.
pub type DropPolicy = fn(Direction) -> bool;

fn never_drop(_: Direction) -> bool {
    false
}

/// Frame counters of the interface, as `netstat` and the metrics show them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkCounters {
    pub rx_packets: u64,
    pub rx_bytes: u64,
    /// Frames the device failed to hand over.
    pub rx_errors: u64,
    /// Frames received and then dropped on purpose.
    pub rx_dropped: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
    /// Frames the device refused (queue full, device error).
    pub tx_errors: u64,
    /// Frames dropped on purpose instead of being sent.
    pub tx_dropped: u64,
}

/// Frames the backlog holds at most (about 95 KiB of buffers at full size).
pub const TRANSMIT_BACKLOG_FRAMES: usize = 64;

/// Frames waiting for room in the device's transmit queue, oldest first,
/// and the buffers of frames already sent, kept for reuse.
struct Backlog {
    frames: VecDeque<Vec<u8>>,
    spare: Vec<Vec<u8>>,
}

impl Backlog {
    fn buffer(&mut self, length: usize) -> Vec<u8> {
        let mut buffer = self.spare.pop().unwrap_or_default();
        buffer.clear();
        buffer.resize(length, 0);
        buffer
    }

    /// Hands waiting frames to the device while it has room.
    fn drain<D: NetworkDevice>(&mut self, device: &mut D, counters: &mut LinkCounters) {
        while let Some(frame) = self.frames.front() {
            if !device.can_send() {
                return;
            }
            match device.send(frame) {
                Ok(()) => {
                    counters.tx_packets += 1;
                    counters.tx_bytes += frame.len() as u64;
                }
                // Full after all: keep the frame for the next drain.
                Err(sis_hal::DeviceError::NoSpace) => return,
                Err(_) => counters.tx_errors += 1,
            }
            if let Some(sent) = self.frames.pop_front() {
                self.spare.push(sent);
            }
        }
    }
}

/// A network device as smoltcp's `phy::Device`.
pub struct Link<D: NetworkDevice> {
    device: D,
    counters: LinkCounters,
    receive_buffer: Vec<u8>,
    backlog: Backlog,
    drop_policy: DropPolicy,
}

impl<D: NetworkDevice> Link<D> {
    pub fn new(device: D) -> Self {
        let mtu = device.mtu();
        let backlog = Backlog {
            frames: VecDeque::with_capacity(TRANSMIT_BACKLOG_FRAMES),
            spare: Vec::with_capacity(TRANSMIT_BACKLOG_FRAMES),
        };
        Link { device, counters: LinkCounters::default(), receive_buffer: vec![0; mtu], backlog, drop_policy: never_drop }
    }

    /// Frames smoltcp may still send before the backlog is full.
    pub fn transmit_room(&self) -> usize {
        TRANSMIT_BACKLOG_FRAMES.saturating_sub(self.backlog.frames.len())
    }

    /// Moves waiting frames into the device as far as its queue allows.
    pub fn drain(&mut self) {
        self.backlog.drain(&mut self.device, &mut self.counters);
    }

    pub fn set_drop_policy(&mut self, policy: Option<DropPolicy>) {
        self.drop_policy = policy.unwrap_or(never_drop);
    }

    pub fn counters(&self) -> LinkCounters {
        self.counters
    }

    pub fn device(&self) -> &D {
        &self.device
    }

    pub fn device_mut(&mut self) -> &mut D {
        &mut self.device
    }
}

pub struct ReceiveToken<'a> {
    frame: &'a [u8],
}

pub struct TransmitToken<'a, D: NetworkDevice> {
    device: &'a mut D,
    counters: &'a mut LinkCounters,
    backlog: &'a mut Backlog,
    mtu: usize,
    drop_policy: DropPolicy,
}

impl phy::RxToken for ReceiveToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
}

impl<D: NetworkDevice> phy::TxToken for TransmitToken<'_, D> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, length: usize, f: F) -> R {
        // smoltcp never asks for more than the MTU it was given; clamp anyway.
        let mut frame = self.backlog.buffer(length.min(self.mtu));
        let result = f(&mut frame);
        if (self.drop_policy)(Direction::Transmit) {
            self.counters.tx_dropped += 1;
            self.backlog.spare.push(frame);
        } else if self.backlog.frames.len() < TRANSMIT_BACKLOG_FRAMES {
            self.backlog.frames.push_back(frame);
            self.backlog.drain(self.device, self.counters);
        } else {
            // Only an answer to a received frame can find the backlog full
            // (the stack stops sending before): lost, as on a congested wire.
            self.counters.tx_errors += 1;
            self.backlog.spare.push(frame);
        }
        result
    }
}

impl<D: NetworkDevice> phy::Device for Link<D> {
    type RxToken<'a>
        = ReceiveToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = TransmitToken<'a, D>
    where
        Self: 'a;

    fn receive(&mut self, _timestamp: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let mtu = self.device.mtu();
        let Link { device, counters, receive_buffer, backlog, drop_policy } = self;
        loop {
            match device.receive(receive_buffer) {
                Ok(Some(length)) => {
                    if drop_policy(Direction::Receive) {
                        counters.rx_dropped += 1;
                        continue;
                    }
                    counters.rx_packets += 1;
                    counters.rx_bytes += length as u64;
                    // smoltcp may answer a received frame at once (ARP, a
                    // pure ACK): the answer joins the backlog.
                    let transmit = TransmitToken { device, counters, backlog, mtu, drop_policy: *drop_policy };
                    return Some((ReceiveToken { frame: &receive_buffer[..length] }, transmit));
                }
                Ok(None) => return None,
                Err(_) => {
                    counters.rx_errors += 1;
                    return None;
                }
            }
        }
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<Self::TxToken<'_>> {
        let mtu = self.device.mtu();
        let Link { device, counters, backlog, drop_policy, .. } = self;
        backlog.drain(device, counters);
        if backlog.frames.len() >= TRANSMIT_BACKLOG_FRAMES {
            return None;
        }
        Some(TransmitToken { device, counters, backlog, mtu, drop_policy: *drop_policy })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut capabilities = DeviceCapabilities::default();
        capabilities.medium = Medium::Ethernet;
        // For Ethernet smoltcp's MTU counts the 14-byte header: the whole frame.
        capabilities.max_transmission_unit = self.device.mtu();
        capabilities
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sis_hal::MockNetworkDevice;
    use smoltcp::phy::{Device, TxToken};

    fn send(link: &mut Link<MockNetworkDevice>, byte: u8) -> bool {
        let Some(token) = link.transmit(Instant::ZERO) else {
            return false;
        };
        token.consume(60, |frame| frame.fill(byte));
        true
    }

    #[test]
    fn frames_the_full_device_refused_wait_in_the_backlog_and_leave_in_order() {
        let mut link = Link::new(MockNetworkDevice::new(1514, 2));
        for byte in 1..=5 {
            assert!(
                send(&mut link, byte),
                "a token while the backlog has room, whatever the device"
            );
        }
        assert_eq!(link.counters().tx_packets, 2);
        assert_eq!(link.transmit_room(), TRANSMIT_BACKLOG_FRAMES - 3);
        let mut seen = Vec::new();
        while seen.len() < 5 {
            while let Some(frame) = link.device_mut().take_sent() {
                seen.push(frame[0]);
            }
            link.drain();
        }
        assert_eq!(seen, [1, 2, 3, 4, 5]);
        assert_eq!(link.counters().tx_packets, 5);
        assert_eq!(link.counters().tx_errors, 0);
        assert_eq!(link.transmit_room(), TRANSMIT_BACKLOG_FRAMES);
    }

    #[test]
    fn smoltcp_gets_no_token_only_once_the_backlog_is_full() {
        let mut link = Link::new(MockNetworkDevice::new(1514, 1));
        for byte in 0..=TRANSMIT_BACKLOG_FRAMES {
            assert!(send(&mut link, byte as u8));
        }
        assert_eq!(link.transmit_room(), 0);
        assert!(!send(&mut link, 0xff));
        assert_eq!(link.device_mut().take_sent().map(|frame| frame[0]), Some(0));
        assert!(
            send(&mut link, 0xfe),
            "room again once the device took a frame"
        );
    }

    #[test]
    fn a_dropped_frame_is_counted_and_never_queued() {
        let mut link = Link::new(MockNetworkDevice::new(1514, 8));
        link.set_drop_policy(Some(|direction| direction == Direction::Transmit));
        assert!(send(&mut link, 7));
        assert_eq!(link.counters().tx_dropped, 1);
        assert_eq!(link.counters().tx_packets, 0);
        assert_eq!(link.transmit_room(), TRANSMIT_BACKLOG_FRAMES);
        assert!(link.device_mut().take_sent().is_none());
    }
}
