//! Running helper programs: default signals, no stdin, bounded output, a
//! deadline, and an early way out when the daemon is told to stop.
//!
//! The child is started with an empty signal mask and every signal back at
//! its default disposition (a daemon may ignore some; the helper must not
//! inherit that), stdin on `/dev/null`, stderr on `/dev/null` or inherited,
//! and stdout either captured through a pipe or inherited.  Captured output
//! is kept up to a bound and the rest is read and dropped, so the child never
//! blocks on a full pipe.  When the deadline passes the child gets SIGKILL and
//! is reaped; no zombie is left behind on any path.

use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags};

use crate::signals::poll_timeout;

/// How a helper run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// exit(n).
    Exited(i32),
    /// Killed by signal n (not by us).
    Signalled(i32),
    /// Still running at the deadline; we killed it.
    TimedOut,
    /// The caller's interrupt fired; we killed it.
    Interrupted,
}

impl Completion {
    /// True for `Exited(0)`.
    pub fn success(&self) -> bool {
        *self == Completion::Exited(0)
    }
}

impl std::fmt::Display for Completion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Completion::Exited(n) => write!(f, "exited with status {n}"),
            Completion::Signalled(s) => write!(f, "killed by signal {s}"),
            Completion::TimedOut => write!(f, "timed out"),
            Completion::Interrupted => write!(f, "interrupted"),
        }
    }
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutput {
    /// How it ended.
    pub completion: Completion,
    /// Captured stdout (empty when not captured), at most the bound.
    pub stdout: Vec<u8>,
    /// True if the program wrote more than the bound.
    pub truncated: bool,
    /// The child's pid.
    pub pid: u32,
}

/// An early way out of a wait: when `fd` becomes readable, `abort` is asked
/// whether to give up (for example "is SIGTERM pending?").
pub struct Interrupt<'a> {
    /// Readable when something may want the wait to end.
    pub fd: BorrowedFd<'a>,
    /// Return true to kill the child and return [`Completion::Interrupted`].
    pub abort: &'a dyn Fn() -> bool,
}

/// Options for [`run`].
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Capture stdout (through a pipe); otherwise it is inherited.
    pub capture: bool,
    /// Keep at most this many bytes of stdout.
    pub max_output: usize,
    /// Inherit stderr instead of sending it to `/dev/null`.
    pub inherit_stderr: bool,
    /// Kill the child after this long.
    pub timeout: Duration,
    /// Search `PATH` for argv\[0\] (execvp) rather than using it as a path.
    pub search_path: bool,
}

/// Errors from [`run`].
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// argv was empty.
    #[error("no program to run")]
    EmptyArgv,
    /// The program could not be started.
    #[error("failed to run {program}")]
    Spawn {
        /// argv\[0\].
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Map a wait status to a [`Completion`].
pub fn completion(status: ExitStatus) -> Completion {
    match (status.code(), status.signal()) {
        (Some(code), _) => Completion::Exited(code),
        (None, Some(sig)) => Completion::Signalled(sig),
        // Stopped/continued are not reported by wait() without WUNTRACED.
        (None, None) => Completion::Signalled(0),
    }
}

/// For a `pre_exec` hook (between fork and exec): an empty signal mask and
/// every signal, 1 to SIGRTMAX included, back at its default disposition,
/// so an exec'd program does not inherit what the daemon blocks or
/// ignores. Async-signal-safe.
pub fn reset_signals() -> std::io::Result<()> {
    // SAFETY (called between fork and exec): sigemptyset, sigprocmask and
    // signal are async-signal-safe and touch only this process.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        for sig in 1..=libc::SIGRTMAX() {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
    }
    Ok(())
}

/// For a `pre_exec` hook: [`reset_signals`], and SIGTERM to the child when
/// the process that forked it dies (`PR_SET_PDEATHSIG`), as Piranha's
/// daemons expected of their children (lvs of pulse, nannies of lvs).
/// Async-signal-safe.
pub fn child_of_daemon() -> std::io::Result<()> {
    // SAFETY (called between fork and exec): prctl is async-signal-safe and
    // only changes this process.
    if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM, 0, 0, 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    reset_signals()
}

