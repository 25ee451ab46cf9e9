//! A streaming, heap-free JSON object writer for records with nested parts (the panic record).
//!
//! [`crate::Record`] covers flat log records; the panic record also needs an
//! object of registers and an array of backtrace addresses, and a message
//! that is a `fmt::Arguments`. This writer produces such an object straight
//! into a `fmt::Write` sink: keys and strings are escaped as
//! [`crate::escape::write_json_str`] does, and [`JsonObject::display`]
//! escapes any `Display` value on the fly, without a buffer.
//!
//! ```
//! use sis_observe::json::JsonObject;
//! let mut line = String::new();
//! JsonObject::write(&mut line, |record| {
//!     record.str("level", "FATAL")?;
//!     record.display("message", &format_args!("index {} out of range", 7))?;
//!     record.object("registers", |registers| registers.hex("pc", 0x8020_1234))?;
//!     record.array("backtrace", |frames| frames.hex(0x8020_0042))
//! })
//! .unwrap();
//! assert_eq!(
//!     line,
//!     r#"{"level":"FATAL","message":"index 7 out of range","registers":{"pc":"0x80201234"},"backtrace":["0x80200042"]}"#
//! );
//! ```

use core::fmt::{self, Display, Write};

use crate::escape::{write_json_body, write_json_bytes, write_json_str};

/// Escapes everything written through it as the inside of a JSON string.
struct Escaper<'a, W: Write + ?Sized> {
    sink: &'a mut W,
}

impl<W: Write + ?Sized> Write for Escaper<'_, W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        // Escaping is per character, so escaping each chunk `Display` hands
        // over gives the same result as escaping the whole text.
        write_json_body(self.sink, text)
    }
}

/// Writes one JSON object's members; made by [`JsonObject::write`] or
/// [`JsonObject::object`].
pub struct JsonObject<'a, W: Write + ?Sized> {
    sink: &'a mut W,
    has_members: bool,
}

impl<W: Write + ?Sized> fmt::Debug for JsonObject<'_, W> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("JsonObject")
            .field("has_members", &self.has_members)
            .finish()
    }
}

impl<'a, W: Write + ?Sized> JsonObject<'a, W> {
    /// Writes `{`, lets `members` add members, then writes `}`.
    pub fn write(
        sink: &'a mut W,
        members: impl FnOnce(&mut JsonObject<'_, W>) -> fmt::Result,
    ) -> fmt::Result {
        sink.write_char('{')?;
        let mut object = JsonObject {
            sink,
            has_members: false,
        };
        members(&mut object)?;
        object.sink.write_char('}')
    }

    fn key(&mut self, key: &str) -> fmt::Result {
        if self.has_members {
            self.sink.write_char(',')?;
        }
        self.has_members = true;
        write_json_str(self.sink, key)?;
        self.sink.write_char(':')
    }

    pub fn str(&mut self, key: &str, value: &str) -> fmt::Result {
        self.key(key)?;
        write_json_str(self.sink, value)
    }

    /// Bytes as a string; invalid UTF-8 becomes U+FFFD.
    pub fn bytes(&mut self, key: &str, value: &[u8]) -> fmt::Result {
        self.key(key)?;
        write_json_bytes(self.sink, value)
    }

    /// Any `Display` value (a panic's `fmt::Arguments`) as an escaped string.
    pub fn display(&mut self, key: &str, value: &dyn Display) -> fmt::Result {
        self.key(key)?;
        self.sink.write_char('"')?;
        write!(Escaper { sink: self.sink }, "{value}")?;
        self.sink.write_char('"')
    }

    pub fn u64(&mut self, key: &str, value: u64) -> fmt::Result {
        self.key(key)?;
        write!(self.sink, "{value}")
    }

    pub fn i64(&mut self, key: &str, value: i64) -> fmt::Result {
        self.key(key)?;
        write!(self.sink, "{value}")
    }

    pub fn bool(&mut self, key: &str, value: bool) -> fmt::Result {
        self.key(key)?;
        write!(self.sink, "{value}")
    }

    /// An address or register as a `"0x…"` string: JSON readers in
    /// JavaScript lose integers above 2^53, and addresses are often above.
    pub fn hex(&mut self, key: &str, value: u64) -> fmt::Result {
        self.key(key)?;
        write!(self.sink, "\"{value:#x}\"")
    }

    pub fn object(
        &mut self,
        key: &str,
        members: impl FnOnce(&mut JsonObject<'_, W>) -> fmt::Result,
    ) -> fmt::Result {
        self.key(key)?;
        JsonObject::write(self.sink, members)
    }

    pub fn array(
        &mut self,
        key: &str,
        items: impl FnOnce(&mut JsonArray<'_, W>) -> fmt::Result,
    ) -> fmt::Result {
        self.key(key)?;
        self.sink.write_char('[')?;
        let mut array = JsonArray {
            sink: self.sink,
            has_items: false,
        };
        items(&mut array)?;
        array.sink.write_char(']')
    }
}

/// Writes one JSON array's items; made by [`JsonObject::array`].
pub struct JsonArray<'a, W: Write + ?Sized> {
    sink: &'a mut W,
    has_items: bool,
}

impl<W: Write + ?Sized> fmt::Debug for JsonArray<'_, W> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("JsonArray")
            .field("has_items", &self.has_items)
            .finish()
    }
}

