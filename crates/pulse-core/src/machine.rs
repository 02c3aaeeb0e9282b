//! The pure pulse state machine (Piranha 0.8.6, lvs mode).
//!
//! The machine owns the flags AMMASTER, AMACTIVE, LINKFAIL and CHILDFAIL and
//! the two timers (next heartbeat to send, heartbeat needed by), on a clock
//! in milliseconds given by the caller.  It never touches the system: every
//! input returns the [`Action`]s the daemon must carry out, in order, so the
//! whole protocol is tested here against a fake clock.

use crate::heartbeat::Magic;

/// What the machine needs to know about the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// This node is the primary (`primary` is one of its addresses).
    pub master: bool,
    /// `backup_active`: heartbeats are exchanged at all.
    pub backup_active: bool,
    /// `keepalive` in milliseconds.
    pub keepalive_ms: u64,
    /// `deadtime` in milliseconds.
    pub deadtime_ms: u64,
    /// How long a takeover waits for lvs to report its table ready before
    /// the addresses come up anyway.
    pub ready_ms: u64,
    /// How long a leaving director (SIGTERM, switch-over) keeps serving
    /// while it waits for the partner to report RUNNING.
    pub handover_ms: u64,
}

impl Settings {
    /// How long past `deadtime` a heartbeat may still arrive: a tenth of
    /// `keepalive`, at most 100 ms.  With `deadtime` an exact multiple of
    /// `keepalive` (3 and 1), the heartbeat after two lost ones is due at the
    /// very moment the dead timer ends; without this margin a few
    /// milliseconds of scheduling or clock rounding decided the partner's
    /// fate (COMPATIBILITY P24).
    pub fn grace_ms(&self) -> u64 {
        (self.keepalive_ms / 10).min(100)
    }

    /// How long a leaving director keeps its addresses after the partner
    /// said RUNNING: half a keepalive, at most 250 ms.  Our pulse sends its
    /// first gratuitous ARP before RUNNING; Piranha 0.8.6 sends RUNNING at
    /// once on activation, then brings the VIPs up and announces them.
    pub fn let_go_ms(&self) -> u64 {
        (self.keepalive_ms / 2).min(250)
    }
}

/// A step for the daemon to carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Log this line (syslog LOG_INFO; `pulse: ...` on stdout with `-n`).
    Log(String),
    /// Send a heartbeat with this magic on every channel.
    Send(Magic),
    /// Take the active role: active_cmd, sync master, and lvs made ready
    /// (started, or told it is active); the daemon calls
    /// [`Machine::lvs_ready`] once lvs reports its table ready.
    Activate,
    /// lvs is ready (or the wait for it ended): bring the floating
    /// addresses up and send the gratuitous ARPs.
    Announce,
    /// Bring it down: inactive_cmd, sync master stopped, and if it was
    /// active, remove the addresses and stop lvs (or, with `hot_standby`,
    /// keep it as the standby).  `was_active` tells which.
    Deactivate {
        /// The director was active.
        was_active: bool,
    },
    /// Run `active_cmd` again and resend the gratuitous ARPs.
    ResendArps,
    /// Send the partner this director's IPVS connections now, in the sync
    /// daemon's protocol (`syncdaemon = 1`), so that it knows every one of
    /// them when the clients move (a handover).
    PushConnections,
    /// Leave pulse.
    Exit,
}

/// Which NIC a link failure is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nic {
    /// The one holding our public address.
    Primary,
    /// The one holding our private address.
    Private,
}

/// What a leaving director does once the partner has taken over (or the
/// wait for it ended).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// SIGTERM: exit.
    Exit,
    /// Switch-over: stay, passive.
    Stay,
}

