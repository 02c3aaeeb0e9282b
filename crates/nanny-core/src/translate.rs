//! Backslash translation of send and expect strings (turned off by `-T`).
//!
//! The escapes nanny 0.8.6 understood: `\\` `\r` `\n` `\t` `\'` `\"`.  Any
//! other backslash is kept as it is, and so is a string of one character.
//! (Piranha looped for ever on an unknown escape or a trailing backslash.)
//! `-v` shows the bytes sent and received in the same syntax, plus `\xHH`
//! for other bytes ([`piranha_runtime::quote::escape_bytes`]).

/// Translate the escapes in `s`.
pub fn translate(s: &[u8]) -> Vec<u8> {
    if s.len() <= 1 {
        return s.to_vec();
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' && i + 1 < s.len() {
            let t = match s[i + 1] {
                b'\\' => Some(b'\\'),
                b'r' => Some(b'\r'),
                b'n' => Some(b'\n'),
                b't' => Some(b'\t'),
                b'\'' => Some(b'\''),
                b'"' => Some(b'"'),
                _ => None,
            };
            if let Some(t) = t {
                out.push(t);
                i += 2;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::translate;

    #[test]
    fn escapes() {
        assert_eq!(
            translate(b"GET / HTTP/1.0\\r\\n\\r\\n"),
            b"GET / HTTP/1.0\r\n\r\n"
        );
        assert_eq!(translate(b"a\\tb\\\\n"), b"a\tb\\n");
        assert_eq!(translate(b"\\'\\\""), b"'\"");
    }

    #[test]
    fn verbose_dumps_read_back_as_send_strings() {
        // `-v` shows bytes in this syntax (piranha_runtime::quote); what it
        // shows of printable ASCII, CR, LF and tab can be pasted into -s/-x.
        let bytes: Vec<u8> = (0x20..=0x7e).chain(*b"\r\n\t").collect();
        let shown = piranha_runtime::quote::escape_bytes(&bytes);
        assert_eq!(translate(shown.as_bytes()), bytes);
    }

    #[test]
    fn unknown_and_trailing_backslash_are_kept() {
        assert_eq!(translate(b"a\\xb\\"), b"a\\xb\\");
        assert_eq!(translate(b"\\"), b"\\");
    }
}
