//! String escaping for the two log formats and the metric formats, plus safe UTF-8 truncation.
//!
//! Every writer here guarantees its output holds no control character at all
//! (no newline, no SOH): a log line stays one line, and nothing a subsystem
//! logs can forge a framing marker (docs/PROTOCOL.md). Bytes that are not
//! valid UTF-8 become U+FFFD, the way `String::from_utf8_lossy` does it.

use core::fmt::{self, Write};

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// True for the bytes no output line may carry raw: C0 controls and DEL.
const fn is_control(byte: u8) -> bool {
    byte < 0x20 || byte == 0x7f
}

/// Writes `text` as a JSON string literal, quotes included (RFC 8259 §7):
/// `"` and `\` are escaped, control characters become `\u00XX`.
pub fn write_json_str<W: Write + ?Sized>(sink: &mut W, text: &str) -> fmt::Result {
    sink.write_char('"')?;
    write_json_body(sink, text)?;
    sink.write_char('"')
}

/// Writes bytes as a JSON string literal; invalid UTF-8 becomes U+FFFD, so
/// the result is valid JSON whatever the bytes are.
pub fn write_json_bytes<W: Write + ?Sized>(sink: &mut W, bytes: &[u8]) -> fmt::Result {
    sink.write_char('"')?;
    for chunk in bytes.utf8_chunks() {
        write_json_body(sink, chunk.valid())?;
        if !chunk.invalid().is_empty() {
            sink.write_char(char::REPLACEMENT_CHARACTER)?;
        }
    }
    sink.write_char('"')
}

/// The inside of a JSON string: runs of plain text are written in one call.
fn write_json_body<W: Write + ?Sized>(sink: &mut W, text: &str) -> fmt::Result {
    let mut plain_start = 0;
    for (index, byte) in text.bytes().enumerate() {
        let short = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            _ if is_control(byte) => "",
            _ => continue,
        };
        // Escaped bytes are ASCII, so `index` is a char boundary.
        sink.write_str(&text[plain_start..index])?;
        if short.is_empty() {
            write_unicode_escape(sink, byte)?;
        } else {
            sink.write_str(short)?;
        }
        plain_start = index + 1;
    }
    sink.write_str(&text[plain_start..])
}

fn write_unicode_escape<W: Write + ?Sized>(sink: &mut W, byte: u8) -> fmt::Result {
    sink.write_str("\\u00")?;
    sink.write_char(char::from(HEX_DIGITS[usize::from(byte >> 4)]))?;
    sink.write_char(char::from(HEX_DIGITS[usize::from(byte & 0xf)]))
}

/// How a string is placed in a human log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HumanStyle {
    /// Written as is (subsystem, status); only control characters are escaped.
    Bare,
    /// A `key=value` token in logfmt style: quoted when empty or when it
    /// holds a space, `"`, `=` or `\`, so the line splits back unambiguously.
    Token,
}

/// Writes text for a human log line: control characters become `\xNN`
/// (inside quotes `"` and `\` are escaped too); invalid UTF-8 becomes U+FFFD.
pub fn write_human_bytes<W: Write + ?Sized>(
    sink: &mut W,
    bytes: &[u8],
    style: HumanStyle,
) -> fmt::Result {
    let is_quoted = style == HumanStyle::Token
        && (bytes.is_empty()
            || bytes
                .iter()
                .any(|&byte| matches!(byte, b' ' | b'"' | b'=' | b'\\') || is_control(byte)));
    if is_quoted {
        sink.write_char('"')?;
    }
    for chunk in bytes.utf8_chunks() {
        write_human_body(sink, chunk.valid(), is_quoted)?;
        if !chunk.invalid().is_empty() {
            sink.write_char(char::REPLACEMENT_CHARACTER)?;
        }
    }
    if is_quoted {
        sink.write_char('"')?;
    }
    Ok(())
}

fn write_human_body<W: Write + ?Sized>(sink: &mut W, text: &str, is_quoted: bool) -> fmt::Result {
    let mut plain_start = 0;
    for (index, byte) in text.bytes().enumerate() {
        let needs_escape = is_control(byte) || (is_quoted && matches!(byte, b'"' | b'\\'));
        if !needs_escape {
            continue;
        }
        sink.write_str(&text[plain_start..index])?;
        if is_control(byte) {
            sink.write_str("\\x")?;
            sink.write_char(char::from(HEX_DIGITS[usize::from(byte >> 4)]))?;
            sink.write_char(char::from(HEX_DIGITS[usize::from(byte & 0xf)]))?;
        } else {
            sink.write_char('\\')?;
            sink.write_char(char::from(byte))?;
        }
        plain_start = index + 1;
    }
    sink.write_str(&text[plain_start..])
}

/// Writes a Prometheus label value or HELP text body (exposition format
/// 0.0.4): `\` → `\\`, newline → `\n`, and in label values `"` → `\"`.
/// Other control characters cannot be written escaped in that format, so they
/// become U+FFFD rather than breaking the line.
pub fn write_prometheus_text<W: Write + ?Sized>(
    sink: &mut W,
    text: &str,
    is_label_value: bool,
) -> fmt::Result {
    for character in text.chars() {
        match character {
            '\\' => sink.write_str("\\\\")?,
            '\n' => sink.write_str("\\n")?,
            '"' if is_label_value => sink.write_str("\\\"")?,
            _ if character.is_ascii_control() => sink.write_char(char::REPLACEMENT_CHARACTER)?,
            _ => sink.write_char(character)?,
        }
    }
    Ok(())
}

