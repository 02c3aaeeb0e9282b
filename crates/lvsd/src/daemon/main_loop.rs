//! The daemon's life: programming the table and starting every nanny, the
//! main loop (timers, nanny output, signals), and the shutdown.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use piranha_runtime::signals::poll_timeout;

use super::state::{Exit, Lvsd, MonKey};
use crate::plan::{self, Monitor, ServiceKey};
use crate::sorry::Live;

impl Lvsd {
    /// Program the table and start every nanny.
    pub fn start(&mut self) {
        // The sockets first: the nannies (and their fork servers) learn
        // where to report from the environment.
        self.open_control();
        // Start the nanny fork servers first: their exec and start-up run
        // while lvs reads and programs the table (a takeover waits for
        // both before the first nanny can check anything).
        if !self.opts.test_start {
            let first = self
                .services
                .iter()
                .flat_map(|d| d.monitors.values())
                .map(|m| m.argv[0].clone())
                .next();
            if let Some(argv0) = first {
                let _ = self.forks.for_program(&argv0);
            }
        }
        let current = match self.table.read() {
            Ok(c) => c,
            Err(e) => {
                log::error!("cannot read the IPVS table: {e}");
                Vec::new()
            }
        };
        let mut ops: Vec<ipvs::Op> = plan::timeouts_op(&self.cfg).into_iter().collect();
        for d in &self.services {
            log::info!("starting virtual service {} active: {}", d.name, d.port);
        }
        // a service the administrator disabled stays out
        let enabled: Vec<plan::DesiredService> = self
            .services
            .iter()
            .filter(|d| !self.service_disabled(d.key))
            .cloned()
            .collect();
        ops.extend(plan::startup_ops(&current, &enabled));
        self.table.apply(&ops);
        self.set_sloppy();
        let list: Vec<(ServiceKey, Monitor)> = self
            .services
            .iter()
            .flat_map(|d| d.monitors.values().map(|m| (d.key, m.clone())))
            .collect();
        self.spawn_many(list);
        let keys: Vec<ServiceKey> = self.services.iter().map(|d| d.key).collect();
        for k in keys {
            self.live.insert(k, Live::default());
            self.hold_sorry(k);
            self.check_sorry(k);
            self.quorum_eval(k, true);
        }
        self.enforce_all();
        if self.standby {
            log::info!(
                "standby: the table is programmed without the virtual addresses (hot_standby)"
            );
        }
        self.ready_by = self
            .services
            .iter()
            .map(|d| d.first_verdict)
            .max()
            .map(|v| Instant::now() + v);
        self.check_ready();
    }

