//! Kernel-lab tests of `ipvsadm` (need real IPVS, so they run in the QEMU
//! guest of `tests/kernel-lab/run`):
//!
//! - `tests/ipvsadm/diff.sh`: every case of `tests/ipvsadm/cases/` run with
//!   Debian's ipvsadm 1.31 and with ours; fails with the unified diff of each
//!   case that differs.
//! - `tests/ipvsadm/traffic.sh`: HTTP through a NAT and a direct-routing
//!   service programmed by our binary.
//!
//! Both run in one guest boot through `tests/ipvsadm/lab.sh` (about 10 min).
//!
//! They skip (and say why) when the lab is missing or unusable, or when
//! `PIRANHA_SKIP_LAB=1` or `KERNEL_LAB_SKIP` is set (as `make check` does). `KERNEL_LAB_RUN` may point at another copy of the
//! lab's `run` script.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::new(());

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn lab_runner() -> Option<PathBuf> {
    if std::env::var("PIRANHA_SKIP_LAB").as_deref() == Ok("1") {
        eprintln!("skipping: PIRANHA_SKIP_LAB=1");
        return None;
    }
    if std::env::var_os("KERNEL_LAB_SKIP").is_some_and(|v| !v.is_empty()) {
        eprintln!("skipping: KERNEL_LAB_SKIP is set");
        return None;
    }
    let run = match std::env::var_os("KERNEL_LAB_RUN") {
        Some(p) => PathBuf::from(p),
        None => repo_root().join("tests/kernel-lab/run"),
    };
    if !run.is_file() {
        eprintln!("skipping: no kernel lab at {}", run.display());
        return None;
    }
    match Command::new(&run).arg("--check").status() {
        Ok(s) if s.success() => Some(run),
        _ => {
            eprintln!(
                "skipping: `{} --check` says the lab is unusable here",
                run.display()
            );
            None
        }
    }
}

fn run_in_lab(script: &str, timeout: u32) -> Option<(i32, String)> {
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let run = lab_runner()?;
    let out = Command::new(&run)
        .current_dir(repo_root())
        .args([
            "--timeout",
            &timeout.to_string(),
            script,
            env!("CARGO_BIN_EXE_ipvsadm"),
        ])
        .output()
        .expect("failed to start the kernel lab");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Some((out.status.code().unwrap_or(-1), text))
}

/// Both lab scripts in one guest boot (`tests/ipvsadm/lab.sh`): the guest
/// runs under TCG and every boot and exec is expensive.
#[test]
fn differential_corpus_and_traffic() {
    let Some((code, output)) = run_in_lab("tests/ipvsadm/lab.sh", 1800) else {
        return;
    };
    println!("{output}");
    assert_eq!(
        code, 0,
        "ipvsadm differs from Debian's ipvsadm 1.31, or traffic failed:\n{output}"
    );
}
