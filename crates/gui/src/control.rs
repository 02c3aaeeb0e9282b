//! The CONTROL/MONITORING panel's facts: `pulse status`, `ipvsadm -L -n`
//! (each run with a fixed argv and a deadline, never through a shell) and
//! the LVS processes read from `/proc` (what Piranha got from
//! `ps auxw | egrep ...`).

use std::time::Duration;

use piranha_runtime::spawn::{self, RunOptions};

/// Run `argv` (fixed, from the command line of piranha-gui) and return its
/// output, or a line saying why there is none.
pub fn run_fixed(argv: &[String], timeout: Duration) -> String {
    let opts = RunOptions {
        capture: true,
        max_output: 256 * 1024,
        inherit_stderr: false,
        timeout,
        search_path: false,
    };
    match spawn::run(argv, &opts, None) {
        Ok(out) => {
            let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
            if out.truncated {
                s.push_str("\n[output truncated]\n");
            }
            if !out.completion.success() {
                s.push_str(&format!("[{} {}]\n", argv.join(" "), out.completion));
            }
            s
        }
        Err(e) => format!("cannot run {}: {e}\n", argv.join(" ")),
    }
}

/// One process of interest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proc {
    /// Its pid.
    pub pid: u32,
    /// Its command line (arguments joined by blanks), or `[comm]`.
    pub cmdline: String,
}

/// Names Piranha's process list matched.
const PATTERNS: [&str; 6] = ["pulse", "lvs", "send_arp", "nanny", "fos", "ipvs"];

/// The running pulse, lvs/lvsd, nanny and send_arp processes (and the
/// kernel's ipvs threads), by pid, from `/proc`.
pub fn processes() -> Vec<Proc> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for ent in dir.flatten() {
        let Some(pid) = ent.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let base = ent.path();
        let comm = std::fs::read_to_string(base.join("comm")).unwrap_or_default();
        let comm = comm.trim_end();
        let raw = std::fs::read(base.join("cmdline")).unwrap_or_default();
        let argv0 = raw
            .split(|b| *b == 0)
            .next()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .unwrap_or_default();
        let prog = argv0.rsplit('/').next().unwrap_or("");
        let hit = |s: &str| PATTERNS.iter().any(|p| s.contains(p));
        if !(hit(comm) || hit(prog)) || comm.starts_with("piranha-gui") {
            continue;
        }
        let cmdline = if raw.is_empty() {
            format!("[{comm}]")
        } else {
            raw.split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        };
        out.push(Proc { pid, cmdline });
    }
    out.sort_by_key(|p| p.pid);
    out
}
