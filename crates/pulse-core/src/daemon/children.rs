//! The child processes: lvs (started, told its role, stopped, reaped and
//! restarted as the standby), the `active_cmd`/`inactive_cmd` helpers, the
//! sync daemon commands, and the gratuitous ARPs (send_arp), or for an
//! IPv6 address the unsolicited neighbour advertisements (send_arp's IPv6
//! mode).

use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use log::{debug, info, warn};
use piranha_runtime::error::chain;
use piranha_runtime::quote::argv_line;
use piranha_runtime::spawn::prepare_child;

use super::director::{Director, Lvs};
use super::options::{ARP_COUNT, LVS_PIDFILE, LVS_RESTART_FIRST, LVS_RESTART_MAX, LVS_STOP_GRACE};
use super::plan::{announcement_args, lvs_argv, sync_daemon_argvs, Floating};
use crate::net::Kernel;

/// Run one sync daemon command and wait for it; whether it worked.  Our
/// own ipvsadm (the `ipvsadm` beside pulse) runs in-process, without a fork
/// and exec; `quiet`: failures are expected (stopping what may not run).
pub(super) fn run_sync(argv: Vec<String>, quiet: bool) -> bool {
    if ipvsadm_cli::is_ours(&argv[0]) {
        let c = ipvsadm_cli::run_captured(&argv, b"");
        if c.code != 0 && !quiet {
            warn!(
                "{} failed: {}",
                argv.join(" "),
                String::from_utf8_lossy(&c.err).trim()
            );
        }
        return c.code == 0;
    }
    let mut c = Command::new(&argv[0]);
    c.args(&argv[1..]).stdin(Stdio::null());
    if quiet {
        c.stderr(Stdio::null());
    }
    prepare_child(&mut c, false);
    match c.status() {
        Ok(s) if s.success() => true,
        Ok(s) => {
            if !quiet {
                warn!("{} {}", argv_line(&argv), describe(s));
            }
            false
        }
        Err(e) => {
            warn!("failed to run {}: {e}", argv[0]);
            false
        }
    }
}

/// Send `sig` to lvs; a failure is logged (ESRCH: it is being reaped).
pub(super) fn signal_lvs(child: &Child, sig: nix::sys::signal::Signal) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    if let Err(e) = nix::sys::signal::kill(pid, sig) {
        warn!("failed to send {sig} to lvs {pid}: {e}");
    }
}

fn describe(s: std::process::ExitStatus) -> String {
    piranha_runtime::spawn::completion(s).to_string()
}

impl Director {
    pub(super) fn run_command(&mut self, what: &str, cmd: Option<String>) {
        let Some(cmd) = cmd else { return };
        let argv: Vec<&str> = cmd.split(' ').filter(|s| !s.is_empty()).collect();
        let Some((prog, args)) = argv.split_first() else {
            return;
        };
        let mut c = Command::new(prog);
        c.args(args).stdin(Stdio::null());
        prepare_child(&mut c, false);
        match c.spawn() {
            Ok(child) => self.helpers.push(child),
            Err(e) => warn!("failed to run {what} {cmd}: {e}"),
        }
    }

    /// The sync daemons (`syncdaemon = 1`): the backup daemon runs on both
    /// directors from start-up, the master daemon on the active one only
    /// (the kernel runs both at once), so connections opened through either
    /// director are known to the other.  Run as `ipvsadm` commands, waited
    /// for (they are quick), in-process when lvs.cf's ipvsadm is ours.
    pub(super) fn sync_daemons(&mut self, master: bool) {
        if !self.cfg.syncdaemon() {
            return;
        }
        let run = run_sync;
        let cmds = sync_daemon_argvs(&self.cfg);
        if !self.sync_running.0 {
            // Whatever an earlier pulse left running goes first, as
            // Piranha's syncDaemon did.
            run(cmds.stop_backup.clone(), true);
            run(cmds.stop_master.clone(), true);
            self.sync_running = (run(cmds.start_backup, false), false);
        }
        if master && !self.sync_running.1 {
            self.sync_running.1 = run(cmds.start_master, false);
        } else if !master && self.sync_running.1 {
            run(cmds.stop_master, false);
            self.sync_running.1 = false;
        }
    }

