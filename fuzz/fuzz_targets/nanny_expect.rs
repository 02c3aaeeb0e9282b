//! Fuzz the expect matcher: plain and regex, fed in arbitrary pieces.
//! Properties: no panic; feeding a reply in pieces never reaches a
//! different final verdict than feeding it whole; a decided verdict does not
//! change when more bytes arrive (for plain prefixes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nanny_core::expect::{Decision, Matcher};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let split = (data[0] as usize) % data.len();
    let regex = data[1] & 1 == 1;
    let (pattern, reply) = data[2..].split_at(split.min(data.len() - 2));
    let m = if regex {
        match Matcher::regex(pattern) {
            Ok(m) => m,
            Err(_) => return,
        }
    } else {
        Matcher::prefix(pattern)
    };
    let whole = m.decide(reply, true);
    assert_ne!(whole, Decision::Undecided);
    let mut first_decided = None;
    for n in 0..=reply.len() {
        let d = m.decide(&reply[..n], false);
        if d != Decision::Undecided && first_decided.is_none() {
            first_decided = Some(d);
            if matches!(m, Matcher::Prefix(_)) {
                assert_eq!(d, whole, "prefix verdict changed with more bytes");
            }
        }
    }
    let _ = m.whole(reply);
});
