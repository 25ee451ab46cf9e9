//! The null network device behind `net send|stats`: frames are counted and
//! dropped. It stays beside the real NIC as the chaos workload's target
//! (`sis chaos run network_fail` sends single frames through it and checks
//! its counters) and so the `network_send` point works with no NIC at all.

use sis_abi::Errno;
use sis_hal::network::{NetworkDevice, NullNetworkDevice};

use crate::metrics;
use crate::sync::{rank, IrqMutex};

static DEVICE: IrqMutex<NullNetworkDevice, { rank::NETWORK }> = IrqMutex::new(NullNetworkDevice::new());

/// Sends one frame; counts it in `sis_net_tx_*`.
pub fn send(frame: &[u8]) -> Result<(), Errno> {
    #[cfg(feature = "chaos")]
    {
        crate::chaos::check(sis_chaos::Point::PanicPoint);
        if let Some(injection) = crate::chaos::check(sis_chaos::Point::NetworkSend) {
            return Err(injection.errno().unwrap_or(Errno::ENETDOWN));
        }
    }
    DEVICE.lock().send(frame).map_err(|error| error.errno())?;
    let metrics = metrics::get();
    metrics.net_tx_packets.inc();
    metrics.net_tx_bytes.add(frame.len() as u64);
    Ok(())
}

/// The device's largest frame.
pub fn mtu() -> usize {
    DEVICE.lock().mtu()
}

/// Frames and bytes sent since boot.
pub fn stats() -> sis_hal::network::NetworkStats {
    DEVICE.lock().stats()
}