/// Where the director is in the life of the active role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not active (AMACTIVE clear); STOPPED heartbeats.
    Passive,
    /// The role is taken (AMACTIVE set) but lvs is not ready yet: no
    /// address is up, heartbeats still say STOPPED.  The addresses come up
    /// when lvs reports ready, or at `until`.
    Activating {
        /// When to bring the addresses up anyway.
        until: u64,
    },
    /// Addresses up, serving; RUNNING heartbeats.
    Active,
    /// Handing the role over: STOPPED heartbeats while still serving, until
    /// the partner reports RUNNING (make before break) or `until`.  Once
    /// it has (`taken`), the addresses stay a moment more
    /// ([`Settings::let_go_ms`]): an original 0.8.6 partner says RUNNING
    /// before its `ifconfig` and first gratuitous ARP.
    Leaving {
        /// The end of the wait (or, once taken, of the moment more).
        until: u64,
        /// What comes after.
        then: Then,
        /// The partner said RUNNING.
        taken: bool,
    },
}

/// The pulse state machine.
#[derive(Debug, Clone)]
pub struct Machine {
    settings: Settings,
    phase: Phase,
    linkfail: bool,
    childfail: bool,
    send_at: u64,
    need_at: u64,
    started_at: u64,
    /// When the partner was last heard.
    heard_at: Option<u64>,
}

impl Machine {
    /// Start at `now`; the actions include the startup log line.
    pub fn start(settings: Settings, now: u64, force_active: bool) -> (Machine, Vec<Action>) {
        let mut m = Machine {
            settings,
            phase: Phase::Passive,
            linkfail: false,
            childfail: false,
            send_at: now,
            need_at: now + settings.deadtime_ms,
            started_at: now,
            heard_at: None,
        };
        let mut out = vec![Action::Log(
            if settings.master {
                "STARTING PULSE AS MASTER"
            } else {
                "STARTING PULSE AS BACKUP"
            }
            .to_string(),
        )];
        if !settings.master && !settings.backup_active {
            out.push(Action::Log(
                "We are backup node and backup is marked inactive -- exiting pulse".to_string(),
            ));
            out.push(Action::Exit);
            return (m, out);
        }
        out.push(Action::Deactivate { was_active: false });
        if force_active {
            out.push(Action::Log(
                "Forced active on startup: activating lvs".to_string(),
            ));
            out.extend(m.activate(now));
        }
        (m, out)
    }

    /// The settings in force.
    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// New settings after a reload; timers restart from `now`.
    pub fn reconfigure(&mut self, settings: Settings, now: u64) {
        self.settings = settings;
        self.send_at = self.send_at.min(now + settings.keepalive_ms);
        self.need_at = now + settings.deadtime_ms;
    }

    /// AMACTIVE: the role is ours (activating, active or leaving).
    pub fn active(&self) -> bool {
        self.phase != Phase::Passive
    }

    /// The floating addresses are up (active, or leaving and still
    /// serving).
    pub fn serving(&self) -> bool {
        matches!(self.phase, Phase::Active | Phase::Leaving { .. })
    }

    /// Where the role stands.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// LINKFAIL.
    pub fn linkfail(&self) -> bool {
        self.linkfail
    }

    /// CHILDFAIL.
    pub fn childfail(&self) -> bool {
        self.childfail
    }

    /// The partner was heard within the last `deadtime` (and its grace).
    pub fn partner_alive(&self, now: u64) -> bool {
        self.heard_at
            .is_some_and(|t| now < t + self.settings.deadtime_ms + self.settings.grace_ms())
    }

    /// When [`Machine::tick`] next has something to do.
    pub fn next_deadline(&self) -> u64 {
        let mut at = if self.settings.backup_active {
            self.send_at.min(self.need_at)
        } else {
            self.need_at
        };
        if let Phase::Activating { until } | Phase::Leaving { until, .. } = self.phase {
            at = at.min(until);
        }
        at
    }

    fn my_magic(&self) -> Magic {
        if self.phase == Phase::Active {
            Magic::LvsRunning
        } else {
            Magic::LvsStopped
        }
    }

