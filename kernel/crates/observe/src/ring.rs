//! A heap-free ring of recent log records, for `dmesg` and the panic report.
//!
//! Each record is copied into a fixed-size byte slot in a compact encoding,
//! so `dmesg` can replay it later in whichever format is current. A record
//! too long for its slot keeps its head: the subsystem and status are cut at
//! a char boundary, then fields are kept in order while they fit (a string
//! value may be cut); the stored record is then marked truncated.
//!
//! Slot layout (integers little-endian):
//! `ts:u64 level:u8 flags:u8 field_count:u8 subsystem:str status:str
//!  {key:str tag:u8 value}*` where `str` is `len:u16` + bytes and a value is
//! `str` (tag 0, 1 for bytes), `i64` (2), `u64` (3) or `u8` (4, bool).

use crate::escape::utf8_floor;
use crate::level::Level;
use crate::record::{Record, Value};

const HEADER_BYTES: usize = 11;
const FLAG_TRUNCATED: u8 = 1;
const TAG_STR: u8 = 0;
const TAG_BYTES: u8 = 1;
const TAG_INT: u8 = 2;
const TAG_UINT: u8 = 3;
const TAG_BOOL: u8 = 4;

/// The last `SLOTS` records, each in at most `SLOT_BYTES` bytes
/// (`SLOTS * SLOT_BYTES` bytes in all, no heap). Put it in a `static` behind
/// the kernel's lock; `new` is `const`.
pub struct LogRing<const SLOTS: usize, const SLOT_BYTES: usize> {
    slots: [[u8; SLOT_BYTES]; SLOTS],
    /// Slot the next record goes to.
    next: usize,
    len: usize,
    overwritten: u64,
}

impl<const SLOTS: usize, const SLOT_BYTES: usize> core::fmt::Debug for LogRing<SLOTS, SLOT_BYTES> {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        formatter
            .debug_struct("LogRing")
            .field("len", &self.len)
            .field("capacity", &SLOTS)
            .field("overwritten", &self.overwritten)
            .finish()
    }
}

impl<const SLOTS: usize, const SLOT_BYTES: usize> LogRing<SLOTS, SLOT_BYTES> {
    /// Refuses at compile time sizes that could not hold a record header
    /// with short strings, or whose lengths would not fit the u16 encoding.
    const SIZES_OK: () = assert!(
        SLOTS > 0 && SLOT_BYTES >= HEADER_BYTES + 16 && SLOT_BYTES <= u16::MAX as usize,
        "LogRing needs at least one slot of 27..=65535 bytes"
    );

    pub const fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::SIZES_OK;
        LogRing {
            slots: [[0; SLOT_BYTES]; SLOTS],
            next: 0,
            len: 0,
            overwritten: 0,
        }
    }

    /// Stores a copy of `record`, overwriting the oldest one when full.
    pub fn push(&mut self, record: &Record<'_>) {
        encode(record, &mut self.slots[self.next]);
        self.next = (self.next + 1) % SLOTS;
        if self.len == SLOTS {
            self.overwritten += 1;
        } else {
            self.len += 1;
        }
    }

    /// Records held now (at most `capacity()`).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub const fn capacity(&self) -> usize {
        SLOTS
    }

    /// Records pushed out by newer ones since boot (or the last `clear`).
    pub fn overwritten(&self) -> u64 {
        self.overwritten
    }

    pub fn clear(&mut self) {
        self.next = 0;
        self.len = 0;
        self.overwritten = 0;
    }

    /// The records held, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Record<'_>> + '_ {
        self.recent(self.len)
    }

    /// The newest `count` records (fewer if fewer are held), oldest first:
    /// the panic report's "last log records".
    pub fn recent(&self, count: usize) -> impl DoubleEndedIterator<Item = Record<'_>> + '_ {
        let count = count.min(self.len);
        let first = (self.next + SLOTS - count) % SLOTS;
        (0..count).filter_map(move |offset| decode(&self.slots[(first + offset) % SLOTS]))
    }
}

impl<const SLOTS: usize, const SLOT_BYTES: usize> Default for LogRing<SLOTS, SLOT_BYTES> {
    fn default() -> Self {
        Self::new()
    }
}

/// Writes into a slot, never past its end.
struct Encoder<'a> {
    slot: &'a mut [u8],
    position: usize,
    is_truncated: bool,
}

