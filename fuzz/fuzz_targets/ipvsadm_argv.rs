//! ipvsadm's argv parser (popt emulation and option checks) on arbitrary
//! argument vectors (NUL-separated words): must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let argv: Vec<String> = std::iter::once("ipvsadm".to_string())
        .chain(
            data.split(|&b| b == 0)
                .map(|w| String::from_utf8_lossy(w).into_owned()),
        )
        .collect();
    let _ = ipvsadm_cli::parse(&argv, false);
});
