//! Device contracts of the SIS kernel: one small trait per device class, with
//! the fakes that host tests and early boot use living beside each trait.
//!
//! Every fallible method returns [`DeviceError`], which maps onto the errno the
//! shell prints (`sis_abi::Errno`). Drivers in `sis-kernel` implement these
//! traits (the UARTs `CharDevice`, the CPU timers `Timer`, virtio-rng `Rng`,
//! virtio-net `NetworkDevice`; the RAM disk here is its `BlockDevice`); the
//! logic crates (`sis-vfs`, `sis-shell`, `sis-sched`, `sis-net`) only ever see
//! the traits, so the host's `cargo test` runs them against the mocks here.
//! A trait no real driver implements is not kept (docs/kernel-devices.md).
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

extern crate alloc;

pub mod block;
pub mod character;
pub mod error;
pub mod network;
pub mod rng;
pub mod timer;

pub use block::{
    BlockDevice, BlockOp, BlockOpKind, MockBlockDevice, MockBlockStats, RamBlockDevice,
};
pub use character::{CharDevice, MockCharDevice};
pub use error::DeviceError;
pub use network::{MockNetworkDevice, NetworkDevice, NetworkStats, NullNetworkDevice};
pub use rng::{Rng, SeededRng};
pub use timer::{MockTimer, Timer};
