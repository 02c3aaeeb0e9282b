//! The `quorum_up` / `quorum_down` scripts (issue 9): run with
//! `/bin/sh -c` in their own process group, never waited for in lvs's
//! loop, one at a time per virtual server in the order of the transitions,
//! and killed with their whole process group after [`SCRIPT_TIMEOUT`].
//! lvs reaps them with its other children and hands the status here.

use std::collections::{BTreeMap, VecDeque};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use crate::key::ServiceKey;

/// How long a quorum script may run before its process group is killed.
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);

/// Pending transitions kept per virtual server while a script runs; older
/// ones are dropped (and logged) past this.
const QUEUE_MAX: usize = 16;

/// One script to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// The service it belongs to.
    pub key: ServiceKey,
    /// Virtual server name (log lines, `LVS_VIRTUAL`).
    pub vs: String,
    /// `quorum_up` or `quorum_down`.
    pub what: &'static str,
    /// The command line, run by `/bin/sh -c`.
    pub command: String,
    /// Extra environment.
    pub env: Vec<(String, String)>,
}

struct Running {
    job: Job,
    pid: Pid,
    deadline: Instant,
    killed: bool,
}

/// The running and queued scripts.
pub struct Scripts {
    timeout: Duration,
    running: Vec<Running>,
    queue: BTreeMap<ServiceKey, VecDeque<Job>>,
}

impl Default for Scripts {
    fn default() -> Self {
        Self::new(SCRIPT_TIMEOUT)
    }
}

impl Scripts {
    /// No scripts yet; each may run for `timeout`.
    pub fn new(timeout: Duration) -> Self {
        Scripts {
            timeout,
            running: Vec::new(),
            queue: BTreeMap::new(),
        }
    }

    /// Run `job` now, or after the script of its service that is running.
    pub fn submit(&mut self, job: Job) {
        if self.running.iter().any(|r| r.job.key == job.key) {
            let q = self.queue.entry(job.key).or_default();
            if q.len() >= QUEUE_MAX {
                if let Some(old) = q.pop_front() {
                    log::warn!(
                        "Virtual Server {}: too many quorum transitions while a script runs; {} script dropped",
                        old.vs,
                        old.what
                    );
                }
            }
            q.push_back(job);
        } else {
            self.start(job);
        }
    }

    fn start(&mut self, job: Job) {
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(&job.command)
            .stdin(Stdio::null())
            .envs(job.env.iter().map(|(k, v)| (k, v)))
            .process_group(0);
        piranha_runtime::spawn::prepare_child(&mut cmd, false);
        match cmd.spawn() {
            Ok(child) => {
                // Reaped by pid through `reaped`; dropping the handle does
                // not wait.
                let pid = Pid::from_raw(child.id() as i32);
                log::info!(
                    "Virtual Server {}: running {} script (pid {pid}): {}",
                    job.vs,
                    job.what,
                    job.command
                );
                self.running.push(Running {
                    job,
                    pid,
                    deadline: Instant::now() + self.timeout,
                    killed: false,
                });
            }
            Err(e) => {
                log::error!(
                    "Virtual Server {}: failed to run {} script {}: {e}",
                    job.vs,
                    job.what,
                    job.command
                );
                self.start_next(job.key);
            }
        }
    }

    fn start_next(&mut self, key: ServiceKey) {
        if let Some(next) = self.queue.get_mut(&key).and_then(VecDeque::pop_front) {
            self.start(next);
        }
    }

    /// `pid` was reaped with `how` ("exited with status 0", ...): true if it
    /// was a script. The next script of its service starts.
    pub fn reaped(&mut self, pid: Pid, how: &str, ok: bool) -> bool {
        let Some(i) = self.running.iter().position(|r| r.pid == pid) else {
            return false;
        };
        let r = self.running.remove(i);
        if ok {
            log::info!(
                "Virtual Server {}: {} script (pid {pid}) {how}",
                r.job.vs,
                r.job.what
            );
        } else {
            log::warn!(
                "Virtual Server {}: {} script (pid {pid}) {how}",
                r.job.vs,
                r.job.what
            );
        }
        self.start_next(r.job.key);
        true
    }

