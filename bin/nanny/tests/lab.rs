//! Kernel-lab tests (ignored by default: each boots a QEMU guest):
//! `cargo test -p nanny-bin --test lab -- --ignored --test-threads=1`, or
//! directly `tests/kernel-lab/run tests/lab/nanny.sh target/debug/nanny`
//! (and `tests/lab/checks.sh`).

#[rustfmt::skip]
#[path = "../../../tests/kernel-lab/lab.rs"]
mod lab;

use std::time::Duration;

/// Run `tests/lab/SCRIPT` in the lab with this build's nanny; fail the test
/// when the script fails (skip when the lab cannot run here).
fn run_lab_script(script: &str) {
    if let Err(why) = lab::available() {
        eprintln!("skipping: {why}");
        return;
    }
    let root = lab::repo_root().expect("repository root");
    let out = lab::run_script(
        &root.join("tests/lab").join(script),
        &[env!("CARGO_BIN_EXE_nanny")],
        Duration::from_secs(240),
    )
    .expect("run the lab");
    print!("{}", out.output);
    assert!(out.success(), "{script} failed with status {}", out.status);
}

#[test]
#[ignore = "boots the kernel lab (QEMU); run with --ignored"]
fn nanny_against_real_ipvs() {
    run_lab_script("nanny.sh");
}

/// Extension (issue 9): the extended checks against the real table
/// (`tests/lab/checks.sh`): http digest, misc dynamic weights, tcp.
#[test]
#[ignore = "boots the kernel lab (QEMU); run with --ignored"]
fn extended_checks_against_real_ipvs() {
    run_lab_script("checks.sh");
}
