//! Observability for the SIS kernel: log records, the log ring, metrics and their exposition.
//!
//! Everything here is heap-free and writes into a `core::fmt::Write` sink, so
//! the kernel can use it before its heap exists and from the panic path. The
//! kernel owns the globals (a [`Logger`], a [`metrics::KernelMetrics`]), the
//! clock and the console; this crate owns the formats, specified in
//! `docs/observability.md`.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

pub mod buf;
pub mod control;
pub mod escape;
pub mod json;
pub mod level;
pub mod logger;
pub mod metrics;
pub mod record;
pub mod ring;

pub use buf::FixedBuf;
pub use control::{Format, LogControl};
pub use level::Level;
pub use logger::Logger;
pub use record::{Field, Record, Value, MAX_FIELDS};
pub use ring::LogRing;
