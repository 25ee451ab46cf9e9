//! A byte-at-a-time line editor with a fixed 1024-byte buffer.
//!
//! Keys (docs/PROTOCOL.md, "Human mode"): printable ASCII and bytes >= 0x80
//! are accepted and echoed; backspace (0x08, 0x7f) erases one character;
//! Ctrl-U (0x15) clears the line; Ctrl-C (0x03) cancels it; CR or LF submits
//! (CR LF counts once). Escape sequences are consumed and ignored; every
//! other control byte is dropped, which is what keeps a typed SOH (0x01) from
//! ever forging a framing marker.

use core::fmt;

use sis_abi::Errno;

/// Longest line the editor holds, in bytes.
pub const LINE_CAPACITY_BYTES: usize = 1024;

/// Longest CSI sequence (after `ESC [`) the editor waits for before giving
/// up on it. Real terminals send at most a dozen bytes; the bound is what
/// guarantees a stream of parameter bytes cannot keep the editor deaf.
const MAX_CSI_BYTES: usize = 32;

const CTRL_C: u8 = 0x03;
const BACKSPACE: u8 = 0x08;
const CTRL_U: u8 = 0x15;
const ESC: u8 = 0x1b;
const DEL: u8 = 0x7f;

/// What the caller should do after feeding one byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing to print.
    None,
    /// The byte was added to the line: echo it.
    Echo(u8),
    /// One character was erased: print [`Action::ERASE`].
    Erase,
    /// The line was cleared (Ctrl-U): erase `erased_chars` characters on
    /// screen (print [`Action::ERASE`] that many times).
    ClearLine { erased_chars: usize },
    /// The line was abandoned (Ctrl-C): print `^C`, a new line and a prompt.
    Cancel,
    /// The line is complete: print a new line and call
    /// [`LineEditor::take_line`].
    Submit,
}

impl Action {
    /// Moves the cursor back, blanks the character, moves back again.
    pub const ERASE: &'static [u8] = b"\x08 \x08";
}

/// Why a submitted line is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineError {
    /// More than [`LINE_CAPACITY_BYTES`] bytes were typed. → `E2BIG`
    TooLong,
    /// The line is not valid UTF-8. → `EINVAL`
    InvalidUtf8,
}

impl LineError {
    pub const fn errno(self) -> Errno {
        match self {
            LineError::TooLong => Errno::E2BIG,
            LineError::InvalidUtf8 => Errno::EINVAL,
        }
    }
}

impl fmt::Display for LineError {
    /// One line for `error: …`: `E2BIG: line longer than 1024 bytes`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.errno().name();
        match self {
            LineError::TooLong => {
                write!(f, "{name}: line longer than {LINE_CAPACITY_BYTES} bytes")
            }
            LineError::InvalidUtf8 => write!(f, "{name}: line is not valid UTF-8"),
        }
    }
}

/// The submitted line as text, or `InvalidUtf8` (→ `EINVAL`).
pub fn line_as_str(line: &[u8]) -> Result<&str, LineError> {
    core::str::from_utf8(line).map_err(|_| LineError::InvalidUtf8)
}

/// Where the editor is inside an escape sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EscapeState {
    /// Not in a sequence.
    Ground,
    /// After ESC.
    Escape,
    /// After `ESC [`, having consumed `length` parameter/intermediate bytes.
    Csi { length: usize },
    /// After `ESC O` (SS3): one more byte ends the sequence.
    Ss3,
}

/// The line being typed. See the module documentation for the keys.
#[derive(Clone, Debug)]
pub struct LineEditor {
    buffer: [u8; LINE_CAPACITY_BYTES],
    length: usize,
    /// More bytes were typed than fit: the rest of the line is dropped and
    /// submitting it yields [`LineError::TooLong`].
    is_overflowed: bool,
    /// A line was submitted and not yet taken.
    is_submitted: bool,
    /// The previous byte was a CR, so an LF right after it is not a second line.
    is_after_cr: bool,
    escape: EscapeState,
}

impl Default for LineEditor {
    fn default() -> Self {
        LineEditor::new()
    }
}

