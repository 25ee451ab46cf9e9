//! The link layer between a `sis_hal::NetworkDevice` and smoltcp: frames in
//! and out, counted, and dropped on purpose where fault injection asks.
//!
//! Drops happen here, at the driver boundary, on both directions, so the
//! stack above sees exactly what a lossy wire would give it and TCP has to
//! retransmit (docs/NETWORK.md).

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

/// A network device as smoltcp's `phy::Device`.
pub struct Link<D: NetworkDevice> {
    device: D,
    counters: LinkCounters,
    receive_buffer: Vec<u8>,
    transmit_buffer: Vec<u8>,
    drop_policy: DropPolicy,
}

impl<D: NetworkDevice> Link<D> {
    pub fn new(device: D) -> Self {
        let mtu = device.mtu();
        Link { device, counters: LinkCounters::default(), receive_buffer: vec![0; mtu], transmit_buffer: vec![0; mtu], drop_policy: never_drop }
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
    buffer: &'a mut [u8],
    drop_policy: DropPolicy,
}

impl phy::RxToken for ReceiveToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
}

impl<D: NetworkDevice> phy::TxToken for TransmitToken<'_, D> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, length: usize, f: F) -> R {
        // smoltcp never asks for more than the MTU it was given; clamp anyway
        // rather than index out of bounds.
        let length = length.min(self.buffer.len());
        let frame = &mut self.buffer[..length];
        let result = f(frame);
        if (self.drop_policy)(Direction::Transmit) {
            self.counters.tx_dropped += 1;
        } else {
            match self.device.send(frame) {
                Ok(()) => {
                    self.counters.tx_packets += 1;
                    self.counters.tx_bytes += length as u64;
                }
                Err(_) => self.counters.tx_errors += 1,
            }
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
        let Link { device, counters, receive_buffer, transmit_buffer, drop_policy } = self;
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
                    // pure ACK); with the queue full the answer is lost and
                    // counted as a transmit error, as on a real wire.
                    let transmit =
                        TransmitToken { device, counters, buffer: transmit_buffer, drop_policy: *drop_policy };
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
        let Link { device, counters, transmit_buffer, drop_policy, .. } = self;
        if !device.can_send() {
            return None;
        }
        Some(TransmitToken { device, counters, buffer: transmit_buffer, drop_policy: *drop_policy })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut capabilities = DeviceCapabilities::default();
        capabilities.medium = Medium::Ethernet;
        // For Ethernet smoltcp's MTU counts the 14-byte header: the whole frame.
        capabilities.max_transmission_unit = self.device.mtu();
        capabilities
    }
}
