//! The CONTROL/MONITORING panel's facts: `pulse status`, `ipvsadm -L -n`
//! (each run with a fixed argv and a deadline, never through a shell, its
//! stdout and stderr shown together as a terminal would show them) and the
//! LVS processes read from `/proc` (what Piranha got from
//! `ps auxw | egrep "pulse|lvs|send_arp|nanny|fos|ipvs"`).

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use piranha_runtime::quote::argv_line;
use piranha_runtime::spawn::{self, Completion};

/// Most output kept from one command, in bytes.
pub const MAX_OUTPUT: usize = 256 * 1024;

/// What one command printed and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// stdout and stderr, interleaved as written, at most [`MAX_OUTPUT`].
    pub text: Vec<u8>,
    /// More was written than was kept.
    pub truncated: bool,
    /// How it ended (killed at the deadline: [`Completion::TimedOut`]).
    pub completion: Completion,
}

/// Run `argv` (fixed, from the command line of piranha-gui) and return
/// what it wrote to stdout and stderr, followed by a line with its exit
/// status when that is not 0, or a line saying why it could not run.
pub fn run_fixed(argv: &[String], timeout: Duration) -> String {
    match run_merged(argv, timeout) {
        Ok(out) => {
            let mut s = String::from_utf8_lossy(&out.text).into_owned();
            if out.truncated {
                s.push_str("\n[output truncated]\n");
            }
            if !out.completion.success() {
                if !s.is_empty() && !s.ends_with('\n') {
                    s.push('\n');
                }
                s.push_str(&format!("[{} {}]\n", argv_line(argv), out.completion));
            }
            s
        }
        Err(e) => format!("cannot run {}: {e}\n", argv_line(argv)),
    }
}

/// Run `argv` without a shell: stdin `/dev/null`, stdout and stderr into
/// one pipe, default signal dispositions, its own process group (killed
/// as a whole at the deadline), reaped on every path.
pub fn run_merged(argv: &[String], timeout: Duration) -> std::io::Result<Output> {
    let (program, args) = argv.split_first().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "no program to run")
    })?;
    let deadline = Instant::now() + timeout;
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let w2: OwnedFd = w.try_clone()?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(w))
        .stderr(Stdio::from(w2))
        .process_group(0);
    spawn::prepare_child(&mut cmd, false);
    let spawned = cmd.spawn();
    // The Command holds the pipe's write ends; close ours so that the read
    // side sees end-of-file when the child (and its children) are done.
    drop(cmd);
    let mut child = spawned?;
    let pgid = child.id() as libc::pid_t;
    let mut pipe = std::fs::File::from(r);
    let mut text = Vec::new();
    let mut truncated = false;
    let mut timed_out = false;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            timed_out = true;
            break;
        }
        let mut pfd = libc::pollfd {
            fd: pipe.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = left.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid pollfd on a descriptor we own.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        if n == 0 {
            continue;
        }
        match pipe.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => {
                let room = MAX_OUTPUT.saturating_sub(text.len());
                text.extend_from_slice(&buf[..k.min(room)]);
                truncated |= k > room;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let completion = loop {
        if timed_out {
            // SAFETY: signals the child's own process group only.
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
            let _ = child.wait();
            break Completion::TimedOut;
        }
        match child.try_wait()? {
            Some(st) => break spawn::completion(st),
            None if Instant::now() >= deadline => timed_out = true,
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    Ok(Output {
        text,
        truncated,
        completion,
    })
}

/// One process of interest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proc {
    /// Its pid.
    pub pid: u32,
    /// Who runs it (user name, or the uid when it has none).
    pub user: String,
    /// Its whole command line (arguments joined by blanks), or `[comm]`
    /// for a kernel thread.
    pub cmdline: String,
}

/// What Piranha's `egrep` looked for in `ps auxw` (`lvs` also matches
/// `lvsd`).
pub const PATTERNS: [&str; 6] = ["pulse", "lvs", "send_arp", "nanny", "fos", "ipvs"];

fn user_of(status: &str) -> String {
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|u| u.parse::<u32>().ok());
    match uid {
        Some(u) => nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(u))
            .ok()
            .flatten()
            .map(|u| u.name)
            .unwrap_or_else(|| u.to_string()),
        None => "?".to_string(),
    }
}

/// The processes whose name or command line contains one of
/// [`PATTERNS`], as Piranha's `ps auxw | egrep` listed them (pulse, lvs,
/// lvsd, nanny, send_arp, the kernel's ipvs threads, and anything else
/// that mentions them, such as an editor open on lvs.cf), by pid, from
/// `/proc`. piranha-gui itself is left out.
pub fn processes() -> Vec<Proc> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    let me = std::process::id();
    for ent in dir.flatten() {
        let Some(pid) = ent.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let base = ent.path();
        let comm = std::fs::read_to_string(base.join("comm")).unwrap_or_default();
        let comm = comm.trim_end();
        let raw = std::fs::read(base.join("cmdline")).unwrap_or_default();
        let cmdline = if raw.is_empty() {
            format!("[{comm}]")
        } else {
            raw.split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let hit = |s: &str| PATTERNS.iter().any(|p| s.contains(p));
        if !(hit(comm) || hit(&cmdline)) || pid == me || comm.starts_with("piranha-gui") {
            continue;
        }
        let status = std::fs::read_to_string(base.join("status")).unwrap_or_default();
        out.push(Proc {
            pid,
            user: user_of(&status),
            cmdline,
        });
    }
    out.sort_by_key(|p| p.pid);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn stderr_is_shown_with_stdout_and_the_status() {
        let s = run_fixed(
            &argv(&[
                "/bin/sh",
                "-c",
                "echo IP Virtual Server version 1.2.1; echo Can not initialize ipvs: Protocol not available >&2; exit 2",
            ]),
            Duration::from_secs(5),
        );
        assert_eq!(
            s,
            "IP Virtual Server version 1.2.1\nCan not initialize ipvs: Protocol not available\n\
             [/bin/sh -c 'echo IP Virtual Server version 1.2.1; echo Can not initialize ipvs: Protocol not available >&2; exit 2' exited with status 2]\n"
        );
    }

    #[test]
    fn a_missing_program_says_why() {
        let s = run_fixed(
            &argv(&["/nonexistent/pulse", "status"]),
            Duration::from_secs(5),
        );
        assert!(
            s.starts_with("cannot run /nonexistent/pulse status: "),
            "{s}"
        );
        assert!(s.contains("No such file or directory"), "{s}");
    }

    #[test]
    fn the_deadline_kills_the_whole_process_group() {
        let t = Instant::now();
        let s = run_fixed(
            &argv(&["/bin/sh", "-c", "echo started; sleep 30 & sleep 30"]),
            Duration::from_millis(300),
        );
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        assert!(s.starts_with("started\n"), "{s}");
        assert!(s.ends_with("timed out]\n"), "{s}");
    }

    #[test]
    fn user_of_reads_the_real_uid() {
        assert_eq!(user_of("Name:\tx\nUid:\t0\t0\t0\t0\n"), "root");
        assert_eq!(user_of("Name:\tx\n"), "?");
    }
}
