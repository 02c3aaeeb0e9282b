//! Unit tests of the state machine, against a fake clock.

use super::*;

const MASTER: Settings = Settings {
    master: true,
    backup_active: true,
    keepalive_ms: 1000,
    deadtime_ms: 3000,
    ready_ms: 4000,
    handover_ms: 3000,
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
    let s = Settings {
        deadtime_ms: 100_000,
        ..MASTER
    };
    let (mut m, _) = Machine::start(s, 0, false);
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
    /// lvs is ready as soon as a director activates (hot standby).
    ready_at_once: bool,
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
            ready_at_once: true,
            log: Vec::new(),
        }
    }

    /// `who` sends `magic` now (outside the timers: a daemon's
    /// immediate heartbeat).
    fn inject(&mut self, who: char, magic: Magic) {
        self.process(vec![(who, Action::Send(magic))]);
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
            self.process(pending);
        }
    }

    /// Carry out actions in the daemon's order: each director's in
    /// turn, the follow-ups of Activate (lvs ready at once) right after
    /// it, what a heartbeat makes the partner do after everything
    /// already queued (it crossed the wire).
    fn process(&mut self, pending: Vec<(char, Action)>) {
        let now = self.now;
        let mut pending: std::collections::VecDeque<(char, Action)> = pending.into();
        while let Some((who, a)) = pending.pop_front() {
            if a == Action::Activate && self.ready_at_once {
                let m = if who == 'm' { &mut self.m } else { &mut self.b };
                for r in m.lvs_ready().into_iter().rev() {
                    pending.push_front((who, r));
                }
            }
            if let Action::Send(magic) = a {
                let (dst_alive, link, dst) = if who == 'm' {
                    (self.b_alive, self.m_to_b, &mut self.b)
                } else {
                    (self.m_alive, self.b_to_m, &mut self.m)
                };
                if dst_alive && link {
                    let to = if who == 'm' { 'b' } else { 'm' };
                    for r in dst.heartbeat(magic, now) {
                        pending.push_back((to, r));
                    }
                }
            }
            self.log.push((now, who, a));
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
    assert!(p
        .log
        .iter()
        .any(|(_, w, a)| *w == 'b' && *a == Action::Log("partner dead: activating lvs".into())));
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
    let t0 = p.now;
    let out = p.b.terminate(t0);
    assert_eq!(
        out,
        vec![
            Action::Log("shutting down: handing the active role to the partner".into()),
            Action::Send(Magic::LvsStopped),
            Action::PushConnections
        ]
    );
    assert_eq!(
        p.b.phase(),
        Phase::Leaving {
            until: t0 + 3_000,
            then: Then::Exit,
            taken: false
        }
    );
    // The STOPPED goes out at once (what the daemon sends).
    p.inject('b', Magic::LvsStopped);
    assert!(p.m.active());
    p.run_until(t0 + 1_000);
    assert!(p.m.serving(), "the master announced at once");
    let announced = p
        .log
        .iter()
        .find(|(_, w, a)| *w == 'm' && *a == Action::Announce)
        .unwrap()
        .0;
    let exited = p
        .log
        .iter()
        .find(|(_, w, a)| *w == 'b' && *a == Action::Exit)
        .unwrap()
        .0;
    let let_go = p
        .log
        .iter()
        .find(|(_, w, a)| *w == 'b' && *a == Action::Deactivate { was_active: true })
        .unwrap()
        .0;
    assert!(announced <= let_go && let_go <= exited, "make before break");
    assert!(
        exited - t0 <= MASTER.let_go_ms() + 20,
        "no deadtime waited, only the moment after RUNNING: {} ms",
        exited - t0
    );
}

#[test]
fn switchover_and_back_keeps_one_director_serving() {
    let mut p = Pair::new(Some(0), Some(0));
    p.run_until(5_000);
    assert!(p.m.serving() && !p.b.active());
    // Every 10 ms at least one director serves (make before break);
    // both may for a moment.
    let check = |p: &mut Pair, end: u64| {
        while p.now < end {
            p.run_until(p.now + 10);
            assert!(p.m.serving() || p.b.serving(), "nobody serves at {}", p.now);
        }
    };
    for (leaving, name) in [('m', "master"), ('b', "backup"), ('m', "master again")] {
        let now = p.now;
        let out = if leaving == 'm' {
            p.m.switchover(now)
        } else {
            p.b.switchover(now)
        };
        assert!(
            out.contains(&Action::Send(Magic::LvsStopped)),
            "{name}: {out:?}"
        );
        p.inject(leaving, Magic::LvsStopped);
        check(&mut p, now + 1_500);
        let (gone, took) = if leaving == 'm' {
            (&p.m, &p.b)
        } else {
            (&p.b, &p.m)
        };
        assert!(!gone.active() && took.serving(), "{name}: handed over");
        check(&mut p, now + 6_000);
        let (gone, took) = if leaving == 'm' {
            (&p.m, &p.b)
        } else {
            (&p.b, &p.m)
        };
        assert!(
            !gone.active() && took.serving(),
            "{name}: it stays that way"
        );
    }
    assert!(!p.log.iter().any(|(_, _, a)| *a == Action::Exit));
}

#[test]
fn a_switchover_the_partner_does_not_take_is_called_off() {
    let mut p = Pair::new(Some(0), Some(0));
    p.run_until(5_000);
    p.b.linkfail = true; // the backup cannot take over
    let t0 = p.now;
    let out = p.m.switchover(t0);
    assert!(out.contains(&Action::Send(Magic::LvsStopped)));
    p.run_until(t0 + 3_000 + 50);
    assert_eq!(
        p.m.phase(),
        Phase::Active,
        "back to active after handover_ms"
    );
    assert!(p.log.iter().any(|(_, w, a)| *w == 'm'
        && *a
            == Action::Log(
                "partner did not take over within 3000 ms: switchover cancelled, staying active"
                    .into()
            )));
    assert!(!p
        .log
        .iter()
        .any(|(t, w, a)| *t > t0 && *w == 'm' && matches!(a, Action::Deactivate { .. })));
}

#[test]
fn terminate_without_a_live_partner_lets_go_at_once() {
    let (mut m, _) = Machine::start(MASTER, 0, true);
    let _ = m.lvs_ready();
    assert_eq!(m.phase(), Phase::Active);
    // never heard the partner
    assert_eq!(
        m.terminate(10),
        vec![Action::Deactivate { was_active: true }, Action::Exit]
    );
    // heard it, but longer ago than deadtime
    let (mut m, _) = Machine::start(MASTER, 0, true);
    let _ = m.lvs_ready();
    let _ = m.heartbeat(Magic::LvsStopped, 100);
    assert_eq!(m.phase(), Phase::Active);
    assert_eq!(
        m.terminate(100 + 3_000 + MASTER.grace_ms()),
        vec![Action::Deactivate { was_active: true }, Action::Exit]
    );
    // passive: nothing to hand over
    let (mut b, _) = Machine::start(BACKUP, 0, false);
    assert_eq!(
        b.terminate(5),
        vec![Action::Deactivate { was_active: false }, Action::Exit]
    );
}

#[test]
fn a_stopping_pulse_waits_at_most_handover_ms_and_a_second_signal_ends_the_wait() {
    let (mut m, _) = Machine::start(MASTER, 0, true);
    let _ = m.lvs_ready();
    let _ = m.heartbeat(Magic::LvsStopped, 500);
    assert!(m
        .terminate(1_000)
        .contains(&Action::Send(Magic::LvsStopped)));
    // heartbeats keep saying STOPPED while it waits, and a STOPPED
    // from the partner changes nothing
    assert_eq!(m.tick(1_000), vec![Action::Send(Magic::LvsStopped)]);
    assert!(m.heartbeat(Magic::LvsStopped, 1_500).is_empty());
    assert!(m.serving());
    let out = m.tick(4_000);
    assert_eq!(
        out[..3],
        [
            Action::Log("partner did not take over within 3000 ms: deactivating LVS".into()),
            Action::Deactivate { was_active: true },
            Action::Exit
        ]
    );
    let (mut m, _) = Machine::start(MASTER, 0, true);
    let _ = m.lvs_ready();
    let _ = m.heartbeat(Magic::LvsStopped, 500);
    let _ = m.terminate(1_000);
    assert_eq!(
        m.terminate(1_100),
        vec![Action::Deactivate { was_active: true }, Action::Exit]
    );
    // a switch-over under way becomes a stop
    let (mut m, _) = Machine::start(MASTER, 0, true);
    let _ = m.lvs_ready();
    let _ = m.heartbeat(Magic::LvsStopped, 500);
    let _ = m.switchover(1_000);
    let _ = m.terminate(1_100);
    // RUNNING: the connections go to the partner now, the addresses a
    // moment later (an original partner is not announced yet)
    assert_eq!(
        m.heartbeat(Magic::LvsRunning, 1_200),
        vec![Action::PushConnections]
    );
    assert!(m.serving());
    assert!(m.heartbeat(Magic::LvsRunning, 1_300).is_empty());
    assert!(m.next_deadline() <= 1_200 + MASTER.let_go_ms());
    assert!(!m
        .tick(1_200 + MASTER.let_go_ms() - 1)
        .contains(&Action::Exit));
    assert_eq!(
        m.tick(1_200 + MASTER.let_go_ms()),
        vec![
            Action::Log("partner active: deactivating LVS".into()),
            Action::PushConnections,
            Action::Deactivate { was_active: true },
            Action::Exit
        ]
    );
}

#[test]
fn a_takeover_says_stopped_until_lvs_is_ready_or_the_wait_ends() {
    let (mut b, _) = Machine::start(BACKUP, 0, false);
    let _ = b.heartbeat(Magic::LvsRunning, 1_000);
    let out = b.tick(4_200);
    assert!(out.contains(&Action::Activate));
    assert!(
        !out.iter().any(|a| matches!(a, Action::Send(_))),
        "no heartbeat in the tick that takes the role (an announcement made while \
         carrying out Activate would be followed by a stale STOPPED): {out:?}"
    );
    assert!(b.active() && !b.serving());
    assert_eq!(
        b.next_deadline(),
        5_200,
        "the next heartbeat, before the wait's end"
    );
    assert_eq!(
        b.tick(5_200),
        vec![Action::Send(Magic::LvsStopped)],
        "not announced yet: the next heartbeat says STOPPED"
    );
    // lvs never reports: the addresses come up after ready_ms
    let out = b.tick(4_200 + 4_000);
    assert_eq!(
        out[..3],
        [
            Action::Log(
                "lvs not ready after 4000 ms: bringing the virtual addresses up anyway".into()
            ),
            Action::Announce,
            Action::Send(Magic::LvsRunning)
        ]
    );
    assert!(b.serving());
    assert!(b.lvs_ready().is_empty(), "only once");
    // lvs reports in time
    let (mut b, _) = Machine::start(BACKUP, 0, false);
    let _ = b.tick(3_000);
    assert_eq!(
        b.lvs_ready(),
        vec![Action::Announce, Action::Send(Magic::LvsRunning)]
    );
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
    // not announced yet: the last heartbeat says STOPPED
    let out = b.heartbeat(Magic::LvsRunning, 3_006);
    assert_eq!(
        out,
        vec![
            Action::Send(Magic::LvsStopped),
            Action::Log("partner active: deactivating LVS".into()),
            Action::Deactivate { was_active: true }
        ]
    );
    let _ = b.heartbeat(Magic::LvsStopped, 3_100);
    let _ = b.lvs_ready();
    assert_eq!(
        b.heartbeat(Magic::LvsRunning, 3_300)[0],
        Action::Send(Magic::LvsRunning),
        "announced: Piranha's last RUNNING, so that the master resends its ARPs"
    );
    let (mut m, _) = Machine::start(MASTER, 0, true);
    assert!(
        m.heartbeat(Magic::LvsRunning, 1).is_empty(),
        "the master wins the tie and goes on"
    );
    let _ = m.lvs_ready();
    assert_eq!(
        m.heartbeat(Magic::LvsRunning, 1),
        vec![
            Action::Log("partner active: resending arps".into()),
            Action::ResendArps
        ]
    );
    assert!(m.active(), "the master wins the tie");
}
