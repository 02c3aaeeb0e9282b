//! The JSON form of the status is a contract with the administrator's
//! tools: the example director must serialize exactly as the golden file
//! says, and read back to itself.  A change here is a schema change: add
//! fields only, and document them in docs/STATUS.md; anything else needs a
//! new `version`.
//!
//! `UPDATE_GOLDEN=1 cargo test -p piranha-status --test schema` rewrites
//! the file after an intended addition.

use piranha_status::model::{example, Director, VERSION};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/status-v1.json");

#[test]
fn json_matches_the_golden_file() {
    let got = example().to_json();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(GOLDEN, &got).unwrap();
    }
    let want = std::fs::read_to_string(GOLDEN).unwrap();
    assert_eq!(got, want, "the JSON form changed: see this file's header");
}

#[test]
fn golden_file_reads_back() {
    let text = std::fs::read_to_string(GOLDEN).unwrap();
    let d = Director::from_json(&text).unwrap();
    assert_eq!(d, example());
    assert_eq!(d.version, VERSION);
}

#[test]
fn a_reader_of_version_1_ignores_fields_it_does_not_know() {
    let mut v: serde_json::Value = serde_json::from_str(&example().to_json()).unwrap();
    v["future_field"] = serde_json::json!(1);
    v["lvs"]["services"][0]["future"] = serde_json::json!("x");
    let d: Director = serde_json::from_value(v).unwrap();
    assert_eq!(d, example());
}

#[test]
fn text_form_names_everything_an_admin_looks_for() {
    let t = piranha_status::text::render(&example());
    for want in [
        "role active",
        "partner 10.0.0.2: alive",
        "heartbeat udp 10.0.0.2:539: last heard 0.4 s ago",
        "192.168.1.10/24 on eth0:1",
        "virtual web (tcp 192.168.1.10:80) scheduler wlc",
        "sorry server 10.0.1.99:80: standing by",
        "quorum 1 of 2 needed: LOST",
        "web2 10.0.1.2:80",
        "drained",
        "FAIL",
        "no answer in 5 s",
    ] {
        assert!(t.contains(want), "missing {want:?} in:\n{t}");
    }
}
