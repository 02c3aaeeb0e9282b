//! Unit tests of `health`.

use super::*;
use crate::check::{Checker, Outcome};
use lvs_config::checks::Check;
use proptest::prelude::*;
use std::time::Duration;

#[test]
fn status_lines() {
    assert_eq!(parse_status_line(b"HTTP/1.1 200 OK"), Some(200));
    assert_eq!(parse_status_line(b"HTTP/1.0 503"), Some(503));
    assert_eq!(parse_status_line(b"HTTP/2 404 Not Found"), Some(404));
    assert_eq!(parse_status_line(b"HTTP/1.1 2000 OK"), None);
    assert_eq!(parse_status_line(b"HTTP/1.1 20 OK"), None);
    assert_eq!(parse_status_line(b"HTTX/1.1 200 OK"), None);
    assert_eq!(parse_status_line(b"HTTP/ 200 OK"), None);
    assert_eq!(parse_status_line(b""), None);
}

#[test]
fn garbled_replies_are_escaped_and_cut_in_reasons() {
    let e = parse_head(b"\x1b[31mHELLO\r\n\r\n").unwrap_err();
    assert_eq!(e.to_string(), "not an HTTP status line: \"\\x1b[31mHELLO\"");
    let mut line = b"5xx \x07".to_vec();
    line.extend_from_slice(&[b'a'; 100]);
    line.extend_from_slice(b"\r\n");
    let e = smtp_reply(&line).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "not an SMTP reply line: \"5xx \\x07{}\" (25 more bytes not shown)",
            "a".repeat(75)
        )
    );
}

#[test]
fn heads() {
    let h = parse_head(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        .unwrap()
        .unwrap();
    assert_eq!(
        h,
        ResponseHead {
            status: 200,
            content_length: Some(5),
            head_len: 38
        }
    );
    assert_eq!(parse_head(b"HTTP/1.0 200 OK\r\n").unwrap(), None);
    assert!(parse_head(b"garbage\r\n\r\n").is_err());
    assert_eq!(
        parse_head(b"HTTP/1.0 301 Moved\ncontent-length:  x\n\n")
            .unwrap()
            .unwrap()
            .content_length,
        None
    );
    // A bare-LF head ends at its own blank line even when the body
    // holds a CRLF CRLF.
    let h = parse_head(b"HTTP/1.0 200 OK\nContent-Length: 6\n\nab\r\n\r\n")
        .unwrap()
        .unwrap();
    assert_eq!(h.head_len, 35);
    assert!(status_ok(204, &[(200, 299)]));
    assert!(!status_ok(301, &[(200, 299), (400, 404)]));
}

#[test]
fn smtp_replies() {
    assert_eq!(smtp_reply(b"220 mail ready\r\n"), Ok(Some(220)));
    assert_eq!(smtp_reply(b"220-first\r\n220 second\r\n"), Ok(Some(220)));
    assert_eq!(smtp_reply(b"220-first\r\n"), Ok(None));
    assert_eq!(smtp_reply(b"250\r\n"), Ok(Some(250)));
    assert_eq!(smtp_reply(b"22"), Ok(None));
    assert!(smtp_reply(b"SSH-2.0-OpenSSH\r\n").is_err());
    assert!(smtp_reply(b"2200 x\r\n").is_err());
}

#[test]
fn dns_round_trip() {
    let q = dns_query(0x1234, "example.com.", "MX").unwrap();
    assert_eq!(&q[..2], &[0x12, 0x34]);
    // The query itself is not a response.
    assert_eq!(check_dns_reply(&q, 0x1234), Err(Garbled::DnsNotResponse));
    let mut r = q.clone();
    r[2] |= 0x80;
    assert_eq!(check_dns_reply(&r, 0x1234), Ok(()));
    assert!(check_dns_reply(&r, 0x1235).is_err());
    r[3] = (r[3] & 0xf0) | 3;
    assert_eq!(check_dns_reply(&r, 0x1234), Err(Garbled::DnsRcode(3)));
    assert!(dns_query(1, ".", "SOA").is_ok());
    assert!(dns_query(1, "x", "PTR").is_err());
}

#[test]
fn keepalived_exit_rule() {
    assert_eq!(misc_result(0, false), MiscResult::Up);
    assert_eq!(misc_result(1, false), MiscResult::Down);
    assert_eq!(misc_result(7, false), MiscResult::Down);
    assert_eq!(misc_result(0, true), MiscResult::Up);
    assert_eq!(misc_result(1, true), MiscResult::Down);
    assert_eq!(misc_result(2, true), MiscResult::UpWeight(0));
    assert_eq!(misc_result(255, true), MiscResult::UpWeight(253));
}

#[test]
fn dynamic_exit_0_restores_the_configured_weight() {
    let misc = |code: i32, dynamic: bool| HealthChecker {
        addr: "127.0.0.1:1".parse().unwrap(),
        // The command is split on spaces only: the tab stays in sh's script.
        check: Check::Misc {
            command: format!("sh -c exit\t{code}"),
            dynamic,
        },
        timeout: Duration::from_secs(10),
        base_weight: 3,
        detail: String::new(),
        weight: None,
        last_code: None,
    };
    let mut c = misc(7, true);
    assert_eq!(c.check(None), Outcome::Up);
    assert_eq!(c.dynamic_weight(), Some(5));
    assert_eq!(c.check(None), Outcome::Up);
    assert_eq!(
        c.dynamic_weight(),
        None,
        "status unchanged: weight left alone"
    );
    c.last_code = None; // as after a failed check
    assert_eq!(c.check(None), Outcome::Up);
    assert_eq!(c.dynamic_weight(), Some(5), "first success after a failure");
    let mut c = misc(0, true);
    assert_eq!(c.check(None), Outcome::Up);
    assert_eq!(
        c.dynamic_weight(),
        Some(3),
        "keepalived: exit 0 drops the offset"
    );
    let mut c = misc(1, true);
    assert_eq!(c.check(None), Outcome::Down);
    assert_eq!(c.dynamic_weight(), None);
    let mut c = misc(0, false);
    assert_eq!(c.check(None), Outcome::Up);
    assert_eq!(
        c.dynamic_weight(),
        None,
        "not dynamic: the weight is nanny's"
    );
}

proptest! {
    #[test]
    fn status_line_never_panics(b in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = parse_status_line(&b);
        let _ = parse_head(&b);
    }

    #[test]
    fn status_line_prefix_fuzz(code in 0u16..1000, tail in proptest::collection::vec(any::<u8>(), 0..32)) {
        let mut b = format!("HTTP/1.1 {code:03}").into_bytes();
        b.extend(tail);
        let _ = parse_head(&b);
    }

    #[test]
    fn smtp_never_panics(b in proptest::collection::vec(any::<u8>(), 0..128)) {
        let _ = smtp_reply(&b);
    }

    #[test]
    fn dns_reply_never_panics(b in proptest::collection::vec(any::<u8>(), 0..512), id in any::<u16>()) {
        let _ = check_dns_reply(&b, id);
    }

    #[test]
    fn dns_mutated_reply_never_panics(i in 0usize..64, v in any::<u8>()) {
        let mut r = dns_query(7, "example.com", "A").unwrap();
        r[2] |= 0x80;
        let n = r.len();
        r[i % n] = v;
        let _ = check_dns_reply(&r, 7);
    }
}
