//! Nanny supervision: starting the nannies (through the fork servers or
//! with fork+exec), reading their output lines (sorry and quorum state),
//! reaping them, restarting the ones that died with back-off, and
//! stopping them.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::os::fd::{AsFd, AsRawFd};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use piranha_runtime::forkserver::{ForkServer, ForkServerError};

use super::forks::{Forks, FORK_WINDOW};
use super::state::{Exit, Lvsd, MonKey, Running};
use crate::kernel::argv_line;
use crate::plan::{Monitor, ServiceKey};
use crate::quorum;
use crate::sorry;

/// First delay before restarting a dead nanny; doubles per quick death.
const RESTART_FIRST: Duration = Duration::from_secs(1);
/// Longest delay between restarts.
const RESTART_MAX: Duration = Duration::from_secs(30);
/// A nanny that lived this long before dying is not "dying quickly".
const HEALTHY_LIFE: Duration = Duration::from_secs(60);
/// With `hard_shutdown = 1`, this many quick deaths in a row of one nanny
/// shut the director down.
pub const HARD_SHUTDOWN_DEATHS: u32 = 5;

impl Lvsd {
    pub(super) fn running(key: ServiceKey, mon: Monitor) -> Running {
        Running {
            key,
            mon,
            pid: None,
            pipe: None,
            buf: Vec::new(),
            started: Instant::now(),
            quick_deaths: 0,
            backoff: RESTART_FIRST,
            restart_at: None,
            stopping: false,
            live: false,
            entry: None,
        }
    }

    /// Start a nanny for each monitor.  Through the fork server, up to
    /// [`FORK_WINDOW`] requests are in flight at once.
    pub(super) fn spawn_many(&mut self, list: Vec<(ServiceKey, Monitor)>) {
        let mut pending: VecDeque<(MonKey, u64, Option<File>)> = VecDeque::new();
        for (key, mon) in list {
            let k = (key, mon.rip, mon.rport);
            let mut r = Self::running(key, mon);
            let sent = match (self.opts.test_start, self.forks.for_program(&r.mon.argv[0])) {
                (false, Some((i, server))) => match Self::fork_request(server, &r) {
                    Ok(read) => Some((i, read)),
                    Err(e) => {
                        self.forks.failed(i, &e);
                        None
                    }
                },
                _ => None,
            };
            match sent {
                Some((i, read)) => {
                    self.monitors.insert(k, r);
                    pending.push_back((k, i, read));
                    if pending.len() >= FORK_WINDOW * self.forks.servers.len().max(1) {
                        self.fork_reply(&mut pending);
                    }
                }
                None => {
                    Self::spawn(&mut r, self.opts.test_start, &mut self.forks);
                    self.monitors.insert(k, r);
                }
            }
        }
        while !pending.is_empty() {
            self.fork_reply(&mut pending);
        }
    }

    /// Collect the answer to the oldest request in flight.  A request to a
    /// server that failed is started with exec instead.
    fn fork_reply(&mut self, pending: &mut VecDeque<(MonKey, u64, Option<File>)>) {
        let Some((k, i, read)) = pending.pop_front() else {
            return;
        };
        let result = match self.forks.get(i) {
            Some(s) => s.reply().map_err(Some),
            None => Err(None),
        };
        let Some(r) = self.monitors.get_mut(&k) else {
            return;
        };
        match result {
            Ok(pid) => Self::started(r, pid, read),
            Err(e) => {
                if let Some(e) = e {
                    self.forks.failed(i, &e);
                }
                Self::exec(r);
            }
        }
    }

    pub(super) fn spawn(r: &mut Running, test_start: bool, forks: &mut Forks) {
        r.restart_at = None;
        r.started = Instant::now();
        if test_start {
            log::info!(
                "[test-start] create_monitor for {}: {}",
                r.mon.label(),
                argv_line(&r.mon.argv)
            );
            return;
        }
        if let Some((i, server)) = forks.for_program(&r.mon.argv[0]) {
            match Self::fork_one(server, r) {
                Ok(()) => return,
                Err(e) => forks.failed(i, &e),
            }
        }
        Self::exec(r);
    }

