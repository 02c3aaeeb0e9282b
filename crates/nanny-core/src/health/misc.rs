//! The misc check: a program whose exit code is the verdict, killed with its process group at the deadline.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::poll::PollFlags;
use piranha_runtime::spawn::Interrupt;

use super::io::*;

/// How a misc program ended, as the check reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MiscResult {
    /// Exit 0.
    Up,
    /// Up with this weight (dynamic mode, exit 2-255).
    UpWeight(i32),
    /// Down (exit 1, or any non-zero exit without dynamic mode, a signal,
    /// a timeout, a failure to start).
    Down,
}

/// keepalived's exit-status rule.
pub fn misc_result(code: i32, dynamic: bool) -> MiscResult {
    match code {
        0 => MiscResult::Up,
        2..=255 if dynamic => MiscResult::UpWeight(code - 2),
        _ => MiscResult::Down,
    }
}

/// Run `argv` in its own process group with stdin and stdout on
/// /dev/null; on timeout SIGTERM the group, SIGKILL it [`MISC_KILL_GRACE`]
/// later. Returns the exit code.
pub fn run_misc(argv: &[String], timeout: Duration, intr: Option<&Interrupt<'_>>) -> Res<i32> {
    let Some((prog, args)) = argv.split_first() else {
        return down("empty program");
    };
    let mut cmd = Command::new(prog);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    cmd.process_group(0);
    piranha_runtime::spawn::prepare_child(&mut cmd, false);
    let mut child = cmd
        .spawn()
        .or_else(|e| down(format!("cannot run {prog}: {e}")))?;
    let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
    let deadline = Instant::now() + timeout;
    let kill_group = |sig| {
        let _ = nix::sys::signal::killpg(pgid, sig);
    };
    loop {
        match child.try_wait() {
            Ok(Some(st)) => {
                return match (st.code(), st.signal()) {
                    (Some(c), _) => Ok(c),
                    (None, Some(s)) => down(format!("{prog} killed by signal {s}")),
                    _ => down(format!("{prog} ended abnormally")),
                };
            }
            Ok(None) => {}
            Err(e) => return down(format!("wait for {prog}: {e}")),
        }
        let now = Instant::now();
        let stop = intr.is_some_and(|i| {
            let mut fds = [nix::poll::PollFd::new(i.fd, PollFlags::POLLIN)];
            matches!(nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO), Ok(n) if n > 0)
                && (i.abort)()
        });
        if stop || now >= deadline {
            kill_group(nix::sys::signal::Signal::SIGTERM);
            let grace = Instant::now() + MISC_KILL_GRACE;
            while Instant::now() < grace {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            kill_group(nix::sys::signal::Signal::SIGKILL);
            let _ = child.kill();
            let _ = child.wait();
            return if stop {
                Err(Fail::Interrupted)
            } else {
                down(format!(
                    "{prog} timed out after {} s; process group killed",
                    timeout.as_secs_f64()
                ))
            };
        }
        std::thread::sleep(Duration::from_millis(10).min(deadline - now));
    }
}
