//! Fuzz what comes in on the control socket and the nannies' report
//! socket: a request line (lossy UTF-8, as the socket reads it), a
//! nanny's report datagram, and a daemon's answer.  Never panics; what
//! parses prints back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use piranha_status::protocol::{Answer, Request};
use piranha_status::report::{Report, MAX_REASON};

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    if let Ok(req) = Request::parse(&line) {
        let back = req.line();
        assert_eq!(
            Request::parse(&back),
            Ok(req.clone()),
            "{line:?} parsed to {req:?}, printed as {back:?}"
        );
        // The request is also read with its newline.
        assert_eq!(Request::parse(&format!("{back}\n")), Ok(req));
    }

    if let Some(r) = Report::decode(data) {
        assert!(
            r.reason.len() <= MAX_REASON,
            "reason of {} bytes",
            r.reason.len()
        );
        assert!(!r.reason.chars().any(char::is_control), "{:?}", r.reason);
        assert_eq!(Report::decode(r.encode().as_bytes()), Some(r));
    }

    let a = Answer::decode(data);
    let back = Answer::decode(&a.encode());
    assert_eq!(back.ok, a.ok);
    assert!(
        back.text == a.text || back.text == format!("{}\n", a.text),
        "{a:?} came back as {back:?}"
    );
});
