//! The TCP services the kernel offers: HTTP (`/metrics`, `/healthz`) and echo.
//!
//! Each service is a fixed set of slots, one smoltcp socket each: the number
//! of slots is the bound on connections, and a SYN that finds no listening
//! slot is refused by smoltcp with a reset, which costs nothing.

pub mod echo;
pub mod http;