/// UTF-8 continuation bytes (10xxxxxx) do not start a character on screen.
const fn is_continuation(byte: u8) -> bool {
    byte & 0xc0 == 0x80
}

impl LineEditor {
    pub const fn new() -> Self {
        LineEditor {
            buffer: [0; LINE_CAPACITY_BYTES],
            length: 0,
            is_overflowed: false,
            is_submitted: false,
            is_after_cr: false,
            escape: EscapeState::Ground,
        }
    }

    /// The bytes typed so far on the current line.
    pub fn line(&self) -> &[u8] {
        &self.buffer[..self.length]
    }

    /// Whether the current line has overflowed.
    pub fn is_overflowed(&self) -> bool {
        self.is_overflowed
    }

    /// Hands out the line after [`Action::Submit`] (None if no line is
    /// waiting) and starts an empty one. A line that overflowed comes out as
    /// `Err(LineError::TooLong)`. A submitted line that is not taken is
    /// discarded by the next `feed`.
    pub fn take_line(&mut self) -> Option<Result<&[u8], LineError>> {
        if !self.is_submitted {
            return None;
        }
        let length = self.length;
        let is_overflowed = self.is_overflowed;
        self.clear();
        Some(if is_overflowed {
            Err(LineError::TooLong)
        } else {
            Ok(&self.buffer[..length])
        })
    }

    /// Empties the line (escape and CR state are kept: they are about the
    /// byte stream, not the line).
    fn clear(&mut self) {
        self.length = 0;
        self.is_overflowed = false;
        self.is_submitted = false;
    }

    /// Takes one received byte and says what to print.
    pub fn feed(&mut self, byte: u8) -> Action {
        let is_after_cr = core::mem::replace(&mut self.is_after_cr, false);
        if byte == b'\n' && is_after_cr {
            // The LF of a CR LF: the line was already submitted by the CR
            // (and stays available to take_line).
            return Action::None;
        }
        if self.is_submitted {
            self.clear();
        }
        // Escape sequences first. A byte that cannot continue the sequence
        // ends it and is then handled as ordinary input, so a lost final byte
        // never swallows the user's Enter or Ctrl-C.
        match self.escape {
            EscapeState::Ground => {}
            EscapeState::Escape => {
                self.escape = EscapeState::Ground;
                match byte {
                    b'[' => {
                        self.escape = EscapeState::Csi { length: 0 };
                        return Action::None;
                    }
                    b'O' => {
                        self.escape = EscapeState::Ss3;
                        return Action::None;
                    }
                    0x00..=0x1f | DEL => {}
                    // ESC + one byte (e.g. Alt-x): consumed.
                    _ => return Action::None,
                }
            }
            EscapeState::Csi { length } => match byte {
                // Final byte (ECMA-48 5.4).
                0x40..=0x7e => {
                    self.escape = EscapeState::Ground;
                    return Action::None;
                }
                // Parameter and intermediate bytes.
                0x20..=0x3f => {
                    self.escape = if length + 1 >= MAX_CSI_BYTES {
                        EscapeState::Ground
                    } else {
                        EscapeState::Csi { length: length + 1 }
                    };
                    return Action::None;
                }
                _ => self.escape = EscapeState::Ground,
            },
            EscapeState::Ss3 => {
                self.escape = EscapeState::Ground;
                if (0x20..=0x7e).contains(&byte) {
                    return Action::None;
                }
            }
        }
        self.feed_ground(byte)
    }

    fn feed_ground(&mut self, byte: u8) -> Action {
        match byte {
            b'\r' | b'\n' => {
                self.is_after_cr = byte == b'\r';
                self.is_submitted = true;
                Action::Submit
            }
            CTRL_C => {
                self.clear();
                Action::Cancel
            }
            CTRL_U => {
                let erased_chars = self.line().iter().filter(|&&b| !is_continuation(b)).count();
                self.clear();
                Action::ClearLine { erased_chars }
            }
            BACKSPACE | DEL => {
                // An overflowed line is lost anyway; erasing would only make
                // the screen disagree with what gets refused.
                if self.is_overflowed || self.length == 0 {
                    Action::None
                } else {
                    self.erase_char();
                    Action::Erase
                }
            }
            ESC => {
                self.escape = EscapeState::Escape;
                Action::None
            }
            0x00..=0x1f => Action::None,
            _ if self.is_overflowed => Action::None,
            _ if self.length == LINE_CAPACITY_BYTES => {
                self.is_overflowed = true;
                Action::None
            }
            _ => {
                self.buffer[self.length] = byte;
                self.length += 1;
                Action::Echo(byte)
            }
        }
    }