    fn activate(&mut self, now: u64) -> Vec<Action> {
        self.phase = Phase::Activating {
            until: now + self.settings.ready_ms,
        };
        vec![Action::Activate]
    }

    fn may_activate(&self) -> bool {
        self.phase == Phase::Passive && !self.linkfail && !self.childfail
    }

    /// lvs reported its table ready: a director taking over brings its
    /// addresses up and says RUNNING at once (a leaving partner lets go
    /// when it hears it).
    pub fn lvs_ready(&mut self) -> Vec<Action> {
        if !matches!(self.phase, Phase::Activating { .. }) {
            return Vec::new();
        }
        self.announce()
    }

    fn announce(&mut self) -> Vec<Action> {
        self.phase = Phase::Active;
        let mut out = vec![Action::Announce];
        if self.settings.backup_active {
            out.push(Action::Send(Magic::LvsRunning));
        }
        out
    }

    /// The handover is over (partner RUNNING, partner dead, or the wait
    /// ended): let go, and exit after a SIGTERM.
    fn let_go(&mut self, then: Then) -> Vec<Action> {
        self.phase = Phase::Passive;
        let mut out = vec![Action::Deactivate { was_active: true }];
        if then == Then::Exit {
            out.push(Action::Exit);
        }
        out
    }

    /// Timers: send a heartbeat when due, activate when the partner is dead,
    /// end a wait for lvs or for the partner.
    pub fn tick(&mut self, now: u64) -> Vec<Action> {
        let mut out = Vec::new();
        if now >= self.need_at {
            self.need_at = now + self.settings.deadtime_ms;
            if self.may_activate() {
                out.push(Action::Log("partner dead: activating lvs".to_string()));
                out.extend(self.activate(now));
            } else if let Phase::Leaving { then, taken, .. } = self.phase {
                if taken {
                    out.extend(self.taken_over(then));
                } else {
                    out.extend(self.leaving_ended(then, "partner dead"));
                }
            }
        }
        match self.phase {
            Phase::Activating { until } if now >= until => {
                out.push(Action::Log(format!(
                    "lvs not ready after {} ms: bringing the virtual addresses up anyway",
                    self.settings.ready_ms
                )));
                out.extend(self.announce());
            }
            Phase::Leaving {
                until,
                then,
                taken: true,
            } if now >= until => out.extend(self.taken_over(then)),
            Phase::Leaving { until, then, .. } if now >= until => {
                let why = format!(
                    "partner did not take over within {} ms",
                    self.settings.handover_ms
                );
                out.extend(self.leaving_ended(then, &why));
            }
            _ => {}
        }
        if now >= self.send_at {
            // On a fixed grid: a late wake-up does not push every later
            // heartbeat back.  With deadtime an exact multiple of keepalive
            // (3 and 1, the usual), the partner's dead timer, started when a
            // heartbeat arrived, must not be outrun by the lateness of the
            // next ones piling up when two in a row are lost.
            self.send_at += self.settings.keepalive_ms;
            if self.send_at <= now {
                self.send_at = now + self.settings.keepalive_ms;
            }
            // Not in the tick that took the role: the daemon may announce
            // (and say RUNNING) while carrying out Activate, and a STOPPED
            // queued here would follow it.
            if self.settings.backup_active && !out.contains(&Action::Activate) {
                out.push(Action::Send(self.my_magic()));
            }
        }
        out
    }

    /// The partner took over a moment ago: let go.
    fn taken_over(&mut self, then: Then) -> Vec<Action> {
        let mut out = vec![
            Action::Log("partner active: deactivating LVS".to_string()),
            Action::PushConnections,
        ];
        out.extend(self.let_go(then));
        out
    }