impl Encoder<'_> {
    fn room(&self) -> usize {
        self.slot.len() - self.position
    }

    /// Callers check `room()` first; this stays panic-free regardless.
    fn put(&mut self, bytes: &[u8]) {
        let end = (self.position + bytes.len()).min(self.slot.len());
        let taken = end - self.position;
        self.slot[self.position..end].copy_from_slice(&bytes[..taken]);
        self.position = end;
    }

    /// A length-prefixed string, cut to fit (without splitting a UTF-8
    /// sequence) while leaving `reserve` bytes free for what must follow.
    /// Writes nothing if not even the prefix fits.
    fn put_text(&mut self, bytes: &[u8], reserve: usize) {
        let Some(room) = self.room().checked_sub(2 + reserve) else {
            self.is_truncated = true;
            return;
        };
        let kept = utf8_floor(bytes, room);
        if kept < bytes.len() {
            self.is_truncated = true;
        }
        // kept <= SLOT_BYTES <= u16::MAX (checked by SIZES_OK).
        self.put(&(kept as u16).to_le_bytes());
        self.put(&bytes[..kept]);
    }
}

fn encode(record: &Record<'_>, slot: &mut [u8]) {
    let mut encoder = Encoder {
        slot,
        position: 0,
        is_truncated: record.is_truncated(),
    };
    encoder.put(&record.ts_us.to_le_bytes());
    encoder.put(&[record.level as u8, 0, 0]);
    // SIZES_OK leaves room for both length prefixes after the header; the
    // subsystem leaves the status's prefix free so the slot always decodes.
    encoder.put_text(record.subsystem.as_bytes(), 2);
    encoder.put_text(record.status.as_bytes(), 0);
    let mut field_count: u8 = 0;
    for field in record.fields() {
        // A field is kept only if its key fits whole and its value (or, for
        // text, its length prefix) fits after it.
        let value_bytes = match field.value {
            Value::Str(_) | Value::Bytes(_) => 2,
            Value::Int(_) | Value::Uint(_) => 8,
            Value::Bool(_) => 1,
        };
        if encoder.room() < 2 + field.key.len() + 1 + value_bytes {
            encoder.is_truncated = true;
            break;
        }
        encoder.put_text(field.key.as_bytes(), 0);
        match field.value {
            Value::Str(text) => {
                encoder.put(&[TAG_STR]);
                encoder.put_text(text.as_bytes(), 0);
            }
            Value::Bytes(bytes) => {
                encoder.put(&[TAG_BYTES]);
                encoder.put_text(bytes, 0);
            }
            Value::Int(number) => {
                encoder.put(&[TAG_INT]);
                encoder.put(&number.to_le_bytes());
            }
            Value::Uint(number) => {
                encoder.put(&[TAG_UINT]);
                encoder.put(&number.to_le_bytes());
            }
            Value::Bool(flag) => encoder.put(&[TAG_BOOL, u8::from(flag)]),
        }
        field_count += 1;
    }
    let flags = if encoder.is_truncated {
        FLAG_TRUNCATED
    } else {
        0
    };
    encoder.slot[9] = flags;
    encoder.slot[10] = field_count;
}

/// Reads from a slot; every read is bounds-checked, so a corrupt slot gives
/// `None` instead of a panic.
struct Decoder<'a> {
    slot: &'a [u8],
    position: usize,
}

impl<'a> Decoder<'a> {
    fn take(&mut self, count: usize) -> Option<&'a [u8]> {
        let bytes = self
            .slot
            .get(self.position..self.position.checked_add(count)?)?;
        self.position += count;
        Some(bytes)
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn word(&mut self) -> Option<[u8; 8]> {
        self.take(8)?.try_into().ok()
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let length = u16::from_le_bytes(self.take(2)?.try_into().ok()?);
        self.take(usize::from(length))
    }

    fn text(&mut self) -> Option<&'a str> {
        core::str::from_utf8(self.bytes()?).ok()
    }
}