    /// Stop every nanny and delete every service lvs runs.
    pub fn shutdown(&mut self) {
        for d in &self.services {
            log::info!("shutting down virtual service {}", d.name);
        }
        let keys: Vec<MonKey> = self.monitors.keys().copied().collect();
        self.stop_monitors(&keys);
        self.scripts.terminate_all();
        // (a service the administrator disabled is not in the table)
        let ops: Vec<ipvs::Op> = self
            .services
            .iter()
            .filter(|d| !self.service_disabled(d.key))
            .map(|d| d.del_op())
            .collect();
        self.table.apply(&ops);
        // Closing the request sockets ends the fork servers.
        let pids: Vec<Pid> = self.forks.servers.iter().map(|(_, s)| s.pid()).collect();
        self.forks.servers.clear();
        let deadline = Instant::now() + Duration::from_secs(2);
        for pid in pids {
            while matches!(
                waitpid(pid, Some(WaitPidFlag::WNOHANG)),
                Ok(WaitStatus::StillAlive)
            ) {
                if Instant::now() >= deadline {
                    let _ = kill(pid, Signal::SIGKILL);
                    let _ = waitpid(pid, None);
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    /// The main loop, until SIGTERM/SIGINT or a hard shutdown.
    pub fn run(&mut self) -> Exit {
        loop {
            let now = Instant::now();
            let due: Vec<MonKey> = self
                .monitors
                .iter()
                .filter(|(_, r)| r.restart_at.is_some_and(|t| t <= now))
                .map(|(k, _)| *k)
                .collect();
            for k in due {
                if let Some(r) = self.monitors.get_mut(&k) {
                    Self::spawn(r, self.opts.test_start, &mut self.forks);
                }
            }
            self.scripts.expire(now);
            let retries: Vec<ServiceKey> = self
                .quorums
                .iter()
                .filter(|(_, q)| q.retry_at.is_some_and(|t| t <= now))
                .map(|(k, _)| *k)
                .collect();
            for k in retries {
                self.quorum_eval(k, false);
            }
            let verdicts: Vec<ServiceKey> = self
                .sorry_hold
                .iter()
                .filter(|(_, &t)| t <= now)
                .map(|(k, _)| *k)
                .collect();
            for k in verdicts {
                self.sorry_hold.remove(&k);
                self.check_sorry(k);
                self.quorum_eval(k, true);
            }
            if self.ready_check_at.is_some_and(|t| t <= now) {
                self.check_ready();
            }
            if self.control_deadline().is_some_and(|t| t <= now) {
                self.drain_tick();
            }
            if self.announce_deadline().is_some_and(|t| t <= now) {
                self.announce_tick();
            }
            let next = self
                .monitors
                .values()
                .filter_map(|r| r.restart_at)
                .chain(self.scripts.next_deadline())
                .chain(self.quorums.values().filter_map(|q| q.retry_at))
                .chain(self.sorry_hold.values().copied())
                .chain(self.ready_check_at)
                .chain(self.control_deadline())
                .chain(self.control.reports_at())
                .chain(self.announce_deadline())
                .min();
            let timeout = match next {
                Some(t) => poll_timeout(t.saturating_duration_since(Instant::now())),
                None => PollTimeout::NONE,
            };
            let piped: Vec<(MonKey, i32)> = self
                .monitors
                .iter()
                .filter_map(|(k, r)| r.pipe.as_ref().map(|p| (*k, p.as_raw_fd())))
                .collect();
            let (ready, asked, reported) = {
                let sig_fd = self.signals.as_fd();
                let mut fds = vec![PollFd::new(sig_fd, PollFlags::POLLIN)];
                let extra = [
                    self.control.listener.as_ref().map(|l| l.as_fd()),
                    // the reports, at most every REPORT_BATCH (each pass
                    // of this loop walks every monitor)
                    self.control
                        .inbox
                        .as_ref()
                        .filter(|_| self.control.reports_due(Instant::now()))
                        .map(|i| i.as_fd()),
                ];
                for fd in extra.iter().flatten() {
                    fds.push(PollFd::new(*fd, PollFlags::POLLIN));
                }
                let first = fds.len();
                for (_, fd) in &piped {
                    // SAFETY: the pipe is owned by `self.monitors` and stays
                    // open for the duration of this poll.
                    fds.push(PollFd::new(
                        unsafe { BorrowedFd::borrow_raw(*fd) },
                        PollFlags::POLLIN,
                    ));
                }
                let _ = poll(&mut fds, timeout);
                let hit = |f: &PollFd| f.revents().is_some_and(|r| !r.is_empty());
                let mut i = 1;
                let mut asked = false;
                let mut reported = false;
                if extra[0].is_some() {
                    asked = hit(&fds[i]);
                    i += 1;
                }
                if extra[1].is_some() {
                    reported = hit(&fds[i]);
                }
                let ready = fds[first..]
                    .iter()
                    .zip(&piped)
                    .filter(|(f, _)| {
                        f.revents().is_some_and(|r| {
                            r.intersects(
                                PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR,
                            )
                        })
                    })
                    .map(|(_, (k, _))| *k)
                    .collect::<Vec<_>>();
                (ready, asked, reported)
            };
            self.read_pipes(&ready);
            if reported {
                self.read_reports();
            }
            if asked {
                self.serve_control();
            }
            if self.ready.is_some() && !ready.is_empty() {
                self.check_ready();
            }
            for sig in self.signals.take() {
                match sig {
                    libc::SIGCHLD => {}
                    libc::SIGHUP => self.reload(),
                    libc::SIGUSR1 => self.set_role(false),
                    libc::SIGUSR2 => self.set_role(true),
                    s => {
                        log::info!("shutting down due to signal {s}");
                        // bgp mode: the routes go first, the table after
                        // the routers moved the flows
                        self.withdraw_for_stop();
                        if self.parent.is_some_and(parent_died) {
                            self.hold_while_addresses_remain();
                        }
                        self.shutdown();
                        return Exit::Stopped;
                    }
                }
            }
            if let Some(exit) = self.reap() {
                self.withdraw_for_stop();
                self.shutdown();
                return exit;
            }
        }
    }
}

/// How long lvs looks for its parent's death after a stop signal.
const PARENT_DEATH_WINDOW: Duration = Duration::from_millis(100);

/// Did the stop signal come because `parent` (pulse) died? pulse has
/// threads: its death signal (PR_SET_PDEATHSIG) comes when the thread that
/// started lvs ends, and until pulse's last thread has gone lvs's parent is
/// still pulse. So the parent counts as dead when lvs was handed to another
/// process, or when pulse's main thread is a zombie or gone, looked at for
/// a short while; a live pulse that sent the signal costs that while.
fn parent_died(parent: Pid) -> bool {
    let until = Instant::now() + PARENT_DEATH_WINDOW;
    loop {
        if nix::unistd::getppid() != parent {
            return true;
        }
        let state = std::fs::read_to_string(format!("/proc/{parent}/stat"))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().next().map(str::to_string))
            });
        match state.as_deref() {
            None | Some("Z") | Some("X") | Some("x") => return true,
            _ => {}
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
