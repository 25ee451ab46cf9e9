//! `ifconfig`, `netstat` and `ping`: the network as an operator sees it.
//! With no NIC each fails with `ENODEV: no network interface`.

use core::fmt::Write;

use sis_abi::Errno;
use sis_net::smoltcp::wire::Ipv4Address;

use super::{parse_number, CommandError, CommandResult, Invocation};
use crate::net;

fn no_interface(errno: Errno) -> CommandError {
    match errno {
        Errno::ENODEV => CommandError::Errno(Errno::ENODEV, alloc::string::String::from("no network interface")),
        other => CommandError::Errno(other, alloc::string::String::from(other.description())),
    }
}

/// How long `ifconfig --wait` waits for an address.
const ADDRESS_WAIT_NS: u64 = 10_000_000_000;

pub fn ifconfig(invocation: &mut Invocation<'_>) -> CommandResult {
    let should_wait = match invocation.args {
        [] => false,
        [flag] if flag == "--wait" => true,
        _ => return Err(CommandError::Usage),
    };
    let mut report = net::interface().map_err(no_interface)?;
    // --wait: block until DHCP (or the static fallback) gave an address, so a
    // script synchronises on the event rather than on a sleep.
    let started = crate::arch::monotonic_ns();
    while should_wait && report.info.address.is_none() {
        if crate::arch::monotonic_ns().saturating_sub(started) > ADDRESS_WAIT_NS {
            return Err(CommandError::Errno(Errno::ETIMEDOUT, alloc::string::String::from("no address after 10 s")));
        }
        crate::sched::sleep_ns(10_000_000);
        report = net::interface().map_err(no_interface)?;
    }
    let info = report.info;
    let out = &mut *invocation.out;
    let _ = writeln!(out, "{}: link {} mtu {}", net::INTERFACE_NAME, if info.is_link_up { "up" } else { "down" }, info.mtu);
    let [a, b, c, d, e, f] = info.mac;
    let _ = writeln!(out, "  ether {a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}");
    match info.address {
        Some(address) => {
            let _ = write!(out, "  inet {address}");
            if let Some(gateway) = info.gateway {
                let _ = write!(out, " gateway {gateway}");
            }
            let _ = writeln!(out, " ({})", info.source.name());
        }
        None => {
            let _ = writeln!(out, "  inet none (dhcp pending)");
        }
    }
    match report.location {
        Some(net::Location::Mmio(base)) => {
            let _ = write!(out, "  driver virtio-net mmio {base:#x}");
        }
        Some(net::Location::Pci { bus, device, function }) => {
            let _ = write!(out, "  driver virtio-net pci {bus:02x}:{device:02x}.{function}");
        }
        None => {}
    }
    if report.location.is_some() {
        match report.interrupt {
            Some(line) => writeln!(out, " irq {line}"),
            None => writeln!(out, " polled"),
        }
        .ok();
    }
    Ok(())
}

pub fn netstat(invocation: &mut Invocation<'_>) -> CommandResult {
    if !invocation.args.is_empty() {
        return Err(CommandError::Usage);
    }
    let report = net::netstat().map_err(no_interface)?;
    let out = &mut *invocation.out;
    let width = report.sockets.iter().map(|s| s.local.len().max(s.remote.len())).max().unwrap_or(0).max(6);
    let _ = writeln!(out, "proto {:width$} {:width$} state", "local", "remote");
    for socket in &report.sockets {
        let _ = writeln!(out, "{:5} {:width$} {:width$} {}", socket.protocol, socket.local, socket.remote, socket.state);
    }
    let link = report.link;
    let _ = writeln!(out, "interface {}", net::INTERFACE_NAME);
    for (name, value) in [
        ("rx_packets", link.rx_packets),
        ("rx_bytes", link.rx_bytes),
        ("rx_errors", link.rx_errors),
        ("rx_dropped", link.rx_dropped),
        ("tx_packets", link.tx_packets),
        ("tx_bytes", link.tx_bytes),
        ("tx_errors", link.tx_errors),
        ("tx_dropped", link.tx_dropped),
        ("tcp_accepted", report.services.tcp_accepted),
    ] {
        let _ = writeln!(out, "{name} {value}");
    }
    Ok(())
}

/// Echo requests `ping` sends unless told otherwise.
const DEFAULT_COUNT: u16 = 3;
const REPLY_TIMEOUT_NS: u64 = 1_000_000_000;

pub fn ping(invocation: &mut Invocation<'_>) -> CommandResult {
    let (target, count) = match invocation.args {
        [target] => (target, DEFAULT_COUNT),
        [target, count] => (target, parse_number::<u16>(count)?),
        _ => return Err(CommandError::Usage),
    };
    let Ok(address) = target.parse::<Ipv4Address>() else {
        return Err(CommandError::Errno(Errno::EINVAL, alloc::format!("not an IPv4 address: {}", super::printable(target))));
    };
    if count == 0 || count > 100 {
        return Err(CommandError::Errno(Errno::EINVAL, alloc::string::String::from("count must be 1-100")));
    }
    // Fail before printing anything when there is no NIC.
    net::interface().map_err(no_interface)?;
    let mut received = 0;
    let mut last_error = Errno::ETIMEDOUT;
    for sequence in 1..=count {
        match net::ping(address, sequence, REPLY_TIMEOUT_NS) {
            Ok(round_trip_ns) => {
                received += 1;
                let micros = round_trip_ns / 1_000;
                let _ = writeln!(
                    invocation.out,
                    "{} bytes from {address}: icmp_seq={sequence} time={}.{:03} ms",
                    sis_net::stack::PING_MESSAGE_BYTES,
                    micros / 1_000,
                    micros % 1_000
                );
            }
            Err(errno) => {
                last_error = errno;
                let _ = writeln!(invocation.out, "no reply from {address}: icmp_seq={sequence} ({})", errno.name());
            }
        }
    }
    let _ = writeln!(invocation.out, "{count} packets transmitted, {received} received");
    if received == 0 {
        return Err(CommandError::Errno(last_error, alloc::format!("no reply from {address}")));
    }
    Ok(())
}
