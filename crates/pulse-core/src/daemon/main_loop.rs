//! The main loop: signals, heartbeats and timers in, the state machine's
//! actions carried out; SIGHUP's reload and the SIGUSR1/SIGUSR2 dump.

use std::os::fd::AsFd;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use log::{debug, info, warn};
use lvs_config::Config;
use nix::poll::{poll, PollFd, PollFlags};
use piranha_runtime::signals::{poll_timeout, SignalWaiter};

use super::children::{run_sync, signal_lvs};
use super::director::Director;
use super::options::{switchover_signal, EXIT_OK};
use super::plan::{
    effective_backup_active, floating_addresses, load_config, settings_of, sync_daemon_argvs,
    Floating,
};
use crate::machine::Action;

impl Director {
    pub(super) fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    pub(super) fn cleanup_exit(&mut self) {
        self.arp_gen.fetch_add(1, Ordering::SeqCst);
        self.remove_guard();
        self.close_control();
        self.stop_lvs();
        if let Some(p) = self.pidfile.take() {
            p.remove();
        }
    }

    /// Carry out actions; true when pulse must exit.
    pub(super) fn execute(&mut self, actions: Vec<Action>) -> bool {
        if !actions.is_empty() {
            // the state machine has moved: the role shown moves before the
            // addresses come and go
            self.publish();
        }
        let mut exit = false;
        for a in actions {
            match a {
                Action::Log(s) => info!("{s}"),
                Action::Send(m) => self.send(m),
                Action::Activate => {
                    self.control.takeovers += 1;
                    self.activate()
                }
                Action::Announce => self.announce(),
                Action::Deactivate { was_active } => {
                    if was_active {
                        self.control.handovers += 1;
                    }
                    self.deactivate(was_active)
                }
                Action::ResendArps => {
                    // An active director that hears an active partner: it
                    // may have been stopped long enough for its addresses
                    // to expire; they are back before the ARPs announce them.
                    self.renew_addresses(true);
                    self.run_command("active_cmd", self.cfg.active_cmd.clone().map(|s| s.value));
                    // An active partner is heard every keepalive until it
                    // yields; one round at a time, not one per heartbeat.
                    if self.arps_busy.load(Ordering::SeqCst) {
                        debug!("gratuitous ARPs under way; no new round");
                    } else {
                        self.send_arps(floating_addresses(&self.cfg));
                    }
                }
                Action::PushConnections => self.push_connections(),
                Action::Exit => exit = true,
            }
        }
        if std::mem::take(&mut self.sync_master_due) && self.machine.serving() {
            self.sync_daemons(true);
        }
        self.exiting |= exit;
        // and the addresses held, at once rather than at the end of this
        // pass of the loop
        self.publish();
        exit
    }

