//! The kernel's network logic on top of smoltcp, with no clock, lock or
//! hardware of its own: the link between a `sis_hal::NetworkDevice` and the
//! stack, DHCP with a static fallback, the HTTP and echo services, ping.
//!
//! The kernel drives [`NetStack::poll`] from its network task with the real
//! virtio-net device; host tests drive it with the mock device and a second
//! stack as the peer (tests/ in this crate), so all of this runs under
//! `cargo test`.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

extern crate alloc;

pub mod http;
pub mod link;
pub mod services;
pub mod stack;

pub use link::{Direction, DropPolicy, Link, LinkCounters};
pub use stack::{AddressSource, InterfaceInfo, NetStack, PingError, ServiceCounters, SocketInfo, StackConfig};
pub use smoltcp;