fn decode(slot: &[u8]) -> Option<Record<'_>> {
    let mut decoder = Decoder { slot, position: 0 };
    let ts_us = u64::from_le_bytes(decoder.word()?);
    let level = Level::from_u8(decoder.byte()?)?;
    let flags = decoder.byte()?;
    let field_count = decoder.byte()?;
    let subsystem = decoder.text()?;
    let status = decoder.text()?;
    let mut record = Record::new(ts_us, level, subsystem, status);
    if flags & FLAG_TRUNCATED != 0 {
        record.mark_truncated();
    }
    for _ in 0..field_count {
        let key = decoder.text()?;
        let value = match decoder.byte()? {
            TAG_STR => Value::Str(decoder.text()?),
            TAG_BYTES => Value::Bytes(decoder.bytes()?),
            TAG_INT => Value::Int(i64::from_le_bytes(decoder.word()?)),
            TAG_UINT => Value::Uint(u64::from_le_bytes(decoder.word()?)),
            TAG_BOOL => Value::Bool(decoder.byte()? != 0),
            _ => return None,
        };
        record.push(key, value);
    }
    Some(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::Format;
    use std::string::String;
    use std::vec::Vec;

    fn lines<const S: usize, const B: usize>(ring: &LogRing<S, B>, format: Format) -> Vec<String> {
        ring.iter()
            .map(|record| {
                let mut line = String::new();
                record.write(&mut line, format).unwrap();
                line
            })
            .collect()
    }

    #[test]
    fn a_stored_record_replays_exactly_in_both_formats() {
        let mut ring = LogRing::<4, 256>::new();
        let record = Record::new(42, Level::Warn, "fs", "mounted")
            .with("name", "é/😀")
            .with("raw", &b"\xff\x00"[..])
            .with("delta", -7i64)
            .with("size", u64::MAX)
            .with("ok", true);
        ring.push(&record);
        for format in [Format::Human, Format::Json] {
            let mut expected = String::new();
            record.write(&mut expected, format).unwrap();
            assert_eq!(lines(&ring, format), [expected]);
        }
    }

    #[test]
    fn iterates_oldest_to_newest_and_counts_overwritten_records() {
        let mut ring = LogRing::<3, 64>::new();
        assert!(ring.is_empty());
        for ts in 0..5u64 {
            ring.push(&Record::new(ts, Level::Info, "t", "tick"));
        }
        let stamps: Vec<u64> = ring.iter().map(|record| record.ts_us).collect();
        assert_eq!(stamps, [2, 3, 4]);
        assert_eq!(ring.overwritten(), 2);
        assert_eq!(ring.len(), 3);
        let last_two: Vec<u64> = ring.recent(2).map(|record| record.ts_us).collect();
        assert_eq!(last_two, [3, 4]);
        let newest_first: Vec<u64> = ring.iter().rev().map(|record| record.ts_us).collect();
        assert_eq!(newest_first, [4, 3, 2]);
        assert_eq!(ring.recent(99).count(), 3);
        ring.clear();
        assert_eq!(ring.iter().count(), 0);
        assert_eq!(ring.overwritten(), 0);
    }

    #[test]
    fn long_records_are_cut_at_a_char_boundary_and_marked() {
        let mut ring = LogRing::<2, 40>::new();
        let status = "ééééééééééééééééééééééééééééé"; // 58 bytes
        ring.push(&Record::new(1, Level::Error, "sub", status).with("never", "fits"));
        let stored = ring.iter().next().unwrap();
        assert!(stored.is_truncated());
        assert!(status.starts_with(stored.status));
        assert!(!stored.status.is_empty());
        assert_eq!(stored.fields().len(), 0);
        let line = lines(&ring, Format::Json).remove(0);
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["truncated"], true);
    }

    #[test]
    fn fields_are_kept_in_order_while_they_fit() {
        let mut ring = LogRing::<1, 64>::new();
        let record = Record::new(1, Level::Info, "s", "x")
            .with("a", 1u8)
            .with(
                "b",
                "a long value that will not fit in what is left of the slot",
            )
            .with("c", 3u8);
        ring.push(&record);
        let stored = ring.iter().next().unwrap();
        assert!(stored.is_truncated());
        assert_eq!(stored.fields()[0].value, Value::Uint(1));
        assert_eq!(stored.fields()[1].key, "b");
        match stored.fields()[1].value {
            Value::Str(text) => assert!(text.starts_with("a long") && text.len() < 40),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn every_cut_of_every_record_decodes() {
        // Sweep slot sizes so every field and string hits the slot's end.
        fn check<const B: usize>() {
            let mut ring = LogRing::<1, B>::new();
            let record = Record::new(9, Level::Debug, "subsystem😀", "status with é")
                .with("k1", "v😀alue")
                .with("k2", &b"\xe2\x82\xac\xe2\x82"[..])
                .with("k3", 5i8)
                .with("k4", true);
            ring.push(&record);
            let stored = ring.iter().next().expect("decodes");
            assert!(record.status.starts_with(stored.status));
            let mut line = String::new();
            stored.write_json(&mut line).unwrap();
            serde_json::from_str::<serde_json::Value>(&line).unwrap();
        }
        macro_rules! sweep { ($($b:literal)*) => { $(check::<$b>();)* } }
        sweep!(27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64 65 66 67 68 69 70 71 72 80 96 128);
    }

    #[test]
    fn corrupt_slots_decode_to_none_instead_of_panicking() {
        assert!(decode(&[]).is_none());
        assert!(decode(&[0xff; 64]).is_none());
        let mut slot = [0u8; 64];
        slot[8] = 2; // INFO
        slot[10] = 200; // more fields than bytes
        assert!(decode(&slot).is_none());
    }
}
