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
    // Once with Debian's ipvsadm (what most installs have), once with ours,
    // where nanny applies its changes in-process over netlink.
    let ours = bin.join("ipvsadm");
    let mut runs = vec![None];
    if ours.exists() {
        runs.push(Some(ours));
    } else {
        eprintln!(
            "note: {} not built; testing with Debian's ipvsadm only",
            ours.display()
        );
    }
    // With ours, the same boot also runs the status, drain and metrics
    // scenario (issue 20; `tests/lab/status.sh`): the kernel's counters
    // come over netlink only; and IPv6 (issue 21; `tests/lab/ipv6.sh`):
    // dual-stack direct routing, an IPv6 service over IPv4 tunnels, an
    // IPv6 director pair failing over with its neighbour advertisements.
    let both = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/lab/lvs-and-status.sh");
    for ipvsadm in runs {
        let mut args = vec![bin.to_str().unwrap().to_string()];
        if let Some(p) = &ipvsadm {
            args.push(p.display().to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (script, secs) = match ipvsadm {
            Some(_) => (&both, 1200),
            None => (&script, 500),
        };
        let out = lab::run_script(script, &args, Duration::from_secs(secs)).unwrap();
        assert_eq!(out.status, 0, "ipvsadm {ipvsadm:?}:\n{}", out.output);
        assert!(
            out.output.lines().any(|l| l == "0 failure(s)"),
            "{}",
            out.output
        );
        if ipvsadm.is_some() {
            for done in ["status: 0 failure(s)", "ipv6: 0 failure(s)"] {
                assert!(
                    out.output.lines().any(|l| l == done),
                    "{done}\n{}",
                    out.output
                );
            }
        }
    }
}

/// The quorum extension (issue 9): real servers taken down one by one and
/// back, the table and sorry server at each step (hysteresis band
/// included), the quorum scripts' runs, and Debian's keepalived with the
/// same settings on the same servers agreeing (`tests/lab/quorum.sh`).
#[test]
fn lvs_quorum_in_the_kernel_lab() {
    if let Err(why) = lab::available() {
        eprintln!("SKIPPED lvs_quorum_in_the_kernel_lab: kernel lab unavailable: {why}");
        if std::env::var_os("CI").is_some() {
            panic!("the kernel lab must be available in CI: {why}");
        }
        return;
    }
    let nanny = common::nanny_bin();
    let bin = nanny.parent().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/lab/quorum.sh");
    let out = lab::run_script(&script, &[bin.to_str().unwrap()], Duration::from_secs(400)).unwrap();
    assert_eq!(out.status, 0, "{}", out.output);
    assert!(out.output.contains("0 failure(s)"), "{}", out.output);
}