/// The longest prefix of `bytes` of at most `limit` bytes that does not end
/// inside a UTF-8 sequence: for a `str` it is a char boundary, and for other
/// bytes it keeps a cut from turning a valid character into U+FFFD.
pub fn utf8_floor(bytes: &[u8], limit: usize) -> usize {
    if limit >= bytes.len() {
        return bytes.len();
    }
    // A UTF-8 sequence has at most three continuation bytes (0b10xx_xxxx) after
    // its lead byte; never back off further, so arbitrary bytes still cut near `limit`.
    let mut cut = limit;
    while cut > 0 && limit - cut < 3 && bytes[cut] & 0xc0 == 0x80 {
        cut -= 1;
    }
    if bytes[cut] & 0xc0 == 0x80 {
        limit
    } else {
        cut
    }
}

/// `text` cut to at most `limit` bytes at a char boundary.
pub fn truncate_str(text: &str, limit: usize) -> &str {
    let cut = utf8_floor(text.as_bytes(), limit);
    // utf8_floor returns a char boundary for valid UTF-8; `get` keeps this
    // panic-free even if that reasoning were wrong.
    text.get(..cut).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    fn json(text: &str) -> String {
        let mut out = String::new();
        write_json_str(&mut out, text).unwrap();
        out
    }

    fn json_bytes(bytes: &[u8]) -> String {
        let mut out = String::new();
        write_json_bytes(&mut out, bytes).unwrap();
        out
    }

    fn human(bytes: &[u8], style: HumanStyle) -> String {
        let mut out = String::new();
        write_human_bytes(&mut out, bytes, style).unwrap();
        out
    }

    #[test]
    fn json_escapes_quotes_backslashes_and_controls() {
        assert_eq!(json("plain"), r#""plain""#);
        assert_eq!(json("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(json("\n\r\t\x01\x1f\x7f"), r#""\u000a\u000d\u0009\u0001\u001f\u007f""#);
        assert_eq!(json("é€😀"), "\"é€😀\"");
        assert_eq!(json(""), "\"\"");
    }

    #[test]
    fn json_of_any_string_parses_back_to_the_same_string() {
        let nasty = ["\u{0}\u{1}sis:begin 1 x", "\"}{\"", "\\u0000", "\u{2028}\u{2029}", "😀\u{7f}"];
        for text in nasty {
            let parsed: String = serde_json::from_str(&json(text)).unwrap();
            assert_eq!(parsed, text);
        }
    }

    #[test]
    fn json_bytes_replace_invalid_utf8_like_from_utf8_lossy() {
        let samples: [&[u8]; 6] = [
            b"ok",
            b"\xff",
            b"a\xc3",
            b"\xe2\x82",
            b"x\xf0\x9f\x98\x80\xed\xa0\x80y",
            b"\xc0\xaf\"\x00",
        ];
        for bytes in samples {
            let parsed: String = serde_json::from_str(&json_bytes(bytes)).unwrap();
            assert_eq!(parsed, String::from_utf8_lossy(bytes), "{bytes:?}");
        }
    }

    #[test]
    fn human_tokens_quote_only_when_needed_and_never_carry_controls() {
        assert_eq!(human(b"mounted", HumanStyle::Token), "mounted");
        assert_eq!(human(b"", HumanStyle::Token), "\"\"");
        assert_eq!(human(b"a b", HumanStyle::Token), "\"a b\"");
        assert_eq!(human(b"k=v", HumanStyle::Token), "\"k=v\"");
        assert_eq!(human(b"say \"hi\"\\", HumanStyle::Token), r#""say \"hi\"\\""#);
        assert_eq!(human(b"\x01sis:end 1 0\r\n", HumanStyle::Token), r#""\x01sis:end 1 0\x0d\x0a""#);
        assert_eq!(human(b"a\"b c\x1b", HumanStyle::Bare), "a\"b c\\x1b");
        assert_eq!(human(b"bad\xffutf8", HumanStyle::Bare), "bad\u{fffd}utf8");
    }

    #[test]
    fn prometheus_text_escapes_per_format_004() {
        let mut out = String::new();
        write_prometheus_text(&mut out, "a\\b\n\"c\"\x01", true).unwrap();
        assert_eq!(out, "a\\\\b\\n\\\"c\\\"\u{fffd}");
        out.clear();
        write_prometheus_text(&mut out, "say \"hi\"", false).unwrap();
        assert_eq!(out, "say \"hi\"");
    }

    #[test]
    fn utf8_floor_never_splits_a_character() {
        let text = "aé€😀";
        for limit in 0..=text.len() + 2 {
            let cut = truncate_str(text, limit);
            assert!(cut.len() <= limit);
            assert!(text.starts_with(cut));
            // The cut keeps every whole character that fits.
            let best = (0..=limit.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap();
            assert_eq!(cut.len(), best, "limit {limit}");
        }
        // Arbitrary bytes: never backs off more than three bytes.
        let bytes = [0x80u8; 10];
        assert_eq!(utf8_floor(&bytes, 5), 5);
        assert_eq!(utf8_floor(b"ab\xf0\x9f\x98\x80", 4), 2);
    }
}
