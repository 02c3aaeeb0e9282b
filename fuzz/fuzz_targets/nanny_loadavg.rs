//! Fuzz the load-average parser and the weight formula fed by it.
//! Properties: no panic; a parsed load is finite and not negative; the new
//! weight respects Piranha's bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nanny_core::load::{load_weight, parse_loadavg};

fuzz_target!(|data: &[u8]| {
    if let Some(l) = parse_loadavg(data) {
        assert!(l.is_finite() && l >= 0.0);
        let weight = (data.len() % 200) as i32;
        let last = weight + (data.first().copied().unwrap_or(0) as i32);
        if let Some(w) = load_weight(last, weight, 10, l) {
            if l < 1.0 {
                assert!(w <= 10 * weight.max(1) + last);
            } else {
                assert!(w >= weight);
            }
        }
    }
});