    /// The next deadline of a running script.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.running
            .iter()
            .filter(|r| !r.killed)
            .map(|r| r.deadline)
            .min()
    }

    /// Kill the process group of every script past its deadline.
    pub fn expire(&mut self, now: Instant) {
        for r in self.running.iter_mut().filter(|r| !r.killed) {
            if r.deadline <= now {
                log::error!(
                    "Virtual Server {}: {} script (pid {}) still running after {} s; killing its process group",
                    r.job.vs,
                    r.job.what,
                    r.pid,
                    self.timeout.as_secs()
                );
                // ESRCH: the group is already gone; its leader is reaped soon.
                let _ = killpg(r.pid, Signal::SIGKILL);
                r.killed = true;
            }
        }
    }

    /// Forget queued scripts of `key` (its service is gone). A running
    /// one finishes, bounded by its deadline.
    pub fn drop_queued(&mut self, key: &ServiceKey) {
        self.queue.remove(key);
    }

    /// lvs is stopping: SIGTERM every running script's process group and
    /// forget the queue.
    pub fn terminate_all(&mut self) {
        self.queue.clear();
        for r in &self.running {
            log::info!(
                "Virtual Server {}: stopping {} script (pid {}) as lvs stops",
                r.job.vs,
                r.job.what,
                r.pid
            );
            let _ = killpg(r.pid, Signal::SIGTERM);
        }
    }

    /// How many scripts run.
    pub fn running(&self) -> usize {
        self.running.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::wait::{waitpid, WaitStatus};

    fn job(what: &'static str, command: &str) -> Job {
        Job {
            key: ServiceKey::Fwmark(1),
            vs: "www".into(),
            what,
            command: command.into(),
            env: vec![("LVS_QUORUM".into(), "up".into())],
        }
    }

    /// Reap `s`'s scripts until none runs, expiring deadlines.
    fn drain(s: &mut Scripts, limit: Duration) {
        let end = Instant::now() + limit;
        while s.running() > 0 {
            assert!(Instant::now() < end, "scripts still running");
            s.expire(Instant::now());
            let pids: Vec<Pid> = s.running.iter().map(|r| r.pid).collect();
            for pid in pids {
                match waitpid(pid, Some(nix::sys::wait::WaitPidFlag::WNOHANG)) {
                    Ok(WaitStatus::Exited(p, c)) => {
                        s.reaped(p, &format!("exited with status {c}"), c == 0);
                    }
                    Ok(WaitStatus::Signaled(p, sig, _)) => {
                        s.reaped(p, &format!("was killed by signal {}", sig as i32), false);
                    }
                    _ => {}
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn scripts_run_in_order_one_at_a_time_with_their_environment() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("out");
        let f = f.display();
        let mut s = Scripts::new(Duration::from_secs(10));
        s.submit(job(
            "quorum_down",
            &format!("sleep 0.2; echo down $LVS_QUORUM >>{f}"),
        ));
        s.submit(job("quorum_up", &format!("echo up >>{f}")));
        assert_eq!(s.running(), 1, "the second waits for the first");
        drain(&mut s, Duration::from_secs(10));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("out")).unwrap(),
            "down up\nup\n"
        );
    }

    #[test]
    fn a_hanging_script_is_killed_with_its_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let pidf = dir.path().join("grandchild");
        let mut s = Scripts::new(Duration::from_millis(300));
        // The grandchild (sleep) would outlive a kill of sh alone.
        s.submit(job(
            "quorum_down",
            &format!("sleep 60 & echo $! >{}; wait", pidf.display()),
        ));
        let t0 = Instant::now();
        drain(&mut s, Duration::from_secs(10));
        assert!(t0.elapsed() < Duration::from_secs(5));
        let gc: i32 = std::fs::read_to_string(&pidf)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The grandchild was killed too (it is gone or a zombie of init).
        std::thread::sleep(Duration::from_millis(100));
        let state = std::fs::read_to_string(format!("/proc/{gc}/stat")).unwrap_or_default();
        assert!(
            state.is_empty() || state.split_whitespace().nth(2) == Some("Z"),
            "grandchild {gc} still alive: {state}"
        );
    }

    #[test]
    fn a_script_that_cannot_start_lets_the_next_run() {
        let mut s = Scripts::new(Duration::from_secs(5));
        s.submit(job("quorum_up", "exit 3"));
        s.submit(job("quorum_down", "true"));
        drain(&mut s, Duration::from_secs(5));
        assert_eq!(s.running(), 0);
    }
}
