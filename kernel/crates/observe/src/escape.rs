//! String escaping for the two log formats and the metric formats, plus safe UTF-8 truncation.
//!
//! Every writer here guarantees its output holds no control character at all
//! (C0, DEL or C1; so no newline, no SOH, no terminal escape): a log line
//! stays one line, and nothing a subsystem logs can forge a framing marker
//! (docs/PROTOCOL.md) or drive the reader's terminal. Bytes that are not
//! valid UTF-8 become U+FFFD, the way `String::from_utf8_lossy` does it.

use core::fmt::{self, Write};

/// Writes `text` as a JSON string literal, quotes included (RFC 8259 §7):
/// `"` and `\` are escaped, control characters (C0, DEL, C1) become `\u00XX`.
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

/// The inside of a JSON string (no quotes): runs of plain text are written
/// in one call.
pub(crate) fn write_json_body<W: Write + ?Sized>(sink: &mut W, text: &str) -> fmt::Result {
    let mut plain_start = 0;
    for (index, character) in text.char_indices() {
        let short = match character {
            '"' => "\\\"",
            '\\' => "\\\\",
            _ if character.is_control() => "",
            _ => continue,
        };
        sink.write_str(&text[plain_start..index])?;
        if short.is_empty() {
            // Controls (C0, DEL, C1) all lie below U+00A0: four hex digits.
            write!(sink, "\\u{:04x}", u32::from(character))?;
        } else {
            sink.write_str(short)?;
        }
        plain_start = index + character.len_utf8();
    }
    sink.write_str(&text[plain_start..])
}

/// How a string is placed in a human log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HumanStyle {
    /// Written as is (subsystem, status); only control characters are escaped.
    Bare,
    /// A `key=value` token in logfmt style: quoted when empty or when it
    /// holds a space, `"`, `=`, `\` or a control character, so the line
    /// splits back unambiguously.
    Token,
}

/// Writes text for a human log line: C0 controls and DEL become `\xNN`, C1
/// controls `\u{NNNN}` (inside quotes `"` and `\` are escaped too); invalid
/// UTF-8 becomes U+FFFD.
pub fn write_human_bytes<W: Write + ?Sized>(
    sink: &mut W,
    bytes: &[u8],
    style: HumanStyle,
) -> fmt::Result {
    let is_quoted = style == HumanStyle::Token
        && (bytes.is_empty()
            || bytes.utf8_chunks().any(|chunk| {
                chunk.valid().chars().any(|character| {
                    matches!(character, ' ' | '"' | '=' | '\\') || character.is_control()
                })
            }));
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
    for (index, character) in text.char_indices() {
        let is_special = is_quoted && matches!(character, '"' | '\\');
        if !character.is_control() && !is_special {
            continue;
        }
        sink.write_str(&text[plain_start..index])?;
        match u32::from(character) {
            code @ (0..=0x1f | 0x7f) => write!(sink, "\\x{code:02x}")?,
            code if character.is_control() => write!(sink, "\\u{{{code:04x}}}")?,
            _ => write!(sink, "\\{character}")?,
        }
        plain_start = index + character.len_utf8();
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
            _ if character.is_control() => sink.write_char(char::REPLACEMENT_CHARACTER)?,
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
        assert_eq!(
            json("\n\r\t\x01\x1f\x7f"),
            r#""\u000a\u000d\u0009\u0001\u001f\u007f""#
        );
        assert_eq!(
            json("\u{80}\u{9b}\u{9f}\u{a0}"),
            "\"\\u0080\\u009b\\u009f\u{a0}\""
        );
        assert_eq!(json("é€😀"), "\"é€😀\"");
        assert_eq!(json(""), "\"\"");
    }

    #[test]
    fn json_of_any_string_parses_back_to_the_same_string() {
        let nasty = [
            "\u{0}\u{1}sis:begin 1 x",
            "\"}{\"",
            "\\u0000",
            "\u{2028}\u{2029}",
            "😀\u{7f}",
        ];
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
        assert_eq!(
            human(b"say \"hi\"\\", HumanStyle::Token),
            r#""say \"hi\"\\""#
        );
        assert_eq!(
            human(b"\x01sis:end 1 0\r\n", HumanStyle::Token),
            r#""\x01sis:end 1 0\x0d\x0a""#
        );
        assert_eq!(human(b"a\"b c\x1b", HumanStyle::Bare), "a\"b c\\x1b");
        assert_eq!(human(b"bad\xffutf8", HumanStyle::Bare), "bad\u{fffd}utf8");
        assert_eq!(
            human("csi\u{9b}".as_bytes(), HumanStyle::Bare),
            "csi\\u{009b}"
        );
        assert_eq!(
            human("csi\u{9b}".as_bytes(), HumanStyle::Token),
            "\"csi\\u{009b}\""
        );
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

    /// Deterministic pseudo-random byte strings, biased towards the bytes
    /// that need care (controls, quotes, backslashes, UTF-8 lead and
    /// continuation bytes).
    fn random_byte_strings(count: usize) -> impl Iterator<Item = std::vec::Vec<u8>> {
        const INTERESTING: &[u8] =
            b"\x00\x01\n\r\x1b\x7f\"\\= a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xed\xa0\x80\xff\xc0";
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        (0..count).map(move |_| {
            let mut next = || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state
            };
            let length = (next() % 24) as usize;
            (0..length)
                .map(|_| {
                    let pick = next();
                    if pick % 3 == 0 {
                        (pick >> 16) as u8
                    } else {
                        INTERESTING[(pick >> 8) as usize % INTERESTING.len()]
                    }
                })
                .collect()
        })
    }

    #[test]
    fn any_bytes_make_valid_json_and_control_free_human_text() {
        for bytes in random_byte_strings(20_000) {
            let parsed: String = serde_json::from_str(&json_bytes(&bytes)).unwrap();
            assert_eq!(parsed, String::from_utf8_lossy(&bytes));
            for style in [HumanStyle::Bare, HumanStyle::Token] {
                let text = human(&bytes, style);
                assert!(!text.chars().any(char::is_control), "{bytes:?} -> {text:?}");
            }
        }
    }

    #[test]
    fn utf8_floor_never_splits_a_character() {
        let text = "aé€😀";
        for limit in 0..=text.len() + 2 {
            let cut = truncate_str(text, limit);
            assert!(cut.len() <= limit);
            assert!(text.starts_with(cut));
            // The cut keeps every whole character that fits.
            let best = (0..=limit.min(text.len()))
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap();
            assert_eq!(cut.len(), best, "limit {limit}");
        }
        // Arbitrary bytes: never backs off more than three bytes.
        let bytes = [0x80u8; 10];
        assert_eq!(utf8_floor(&bytes, 5), 5);
        assert_eq!(utf8_floor(b"ab\xf0\x9f\x98\x80", 4), 2);
    }
}
