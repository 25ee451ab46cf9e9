//! Framing markers of the shell's machine mode (`frame on`), as specified in
//! docs/PROTOCOL.md. Every marker is a whole line that starts with the SOH
//! byte (0x01): the line editor never lets a typed control byte through, so
//! neither a command's output nor the echo of its input can forge one.

/// Start of every marker line.
pub const MARK: u8 = 0x01;

/// `\x01sis:begin <seq> <command line>`: a command's output starts on the next line.
pub const BEGIN: &str = "sis:begin";

/// `\x01sis:end <seq> <status>`: the command's output ended; status 0 is success.
pub const END: &str = "sis:end";

/// `\x01sis:log <record>`: a log record printed while framing is on.
pub const LOG: &str = "sis:log";

/// `\x01sis:ready`: printed by `frame on` once framing is active.
pub const READY: &str = "sis:ready";

/// `\x01sis:panic`: printed first by the panic path, before the report.
pub const PANIC: &str = "sis:panic";
