//! Splits a command line into words and an optional trailing redirection.
//!
//! Grammar, deliberately small:
//! - words are separated by spaces and tabs;
//! - `"…"` and `'…'` group text into one word, literally (no escapes, no
//!   variables); quoted and unquoted parts next to each other join
//!   (`a"b c"` is the word `ab c`); `""` is an empty word;
//! - an unquoted `>` or `>>` starts the redirection (`> path`, `>path`,
//!   `>> path`); it must be the last thing on the line, and there is at most
//!   one;
//! - at most [`MAX_WORDS`] words; the parser stops at the first word over
//!   the limit, so no input makes it allocate more than that.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::iter::Peekable;
use core::str::Chars;

use sis_abi::Errno;

/// Most words a command line may have (docs/PROTOCOL.md).
pub const MAX_WORDS: usize = 128;

/// A parsed command line. `argv` is empty for a blank line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommandLine {
    pub argv: Vec<String>,
    pub redirect: Option<Redirect>,
}

/// `> path` (truncate) or `>> path` (append). The path is as typed; the
/// shell resolves it against its working directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    pub path: String,
    pub is_append: bool,
}

/// Why a line cannot be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// A quote was opened and never closed. → `EINVAL`
    UnterminatedQuote { quote: char },
    /// More than [`MAX_WORDS`] words. → `E2BIG`
    TooManyWords,
    /// `>` or `>>` with no path after it. → `EINVAL`
    MissingRedirectPath,
    /// Something follows the redirection's path (a word or a second
    /// redirection). → `EINVAL`
    RedirectNotLast,
    /// A redirection with no command before it. → `EINVAL`
    RedirectWithoutCommand,
}

impl ParseError {
    pub const fn errno(self) -> Errno {
        match self {
            ParseError::TooManyWords => Errno::E2BIG,
            _ => Errno::EINVAL,
        }
    }
}

impl fmt::Display for ParseError {
    /// One line for `error: …`, starting with the errno's name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.errno().name())?;
        match self {
            ParseError::UnterminatedQuote { quote } => write!(f, "unterminated {quote} quote"),
            ParseError::TooManyWords => write!(f, "more than {MAX_WORDS} words"),
            ParseError::MissingRedirectPath => write!(f, "missing file name after '>'"),
            ParseError::RedirectNotLast => write!(f, "a redirection must end the line"),
            ParseError::RedirectWithoutCommand => write!(f, "redirection without a command"),
        }
    }
}

const fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Parses one command line; see the module documentation for the grammar.
pub fn parse(line: &str) -> Result<CommandLine, ParseError> {
    let mut chars = line.chars().peekable();
    let mut argv: Vec<String> = Vec::new();
    // Some(is_append) once `>`/`>>` was seen; the path comes after it.
    let mut redirect_is_append: Option<bool> = None;
    let mut redirect_path: Option<String> = None;
    loop {
        while chars.next_if(|&c| is_separator(c)).is_some() {}
        match chars.peek() {
            None => break,
            Some('>') => {
                chars.next();
                let is_append = chars.next_if_eq(&'>').is_some();
                if redirect_is_append.is_some() {
                    return Err(ParseError::RedirectNotLast);
                }
                redirect_is_append = Some(is_append);
            }
            Some(_) => {
                let word = read_word(&mut chars)?;
                if redirect_path.is_some() {
                    return Err(ParseError::RedirectNotLast);
                } else if redirect_is_append.is_some() {
                    redirect_path = Some(word);
                } else if argv.len() == MAX_WORDS {
                    return Err(ParseError::TooManyWords);
                } else {
                    argv.push(word);
                }
            }
        }
    }
    let redirect = match (redirect_is_append, redirect_path) {
        (None, _) => None,
        (Some(_), None) => return Err(ParseError::MissingRedirectPath),
        (Some(is_append), Some(path)) => Some(Redirect { path, is_append }),
    };
    if redirect.is_some() && argv.is_empty() {
        return Err(ParseError::RedirectWithoutCommand);
    }
    Ok(CommandLine { argv, redirect })
}

