//! Helper for integration tests that need real kernel IPVS.
//!
//! The development machines' kernel has no IPVS, so such tests run a shell
//! script inside a QEMU guest through `tests/kernel-lab/run` (see
//! `tests/kernel-lab/README.md`).  Include this file from any crate with
//!
//! ```ignore
//! #[path = "../../../tests/kernel-lab/lab.rs"]
//! mod lab;
//! ```
//!
//! std only, so it drops into any test crate without extra dependencies.
//! Runs started through one test binary are serialised (each guest wants both
//! host cores; parallel boots just slow each other down towards the timeout).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// Result of one script run inside the lab guest.
#[allow(dead_code)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabOutput {
    /// The script's exit status.  124: timed out (guest killed); 125: the
    /// lab itself failed (preparation, boot, setup); 128+N: `run` was killed
    /// by signal N.
    pub status: i32,
    /// The script's stdout and stderr, interleaved as written.
    pub output: String,
}

#[allow(dead_code)]
impl LabOutput {
    /// True when the script exited with status 0.
    pub fn success(&self) -> bool {
        self.status == 0
    }
}

static SERIAL: Mutex<()> = Mutex::new(());

/// The repository root: the nearest ancestor of this crate's manifest
/// directory that contains `tests/kernel-lab/run`.
#[allow(dead_code)]
pub fn repo_root() -> Option<PathBuf> {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        if dir.join("tests").join("kernel-lab").join("run").is_file() {
            return Some(dir);
        }
        if !dir.pop() {
            return None;
        }
    }
}

/// Path of the `run` launcher.
#[allow(dead_code)]
pub fn runner() -> Result<PathBuf, String> {
    repo_root()
        .map(|root| root.join("tests").join("kernel-lab").join("run"))
        .ok_or_else(|| {
            format!(
                "kernel lab: no tests/kernel-lab/run above {}",
                env!("CARGO_MANIFEST_DIR")
            )
        })
}

/// Whether the lab can be used here.  Prepares it if needed (the first call
/// on a fresh machine installs Debian packages and downloads a kernel, which
/// takes a minute); later calls are cheap.  `Err` carries the reason, e.g.
/// for a test to print before skipping.  Setting `KERNEL_LAB_SKIP` to a
/// non-empty value makes this return `Err` without trying.
#[allow(dead_code)]
pub fn available() -> Result<(), String> {
    if std::env::var_os("KERNEL_LAB_SKIP").is_some_and(|v| !v.is_empty()) {
        return Err("kernel lab: disabled by KERNEL_LAB_SKIP".to_string());
    }
    if std::env::var("KERNEL_LAB").as_deref() == Ok("1") {
        return Err("kernel lab: already inside the lab guest (no nesting)".to_string());
    }
    let run = runner()?;
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let out = Command::new(&run)
        .arg("--check")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("kernel lab: cannot execute {}: {e}", run.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        let mut msg = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if msg.is_empty() {
            msg = format!(
                "kernel lab: {} --check failed ({})",
                run.display(),
                out.status
            );
        }
        Err(msg)
    }
}

/// Runs `script` (a host path; relative paths are resolved against the
/// current directory) as root inside the lab guest with `args`, and returns
/// its exit status and combined output.  `timeout` (rounded up to whole
/// seconds) bounds the script's own run time, counted from when the guest
/// starts it; the guest is then killed and the status is 124.  Booting has a
/// separate allowance (`KERNEL_LAB_BOOT_TIMEOUT`, default 300 s; exceeding it
/// gives 125), so a busy host does not eat into the script's time.  The lab's own
/// diagnostics (boot failures, timeout notice) go to this process's stderr
/// via `eprint!`, so the test harness shows them with a failing test.
#[allow(dead_code)]
pub fn run_script(script: &Path, args: &[&str], timeout: Duration) -> std::io::Result<LabOutput> {
    let run = runner().map_err(|e| std::io::Error::new(std::io::ErrorKind::NotFound, e))?;
    let secs = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut child = Command::new(&run)
        .arg("--timeout")
        .arg(secs.max(1).to_string())
        .arg("--")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stderr = child.stderr.take();
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(e) = stderr.as_mut() {
            let _ = e.read_to_end(&mut buf);
        }
        buf
    });
    let mut out = Vec::new();
    if let Some(mut o) = child.stdout.take() {
        o.read_to_end(&mut out)?;
    }
    let status = child.wait()?;
    let err = err_reader.join().unwrap_or_default();
    if !err.is_empty() {
        eprint!("{}", String::from_utf8_lossy(&err));
    }
    let code = match status.code() {
        Some(c) => c,
        None => {
            #[cfg(unix)]
            {
                use std::os::unix::process::ExitStatusExt;
                128 + status.signal().unwrap_or(0)
            }
            #[cfg(not(unix))]
            {
                -1
            }
        }
    };
    Ok(LabOutput {
        status: code,
        output: String::from_utf8_lossy(&out).into_owned(),
    })
}
