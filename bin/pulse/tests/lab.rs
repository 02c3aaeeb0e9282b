//! pulse in the kernel lab.  The director pair end to end: pulse → lvs →
//! nannies → traffic through the VIP; failover moves the VIP and the traffic
//! to the backup; the returning primary stays passive
//! (`tests/lab/director-pair.sh`).  monitor_links on VLAN and bonding devices,
//! which the host kernel lacks (`tests/lab/pulse-links.sh`).
//!
//! Both skip when the lab is unusable (a failure in CI), or with
//! `PIRANHA_SKIP_LAB=1` / `KERNEL_LAB_SKIP=1`.

#[allow(dead_code)]
#[path = "../../../tests/kernel-lab/lab.rs"]
mod lab;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The directory holding pulse, with lvs, nanny, send_arp and ipvsadm built
/// next to it (`cargo test -p pulse` builds only pulse).
fn bin_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_pulse"))
        .parent()
        .unwrap()
        .to_path_buf();
    for (pkg, bin) in [
        ("lvs", "lvs"),
        ("nanny", "nanny"),
        ("send_arp", "send_arp"),
        ("ipvsadm", "ipvsadm"),
    ] {
        if !dir.join(bin).exists() {
            let st = Command::new(env!("CARGO"))
                .args(["build", "-q", "-p", pkg, "--bin", bin])
                .status()
                .expect("cargo build");
            assert!(st.success(), "cargo build -p {pkg} failed");
        }
    }
    dir
}

/// Whether `test` must skip (and says why): `PIRANHA_SKIP_LAB=1`, or the lab
/// is unusable, which is a failure in CI.
fn skip(test: &str) -> bool {
    if std::env::var("PIRANHA_SKIP_LAB").as_deref() == Ok("1") {
        eprintln!("SKIPPED {test}: PIRANHA_SKIP_LAB=1");
        return true;
    }
    if let Err(why) = lab::available() {
        eprintln!("SKIPPED {test}: kernel lab unavailable: {why}");
        if std::env::var_os("CI").is_some() {
            panic!("the kernel lab must be available in CI: {why}");
        }
        return true;
    }
    false
}

#[test]
fn director_pair_end_to_end_in_the_kernel_lab() {
    if skip("director_pair_end_to_end_in_the_kernel_lab") {
        return;
    }
    let bin = bin_dir();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/lab/director-pair.sh");
    let out = lab::run_script(&script, &[bin.to_str().unwrap()], Duration::from_secs(600)).unwrap();
    assert_eq!(out.status, 0, "{}", out.output);
    assert!(out.output.contains("0 failure(s)"), "{}", out.output);
}

#[test]
fn monitor_links_on_vlan_and_bond_in_the_kernel_lab() {
    if skip("monitor_links_on_vlan_and_bond_in_the_kernel_lab") {
        return;
    }
    let bin = bin_dir();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/lab/pulse-links.sh");
    let out = lab::run_script(&script, &[bin.to_str().unwrap()], Duration::from_secs(300)).unwrap();
    assert_eq!(out.status, 0, "{}", out.output);
    assert!(out.output.contains("\n0 failure(s)"), "{}", out.output);
}