/// Reads one word, joining quoted and unquoted parts, up to an unquoted
/// separator or `>`.
fn read_word(chars: &mut Peekable<Chars<'_>>) -> Result<String, ParseError> {
    let mut word = String::new();
    while let Some(&c) = chars.peek() {
        match c {
            '>' => break,
            c if is_separator(c) => break,
            '"' | '\'' => {
                chars.next();
                loop {
                    match chars.next() {
                        None => return Err(ParseError::UnterminatedQuote { quote: c }),
                        Some(q) if q == c => break,
                        Some(other) => word.push(other),
                    }
                }
            }
            _ => {
                word.push(c);
                chars.next();
            }
        }
    }
    Ok(word)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn words(line: &str) -> Vec<String> {
        let parsed = parse(line).unwrap();
        assert_eq!(parsed.redirect, None);
        parsed.argv
    }

    fn redirect(path: &str, is_append: bool) -> Option<Redirect> {
        Some(Redirect {
            path: path.to_string(),
            is_append,
        })
    }

    #[test]
    fn splits_on_spaces_and_tabs() {
        assert_eq!(words("ls  -l\t/tmp "), ["ls", "-l", "/tmp"]);
        assert_eq!(words(""), Vec::<String>::new());
        assert_eq!(words(" \t "), Vec::<String>::new());
        assert_eq!(words("héllo wörld"), ["héllo", "wörld"]);
    }

    #[test]
    fn quotes_group_words_literally() {
        assert_eq!(words(r#"echo "a  b" 'c d'"#), ["echo", "a  b", "c d"]);
        assert_eq!(words(r#"echo "it's" '"x"'"#), ["echo", "it's", "\"x\""]);
        assert_eq!(words(r#"echo a"b c"d"#), ["echo", "ab cd"]);
        assert_eq!(words(r#"echo "" ''"#), ["echo", "", ""]);
        assert_eq!(
            words(r#"echo ">" '>>'"#),
            ["echo", ">", ">>"],
            "quoted > is a word"
        );
        assert_eq!(words("echo \"tab\there\""), ["echo", "tab\there"]);
    }

    #[test]
    fn unterminated_quotes_are_einval() {
        let error = parse(r#"echo "abc"#).unwrap_err();
        assert_eq!(error, ParseError::UnterminatedQuote { quote: '"' });
        assert_eq!(error.errno(), Errno::EINVAL);
        assert_eq!(error.to_string(), "EINVAL: unterminated \" quote");
        assert_eq!(
            parse("echo 'a\"b").unwrap_err(),
            ParseError::UnterminatedQuote { quote: '\'' }
        );
    }

    #[test]
    fn trailing_redirections_in_every_spelling() {
        let parsed = parse("echo hi > /out").unwrap();
        assert_eq!(parsed.argv, ["echo", "hi"]);
        assert_eq!(parsed.redirect, redirect("/out", false));
        assert_eq!(
            parse("echo hi >/out").unwrap().redirect,
            redirect("/out", false)
        );
        assert_eq!(parse("echo hi>out").unwrap().argv, ["echo", "hi"]);
        assert_eq!(
            parse("echo hi >> log").unwrap().redirect,
            redirect("log", true)
        );
        assert_eq!(
            parse("echo hi>>log ").unwrap().redirect,
            redirect("log", true)
        );
        assert_eq!(
            parse(r#"echo x > "a file""#).unwrap().redirect,
            redirect("a file", false)
        );
    }

    #[test]
    fn malformed_redirections_are_einval() {
        assert_eq!(
            parse("echo >").unwrap_err(),
            ParseError::MissingRedirectPath
        );
        assert_eq!(
            parse("echo >>  ").unwrap_err(),
            ParseError::MissingRedirectPath
        );
        assert_eq!(
            parse("echo > a b").unwrap_err(),
            ParseError::RedirectNotLast
        );
        assert_eq!(
            parse("echo > a > b").unwrap_err(),
            ParseError::RedirectNotLast
        );
        assert_eq!(
            parse("echo > > b").unwrap_err(),
            ParseError::RedirectNotLast
        );
        assert_eq!(
            parse("echo >>> b").unwrap_err(),
            ParseError::RedirectNotLast
        );
        assert_eq!(
            parse("> out").unwrap_err(),
            ParseError::RedirectWithoutCommand
        );
        for error in [
            ParseError::MissingRedirectPath,
            ParseError::RedirectNotLast,
            ParseError::RedirectWithoutCommand,
        ] {
            assert_eq!(error.errno(), Errno::EINVAL);
            assert!(error.to_string().starts_with("EINVAL: "));
        }
    }

    #[test]
    fn more_than_64_words_are_fine_up_to_128() {
        // The original shell panicked past 64 words.
        let line = vec!["w"; 100].join(" ");
        assert_eq!(words(&line).len(), 100);
        let line = vec!["w"; MAX_WORDS].join(" ");
        assert_eq!(words(&line).len(), MAX_WORDS);
        let line = format!("{} > out", vec!["w"; MAX_WORDS].join(" "));
        assert_eq!(
            parse(&line).unwrap().argv.len(),
            MAX_WORDS,
            "the path is not a word"
        );
    }

    #[test]
    fn more_than_128_words_are_e2big() {
        let line = vec!["w"; MAX_WORDS + 1].join(" ");
        let error = parse(&line).unwrap_err();
        assert_eq!(error, ParseError::TooManyWords);
        assert_eq!(error.errno(), Errno::E2BIG);
        assert_eq!(error.to_string(), "E2BIG: more than 128 words");
        let huge = "x ".repeat(100_000);
        assert_eq!(parse(&huge).unwrap_err(), ParseError::TooManyWords);
    }

    #[test]
    fn random_lines_never_panic_and_respect_the_limits() {
        let alphabet: Vec<char> = " \t\"'>ab\u{e9}\r\n".chars().collect();
        let mut state = 0x1234_5678_u64;
        for _ in 0..20_000 {
            let mut line = String::new();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let length = (state % 400) as usize;
            for _ in 0..length {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                line.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            match parse(&line) {
                Ok(parsed) => {
                    assert!(parsed.argv.len() <= MAX_WORDS);
                    if parsed.redirect.is_some() {
                        assert!(!parsed.argv.is_empty());
                    }
                }
                Err(error) => assert!(!error.to_string().contains('\n')),
            }
        }
    }

    #[test]
    fn plain_words_round_trip_through_join() {
        let mut state = 99_u64;
        for _ in 0..2_000 {
            let mut expected = Vec::new();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            for _ in 0..state % 20 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                expected.push(format!("w{}", state % 1000));
            }
            assert_eq!(words(&expected.join("  ")), expected);
        }
    }
}