impl<W: Write + ?Sized> JsonArray<'_, W> {
    fn separate(&mut self) -> fmt::Result {
        if self.has_items {
            self.sink.write_char(',')?;
        }
        self.has_items = true;
        Ok(())
    }

    pub fn str(&mut self, value: &str) -> fmt::Result {
        self.separate()?;
        write_json_str(self.sink, value)
    }

    pub fn u64(&mut self, value: u64) -> fmt::Result {
        self.separate()?;
        write!(self.sink, "{value}")
    }

    /// An address as a `"0x…"` string.
    pub fn hex(&mut self, value: u64) -> fmt::Result {
        self.separate()?;
        write!(self.sink, "\"{value:#x}\"")
    }

    pub fn object(
        &mut self,
        members: impl FnOnce(&mut JsonObject<'_, W>) -> fmt::Result,
    ) -> fmt::Result {
        self.separate()?;
        JsonObject::write(self.sink, members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    #[test]
    fn nested_records_parse_back_with_every_value() {
        let mut line = String::new();
        JsonObject::write(&mut line, |record| {
            record.u64("ts", 12)?;
            record.str("level", "FATAL")?;
            record.display(
                "message",
                &format_args!("bad \"{}\"\n\\ {}", "quote\u{1}", 'é'),
            )?;
            record.bytes("raw", b"ok\xff")?;
            record.i64("delta", -1)?;
            record.bool("recursive", false)?;
            record.object("registers", |registers| {
                registers.hex("x0", 0)?;
                registers.hex("sp", u64::MAX)
            })?;
            record.array("backtrace", |frames| {
                frames.hex(0x4008_0000)?;
                frames.u64(3)?;
                frames.str("x")?;
                frames.object(|frame| frame.str("symbol", "kernel_main"))
            })?;
            record.array("empty", |_| Ok(()))?;
            record.object("none", |_| Ok(()))
        })
        .unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["message"], "bad \"quote\u{1}\"\n\\ é");
        assert_eq!(parsed["raw"], "ok\u{fffd}");
        assert_eq!(parsed["registers"]["sp"], "0xffffffffffffffff");
        assert_eq!(parsed["registers"]["x0"], "0x0");
        assert_eq!(parsed["backtrace"][0], "0x40080000");
        assert_eq!(parsed["backtrace"][3]["symbol"], "kernel_main");
        assert_eq!(parsed["empty"], serde_json::json!([]));
        assert_eq!(parsed["none"], serde_json::json!({}));
        assert!(!line.contains(['\n', '\u{1}']));
    }
}
