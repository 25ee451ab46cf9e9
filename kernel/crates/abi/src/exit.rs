//! Exit codes the kernel hands to QEMU's exit device. Each arch maps a code
//! to a QEMU process status (see docs/BOOT.md); the CLI maps it back.

/// The largest code `poweroff <code>` accepts. Codes above it are reserved
/// for the kernel's own verdicts, so a user's poweroff can never look like a
/// panic.
pub const POWEROFF_MAX: u8 = 100;

/// The machine ends with this code after a panic or an unexpected exception.
pub const PANIC: u8 = 101;
