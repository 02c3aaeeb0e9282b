//! Fuzz the heartbeat decoders: Piranha's 4-byte packet (either byte order)
//! and the authenticated extension.  Never panics; a decoded magic encodes
//! back to the same bytes (native) or their byte swap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pulse_core::heartbeat::{self, Authenticator, Order};

fuzz_target!(|data: &[u8]| {
    if let Ok((m, order)) = heartbeat::decode(data) {
        let mut enc = heartbeat::encode(m);
        if order == Order::Swapped {
            enc.reverse();
        }
        assert_eq!(&enc[..], data);
    }
    let now = data
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
        .unwrap_or(0);
    let mut a = Authenticator::new(b"fuzz key", 0);
    let _ = a.decode(data, now);
    // A packet we sign always verifies once.
    let mut b = Authenticator::new(b"fuzz key", now);
    if let Ok((m, _)) = heartbeat::decode(data.get(..4).unwrap_or(&[])) {
        let p = b.encode(m, now);
        let mut c = Authenticator::new(b"fuzz key", 0);
        assert_eq!(c.decode(&p, now).map(|x| x.0), Ok(m));
        assert!(c.decode(&p, now).is_err(), "replay rejected");
    }
});
