//! Kernel-lab test (ignored by default: it boots a QEMU guest, ~20 s):
//! `cargo test -p nanny-bin --test lab -- --ignored`, or directly
//! `tests/kernel-lab/run tests/lab/nanny.sh target/debug/nanny`.

#[rustfmt::skip]
#[path = "../../../tests/kernel-lab/lab.rs"]
mod lab;

use std::time::Duration;

#[test]
#[ignore = "boots the kernel lab (QEMU); run with --ignored"]
fn nanny_against_real_ipvs() {
    if let Err(why) = lab::available() {
        eprintln!("skipping: {why}");
        return;
    }
    let root = lab::repo_root().expect("repository root");
    let script = root.join("tests/lab/nanny.sh");
    let out = lab::run_script(
        &script,
        &[env!("CARGO_BIN_EXE_nanny")],
        Duration::from_secs(240),
    )
    .expect("run the lab");
    print!("{}", out.output);
    assert!(
        out.success(),
        "lab script failed with status {}",
        out.status
    );
}

/// Extension (issue 9): the extended checks against the real table
/// (`tests/lab/checks.sh`): http digest, misc dynamic weights, tcp.
#[test]
#[ignore = "boots the kernel lab (QEMU); run with --ignored"]
fn extended_checks_against_real_ipvs() {
    if let Err(why) = lab::available() {
        eprintln!("skipping: {why}");
        return;
    }
    let root = lab::repo_root().expect("repository root");
    let script = root.join("tests/lab/checks.sh");
    let out = lab::run_script(
        &script,
        &[env!("CARGO_BIN_EXE_nanny")],
        Duration::from_secs(240),
    )
    .expect("run the lab");
    print!("{}", out.output);
    assert!(
        out.success(),
        "lab script failed with status {}",
        out.status
    );
}
