//! lvs against the kernel's real IPVS table, in the kernel lab
//! (`tests/lab/lvs.sh` does the work inside the guest).

#[allow(dead_code)]
#[path = "../../../tests/kernel-lab/lab.rs"]
mod lab;

mod common;

use std::path::Path;
use std::time::Duration;

#[test]
fn lvs_in_the_kernel_lab() {
    if let Err(why) = lab::available() {
        // The lab installs what it needs on a Debian machine as root; say
        // loudly why it could not, so a skipped run is never mistaken for a pass.
        eprintln!("SKIPPED lvs_in_the_kernel_lab: kernel lab unavailable: {why}");
        if std::env::var_os("CI").is_some() {
            panic!("the kernel lab must be available in CI: {why}");
        }
        return;
    }
    let nanny = common::nanny_bin();
    let bin = nanny.parent().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/lab/lvs.sh");
    let out = lab::run_script(&script, &[bin.to_str().unwrap()], Duration::from_secs(500)).unwrap();
    assert_eq!(out.status, 0, "{}", out.output);
    assert!(out.output.contains("0 failure(s)"), "{}", out.output);
}