    pub(super) fn main_loop(&mut self, signals: &SignalWaiter) -> u8 {
        loop {
            // A handover that ended in a heartbeat's actions (read below).
            if self.exiting {
                return EXIT_OK;
            }
            for sig in signals.take() {
                match sig {
                    libc::SIGTERM | libc::SIGINT => {
                        info!("Terminating due to signal {sig}");
                        self.service_manager.stopping();
                        let now = self.now();
                        let a = self.machine.terminate(now);
                        if self.execute(a) {
                            return EXIT_OK;
                        }
                    }
                    libc::SIGHUP => self.reload(),
                    libc::SIGUSR1 | libc::SIGUSR2 => self.dump(),
                    s if s == switchover_signal() => {
                        let now = self.now();
                        let a = self.machine.switchover(now);
                        if self.execute(a) {
                            return EXIT_OK;
                        }
                    }
                    _ => {}
                }
            }
            self.reap();
            if self.guard_until.is_some_and(|t| t <= Instant::now()) {
                self.remove_guard();
            }
            if self.lvs_restart_at.is_some_and(|t| t <= Instant::now()) {
                self.lvs_restart_at = None;
                self.want_standby_lvs();
            }
            self.lvs_said_ready();
            // Heartbeats that arrived while the loop was busy (an lvs slow
            // to stop blocks it for up to LVS_STOP_GRACE) or not scheduled
            // are read before the dead timer is looked at: otherwise a
            // director that just yielded declares its live partner dead.
            // Bounded, so that a flood cannot keep us from sending.
            for _ in 0..4 {
                if self.exiting || !self.receive() {
                    break;
                }
            }
            if self.exiting {
                // lvs died while handing over, or a handover ended
                return EXIT_OK;
            }
            let now = self.now();
            let a = self.machine.tick(now);
            if self.execute(a) {
                return EXIT_OK;
            }
            if self.monitor_links {
                let down = self.down_nics();
                let a = self.machine.links(&down);
                self.execute(a);
            }
            // After the heartbeats and the timers: a pulse resumed after a
            // stop that finds its partner active yields before it would
            // renew (re-add) addresses that expired meanwhile.
            self.renew_addresses(false);
            self.tell_service_manager();
            self.publish();
            let now = self.now();
            let mut wait = self.machine.next_deadline().saturating_sub(now);
            if self.machine.serving() && !self.added.is_empty() {
                wait = wait.min(self.lease.next_at().saturating_sub(now));
            }
            if self.monitor_links || self.lvs.is_some() || !self.helpers.is_empty() {
                wait = wait.min(200);
            }
            if let Some(t) = self.guard_until {
                let ms = t.saturating_duration_since(Instant::now()).as_millis() as u64;
                wait = wait.min(ms);
            }
            if let Some(t) = self.lvs_restart_at {
                let ms = t.saturating_duration_since(Instant::now()).as_millis() as u64;
                wait = wait.min(ms);
            }
            let mut fds: Vec<PollFd> = self
                .channels
                .iter()
                .map(|c| PollFd::new(c.sock.as_fd(), PollFlags::POLLIN))
                .collect();
            fds.push(PollFd::new(signals.as_fd(), PollFlags::POLLIN));
            if let Some(p) = self.lvs.as_ref().and_then(|l| l.ready_pipe.as_ref()) {
                fds.push(PollFd::new(p.as_fd(), PollFlags::POLLIN));
            }
            if let Err(e) = poll(&mut fds, poll_timeout(Duration::from_millis(wait))) {
                if e != nix::errno::Errno::EINTR {
                    warn!("select() failed: {e}");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            drop(fds);
            let _ = self.receive();
        }
    }

    fn reload(&mut self) {
        self.service_manager.reloading();
        self.reload_config();
        self.service_manager.reloaded();
    }

    fn reload_config(&mut self) {
        match load_config(&self.opts.configfile) {
            Err(e) => warn!(
                "failed to re-read {}, keeping the old configuration: {e}",
                self.opts.configfile.display()
            ),
            Ok(cfg) => {
                info!("re-read {}", self.opts.configfile.display());
                let old = floating_addresses(&self.cfg);
                let sync_of = |c: &Config| {
                    (
                        c.syncdaemon(),
                        c.syncd_iface(),
                        c.syncd_id(),
                        c.ipvsadm(),
                        c.syncd_group(),
                        c.syncd_port(),
                    )
                };
                let sync_changed = sync_of(&cfg) != sync_of(&self.cfg);
                let cfg = self.rebind_if_changed(cfg);
                let old_cfg = std::mem::replace(&mut self.cfg, cfg);
                let now = self.now();
                let settings = settings_of(&self.cfg, self.master);
                self.machine.reconfigure(settings, now);
                self.lease
                    .reconfigure(settings.keepalive_ms, settings.deadtime_ms, now);
                self.monitor_links =
                    self.cfg.monitor_links() != 0 && effective_backup_active(&self.cfg);
                self.remember_nics();
                // the guard of a passive director follows the services
                // (and syncdaemon)
                if self.guard_until.is_none() && self.guard_armed {
                    self.remove_guard();
                }
                if !self.machine.serving() {
                    self.arm_guard();
                }
                if !self.machine.active() {
                    // hot_standby turned on or off on the passive director.
                    match &self.lvs {
                        None => self.want_standby_lvs(),
                        Some(_) if !self.hot_standby() => {
                            info!("hot_standby is off: stopping the standby lvs");
                            self.stop_lvs();
                        }
                        Some(_) => {}
                    }
                }
                if sync_changed && self.sync_running != (false, false) {
                    // stopped with the old settings, started with the new
                    let cmds = sync_daemon_argvs(&old_cfg);
                    run_sync(cmds.stop_master, true);
                    run_sync(cmds.stop_backup, true);
                    self.sync_running = (false, false);
                }
                if sync_changed {
                    self.sync_daemons(self.machine.serving());
                }
                if self.machine.serving() {
                    let new = floating_addresses(&self.cfg);
                    self.take_down(&new);
                    let fresh: Vec<Floating> =
                        new.into_iter().filter(|f| !old.contains(f)).collect();
                    self.bring_up(&fresh);
                    self.send_arps(fresh);
                }
            }
        }
        if let Some(l) = &self.lvs {
            signal_lvs(&l.child, nix::sys::signal::Signal::SIGHUP);
        }
    }

    fn dump(&mut self) {
        let now = self.now();
        info!("{}", self.machine.dump(now));
        info!(
            "lvs: {}; floating addresses held: {}",
            self.lvs
                .as_ref()
                .map(|l| format!(
                    "process {}{}{}",
                    l.child.id(),
                    if l.standby { ", standby" } else { "" },
                    if l.ready { ", table ready" } else { "" }
                ))
                .unwrap_or_else(|| "not running".to_string()),
            if self.added.is_empty() {
                "none".to_string()
            } else {
                self.added
                    .iter()
                    .map(|a| format!("{}/{} on {}", a.ip, a.prefix, a.label))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
    }
}