    /// Start lvs (`--standby` on a passive director with `hot_standby`),
    /// with the readiness pipe ([`piranha_runtime::ready`]).
    pub(super) fn spawn_lvs(&mut self, standby: bool) {
        let mut argv = lvs_argv(
            &self.opts.lvsd,
            self.daemon,
            &self.opts.configfile,
            self.opts.verbose,
        );
        if standby {
            argv.push("--standby".to_string());
        }
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..]).stdin(Stdio::null());
        prepare_child(&mut c, true);
        // Another lvs (Piranha's lvsd) knows no handshake: the addresses
        // come up at once, as in Piranha.
        let pipe = match self.lvs_ours.then(piranha_runtime::ready::pipe) {
            None => None,
            Some(Ok((r, w))) => {
                let fd = w.as_raw_fd();
                c.env(piranha_runtime::ready::READY_FD_ENV, fd.to_string());
                // SAFETY: only fcntl between fork and exec.
                unsafe {
                    c.pre_exec(move || piranha_runtime::ready::inherit_in_child(fd));
                }
                Some((r, w))
            }
            Some(Err(e)) => {
                warn!("failed to create lvs's readiness pipe: {e}");
                None
            }
        };
        match c.spawn() {
            Ok(child) => {
                debug!(
                    "started lvs{} as process {}",
                    if standby { " (standby)" } else { "" },
                    child.id()
                );
                let ready = pipe.is_none();
                self.lvs = Some(Lvs {
                    child,
                    ready_pipe: pipe.map(|(r, _w)| r),
                    ready,
                    standby,
                    started: Instant::now(),
                });
                if ready && self.machine.active() {
                    let a = self.machine.lvs_ready();
                    self.execute(a);
                }
            }
            Err(e) => warn!("failed to start lvs {}: {e}", argv[0]),
        }
    }

    /// A passive director with `hot_standby` runs lvs as the standby.
    pub(super) fn want_standby_lvs(&mut self) {
        if self.hot_standby() && self.lvs.is_none() && !self.machine.active() {
            self.spawn_lvs(true);
        }
    }

    /// `hot_standby = 1` with our own lvs (not with `--norun`).
    pub(super) fn hot_standby(&self) -> bool {
        self.cfg.hot_standby() && self.lvs_ours && !self.opts.test_start
    }

    /// Read lvs's readiness pipe; a director waiting for lvs announces.
    pub(super) fn lvs_said_ready(&mut self) {
        let Some(l) = &mut self.lvs else {
            return;
        };
        let Some(p) = &mut l.ready_pipe else {
            return;
        };
        match piranha_runtime::ready::read(p) {
            piranha_runtime::ready::Heard::Nothing => return,
            piranha_runtime::ready::Heard::Closed => {
                l.ready_pipe = None;
                return;
            }
            piranha_runtime::ready::Heard::Ready => {
                l.ready_pipe = None;
                l.ready = true;
                debug!("lvs {} reports its table ready", l.child.id());
            }
        }
        let a = self.machine.lvs_ready();
        self.execute(a);
    }

    /// Crash safety: an lvs that a killed pulse left behind (it keeps its
    /// table until the addresses are gone, which the sweep before did) is
    /// stopped before this pulse starts its own.
    pub(super) fn stop_stale_lvs(&mut self) {
        let Some(pid) = piranha_runtime::pidfile::Pidfile::named_holder(
            std::path::Path::new(LVS_PIDFILE),
            &["lvs", "lvsd"],
        ) else {
            return;
        };
        let pid = nix::unistd::Pid::from_raw(pid);
        info!("stopping lvs {pid}, left running by a previous pulse");
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + LVS_STOP_GRACE;
        while nix::sys::signal::kill(pid, None).is_ok() {
            if Instant::now() >= deadline {
                warn!("lvs {pid} did not exit after SIGTERM; sending SIGKILL");
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(super) fn stop_lvs(&mut self) {
        let Some(Lvs { mut child, .. }) = self.lvs.take() else {
            return;
        };
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        // bgp mode: lvs first withdraws its routes and waits
        let withdraw = if self.cfg.bgp() {
            self.cfg.withdraw_delay().as_duration()
        } else {
            Duration::ZERO
        };
        let deadline = Instant::now() + LVS_STOP_GRACE + withdraw;
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) if Instant::now() >= deadline => {
                    warn!("lvs {pid} did not exit after SIGTERM; sending SIGKILL");
                    let _ = child.kill();
                    let _ = child.wait();
                    return;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    /// Reap helpers and lvs (lvs dying while a stopping pulse hands over
    /// ends pulse: [`Director::exiting`]).
    pub(super) fn reap(&mut self) {
        self.helpers
            .retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_)) | Err(_)));
        let Some(l) = &mut self.lvs else {
            return;
        };
        let status = match l.child.try_wait() {
            Ok(Some(s)) => s,
            Ok(None) | Err(_) => return,
        };
        let pid = l.child.id();
        let lived = l.started.elapsed();
        self.lvs = None;
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(c), _) => info!("Child process {pid} exited with status {c}"),
            (None, Some(s)) => info!("Child process {pid} terminated with signal {s}"),
            _ => info!("Child process {pid} exited"),
        }
        if self.machine.active() {
            let a = self.machine.child_failed();
            self.execute(a);
            return;
        }
        // The standby lvs: started again, with back-off.
        if lived >= Duration::from_secs(60) {
            self.lvs_backoff = LVS_RESTART_FIRST;
        }
        if self.hot_standby() {
            warn!(
                "standby lvs {pid} ended; starting it again in {} s",
                self.lvs_backoff.as_secs()
            );
            self.lvs_restart_at = Some(Instant::now() + self.lvs_backoff);
            self.lvs_backoff = (self.lvs_backoff * 2).min(LVS_RESTART_MAX);
        }
    }

    pub(super) fn send_arps(&mut self, floating: Vec<Floating>) {
        if floating.is_empty() {
            return;
        }
        let links = self.kernel.links().unwrap_or_default();
        let gen = self.arp_gen.load(Ordering::SeqCst);
        let flag = Arc::clone(&self.arp_gen);
        let busy = Arc::clone(&self.arps_busy);
        busy.store(true, Ordering::SeqCst);
        let send_arp = self.opts.send_arp.clone();
        let jobs: Vec<Vec<String>> = floating
            .iter()
            .map(|f| {
                let mac = links
                    .iter()
                    .find(|l| l.name == f.dev)
                    .and_then(|l| l.mac)
                    .unwrap_or([0; 6]);
                announcement_args(f, mac)
            })
            .collect();
        // The first of the five frames of each address from pulse itself,
        // now: the RUNNING heartbeat that follows an announcement must not
        // overtake it.  send_arp sends the four others, one second apart.
        for args in &jobs {
            let sent = crate::arp::parse_command(args).and_then(|a| crate::arp::announce(&a));
            if let Err(e) = sent {
                let what = if args[2].contains(':') {
                    "an unsolicited neighbour advertisement"
                } else {
                    "a gratuitous ARP"
                };
                warn!("failed to send {what} for {}: {}", args[2], chain(&e));
            }
        }
        std::thread::spawn(move || {
            let handles: Vec<_> = jobs
                .into_iter()
                .map(|args| {
                    let flag = Arc::clone(&flag);
                    let send_arp = send_arp.clone();
                    std::thread::spawn(move || {
                        // On a one-second grid, so slow execs do not stretch
                        // the spacing.
                        let t0 = Instant::now();
                        for i in 1..ARP_COUNT {
                            let at = t0 + Duration::from_secs(u64::from(i));
                            std::thread::sleep(at.saturating_duration_since(Instant::now()));
                            if flag.load(Ordering::SeqCst) != gen {
                                return false;
                            }
                            match Command::new(&send_arp)
                                .args(&args)
                                .stdin(Stdio::null())
                                .status()
                            {
                                Ok(s) if s.success() => {}
                                Ok(s) => warn!("send_arp {} {}", args.join(" "), describe(s)),
                                Err(e) => warn!("failed to run {}: {e}", send_arp.display()),
                            }
                        }
                        true
                    })
                })
                .collect();
            let mut all = true;
            for h in handles {
                all &= h.join().unwrap_or(false);
            }
            busy.store(false, Ordering::SeqCst);
            if all {
                info!("gratuitous lvs arps finished");
            }
        });
    }
}
