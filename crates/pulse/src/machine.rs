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
}

/// A step for the daemon to carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Log this line (syslog LOG_INFO; `pulse: ...` on stdout with `-n`).
    Log(String),
    /// Send a heartbeat with this magic on every channel.
    Send(Magic),
    /// Bring the director up: active_cmd, lvs, addresses, ARPs, sync master.
    Activate,
    /// Bring it down: inactive_cmd, sync backup, and if it was active, stop
    /// lvs and remove the addresses.  `was_active` tells which.
    Deactivate {
        /// The director was active.
        was_active: bool,
    },
    /// Run `active_cmd` again and resend the gratuitous ARPs.
    ResendArps,
    /// Leave pulse (a backup with backup_active = 0).
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

/// The pulse state machine.
#[derive(Debug, Clone)]
pub struct Machine {
    settings: Settings,
    active: bool,
    linkfail: bool,
    childfail: bool,
    send_at: u64,
    need_at: u64,
    started_at: u64,
}

impl Machine {
    /// Start at `now`; the actions include the startup log line.
    pub fn start(settings: Settings, now: u64, force_active: bool) -> (Machine, Vec<Action>) {
        let mut m = Machine {
            settings,
            active: false,
            linkfail: false,
            childfail: false,
            send_at: now,
            need_at: now + settings.deadtime_ms,
            started_at: now,
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
            out.extend(m.activate());
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

    /// AMACTIVE.
    pub fn active(&self) -> bool {
        self.active
    }

    /// LINKFAIL.
    pub fn linkfail(&self) -> bool {
        self.linkfail
    }

    /// CHILDFAIL.
    pub fn childfail(&self) -> bool {
        self.childfail
    }

    /// When [`Machine::tick`] next has something to do.
    pub fn next_deadline(&self) -> u64 {
        if self.settings.backup_active {
            self.send_at.min(self.need_at)
        } else {
            self.need_at
        }
    }

    fn my_magic(&self) -> Magic {
        if self.active {
            Magic::LvsRunning
        } else {
            Magic::LvsStopped
        }
    }

    fn activate(&mut self) -> Vec<Action> {
        self.active = true;
        vec![Action::Activate]
    }

    fn may_activate(&self) -> bool {
        !self.active && !self.linkfail && !self.childfail
    }

    /// Timers: send a heartbeat when due, activate when the partner is dead.
    pub fn tick(&mut self, now: u64) -> Vec<Action> {
        let mut out = Vec::new();
        if now >= self.need_at {
            self.need_at = now + self.settings.deadtime_ms;
            if self.may_activate() {
                out.push(Action::Log("partner dead: activating lvs".to_string()));
                out.extend(self.activate());
            }
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
            if self.settings.backup_active {
                out.push(Action::Send(self.my_magic()));
            }
        }
        out
    }

    /// A valid heartbeat from the partner arrived at `now`.
    pub fn heartbeat(&mut self, magic: Magic, now: u64) -> Vec<Action> {
        self.need_at = now + self.settings.deadtime_ms + self.settings.grace_ms();
        let mut out = Vec::new();
        match magic {
            Magic::LvsRunning => {
                self.childfail = false;
                if self.active {
                    if self.settings.master {
                        out.push(Action::Log("partner active: resending arps".to_string()));
                        out.push(Action::ResendArps);
                    } else {
                        out.push(Action::Send(self.my_magic()));
                        out.push(Action::Log("partner active: deactivating LVS".to_string()));
                        self.active = false;
                        out.push(Action::Deactivate { was_active: true });
                    }
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
                    out.extend(self.activate());
                }
            }
            // fos-mode and hold magics are valid heartbeats with no meaning
            // in lvs mode: they only keep the partner alive.
            _ => {}
        }
        out
    }

    /// lvs (our child) died; the daemon has logged how.
    pub fn child_failed(&mut self) -> Vec<Action> {
        self.childfail = true;
        if self.active {
            self.active = false;
            vec![Action::Deactivate { was_active: true }]
        } else {
            Vec::new()
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
            if self.active {
                out.push(Action::Log(
                    "local link failure: deactivating LVS".to_string(),
                ));
                self.active = false;
                out.push(Action::Deactivate { was_active: true });
            }
        } else if down.is_empty() && self.linkfail {
            self.linkfail = false;
            out.push(Action::Log(
                "Local NIC link(s) restored: Pulse enabled".to_string(),
            ));
        }
        out
    }

    /// SIGTERM/SIGINT: deactivate before exit.
    pub fn terminate(&mut self) -> Vec<Action> {
        let was_active = self.active;
        self.active = false;
        vec![Action::Deactivate { was_active }]
    }

    /// The SIGUSR1/SIGUSR2 state dump.
    pub fn dump(&self, now: u64) -> String {
        format!(
            "state: {} {}{}{}, next heartbeat in {} ms, partner dead in {} ms, keepalive {} ms, deadtime {} ms, backup_active {}",
            if self.settings.master { "master" } else { "backup" },
            if self.active { "active" } else { "inactive" },
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
mod tests {
    use super::*;

    const MASTER: Settings = Settings {
        master: true,
        backup_active: true,
        keepalive_ms: 1000,
        deadtime_ms: 3000,
    };
    const BACKUP: Settings = Settings {
        master: false,
        ..MASTER
    };

    fn logs(a: &[Action]) -> Vec<&str> {
        a.iter()
            .filter_map(|x| match x {
                Action::Log(s) => Some(s.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn heartbeats_stay_on_their_grid_when_ticks_are_late() {
        let (mut m, _) = Machine::start(MASTER, 0, false);
        let sends = |a: &[Action]| a.iter().filter(|x| matches!(x, Action::Send(_))).count();
        assert_eq!(sends(&m.tick(0)), 1);
        // Every wake-up 7 ms late: the heartbeats stay due at 1000, 2000,
        // 3000 (not 1007, 2014, 3021).
        for k in 1..=3u64 {
            assert_eq!(m.send_at, k * 1000);
            assert_eq!(sends(&m.tick(k * 1000 + 7)), 1, "heartbeat {k}");
        }
        assert_eq!(m.send_at, 4000);
        // After a stall longer than a keepalive the grid starts again from
        // now (no burst of heartbeats to catch up).
        assert_eq!(sends(&m.tick(9500)), 1);
        assert_eq!(m.send_at, 10500);
        assert_eq!(sends(&m.tick(9600)), 0);
    }

    /// Two machines joined by a fake transport and one fake clock.
    struct Pair {
        m: Machine,
        b: Machine,
        now: u64,
        m_alive: bool,
        b_alive: bool,
        m_to_b: bool,
        b_to_m: bool,
        log: Vec<(u64, char, Action)>,
    }

    impl Pair {
        fn new(m_start: Option<u64>, b_start: Option<u64>) -> Pair {
            let (m, _) = Machine::start(MASTER, m_start.unwrap_or(0), false);
            let (b, _) = Machine::start(BACKUP, b_start.unwrap_or(0), false);
            Pair {
                m,
                b,
                now: 0,
                m_alive: m_start == Some(0),
                b_alive: b_start == Some(0),
                m_to_b: true,
                b_to_m: true,
                log: Vec::new(),
            }
        }

        fn run_until(&mut self, end: u64) {
            while self.now < end {
                self.now += 10;
                let now = self.now;
                let mut pending = Vec::new();
                if self.m_alive {
                    for a in self.m.tick(now) {
                        pending.push(('m', a));
                    }
                }
                if self.b_alive {
                    for a in self.b.tick(now) {
                        pending.push(('b', a));
                    }
                }
                while let Some((who, a)) = pending.pop() {
                    if let Action::Send(magic) = a {
                        let (dst_alive, link, dst) = if who == 'm' {
                            (self.b_alive, self.m_to_b, &mut self.b)
                        } else {
                            (self.m_alive, self.b_to_m, &mut self.m)
                        };
                        if dst_alive && link {
                            let to = if who == 'm' { 'b' } else { 'm' };
                            for r in dst.heartbeat(magic, now) {
                                pending.push((to, r));
                            }
                        }
                    }
                    self.log.push((now, who, a));
                }
            }
        }
    }

    #[test]
    fn master_activates_after_seeing_backup_stopped_and_backup_yields() {
        let mut p = Pair::new(Some(0), Some(0));
        p.run_until(10_000);
        assert!(p.m.active(), "master active");
        assert!(!p.b.active(), "exactly one active after the tie-break");
    }

    #[test]
    fn master_wins_the_tie_whoever_is_heard_first() {
        // The backup's first heartbeat is lost, so it hears the master's
        // STOPPED before the master hears anything.
        let (mut m, _) = Machine::start(MASTER, 0, false);
        let (mut b, _) = Machine::start(BACKUP, 0, false);
        let _ = b.tick(0);
        for a in m.tick(0) {
            if let Action::Send(x) = a {
                assert!(!b.heartbeat(x, 1).contains(&Action::Activate));
            }
        }
        for t in (10..10_000).step_by(10) {
            let from_b: Vec<_> = b.tick(t);
            let from_m: Vec<_> = m.tick(t);
            for a in from_b {
                if let Action::Send(x) = a {
                    let _ = m.heartbeat(x, t);
                }
            }
            for a in from_m {
                if let Action::Send(x) = a {
                    let _ = b.heartbeat(x, t);
                }
            }
        }
        assert!(m.active() && !b.active());
    }

    #[test]
    fn backup_activates_within_deadtime_when_master_dies() {
        let mut p = Pair::new(Some(0), Some(0));
        p.run_until(5_000);
        assert!(p.m.active() && !p.b.active());
        p.m_alive = false;
        let died = p.now;
        p.run_until(died + 5_000);
        assert!(p.b.active());
        let t = p
            .log
            .iter()
            .find(|(t, w, a)| *t > died && *w == 'b' && *a == Action::Activate)
            .unwrap()
            .0;
        assert!(
            t - died <= 3_000 + BACKUP.grace_ms() + 10,
            "activated after {} ms",
            t - died
        );
        assert!(
            p.log
                .iter()
                .any(|(_, w, a)| *w == 'b'
                    && *a == Action::Log("partner dead: activating lvs".into()))
        );
    }

    #[test]
    fn revived_primary_stays_passive_while_backup_runs() {
        let mut p = Pair::new(None, Some(0));
        p.run_until(10_000);
        assert!(p.b.active(), "lone backup took over");
        let (m, out) = Machine::start(MASTER, p.now, false);
        assert_eq!(logs(&out), vec!["STARTING PULSE AS MASTER"]);
        p.m = m;
        p.m_alive = true;
        p.run_until(30_000);
        assert!(!p.m.active(), "revived primary stays passive");
        assert!(p.b.active());
    }

    #[test]
    fn backup_terminating_hands_over_to_master() {
        let mut p = Pair::new(None, Some(0));
        p.run_until(5_000);
        let (m, _) = Machine::start(MASTER, p.now, false);
        p.m = m;
        p.m_alive = true;
        p.run_until(8_000);
        assert_eq!(
            p.b.terminate(),
            vec![Action::Deactivate { was_active: true }]
        );
        p.b_alive = false;
        let t0 = p.now;
        p.run_until(t0 + 4_000);
        assert!(p.m.active());
    }

    #[test]
    fn any_valid_heartbeat_resets_the_dead_timer() {
        // Heartbeats are counted per packet, not per channel: as long as one
        // channel delivers, the backup stays passive.
        let mut p = Pair::new(Some(0), Some(0));
        p.run_until(5_000);
        p.m_alive = false;
        for t in (5_000..20_000).step_by(1000) {
            let _ = p.b.heartbeat(Magic::LvsRunning, t);
            assert!(!p.b.tick(t + 2_900).contains(&Action::Activate));
        }
        assert!(!p.b.active());
        assert!(!p.b.tick(19_000 + 3_000).contains(&Action::Activate));
        assert!(p
            .b
            .tick(19_000 + 3_000 + BACKUP.grace_ms())
            .contains(&Action::Activate));
    }

    #[test]
    fn the_heartbeat_after_two_lost_ones_is_in_time() {
        // keepalive 1 s, deadtime 3 s: heartbeats at 10 s, then 11 and 12
        // lost; the one of 13 s arrives a few ms late.  The backup stays
        // passive (the dead timer has its grace of keepalive / 10).
        assert_eq!(BACKUP.grace_ms(), 100);
        let (mut b, _) = Machine::start(BACKUP, 0, false);
        let _ = b.heartbeat(Magic::LvsRunning, 10_000);
        assert!(!b.tick(13_000).contains(&Action::Activate));
        assert!(!b.tick(13_004).contains(&Action::Activate));
        let _ = b.heartbeat(Magic::LvsRunning, 13_005);
        assert!(!b.tick(16_000).contains(&Action::Activate));
        assert!(b.tick(16_105).contains(&Action::Activate));
        assert!(b.active());
    }

    #[test]
    fn childfail_blocks_activation_until_running_heard() {
        let (mut m, _) = Machine::start(MASTER, 0, true);
        assert!(m.active());
        assert_eq!(
            m.child_failed(),
            vec![Action::Deactivate { was_active: true }]
        );
        assert!(m.childfail() && !m.active());
        assert!(m.heartbeat(Magic::LvsStopped, 100).is_empty());
        assert!(!m.tick(10_000).contains(&Action::Activate));
        // The heartbeat we send now says STOPPED, so the partner takes over.
        assert!(m.tick(20_000).contains(&Action::Send(Magic::LvsStopped)));
        assert!(m.heartbeat(Magic::LvsRunning, 20_001).is_empty());
        assert!(!m.childfail());
        assert!(m.tick(30_000).contains(&Action::Activate));
    }

    #[test]
    fn backup_with_backup_active_0_exits() {
        let (_, out) = Machine::start(
            Settings {
                backup_active: false,
                ..BACKUP
            },
            0,
            false,
        );
        assert_eq!(
            logs(&out),
            vec![
                "STARTING PULSE AS BACKUP",
                "We are backup node and backup is marked inactive -- exiting pulse"
            ]
        );
        assert_eq!(out.last(), Some(&Action::Exit));
    }

    #[test]
    fn master_with_backup_active_0_sends_nothing_and_activates_after_deadtime() {
        let s = Settings {
            backup_active: false,
            ..MASTER
        };
        let (mut m, out) = Machine::start(s, 0, false);
        assert_eq!(out[1], Action::Deactivate { was_active: false });
        let mut all = Vec::new();
        for t in (0..=3_000).step_by(10) {
            all.extend(m.tick(t));
        }
        assert!(!all.iter().any(|a| matches!(a, Action::Send(_))));
        assert_eq!(
            logs(&all),
            vec!["partner dead: activating lvs"],
            "fires at deadtime"
        );
        assert!(m.active());
    }

    #[test]
    fn linkfail_deactivates_blocks_and_recovers_without_takeover() {
        let (mut m, _) = Machine::start(MASTER, 0, true);
        let out = m.links(&[Nic::Primary]);
        assert_eq!(
            logs(&out),
            vec![
                "Primary NIC: link down",
                "Local NIC link failure: Pulse disabled",
                "local link failure: deactivating LVS"
            ]
        );
        assert!(out.contains(&Action::Deactivate { was_active: true }));
        assert!(m.links(&[Nic::Primary]).is_empty(), "logged once");
        assert!(!m.tick(10_000).contains(&Action::Activate));
        assert!(m.heartbeat(Magic::LvsStopped, 10_001).is_empty());
        assert_eq!(
            logs(&m.links(&[])),
            vec!["Local NIC link(s) restored: Pulse enabled"]
        );
        assert!(!m.active(), "no immediate takeover");
    }

    #[test]
    fn forced_active_and_tie_messages() {
        let (_, out) = Machine::start(MASTER, 0, true);
        assert_eq!(
            logs(&out),
            vec![
                "STARTING PULSE AS MASTER",
                "Forced active on startup: activating lvs"
            ]
        );
        let (mut b, _) = Machine::start(BACKUP, 0, false);
        assert!(
            b.heartbeat(Magic::LvsStopped, 5).is_empty(),
            "a starting backup leaves the tie to the master"
        );
        let out = b.heartbeat(Magic::LvsStopped, 3_005);
        assert_eq!(logs(&out), vec!["primary inactive: activating lvs"]);
        let out = b.heartbeat(Magic::LvsRunning, 3_006);
        assert_eq!(
            out,
            vec![
                Action::Send(Magic::LvsRunning),
                Action::Log("partner active: deactivating LVS".into()),
                Action::Deactivate { was_active: true }
            ]
        );
        let (mut m, _) = Machine::start(MASTER, 0, true);
        assert_eq!(
            m.heartbeat(Magic::LvsRunning, 1),
            vec![
                Action::Log("partner active: resending arps".into()),
                Action::ResendArps
            ]
        );
        assert!(m.active(), "the master wins the tie");
    }
}