/// Set `cmd` up as a daemon's child: [`reset_signals`], and with
/// `die_with_parent` also [`child_of_daemon`]'s parent-death signal; a
/// child whose parent died before the signal was armed exits 0 at once.
/// Descriptors need nothing here: the standard library opens its own
/// close-on-exec, and a daemon marks what it inherited with
/// [`crate::daemon::cloexec_inherited_fds`] at start-up.
pub fn prepare_child(cmd: &mut Command, die_with_parent: bool) {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs in the child between fork and exec and only
    // makes async-signal-safe calls (sigprocmask, signal, prctl, getppid,
    // _exit).
    unsafe {
        cmd.pre_exec(move || {
            if !die_with_parent {
                return reset_signals();
            }
            child_of_daemon()?;
            if libc::getppid() != parent {
                libc::_exit(0);
            }
            Ok(())
        });
    }
}

/// Run `argv` as described by `opts`, waiting at most `opts.timeout`.
pub fn run(
    argv: &[String],
    opts: &RunOptions,
    interrupt: Option<&Interrupt<'_>>,
) -> Result<RunOutput, SpawnError> {
    let (program, args) = argv.split_first().ok_or(SpawnError::EmptyArgv)?;
    let deadline = Instant::now() + opts.timeout;
    let mut cmd = if opts.search_path || program.contains('/') {
        Command::new(program)
    } else {
        // execv semantics: a bare name is relative to the cwd, not PATH.
        Command::new(format!("./{program}"))
    };
    cmd.arg0(program).args(args).stdin(Stdio::null());
    cmd.stdout(if opts.capture {
        Stdio::piped()
    } else {
        Stdio::inherit()
    });
    cmd.stderr(if opts.inherit_stderr {
        Stdio::inherit()
    } else {
        Stdio::null()
    });
    prepare_child(&mut cmd, false);
    let mut child = cmd.spawn().map_err(|source| SpawnError::Spawn {
        program: program.clone(),
        source,
    })?;
    let pid = child.id();
    let mut stdout = Vec::new();
    let mut truncated = false;
    let mut early: Option<Completion> = None;
    if let Some(mut out) = child.stdout.take() {
        let mut buf = [0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                early = Some(Completion::TimedOut);
                break;
            }
            let mut fds = vec![PollFd::new(out.as_fd(), PollFlags::POLLIN)];
            if let Some(i) = interrupt {
                fds.push(PollFd::new(i.fd, PollFlags::POLLIN));
            }
            let n = match poll(&mut fds, poll_timeout(left)) {
                Ok(n) => n,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => 0,
            };
            if n == 0 {
                continue;
            }
            let int_ready = fds
                .get(1)
                .and_then(|f| f.revents())
                .is_some_and(|r| !r.is_empty());
            let out_ready = fds[0].revents().is_some_and(|r| !r.is_empty());
            if int_ready {
                if let Some(i) = interrupt {
                    if (i.abort)() {
                        early = Some(Completion::Interrupted);
                        break;
                    }
                }
            }
            if out_ready {
                match out.read(&mut buf) {
                    Ok(0) => break,
                    Ok(k) => {
                        let room = opts.max_output.saturating_sub(stdout.len());
                        stdout.extend_from_slice(&buf[..k.min(room)]);
                        if k > room {
                            truncated = true;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        }
    }
    let completion = match early {
        Some(c) => {
            kill_and_reap(&mut child);
            c
        }
        None => wait_deadline(&mut child, deadline, interrupt),
    };
    Ok(RunOutput {
        completion,
        stdout,
        truncated,
        pid,
    })
}

/// Reap every child that has ended, without blocking: `waitpid(-1,
/// WNOHANG)` until nothing is left (SIGCHLD coalesces, so one signal may
/// stand for several deaths).  Returns each pid with how it ended; an empty
/// list when no child has ended or there are no children (ECHILD).
pub fn reap_exited() -> Vec<(i32, Completion)> {
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    let mut out = Vec::new();
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) => out.push((pid.as_raw(), Completion::Exited(code))),
            Ok(WaitStatus::Signaled(pid, sig, _)) => {
                out.push((pid.as_raw(), Completion::Signalled(sig as i32)))
            }
            Ok(WaitStatus::StillAlive) => break,
            // Stopped/continued are only reported with WUNTRACED/WCONTINUED.
            Ok(_) => continue,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => break, // ECHILD: no children at all
        }
    }
    out
}