    /// Removes the last character: one byte, or a UTF-8 lead byte with its
    /// continuation bytes (at most 4 bytes), so one backspace erases one
    /// column of a multi-byte character.
    fn erase_char(&mut self) {
        let mut removed = 0;
        while self.length > 0 && removed < 4 {
            self.length -= 1;
            removed += 1;
            let byte = self.buffer[self.length];
            let is_previous_ascii = self.length == 0 || self.buffer[self.length - 1] < 0x80;
            if !is_continuation(byte) || is_previous_ascii {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `bytes` and returns the actions.
    fn feed_all(editor: &mut LineEditor, bytes: &[u8]) -> Vec<Action> {
        bytes.iter().map(|&b| editor.feed(b)).collect()
    }

    /// Feeds `bytes` and returns the line taken after the last Submit.
    fn submit(bytes: &[u8]) -> Result<Vec<u8>, LineError> {
        let mut editor = LineEditor::new();
        let actions = feed_all(&mut editor, bytes);
        assert_eq!(
            actions.last(),
            Some(&Action::Submit),
            "input must end in a submit"
        );
        editor.take_line().unwrap().map(|line| line.to_vec())
    }

    #[test]
    fn typed_bytes_are_echoed_and_submitted() {
        let mut editor = LineEditor::new();
        assert_eq!(
            feed_all(&mut editor, b"ls\r"),
            [Action::Echo(b'l'), Action::Echo(b's'), Action::Submit]
        );
        assert_eq!(editor.take_line(), Some(Ok(&b"ls"[..])));
        assert_eq!(editor.take_line(), None, "a line is handed out once");
    }

    #[test]
    fn cr_lf_counts_once_but_lf_lf_is_two_lines() {
        let mut editor = LineEditor::new();
        assert_eq!(
            feed_all(&mut editor, b"a\r\n"),
            [Action::Echo(b'a'), Action::Submit, Action::None]
        );
        assert_eq!(
            editor.take_line(),
            Some(Ok(&b"a"[..])),
            "the LF kept the line"
        );
        assert_eq!(editor.take_line(), None, "and did not submit another one");
        let mut editor = LineEditor::new();
        editor.feed(b'a');
        assert_eq!(editor.feed(b'\r'), Action::Submit);
        assert_eq!(editor.take_line(), Some(Ok(&b"a"[..])));
        assert_eq!(editor.feed(b'\n'), Action::None);
        assert_eq!(editor.feed(b'\n'), Action::Submit);
        assert_eq!(editor.take_line(), Some(Ok(&b""[..])));
        assert_eq!(editor.feed(b'\r'), Action::Submit);
        assert_eq!(editor.feed(b'\r'), Action::Submit, "CR CR is two lines");
        assert_eq!(submit(b"x\n"), Ok(b"x".to_vec()));
    }

    #[test]
    fn backspace_and_delete_erase_one_character() {
        let mut editor = LineEditor::new();
        feed_all(&mut editor, b"abc");
        assert_eq!(editor.feed(0x08), Action::Erase);
        assert_eq!(editor.feed(0x7f), Action::Erase);
        assert_eq!(editor.line(), b"a");
        assert_eq!(editor.feed(0x7f), Action::Erase);
        assert_eq!(editor.feed(0x7f), Action::None, "nothing left to erase");
        assert_eq!(submit(b"ab\x7fc\r"), Ok(b"ac".to_vec()));
    }

    #[test]
    fn backspace_erases_a_whole_utf8_character() {
        let mut editor = LineEditor::new();
        feed_all(&mut editor, "aé€😀".as_bytes());
        for expected in ["aé€", "aé", "a", ""] {
            assert_eq!(editor.feed(0x7f), Action::Erase);
            assert_eq!(editor.line(), expected.as_bytes());
        }
        // A stray continuation byte after ASCII is one character.
        feed_all(&mut editor, b"a\x80");
        editor.feed(0x7f);
        assert_eq!(editor.line(), b"a");
    }

    #[test]
    fn ctrl_u_clears_and_counts_columns() {
        let mut editor = LineEditor::new();
        feed_all(&mut editor, "héllo".as_bytes());
        assert_eq!(editor.feed(0x15), Action::ClearLine { erased_chars: 5 });
        assert_eq!(editor.line(), b"");
        assert_eq!(submit(b"junk\x15ok\r"), Ok(b"ok".to_vec()));
    }

    #[test]
    fn ctrl_c_cancels_the_line() {
        let mut editor = LineEditor::new();
        feed_all(&mut editor, b"rm -rf");
        assert_eq!(editor.feed(0x03), Action::Cancel);
        assert_eq!(editor.line(), b"");
        assert_eq!(
            editor.take_line(),
            None,
            "a cancelled line is not submitted"
        );
        assert_eq!(submit(b"no\x03yes\r"), Ok(b"yes".to_vec()));
    }

    #[test]
    fn other_control_bytes_are_dropped_including_soh() {
        let mut editor = LineEditor::new();
        for byte in [0x00, 0x01, 0x02, 0x04, 0x07, b'\t', 0x0b, 0x0c, 0x1f] {
            assert_eq!(editor.feed(byte), Action::None, "byte {byte:#x}");
        }
        assert_eq!(submit(b"a\x01b\tc\r"), Ok(b"abc".to_vec()));
    }

    #[test]
    fn high_bytes_are_accepted_and_checked_as_utf8_later() {
        assert_eq!(submit("grüß\r".as_bytes()), Ok("grüß".as_bytes().to_vec()));
        let line = submit(b"\xff\xfe\r").unwrap();
        assert_eq!(line_as_str(&line), Err(LineError::InvalidUtf8));
        assert_eq!(LineError::InvalidUtf8.errno(), Errno::EINVAL);
        assert_eq!(line_as_str(b"ok"), Ok("ok"));
    }

    #[test]
    fn escape_sequences_are_consumed() {
        // Arrows (CSI and SS3), Delete (CSI 3 ~), a colour report, Alt-x.
        assert_eq!(
            submit(b"a\x1b[A\x1b[3~\x1bOPb\x1b[38;5;200m\x1bxc\r"),
            Ok(b"abc".to_vec())
        );
        let mut editor = LineEditor::new();
        assert!(feed_all(&mut editor, b"\x1b[1;5D")
            .iter()
            .all(|a| *a == Action::None));
        assert_eq!(editor.line(), b"");
    }

    #[test]
    fn control_bytes_end_an_unfinished_escape_and_still_act() {
        // Enter, Ctrl-C and backspace work even right after an ESC, inside a
        // CSI or after SS3: a lost final byte never swallows them.
        assert_eq!(submit(b"a\x1b\r"), Ok(b"a".to_vec()));
        assert_eq!(submit(b"a\x1b[12\r"), Ok(b"a".to_vec()));
        assert_eq!(submit(b"a\x1bO\r"), Ok(b"a".to_vec()));
        assert_eq!(submit(b"ab\x1b[\x7f\r"), Ok(b"a".to_vec()));
        let mut editor = LineEditor::new();
        feed_all(&mut editor, b"x\x1b[5");
        assert_eq!(editor.feed(0x03), Action::Cancel);
        // ESC ESC: the second one starts a new sequence.
        assert_eq!(submit(b"\x1b\x1b[Aq\r"), Ok(b"q".to_vec()));
    }

    #[test]
    fn an_endless_csi_is_abandoned_after_the_bound() {
        let mut editor = LineEditor::new();
        editor.feed(ESC);
        editor.feed(b'[');
        for _ in 0..MAX_CSI_BYTES {
            assert_eq!(editor.feed(b'1'), Action::None);
        }
        assert_eq!(
            editor.feed(b'z'),
            Action::Echo(b'z'),
            "back to normal input"
        );
    }

    #[test]
    fn an_overflowing_line_is_refused_once_with_e2big() {
        let mut editor = LineEditor::new();
        for _ in 0..LINE_CAPACITY_BYTES {
            assert_eq!(editor.feed(b'x'), Action::Echo(b'x'));
        }
        assert!(!editor.is_overflowed(), "exactly the capacity still fits");
        assert_eq!(editor.feed(b'y'), Action::None);
        assert!(editor.is_overflowed());
        assert_eq!(
            editor.feed(0x7f),
            Action::None,
            "no erasing into a lost line"
        );
        assert_eq!(editor.feed(b'\r'), Action::Submit);
        let error = editor.take_line().unwrap().unwrap_err();
        assert_eq!(error, LineError::TooLong);
        assert_eq!(error.errno(), Errno::E2BIG);
        assert_eq!(error.to_string(), "E2BIG: line longer than 1024 bytes");
        // The next line is fine again.
        feed_all(&mut editor, b"ok\r");
        assert_eq!(editor.take_line(), Some(Ok(&b"ok"[..])));
    }

    #[test]
    fn a_full_line_of_exactly_capacity_is_accepted() {
        let mut bytes = vec![b'z'; LINE_CAPACITY_BYTES];
        bytes.push(b'\r');
        assert_eq!(submit(&bytes).unwrap().len(), LINE_CAPACITY_BYTES);
    }

    #[test]
    fn ctrl_c_and_ctrl_u_recover_from_overflow() {
        for key in [0x03, 0x15] {
            let mut editor = LineEditor::new();
            for _ in 0..=LINE_CAPACITY_BYTES {
                editor.feed(b'x');
            }
            assert!(editor.is_overflowed());
            editor.feed(key);
            assert!(!editor.is_overflowed());
            feed_all(&mut editor, b"ok\r");
            assert_eq!(editor.take_line(), Some(Ok(&b"ok"[..])));
        }
    }

    #[test]
    fn an_untaken_line_is_discarded_by_the_next_byte() {
        let mut editor = LineEditor::new();
        feed_all(&mut editor, b"old\r");
        feed_all(&mut editor, b"new\r");
        assert_eq!(editor.take_line(), Some(Ok(&b"new"[..])));
    }

    /// xorshift64: enough randomness for a reproducible byte stream without a dependency.
    fn next_random(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn random_byte_streams_never_panic_and_the_editor_always_recovers() {
        let mut state = 0x5eed_u64;
        for case in 0..20_000 {
            let mut editor = LineEditor::new();
            let length = (next_random(&mut state) % 3000) as usize;
            // Bias towards the interesting bytes: controls, ESC, '[', 'O'.
            for _ in 0..length {
                let r = next_random(&mut state);
                let byte = match r % 8 {
                    0 => 0x1b,
                    1 => b'[',
                    2 => (r >> 8) as u8 & 0x1f,
                    3 => b'0' + (r >> 8) as u8 % 10,
                    _ => (r >> 8) as u8,
                };
                let action = editor.feed(byte);
                assert!(editor.line().len() <= LINE_CAPACITY_BYTES);
                if let Action::Echo(echoed) = action {
                    assert_eq!(echoed, byte);
                    assert!(
                        echoed >= 0x20 && echoed != 0x7f,
                        "case {case}: echoed control {echoed:#x}"
                    );
                }
                if action == Action::Submit {
                    let _ = editor.take_line();
                }
            }
            // Whatever state the stream left: Ctrl-C then a line gets it back.
            editor.feed(0x03);
            for &byte in b"echo hi\r" {
                editor.feed(byte);
            }
            assert_eq!(editor.take_line(), Some(Ok(&b"echo hi"[..])), "case {case}");
        }
    }

    #[test]
    fn submitted_lines_never_contain_control_bytes() {
        let mut state = 0xdead_beef_u64;
        for _ in 0..10_000 {
            let mut editor = LineEditor::new();
            for _ in 0..200 {
                let byte = next_random(&mut state) as u8;
                if editor.feed(byte) == Action::Submit {
                    if let Some(Ok(line)) = editor.take_line() {
                        assert!(line.iter().all(|&b| b >= 0x20 && b != 0x7f), "{line:?}");
                    }
                }
            }
        }
    }
}
