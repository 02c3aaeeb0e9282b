//! Text from outside in log lines, so that one message stays one line and
//! nothing reaches a terminal or syslog raw.
//!
//! * Commands: each word quoted the way a shell would need it, so an admin
//!   can paste a logged command and run it ([`shell_word`], [`argv_line`]).
//! * Bytes a program sent or received (nanny's `-v` dumps of send strings,
//!   replies and check-program output): escaped, quoted and capped
//!   ([`escape_bytes`], [`dump`]).

/// One word: as it is when it is safe for a shell, else in single quotes.
pub fn shell_word(w: &str) -> String {
    if !w.is_empty()
        && w.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@%+".contains(&b))
    {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

/// An argv as one line of shell words.
pub fn argv_line<S: AsRef<str>>(argv: &[S]) -> String {
    argv.iter()
        .map(|w| shell_word(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Most bytes of one buffer that [`dump`] shows.
pub const DUMP_MAX: usize = 256;

/// Bytes as printable ASCII on one line, in the backslash syntax of nanny's
/// send and expect strings: `\r` `\n` `\t` `\\` `\"` for CR, LF, tab,
/// backslash and double quote, `\xHH` for every other byte that is not
/// printable ASCII (other control characters, DEL, NUL and every byte of
/// 0x80 and up, so UTF-8 text shows as its bytes).  Printable ASCII is kept
/// as it is.  The result never holds a control character.
pub fn escape_bytes(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() + data.len() / 4);
    for &b in data {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// A buffer for a log line: its first [`DUMP_MAX`] bytes escaped
/// ([`escape_bytes`]) in double quotes, then, when the buffer is longer,
/// ` (N more bytes not shown)`.  The quotes make the ends of the data
/// (a trailing blank) visible and keep the marker apart from it.
pub fn dump(data: &[u8]) -> String {
    dump_max(data, DUMP_MAX)
}

/// [`dump`] with another cap.
pub fn dump_max(data: &[u8], max: usize) -> String {
    let shown = &data[..data.len().min(max)];
    let mut out = format!("\"{}\"", escape_bytes(shown));
    if data.len() > shown.len() {
        out.push_str(&format!(
            " ({} more bytes not shown)",
            data.len() - shown.len()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_for_logs() {
        assert_eq!(shell_word("-t"), "-t");
        assert_eq!(shell_word("GET / HTTP/1.0\\r\\n"), "'GET / HTTP/1.0\\r\\n'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(
            argv_line(&["/sbin/ipvsadm", "-a", "-t", "10.0.0.1:80", "-w", "1"]),
            "/sbin/ipvsadm -a -t 10.0.0.1:80 -w 1"
        );
        assert_eq!(argv_line(&["echo", "a b"]), "echo 'a b'");
    }

    #[test]
    fn control_characters_are_escaped_like_send_strings() {
        assert_eq!(
            escape_bytes(b"HTTP/1.0 200 OK\r\n\r\n"),
            "HTTP/1.0 200 OK\\r\\n\\r\\n"
        );
        assert_eq!(
            escape_bytes(b"\x1b[2J\0\x7f\tend"),
            "\\x1b[2J\\x00\\x7f\\tend"
        );
        assert_eq!(escape_bytes(b"a\\b \"c\" 'd'"), "a\\\\b \\\"c\\\" 'd'");
        assert_eq!(escape_bytes("é".as_bytes()), "\\xc3\\xa9");
        assert_eq!(escape_bytes(b"\x9b31m"), "\\x9b31m", "8-bit CSI");
        assert_eq!(escape_bytes(b""), "");
    }

    #[test]
    fn every_byte_escapes_to_printable_ascii() {
        let all: Vec<u8> = (0..=255).collect();
        let e = escape_bytes(&all);
        assert!(e.bytes().all(|b| (0x20..=0x7e).contains(&b)), "{e}");
    }

    #[test]
    fn dumps_are_quoted_and_capped_with_a_count() {
        assert_eq!(dump(b"OK\r\n"), "\"OK\\r\\n\"");
        assert_eq!(dump(b""), "\"\"");
        let exact = vec![b'a'; DUMP_MAX];
        assert_eq!(dump(&exact), format!("\"{}\"", "a".repeat(DUMP_MAX)));
        let mut long = vec![b'\n'; DUMP_MAX];
        long.extend_from_slice(&[b'z'; 1000]);
        assert_eq!(
            dump(&long),
            format!("\"{}\" (1000 more bytes not shown)", "\\n".repeat(DUMP_MAX))
        );
        assert_eq!(dump_max(b"abcdef", 2), "\"ab\" (4 more bytes not shown)");
    }
}