fn kill_and_reap(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn wait_deadline(
    child: &mut Child,
    deadline: Instant,
    interrupt: Option<&Interrupt<'_>>,
) -> Completion {
    let mut nap = Duration::from_micros(200);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return completion(status),
            Ok(None) => {}
            Err(_) => {
                // ECHILD: someone else reaped it; nothing more to learn.
                return Completion::Signalled(0);
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            kill_and_reap(child);
            return Completion::TimedOut;
        }
        let step = nap.min(left);
        match interrupt {
            Some(i) => {
                let mut fds = [PollFd::new(i.fd, PollFlags::POLLIN)];
                if let Ok(1..) = poll(&mut fds, poll_timeout(step)) {
                    if (i.abort)() {
                        kill_and_reap(child);
                        return Completion::Interrupted;
                    }
                }
            }
            None => std::thread::sleep(step),
        }
        nap = (nap * 2).min(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(timeout_ms: u64) -> RunOptions {
        RunOptions {
            capture: true,
            max_output: 16,
            inherit_stderr: false,
            timeout: Duration::from_millis(timeout_ms),
            search_path: true,
        }
    }

    fn sh(script: &str) -> Vec<String> {
        vec!["sh".into(), "-c".into(), script.into()]
    }

    #[test]
    fn captures_and_bounds_output() {
        let r = run(&sh("echo hello; yes | head -c 100000"), &opts(5000), None).unwrap();
        assert_eq!(r.completion, Completion::Exited(0));
        assert_eq!(r.stdout.len(), 16);
        assert!(r.stdout.starts_with(b"hello\n"));
        assert!(r.truncated);
    }

    #[test]
    fn exit_status_and_signal_are_reported() {
        let r = run(&sh("exit 3"), &opts(5000), None).unwrap();
        assert_eq!(r.completion, Completion::Exited(3));
        let r = run(&sh("kill -9 $$"), &opts(5000), None).unwrap();
        assert_eq!(r.completion, Completion::Signalled(9));
    }

    #[test]
    fn stdin_is_closed() {
        let r = run(&sh("cat; echo done"), &opts(5000), None).unwrap();
        assert_eq!(r.stdout, b"done\n");
    }

    #[test]
    fn hanging_child_is_killed_at_the_deadline_and_reaped() {
        let start = Instant::now();
        let r = run(&sh("exec sleep 30"), &opts(300), None).unwrap();
        assert_eq!(r.completion, Completion::TimedOut);
        assert!(start.elapsed() < Duration::from_secs(5));
        // Reaped: the pid is gone (or reused, which kill(0) cannot tell, but
        // within this test it is not).
        let gone = nix::sys::signal::kill(nix::unistd::Pid::from_raw(r.pid as i32), None).is_err();
        assert!(gone, "child {} still exists", r.pid);
    }

    #[test]
    fn ignored_signals_are_reset_for_the_child() {
        // SAFETY: setting SIGUSR1 to ignored in this test process; the
        // helper must see it back at default (SigIgn bit clear).
        unsafe { libc::signal(libc::SIGUSR1, libc::SIG_IGN) };
        let r = run(
            &sh("grep SigIgn /proc/self/status"),
            &RunOptions {
                max_output: 100,
                ..opts(5000)
            },
            None,
        )
        .unwrap();
        // SAFETY: restore the default.
        unsafe { libc::signal(libc::SIGUSR1, libc::SIG_DFL) };
        let line = String::from_utf8_lossy(&r.stdout);
        let mask = u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap();
        assert_eq!(mask & (1 << (libc::SIGUSR1 - 1)), 0, "{line}");
    }

    #[test]
    fn missing_program_is_an_error() {
        assert!(run(&["/nonexistent/prog".to_string()], &opts(1000), None).is_err());
    }
}
