//! Any bytes: the lvs.cf parser never panics, and every diagnostic points
//! inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lvs_config::{parse, parse_str, ParseOptions, Resolver};

fuzz_target!(|data: &[u8]| {
    let text = parse::decode(data);
    let opts = ParseOptions {
        file: "fuzz.cf".into(),
        resolver: Resolver::None,
    };
    let diags = match parse_str(&text, &opts) {
        Ok(p) => p.warnings,
        Err(d) => d.0,
    };
    for d in diags {
        assert!(d.span.start <= d.span.end && d.span.end <= text.len());
        let _ = d.to_string();
    }
});
