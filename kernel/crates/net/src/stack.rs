//! The kernel's IPv4 stack: one smoltcp interface over a [`Link`], its
//! address from DHCP (or a static fallback), and the services on it: HTTP
//! on 9100 (`services::http`), echo on 7 (`services::echo`) and ping.
//!
//! Nothing here knows a clock or a lock: the caller passes the time to
//! [`NetStack::poll`] and sleeps until the instant it returns, so the same
//! code runs in the kernel's network task and in host tests on a mock.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use sis_hal::NetworkDevice;
use smoltcp::iface::{Config, Interface, PollIngressSingleResult, PollResult, SocketHandle, SocketSet};
use smoltcp::socket::{dhcpv4, icmp, tcp};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{
    EthernetAddress, HardwareAddress, Icmpv4Packet, Icmpv4Repr, IpAddress, IpCidr, Ipv4Address, Ipv4Cidr,
};

use crate::link::{DropPolicy, Link, LinkCounters};
use crate::services::echo::EchoSlot;
use crate::services::http::{HttpCounters, HttpSlot};

/// Settings of the stack; [`StackConfig::new`] gives the kernel's.
#[derive(Clone, Copy, Debug)]
pub struct StackConfig {
    pub mac: [u8; 6],
    pub http_port: u16,
    /// Connections the HTTP server serves at once; more are refused (RST).
    pub http_connections: usize,
    /// A request whose head is not complete this long after the connection
    /// opened is answered 408 and closed.
    pub request_timeout_ms: u64,
    pub echo_port: u16,
    pub echo_connections: usize,
    /// Without a DHCP lease this long after start, use the static address.
    pub dhcp_fallback_ms: u64,
    /// The static fallback: QEMU user networking's usual guest address.
    pub static_address: Ipv4Cidr,
    pub static_gateway: Ipv4Address,
    /// Seeds smoltcp's initial sequence numbers and ports.
    pub random_seed: u64,
}

impl StackConfig {
    pub const fn new(mac: [u8; 6], random_seed: u64) -> Self {
        StackConfig {
            mac,
            http_port: 9100,
            http_connections: 8,
            request_timeout_ms: 5_000,
            echo_port: 7,
            echo_connections: 4,
            dhcp_fallback_ms: 3_000,
            static_address: Ipv4Cidr::new(Ipv4Address::new(10, 0, 2, 15), 24),
            static_gateway: Ipv4Address::new(10, 0, 2, 2),
            random_seed,
        }
    }
}

/// Where the interface's address came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressSource {
    None,
    Dhcp,
    Static,
}

impl AddressSource {
    pub const fn name(self) -> &'static str {
        match self {
            AddressSource::None => "none",
            AddressSource::Dhcp => "dhcp",
            AddressSource::Static => "static",
        }
    }
}

/// What `ifconfig` shows.
#[derive(Clone, Copy, Debug)]
pub struct InterfaceInfo {
    pub mac: [u8; 6],
    pub address: Option<Ipv4Cidr>,
    pub gateway: Option<Ipv4Address>,
    pub source: AddressSource,
    pub is_link_up: bool,
    pub mtu: usize,
}

/// One socket as `netstat` lists it.
#[derive(Clone, Debug)]
pub struct SocketInfo {
    pub protocol: &'static str,
    pub local: String,
    pub remote: String,
    pub state: String,
}

/// Counters of the services, for the metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServiceCounters {
    pub tcp_accepted: u64,
    pub http: HttpCounters,
}

/// Why a ping could not be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PingError {
    /// No address yet (DHCP still running).
    NoAddress,
    /// The socket's queue is full.
    Busy,
}

/// ICMP identifier of the kernel's echo requests.
const PING_IDENT: u16 = 0x5153;
const PING_PAYLOAD: &[u8] = b"sis-kernel ping";
/// Bytes of an echo message (header and payload), as ping prints them.
pub const PING_MESSAGE_BYTES: usize = 8 + PING_PAYLOAD.len();

pub struct NetStack<D: NetworkDevice> {
    config: StackConfig,
    link: Link<D>,
    interface: Interface,
    sockets: SocketSet<'static>,
    dhcp: SocketHandle,
    icmp: SocketHandle,
    http: Vec<HttpSlot>,
    echo: Vec<EchoSlot>,
    started_at: Instant,
    source: AddressSource,
    gateway: Option<Ipv4Address>,
    counters: ServiceCounters,
    /// Sequence number and sender of the last echo reply seen.
    last_ping_reply: Option<(u16, Ipv4Address)>,
}

