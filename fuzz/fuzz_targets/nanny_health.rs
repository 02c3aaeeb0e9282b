//! Fuzz the parsers of what a real server says to the extended checks
//! (issue 9): HTTP status line and head, SMTP reply, DNS reply.
//! Properties: no panic; a parsed status is a three-digit code; a head's
//! length lies within the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nanny_core::health::{check_dns_reply, parse_head, parse_status_line, smtp_reply};

fuzz_target!(|data: &[u8]| {
    if let Some(c) = parse_status_line(data) {
        assert!(c <= 999);
    }
    if let Ok(Some(h)) = parse_head(data) {
        assert!(h.head_len <= data.len());
        assert!(h.status <= 999);
    }
    if let Ok(Some(c)) = smtp_reply(data) {
        assert!(c <= 999);
    }
    let id = data.first().map_or(0, |&b| u16::from(b) << 8 | u16::from(b));
    let _ = check_dns_reply(data, id);
});