    /// A wait for the partner ended without its RUNNING: a stopping pulse
    /// lets go all the same, a switch-over is called off.
    fn leaving_ended(&mut self, then: Then, why: &str) -> Vec<Action> {
        match then {
            Then::Exit => {
                let mut out = vec![Action::Log(format!("{why}: deactivating LVS"))];
                out.extend(self.let_go(then));
                out
            }
            Then::Stay => {
                self.phase = Phase::Active;
                vec![Action::Log(format!(
                    "{why}: switchover cancelled, staying active"
                ))]
            }
        }
    }

    /// A valid heartbeat from the partner arrived at `now`.
    pub fn heartbeat(&mut self, magic: Magic, now: u64) -> Vec<Action> {
        self.need_at = now + self.settings.deadtime_ms + self.settings.grace_ms();
        self.heard_at = Some(now);
        let mut out = Vec::new();
        match magic {
            Magic::LvsRunning => {
                self.childfail = false;
                match self.phase {
                    Phase::Passive => {}
                    // The master wins a tie: it goes on and announces when
                    // lvs is ready; the partner yields when it hears that.
                    Phase::Activating { .. } if self.settings.master => {}
                    Phase::Active if self.settings.master => {
                        out.push(Action::Log("partner active: resending arps".to_string()));
                        out.push(Action::ResendArps);
                    }
                    // Piranha's backup sends one last heartbeat (RUNNING once
                    // it announced: the master then resends its ARPs).
                    Phase::Activating { .. } | Phase::Active => {
                        out.push(Action::Send(self.my_magic()));
                        out.push(Action::Log("partner active: deactivating LVS".to_string()));
                        self.phase = Phase::Passive;
                        out.push(Action::Deactivate { was_active: true });
                    }
                    // Make before break: the partner has (or is bringing)
                    // its addresses up; ours go a moment later.  Our
                    // connections go to it now, and again then.
                    Phase::Leaving {
                        then, taken: false, ..
                    } => {
                        self.phase = Phase::Leaving {
                            until: now + self.settings.let_go_ms(),
                            then,
                            taken: true,
                        };
                        out.push(Action::PushConnections);
                    }
                    Phase::Leaving { .. } => {}
                }
            }
            Magic::LvsStopped => {
                // A backup in its first deadtime leaves the tie to the
                // master: when both start together, the master hears our
                // STOPPED and activates, and we then see it RUNNING.
                let backup_grace =
                    !self.settings.master && now < self.started_at + self.settings.deadtime_ms;
                if self.may_activate() && !backup_grace {
                    out.push(Action::Log(
                        if self.settings.master {
                            "backup inactive: activating lvs"
                        } else {
                            "primary inactive: activating lvs"
                        }
                        .to_string(),
                    ));
                    out.extend(self.activate(now));
                }
            }
            // fos-mode and hold magics are valid heartbeats with no meaning
            // in lvs mode: they only keep the partner alive.
            _ => {}
        }
        out
    }

    /// lvs (our child, while the role is ours) died; the daemon has logged
    /// how.  A leaving director has nothing left to hand over.
    pub fn child_failed(&mut self) -> Vec<Action> {
        self.childfail = true;
        match self.phase {
            Phase::Passive => Vec::new(),
            Phase::Leaving { then, .. } => self.let_go(then),
            Phase::Activating { .. } | Phase::Active => self.let_go(Then::Stay),
        }
    }

    /// The link check found these NICs down (empty: all up).
    pub fn links(&mut self, down: &[Nic]) -> Vec<Action> {
        let mut out = Vec::new();
        if !down.is_empty() && !self.linkfail {
            for nic in down {
                out.push(Action::Log(
                    match nic {
                        Nic::Primary => "Primary NIC: link down",
                        Nic::Private => "Private NIC: link down",
                    }
                    .to_string(),
                ));
            }
            out.push(Action::Log(
                "Local NIC link failure: Pulse disabled".to_string(),
            ));
            self.linkfail = true;
            if self.active() {
                out.push(Action::Log(
                    "local link failure: deactivating LVS".to_string(),
                ));
                let then = match self.phase {
                    Phase::Leaving { then, .. } => then,
                    _ => Then::Stay,
                };
                out.extend(self.let_go(then));
            }
        } else if down.is_empty() && self.linkfail {
            self.linkfail = false;
            out.push(Action::Log(
                "Local NIC link(s) restored: Pulse enabled".to_string(),
            ));
        }
        out
    }