impl<D: NetworkDevice> NetStack<D> {
    /// Brings the interface up with no address and starts DHCP; the
    /// services listen from the start (they answer once an address exists).
    pub fn new(device: D, config: StackConfig, now: Instant) -> Self {
        let mut link = Link::new(device);
        let mut interface_config = Config::new(HardwareAddress::Ethernet(EthernetAddress(config.mac)));
        interface_config.random_seed = config.random_seed;
        let interface = Interface::new(interface_config, &mut link, now);
        let mut sockets = SocketSet::new(Vec::new());
        let dhcp = sockets.add(dhcpv4::Socket::new());
        let icmp_socket = icmp::Socket::new(
            icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; 4], vec![0; 1024]),
            icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; 4], vec![0; 1024]),
        );
        let icmp = sockets.add(icmp_socket);
        if let Some(socket) = Some(sockets.get_mut::<icmp::Socket>(icmp)) {
            // Binding a fresh socket to an identifier cannot fail.
            let _ = socket.bind(icmp::Endpoint::Ident(PING_IDENT));
        }
        let http = (0..config.http_connections).map(|_| HttpSlot::new(&mut sockets, config.http_port)).collect();
        let echo = (0..config.echo_connections).map(|_| EchoSlot::new(&mut sockets, config.echo_port)).collect();
        NetStack {
            config,
            link,
            interface,
            sockets,
            dhcp,
            icmp,
            http,
            echo,
            started_at: now,
            source: AddressSource::None,
            gateway: None,
            counters: ServiceCounters::default(),
            last_ping_reply: None,
        }
    }

    pub fn set_drop_policy(&mut self, policy: Option<DropPolicy>) {
        self.link.set_drop_policy(policy);
    }

    /// Moves frames, runs DHCP and the services. `render_metrics` writes
    /// the exposition for a `GET /metrics`. Returns whether anything
    /// happened (frames moved or sockets changed) and when to poll next at
    /// the latest (`None`: only when a frame arrives).
    pub fn poll(&mut self, now: Instant, render_metrics: &mut dyn FnMut(&mut String)) -> (bool, Option<Instant>) {
        let frames_before = self.link.counters();
        let mut is_active = false;
        // A bounded number of rounds: the services may queue data that the
        // next interface poll sends; stop once a round changes nothing.
        for _ in 0..4 {
            let changed = self.move_frames(now);
            let serviced = self.run_services(now, render_metrics);
            if !changed && !serviced {
                break;
            }
            is_active = true;
        }
        self.run_dhcp(now);
        is_active |= self.link.counters() != frames_before;
        let mut next = self.interface.poll_at(now, &self.sockets);
        for slot in &self.http {
            if let Some(deadline) = slot.deadline(self.config.request_timeout_ms) {
                next = Some(next.map_or(deadline, |at| at.min(deadline)));
            }
        }
        if self.source == AddressSource::None {
            let fallback = self.started_at + Duration::from_millis(self.config.dhcp_fallback_ms);
            next = Some(next.map_or(fallback, |at| at.min(fallback)));
        }
        (is_active, next)
    }

    /// smoltcp's `Interface::poll`, except that sockets only send while the
    /// link's backlog has room for a frame from each of them: smoltcp would
    /// forget a fast retransmission it decided on if the device refused the
    /// frame (see `link.rs`). Received frames are taken while one answer
    /// still fits. True if a socket's state may have changed.
    fn move_frames(&mut self, now: Instant) -> bool {
        let mut changed = false;
        self.interface.poll_maintenance(now);
        self.link.drain();
        while self.link.transmit_room() > 0 {
            match self.interface.poll_ingress_single(now, &mut self.link, &mut self.sockets) {
                PollIngressSingleResult::None => break,
                PollIngressSingleResult::PacketProcessed => {}
                PollIngressSingleResult::SocketStateChanged => changed = true,
            }
        }
        // One poll_egress sends at most one frame per socket.
        let sockets = self.sockets.iter().count();
        while self.link.transmit_room() > sockets {
            match self.interface.poll_egress(now, &mut self.link, &mut self.sockets) {
                PollResult::None => break,
                PollResult::SocketStateChanged => changed = true,
            }
        }
        self.link.drain();
        changed
    }

    fn run_services(&mut self, now: Instant, render_metrics: &mut dyn FnMut(&mut String)) -> bool {
        let mut serviced = false;
        for slot in &mut self.http {
            serviced |=
                slot.run(&mut self.sockets, now, self.config.request_timeout_ms, &mut self.counters, render_metrics);
        }
        for slot in &mut self.echo {
            serviced |= slot.run(&mut self.sockets, &mut self.counters);
        }
        let socket = self.sockets.get_mut::<icmp::Socket>(self.icmp);
        while let Ok((payload, from)) = socket.recv() {
            let IpAddress::Ipv4(from) = from;
            let Ok(packet) = Icmpv4Packet::new_checked(payload) else { continue };
            let Ok(repr) = Icmpv4Repr::parse(&packet, &smoltcp::phy::ChecksumCapabilities::default()) else {
                continue;
            };
            if let Icmpv4Repr::EchoReply { ident: PING_IDENT, seq_no, .. } = repr {
                self.last_ping_reply = Some((seq_no, from));
                serviced = true;
            }
        }
        serviced
    }

    fn run_dhcp(&mut self, now: Instant) {
        let event = self.sockets.get_mut::<dhcpv4::Socket>(self.dhcp).poll();
        match event {
            Some(dhcpv4::Event::Configured(lease)) => {
                let (address, router) = (lease.address, lease.router);
                self.configure(address, router, AddressSource::Dhcp);
            }
            Some(dhcpv4::Event::Deconfigured) => {
                if self.source == AddressSource::Dhcp {
                    self.configure(self.config.static_address, Some(self.config.static_gateway), AddressSource::Static);
                }
            }
            None => {}
        }
        let waited = now - self.started_at;
        if self.source == AddressSource::None && waited >= Duration::from_millis(self.config.dhcp_fallback_ms) {
            self.configure(self.config.static_address, Some(self.config.static_gateway), AddressSource::Static);
        }
    }

    fn configure(&mut self, address: Ipv4Cidr, gateway: Option<Ipv4Address>, source: AddressSource) {
        self.interface.update_ip_addrs(|addresses| {
            addresses.clear();
            // The list holds several addresses; one always fits after clear().
            let _ = addresses.push(IpCidr::Ipv4(address));
        });
        match gateway {
            Some(router) => {
                // Fails only if the route table is full; it has room for the default route.
                let _ = self.interface.routes_mut().add_default_ipv4_route(router);
            }
            None => {
                self.interface.routes_mut().remove_default_ipv4_route();
            }
        }
        self.gateway = gateway;
        self.source = source;
    }

    /// Queues one ICMP echo request to `target` (sent by the next poll).
    pub fn ping_send(&mut self, target: Ipv4Address, sequence: u16) -> Result<(), PingError> {
        if self.source == AddressSource::None {
            return Err(PingError::NoAddress);
        }
        let repr = Icmpv4Repr::EchoRequest { ident: PING_IDENT, seq_no: sequence, data: PING_PAYLOAD };
        let socket = self.sockets.get_mut::<icmp::Socket>(self.icmp);
        let buffer = socket.send(repr.buffer_len(), IpAddress::Ipv4(target)).map_err(|_| PingError::Busy)?;
        let mut packet = Icmpv4Packet::new_unchecked(buffer);
        repr.emit(&mut packet, &smoltcp::phy::ChecksumCapabilities::default());
        Ok(())
    }

    /// The last echo reply seen: its sequence number and sender.
    pub fn last_ping_reply(&self) -> Option<(u16, Ipv4Address)> {
        self.last_ping_reply
    }

    pub fn interface_info(&self) -> InterfaceInfo {
        let address = self.interface.ip_addrs().iter().find_map(|cidr| match cidr {
            IpCidr::Ipv4(cidr) => Some(*cidr),
        });
        InterfaceInfo {
            mac: self.config.mac,
            address,
            gateway: self.gateway,
            source: self.source,
            is_link_up: self.link.device().is_link_up(),
            mtu: self.link.device().mtu(),
        }
    }

    pub fn link_counters(&self) -> LinkCounters {
        self.link.counters()
    }

    pub fn service_counters(&self) -> ServiceCounters {
        self.counters
    }

    /// Every TCP socket (listening ones included) with its state.
    pub fn sockets(&self) -> Vec<SocketInfo> {
        let handles = self.http.iter().map(HttpSlot::handle).chain(self.echo.iter().map(EchoSlot::handle));
        handles
            .map(|handle| {
                let socket = self.sockets.get::<tcp::Socket>(handle);
                let local = match socket.local_endpoint() {
                    Some(endpoint) => alloc::format!("{endpoint}"),
                    None => alloc::format!("*:{}", socket.listen_endpoint().port),
                };
                let remote = socket.remote_endpoint().map_or_else(|| String::from("*:*"), |e| alloc::format!("{e}"));
                SocketInfo { protocol: "tcp", local, remote, state: alloc::format!("{}", socket.state()) }
            })
            .collect()
    }

    pub fn device_mut(&mut self) -> &mut D {
        self.link.device_mut()
    }
}