    /// Start `r`'s nanny with fork+exec.
    pub(super) fn exec(r: &mut Running) {
        let mut cmd = Command::new(&r.mon.argv[0]);
        cmd.args(&r.mon.argv[1..])
            .stdin(Stdio::null())
            .stdout(if r.mon.piped {
                Stdio::piped()
            } else {
                Stdio::inherit()
            });
        piranha_runtime::spawn::prepare_child(&mut cmd, true);
        match cmd.spawn() {
            Ok(mut child) => {
                let pid = Pid::from_raw(child.id() as i32);
                // The child is reaped by pid in `reap`; dropping the handle
                // does not wait for it.
                let pipe = child.stdout.take().map(|p| File::from(OwnedFd::from(p)));
                Self::started(r, pid, pipe);
            }
            Err(e) => {
                log::error!("failed to start nanny for {}: {e}", r.mon.label());
                r.restart_at = Some(Instant::now() + r.backoff);
            }
        }
    }

    /// Start `r`'s nanny through the fork server.
    fn fork_one(server: &ForkServer, r: &mut Running) -> Result<(), ForkServerError> {
        let read = Self::fork_request(server, r)?;
        let pid = server.reply()?;
        Self::started(r, pid, read);
        Ok(())
    }

    /// Ask the fork server for `r`'s nanny; returns the read end of its
    /// stdout pipe when lvs reads it.
    fn fork_request(server: &ForkServer, r: &Running) -> Result<Option<File>, ForkServerError> {
        let (read, write) = if r.mon.piped {
            let (rd, wr) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
                .map_err(|e| ForkServerError::Io(e.into()))?;
            (Some(File::from(rd)), wr)
        } else {
            let out = std::io::stdout()
                .as_fd()
                .try_clone_to_owned()
                .map_err(ForkServerError::Io)?;
            (None, out)
        };
        server.request(&r.mon.argv, write.as_fd())?;
        Ok(read)
    }

    pub(super) fn started(r: &mut Running, pid: Pid, pipe: Option<File>) {
        log::info!(
            "create_monitor for {} running as pid {}",
            r.mon.label(),
            pid
        );
        if let Some(p) = &pipe {
            let _ = nix::fcntl::fcntl(
                p.as_raw_fd(),
                nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
            );
        }
        r.pipe = pipe;
        r.pid = Some(pid);
    }

