//! `ipvsadm -R` on arbitrary input against the in-memory fake table: must
//! never panic, whatever the lines say.
#![no_main]

use ipvs::fake::FakeIpvs;
use ipvsadm_cli::{run, Io};
use ipvs::Info;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut fake = FakeIpvs::new();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut input = data;
    let argv = vec!["ipvsadm".to_string(), "-R".to_string()];
    let _ = run(
        &mut fake,
        Info {
            version: 0x010201,
            conn_tab_size: 4096,
        },
        &argv,
        &mut Io {
            out: &mut out,
            err: &mut err,
            input: &mut input,
        },
    );
});
