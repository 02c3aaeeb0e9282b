//! Deciding whether a reply is the expected one, as bytes arrive.
//!
//! Plain mode (Piranha's default) compares a prefix: the reply must start
//! with the expect string, where each `*` in the expect string stands for
//! any one byte (Piranha honoured `*` only as the whole expect string; the
//! two agree there).  Regex mode (`--regex`) searches the reply with a POSIX
//! extended regular expression, compiled by the `regex` crate in byte mode
//! with Unicode off.  The differences from glibc's `regcomp(REG_EXTENDED)`
//! that a user may meet:
//!
//! * no back-references (`\1`), which POSIX ERE does not define anyway;
//! * inside a bracket expression a backslash escapes (`[\]]`), where POSIX
//!   takes it literally; `[]a]` is still a bracket holding `]` and `a`;
//! * a lone `{` is an error, where glibc takes it literally;
//! * Perl classes (`\d`, `\w`, `\s`, `\b`) and `(?i)` flags are accepted;
//! * a match is reported as soon as one exists; POSIX leftmost-longest and
//!   the crate's leftmost-first differ only in which match, never whether.
//!
//! The reply seen by a regex is, as in Piranha, at most [`REGEX_WINDOW`]
//! bytes and ends at its first NUL byte.
//!
//! Unlike Piranha, which read once and compared what that read returned, the
//! checker feeds every byte it reads to [`Matcher::decide`] and keeps reading
//! while the answer is [`Decision::Undecided`] (B5).

/// How many reply bytes a regex may look at (Piranha's 255-byte buffer).
pub const REGEX_WINDOW: usize = 254;

/// The verdict on the bytes received so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// More bytes could still change the answer.
    Undecided,
    /// The reply is the expected one.
    Match,
    /// The reply is not the expected one.
    Mismatch,
}

/// An expect string, ready to judge replies.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Prefix with `*` wildcards.
    Prefix(Vec<u8>),
    /// POSIX extended regular expression.
    Regex(regex::bytes::Regex),
}

impl Matcher {
    /// A plain (prefix) matcher.
    pub fn prefix(expect: &[u8]) -> Self {
        Matcher::Prefix(expect.to_vec())
    }

    /// A regex matcher, or the regex crate's reason it is not one.
    pub fn regex(expect: &[u8]) -> Result<Self, regex::Error> {
        let pattern = String::from_utf8_lossy(expect);
        regex::bytes::RegexBuilder::new(&pattern)
            .unicode(false)
            .build()
            .map(Matcher::Regex)
    }

    /// How many bytes a decision can need at most.
    pub fn wanted(&self) -> usize {
        match self {
            Matcher::Prefix(p) => p.len(),
            Matcher::Regex(_) => REGEX_WINDOW,
        }
    }

    /// Judge `buf`, the reply so far.  `complete` says no more bytes will
    /// come (end of stream, a whole datagram, or the timeout).
    pub fn decide(&self, buf: &[u8], complete: bool) -> Decision {
        match self {
            Matcher::Prefix(p) => {
                if p.is_empty() {
                    return if complete || !buf.is_empty() {
                        Decision::Match
                    } else {
                        Decision::Undecided
                    };
                }
                let n = buf.len().min(p.len());
                if p[..n]
                    .iter()
                    .zip(&buf[..n])
                    .any(|(e, b)| *e != b'*' && e != b)
                {
                    return Decision::Mismatch;
                }
                if buf.len() >= p.len() {
                    Decision::Match
                } else if complete {
                    Decision::Mismatch
                } else {
                    Decision::Undecided
                }
            }
            Matcher::Regex(re) => {
                let window = &buf[..buf.len().min(REGEX_WINDOW)];
                let nul = window.iter().position(|b| *b == 0);
                let text = &window[..nul.unwrap_or(window.len())];
                if re.is_match(text) {
                    Decision::Match
                } else if complete || nul.is_some() || buf.len() >= REGEX_WINDOW {
                    Decision::Mismatch
                } else {
                    Decision::Undecided
                }
            }
        }
    }

    /// Judge a whole output at once (the send program's), without the
    /// window: plain mode wants the output to equal the expect string
    /// exactly (Piranha's strcmp; no wildcard), regex mode searches it.
    pub fn whole(&self, output: &[u8]) -> bool {
        match self {
            Matcher::Prefix(p) => p == output,
            Matcher::Regex(re) => re.is_match(output),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Decision::*;

    #[test]
    fn prefix_decides_incrementally() {
        let m = Matcher::prefix(b"HTTP");
        assert_eq!(m.decide(b"", false), Undecided);
        assert_eq!(m.decide(b"HT", false), Undecided);
        assert_eq!(
            m.decide(b"HX", false),
            Mismatch,
            "decided at the first wrong byte"
        );
        assert_eq!(m.decide(b"HTTP/1.0 200 OK", false), Match);
        assert_eq!(m.decide(b"HT", true), Mismatch, "short at end of stream");
    }

    #[test]
    fn star_is_any_byte() {
        let m = Matcher::prefix(b"*");
        assert_eq!(m.decide(b"\0", false), Match);
        let m = Matcher::prefix(b"HTTP/1.* 200");
        assert_eq!(m.decide(b"HTTP/1.1 200 OK", false), Match);
        assert_eq!(m.decide(b"HTTP/1.1 500 OK", false), Mismatch);
    }

    #[test]
    fn empty_expect_wants_readability() {
        let m = Matcher::prefix(b"");
        assert_eq!(m.decide(b"", false), Undecided);
        assert_eq!(m.decide(b"", true), Match);
        assert_eq!(m.decide(b"x", false), Match);
    }

    #[test]
    fn regex_waits_for_more_until_window_or_end() {
        let m = Matcher::regex(b"^HTTP/1\\.[01] (200|30[12])").unwrap();
        assert_eq!(m.decide(b"HTTP/1.1 2", false), Undecided);
        assert_eq!(m.decide(b"HTTP/1.1 200 OK", false), Match);
        assert_eq!(m.decide(b"HTTP/1.1 404", true), Mismatch);
        let long = vec![b'a'; 300];
        assert_eq!(m.decide(&long, false), Mismatch);
        let m = Matcher::regex(b"OK").unwrap();
        assert_eq!(
            m.decide(b"x\0OK", false),
            Mismatch,
            "stops at NUL like regexec"
        );
        let mut late = vec![b'.'; REGEX_WINDOW];
        late.extend_from_slice(b"OK");
        assert_eq!(m.decide(&late, false), Mismatch, "beyond the window");
    }

    #[test]
    fn regex_posix_classes_and_errors() {
        let m = Matcher::regex(b"[[:digit:]]{3} OK").unwrap();
        assert_eq!(m.decide(b"HTTP/1.0 200 OK", true), Match);
        assert!(Matcher::regex(b"(unclosed").is_err());
        let m = Matcher::regex(b"a.b").unwrap();
        assert_eq!(
            m.decide(b"a\xffb", true),
            Match,
            "byte mode: . matches any byte"
        );
    }

    #[test]
    fn whole_output() {
        assert!(Matcher::prefix(b"OK").whole(b"OK"));
        assert!(!Matcher::prefix(b"OK").whole(b"OK2"));
        assert!(!Matcher::prefix(b"O*").whole(b"OK"));
        assert!(Matcher::regex(b"^up [0-9]+$").unwrap().whole(b"up 12"));
    }
}