    /// Reap every exited child; returns `Some(Exit::HardShutdown)` when a
    /// nanny keeps dying and `hard_shutdown = 1`.
    pub(super) fn reap(&mut self) -> Option<Exit> {
        let mut verdict = None;
        loop {
            let st = match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(st) => st,
            };
            let (pid, how) = match st {
                WaitStatus::Exited(p, c) => (p, format!("exited with status {c}")),
                WaitStatus::Signaled(p, s, _) => (p, format!("was killed by signal {}", s as i32)),
                _ => continue,
            };
            let ok = matches!(st, WaitStatus::Exited(_, 0));
            if self.scripts.reaped(pid, &how, ok) {
                continue;
            }
            let Some(k) = self
                .monitors
                .iter()
                .find(|(_, r)| r.pid == Some(pid))
                .map(|(k, _)| *k)
            else {
                if !self.forks.reaped(pid) {
                    log::debug!("reaped unknown child {pid} ({how})");
                }
                continue;
            };
            let hard = self.cfg.hard_shutdown();
            let r = self.monitors.get_mut(&k).expect("monitor");
            r.pid = None;
            r.pipe = None;
            let was_live = std::mem::take(&mut r.live);
            let had_entry = r.entry.take().is_some();
            if r.stopping {
                continue;
            }
            let life = r.started.elapsed();
            if life >= HEALTHY_LIFE {
                r.quick_deaths = 0;
                r.backoff = RESTART_FIRST;
            }
            r.quick_deaths += 1;
            let label = r.mon.label();
            if hard && r.quick_deaths >= HARD_SHUTDOWN_DEATHS {
                log::error!(
                    "nanny for child {label} died! ({how}; {} times in a row) shutting down lvs",
                    r.quick_deaths
                );
                verdict = Some(Exit::HardShutdown);
                continue;
            }
            let delay = r.backoff;
            r.restart_at = Some(Instant::now() + delay);
            r.backoff = (r.backoff * 2).min(RESTART_MAX);
            if r.quick_deaths >= HARD_SHUTDOWN_DEATHS {
                log::error!(
                    "nanny for child {label} died! ({how}; {} times in a row) manual action needed! restarting it in {} s",
                    r.quick_deaths,
                    delay.as_secs()
                );
            } else {
                log::warn!(
                    "nanny for child {label} died! ({how}) restarting it in {} s",
                    delay.as_secs()
                );
            }
            let key = r.key;
            let addr = SocketAddr::new(r.mon.rip, r.mon.rport);
            if was_live {
                if let Some(l) = self.live.get_mut(&key) {
                    l.forget(addr);
                }
                self.check_sorry(key);
            }
            if was_live || had_entry {
                // Quorum extension: the dead nanny's server leaves the live
                // weight (and, while the quorum holds, the table) until its
                // restarted nanny reports it again.
                self.quorum_eval(key, false);
            }
        }
        verdict
    }

    pub(super) fn read_pipes(&mut self, ready: &[MonKey]) {
        let mut changed = Vec::new();
        let mut qchanged: Vec<(ServiceKey, Option<sorry::Event>)> = Vec::new();
        let mut came_up: Vec<(ServiceKey, SocketAddr)> = Vec::new();
        for k in ready {
            let Some(r) = self.monitors.get_mut(k) else {
                continue;
            };
            let Some(p) = r.pipe.as_mut() else {
                continue;
            };
            let mut chunk = [0u8; 4096];
            loop {
                match p.read(&mut chunk) {
                    Ok(0) => {
                        r.pipe = None;
                        break;
                    }
                    Ok(n) => r.buf.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(_) => {
                        r.pipe = None;
                        break;
                    }
                }
            }
            while let Some(nl) = r.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = r.buf.drain(..=nl).collect();
                let line = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
                if self.opts.nodaemon {
                    println!("{line}");
                }
                if let Some((addr, want)) = quorum::parse_line(&line) {
                    if addr == SocketAddr::new(r.mon.rip, r.mon.rport) {
                        let prev = r.entry;
                        r.entry = match want {
                            quorum::Wanted::Weight(w) => Some(w),
                            quorum::Wanted::Absent => None,
                        };
                        qchanged.push((r.key, None));
                        // The first weight a live server reports (nanny
                        // prints `[ active ]` first): now it counts in W.
                        if r.live && prev.is_none() && r.entry.is_some() {
                            came_up.push((r.key, addr));
                        }
                    }
                    continue;
                }
                let Some(e) = sorry::parse_line(&line) else {
                    continue;
                };
                r.live = matches!(e, sorry::Event::Up(_));
                if let (sorry::Event::Up(a), Some(_)) = (e, r.entry) {
                    came_up.push((r.key, a));
                }
                changed.push((r.key, e));
                qchanged.push((r.key, Some(e)));
            }
            if r.buf.len() > 64 * 1024 {
                r.buf.clear();
            }
        }
        for (key, e) in changed {
            self.live.entry(key).or_default().apply(e);
            self.check_sorry(key);
        }
        let mut done: Vec<ServiceKey> = Vec::new();
        for (key, _) in &qchanged {
            if self.quorums.contains_key(key) && !done.contains(key) {
                done.push(*key);
                self.quorum_eval(*key, false);
            }
        }
        for (key, a) in came_up {
            self.note_kept_out(key, a);
        }
    }

    pub(super) fn stop_monitors(&mut self, keys: &[MonKey]) {
        for k in keys {
            if let Some(r) = self.monitors.get_mut(k) {
                r.stopping = true;
                r.restart_at = None;
                if let Some(pid) = r.pid {
                    let _ = kill(pid, Signal::SIGTERM);
                }
            }
        }
        let deadline = Instant::now() + self.opts.grace;
        while keys
            .iter()
            .any(|k| self.monitors.get(k).is_some_and(|r| r.pid.is_some()))
        {
            if Instant::now() >= deadline {
                for k in keys {
                    if let Some(r) = self.monitors.get_mut(k) {
                        if let Some(pid) = r.pid {
                            log::warn!(
                                "nanny for {} did not stop within {} s; killing it",
                                r.mon.label(),
                                self.opts.grace.as_secs()
                            );
                            let _ = kill(pid, Signal::SIGKILL);
                            // Only that nanny: any other child (a quorum
                            // script) is reaped by the loop.
                            let _ = waitpid(pid, None);
                            r.pid = None;
                        }
                    }
                }
            }
            let _ = self
                .signals
                .wait(Some(Instant::now() + Duration::from_millis(50)));
            self.reap();
            if Instant::now() >= deadline + Duration::from_secs(2) {
                break;
            }
        }
        for k in keys {
            if let Some(r) = self.monitors.remove(k) {
                if r.live {
                    if let Some(l) = self.live.get_mut(&r.key) {
                        l.forget(SocketAddr::new(r.mon.rip, r.mon.rport));
                    }
                }
            }
        }
    }
}
