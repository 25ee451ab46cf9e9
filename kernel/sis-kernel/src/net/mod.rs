//! Networking: the virtio-net NIC under `sis_net::NetStack` (smoltcp), run by
//! the `net` task, with `/metrics` on TCP 9100, echo on TCP 7 and ping
//! (docs/NETWORK.md). The null device (`null.rs`) stays for `net send`.
//!
//! The stack lives behind one lock. The `net` task polls it when the NIC
//! interrupts (or, where its interrupt cannot be routed, on a timer); shell commands
//! (`ifconfig`, `netstat`, `ping`) take the lock briefly and never across a
//! sleep. Without a NIC every query answers `ENODEV`.

pub(crate) mod discover;
mod null;
mod task;
pub(crate) mod transport;
pub(crate) mod virtio;

use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use sis_abi::Errno;
use sis_net::smoltcp::time::Instant;
use sis_net::{InterfaceInfo, LinkCounters, NetStack, ServiceCounters, SocketInfo, StackConfig};

pub use discover::Location;
pub use null::{mtu, send, stats};

use crate::arch::{self, DeviceWindows};
use crate::sync::{rank, IrqMutex};

/// Outermost in the lock order: the `net` task answers `GET /metrics` inside
/// its poll, so the metrics' reads (file system, scheduler, heap) and the
/// published counters are taken under it (docs/kernel-smp.md).
static STACK: IrqMutex<Option<NetStack<virtio::VirtioNic>>, { rank::NET_STACK }> = IrqMutex::new(None);
/// Where the NIC was found and its routed interrupt line (None: polled):
/// written once by `init`, before `HAS_INTERFACE`, and only read after, so
/// a `Once` rather than a lock.
static LOCATION: spin::Once<(Location, Option<u32>)> = spin::Once::new();
static HAS_INTERFACE: AtomicBool = AtomicBool::new(false);

/// The interface's name in `ifconfig` and `netstat`.
pub const INTERFACE_NAME: &str = "eth0";

/// The clock smoltcp sees: microseconds since boot.
pub fn now() -> Instant {
    Instant::from_micros((arch::monotonic_ns() / 1_000) as i64)
}

/// Looks for the NIC and, if there is one, starts the `net` task. Returns at
/// once: DHCP runs in the background and never delays the prompt.
pub fn init(windows: &DeviceWindows) {
    let Some(found) = discover::find_network_device(windows) else {
        log_event!("net", "no network interface", Info);
        return;
    };
    let nic = match virtio::VirtioNic::new(found.transport) {
        Ok(nic) => nic,
        Err(error) => {
            let reason = alloc::format!("{error:?}");
            log_event!("net", "virtio-net init failed", Error, error = reason.as_str());
            return;
        }
    };
    let mac = nic.mac();
    // The seed varies per boot so TCP sequence numbers do too: from the
    // entropy device if there is one, else from the clock and the MAC.
    let mut random = [0u8; 8];
    let seed = match crate::rng::fill(&mut random) {
        Some(Ok(())) => u64::from_le_bytes(random),
        _ => arch::monotonic_ns() ^ u64::from_le_bytes([mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], 0x5a, 0xa5]),
    };
    let mut stack = NetStack::new(nic, StackConfig::new(mac, seed), now());
    stack.set_drop_policy(drop_policy());
    *STACK.lock() = Some(stack);
    // Routed before the task starts: an interrupt that comes first only
    // sets the flag the task's first poll clears anyway.
    let interrupt = found.interrupt.filter(|&line| arch::route_device_interrupt(line));
    match (found.interrupt, interrupt) {
        (_, Some(_)) => {}
        (Some(line), None) => log_event!("net", "interrupt not routed, polling", Warn, name = INTERFACE_NAME, line = u64::from(line)),
        (None, None) => log_event!("net", "interrupt not described, polling", Warn, name = INTERFACE_NAME),
    }
    LOCATION.call_once(|| (found.location, interrupt));
    HAS_INTERFACE.store(true, Ordering::Release);
    log_event!("net", "interface up", Info, name = INTERFACE_NAME, driver = "virtio-net");
    if task::start(interrupt.is_some()).is_err() {
        log_event!("net", "no task stack", Error, name = INTERFACE_NAME);
    }
}

/// The NIC's interrupt (`arch/device_interrupt.rs`: the line is masked
/// until the task has acknowledged the device).
pub fn on_interrupt() {
    task::on_interrupt();
}

/// The chaos point at the driver: `network_fail` drops frames both ways.
#[cfg(feature = "chaos")]
fn drop_policy() -> Option<sis_net::DropPolicy> {
    fn drop_frame(_direction: sis_net::Direction) -> bool {
        crate::chaos::check(sis_chaos::Point::NetworkSend).is_some()
    }
    Some(drop_frame)
}

#[cfg(not(feature = "chaos"))]
fn drop_policy() -> Option<sis_net::DropPolicy> {
    None
}

fn no_interface() -> Errno {
    Errno::ENODEV
}

/// Runs `f` on the stack, or fails with ENODEV when there is no NIC.
fn with_stack<R>(f: impl FnOnce(&mut NetStack<virtio::VirtioNic>) -> R) -> Result<R, Errno> {
    if !HAS_INTERFACE.load(Ordering::Acquire) {
        return Err(no_interface());
    }
    let mut guard = STACK.lock();
    let stack = guard.as_mut().ok_or_else(no_interface)?;
    Ok(f(stack))
}

/// What `ifconfig` prints.
pub struct InterfaceReport {
    pub info: InterfaceInfo,
    pub location: Option<Location>,
    /// The NIC's interrupt line; None when the task polls it.
    pub interrupt: Option<u32>,
}

pub fn interface() -> Result<InterfaceReport, Errno> {
    let info = with_stack(|stack| stack.interface_info())?;
    let (location, interrupt) = LOCATION.get().copied().map_or((None, None), |(location, line)| (Some(location), line));
    Ok(InterfaceReport { info, location, interrupt })
}

/// What `netstat` prints.
pub struct NetstatReport {
    pub sockets: Vec<SocketInfo>,
    pub link: LinkCounters,
    pub services: ServiceCounters,
}

pub fn netstat() -> Result<NetstatReport, Errno> {
    with_stack(|stack| NetstatReport {
        sockets: stack.sockets(),
        link: stack.link_counters(),
        services: stack.service_counters(),
    })
}

/// Sends one echo request and waits up to `timeout_ns` for its reply;
/// returns the round trip in nanoseconds. ETIMEDOUT without a reply.
pub fn ping(target: sis_net::smoltcp::wire::Ipv4Address, sequence: u16, timeout_ns: u64) -> Result<u64, Errno> {
    let sent_at = arch::monotonic_ns();
    with_stack(|stack| stack.ping_send(target, sequence))?.map_err(|error| match error {
        sis_net::PingError::NoAddress => Errno::ENETDOWN,
        sis_net::PingError::Busy => Errno::EBUSY,
    })?;
    task::wake();
    loop {
        if with_stack(|stack| stack.last_ping_reply())? == Some((sequence, target)) {
            return Ok(arch::monotonic_ns().saturating_sub(sent_at));
        }
        if arch::monotonic_ns().saturating_sub(sent_at) >= timeout_ns {
            return Err(Errno::ETIMEDOUT);
        }
        crate::sched::sleep_ns(200_000);
    }
}

/// Renders the metrics for `GET /metrics` (the same text as `metricsctl`).
fn render_metrics(out: &mut String) {
    let _ = crate::metrics::write(out, sis_observe::metrics::MetricFormat::Prometheus);
}
