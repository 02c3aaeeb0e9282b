//! parse → write → parse: whatever parses, its canonical form parses to the
//! same configuration and is a fixed point of the writer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lvs_config::{parse, parse_str, write_config, ParseOptions, Resolver};

fuzz_target!(|data: &[u8]| {
    let text = parse::decode(data);
    let opts = ParseOptions {
        file: "fuzz.cf".into(),
        resolver: Resolver::None,
    };
    let Ok(first) = parse_str(&text, &opts) else {
        return;
    };
    let canon = write_config(&first.config);
    if canon.is_empty() {
        return;
    }
    let second = parse_str(&canon, &opts)
        .unwrap_or_else(|e| panic!("canonical text rejected:\n{e}\n---\n{canon}"));
    assert_eq!(second.config, first.config, "\n{canon}");
    assert_eq!(write_config(&second.config), canon);
});
