//! A fixed-size `fmt::Write` buffer for formatting without a heap.

use core::fmt;

use crate::escape::truncate_str;

/// Formats into `N` bytes on the stack or in a static. Text that does not fit
/// is cut at a char boundary and `is_truncated` turns true; writing never
/// fails, so a `write!` into it cannot abort the caller (the panic path
/// formats its message this way).
#[derive(Clone)]
pub struct FixedBuf<const N: usize> {
    bytes: [u8; N],
    len: usize,
    is_truncated: bool,
}

impl<const N: usize> FixedBuf<N> {
    pub const fn new() -> Self {
        FixedBuf {
            bytes: [0; N],
            len: 0,
            is_truncated: false,
        }
    }

    /// What was written so far (always valid UTF-8: only whole `str` prefixes
    /// cut at char boundaries are ever copied in).
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }

    /// True once some text did not fit.
    pub fn is_truncated(&self) -> bool {
        self.is_truncated
    }

    pub fn clear(&mut self) {
        self.len = 0;
        self.is_truncated = false;
    }
}

impl<const N: usize> Default for FixedBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Write for FixedBuf<N> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let room = N - self.len;
        let part = truncate_str(text, room);
        self.bytes[self.len..self.len + part.len()].copy_from_slice(part.as_bytes());
        self.len += part.len();
        if part.len() < text.len() {
            self.is_truncated = true;
        }
        Ok(())
    }
}

impl<const N: usize> fmt::Debug for FixedBuf<N> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("FixedBuf")
            .field("text", &self.as_str())
            .field("is_truncated", &self.is_truncated)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write;

    #[test]
    fn keeps_what_fits_and_cuts_at_a_char_boundary() {
        let mut buf = FixedBuf::<6>::new();
        buf.write_str("ab").unwrap();
        buf.write_str("é€").unwrap();
        assert_eq!(buf.as_str(), "abé");
        assert!(buf.is_truncated());
        buf.write_str("z").unwrap();
        assert_eq!(buf.as_str(), "abéz");
        buf.clear();
        write!(buf, "{}", 12345).unwrap();
        assert_eq!(buf.as_str(), "12345");
        assert!(!buf.is_truncated());
    }

    #[test]
    fn zero_sized_buffer_accepts_writes() {
        let mut buf = FixedBuf::<0>::new();
        write!(buf, "anything").unwrap();
        assert_eq!(buf.as_str(), "");
        assert!(buf.is_truncated());
    }
}
