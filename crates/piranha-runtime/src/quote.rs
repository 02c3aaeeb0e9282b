//! Commands in log lines: each word quoted the way a shell would need it,
//! so an admin can paste a logged command and run it.

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
}