    /// SIGTERM/SIGINT.  An active director with a live partner hands the
    /// role over first: STOPPED heartbeats now, its addresses kept until
    /// the partner reports RUNNING (at most `handover_ms`), then exit.
    /// Anything else deactivates and exits at once; so does a second signal
    /// while handing over.
    pub fn terminate(&mut self, now: u64) -> Vec<Action> {
        match self.phase {
            Phase::Active if self.settings.backup_active && self.partner_alive(now) => self
                .begin_leaving(
                    now,
                    Then::Exit,
                    "shutting down: handing the active role to the partner",
                ),
            Phase::Leaving {
                then: Then::Stay,
                until,
                taken,
            } => {
                self.phase = Phase::Leaving {
                    until,
                    then: Then::Exit,
                    taken,
                };
                vec![Action::Log(
                    "shutting down once the partner has taken over".to_string(),
                )]
            }
            Phase::Passive => vec![Action::Deactivate { was_active: false }, Action::Exit],
            Phase::Active | Phase::Activating { .. } | Phase::Leaving { .. } => {
                self.let_go(Then::Exit)
            }
        }
    }

    /// A switch-over request (`pulse --switchover`): hand the active role to
    /// the partner and stay, passive.  Refused (logged) unless this
    /// director is active and the partner is heard.
    pub fn switchover(&mut self, now: u64) -> Vec<Action> {
        match self.phase {
            Phase::Active if self.settings.backup_active && self.partner_alive(now) => self
                .begin_leaving(
                    now,
                    Then::Stay,
                    "switchover: handing the active role to the partner",
                ),
            Phase::Active => vec![Action::Log(
                "switchover refused: no partner heard within deadtime".to_string(),
            )],
            Phase::Leaving { .. } => vec![Action::Log(
                "switchover: already handing the active role over".to_string(),
            )],
            Phase::Passive | Phase::Activating { .. } => vec![Action::Log(
                "switchover refused: this director is not active".to_string(),
            )],
        }
    }

    fn begin_leaving(&mut self, now: u64, then: Then, why: &str) -> Vec<Action> {
        self.phase = Phase::Leaving {
            until: now + self.settings.handover_ms,
            then,
            taken: false,
        };
        vec![
            Action::Log(why.to_string()),
            Action::Send(Magic::LvsStopped),
            Action::PushConnections,
        ]
    }

    /// The SIGUSR1 state dump.
    pub fn dump(&self, now: u64) -> String {
        let phase = match self.phase {
            Phase::Passive => "inactive".to_string(),
            Phase::Activating { until } => {
                format!(
                    "activating (addresses up in at most {} ms)",
                    until.saturating_sub(now)
                )
            }
            Phase::Active => "active".to_string(),
            Phase::Leaving { until, then, .. } => format!(
                "handing over{} (at most {} ms more)",
                if then == Then::Exit { " to exit" } else { "" },
                until.saturating_sub(now)
            ),
        };
        format!(
            "state: {} {}{}{}, next heartbeat in {} ms, partner dead in {} ms, keepalive {} ms, deadtime {} ms, backup_active {}",
            if self.settings.master { "master" } else { "backup" },
            phase,
            if self.linkfail { " LINKFAIL" } else { "" },
            if self.childfail { " CHILDFAIL" } else { "" },
            self.send_at.saturating_sub(now),
            self.need_at.saturating_sub(now),
            self.settings.keepalive_ms,
            self.settings.deadtime_ms,
            u8::from(self.settings.backup_active),
        )
    }
}

#[cfg(test)]
mod tests;
