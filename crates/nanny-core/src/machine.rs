//! The pure state machine: what nanny does with each check result and
//! signal.  No clock, no sockets: the caller feeds results in and gives it a
//! [`Table`] to change and a [`LoadSource`] to ask.
//!
//! Piranha's rules (nanny.c `run`, `adjustWeight`, `checkState`):
//!
//! * A success counts up; the server is made active when it is available and
//!   the count has reached `count_thresh = reentry / interval`.  The count
//!   starts at the threshold, so the first success adds the server; after a
//!   failure it restarts at 0, so the server returns after `reentry` seconds
//!   of successes.  Going active logs `[ active ] making RIP:PORT available`
//!   and adds the server with weight `max(1, weight >> 5)`.
//! * A failure while active logs `[inactive] shutting down RIP:PORT due to
//!   connection failure` and removes the server (`-d`), or with quiesce sets
//!   its weight to 0 (`-e ... -w 0`); coming back then edits the weight.
//! * While active, every weight step (each check when interval > 20 s, else
//!   when the count is a multiple of `20 / interval`) doubles the weight up to
//!   the configured one (slow start), and after that, with a load monitor,
//!   moves it by the load average ([`crate::load`]).
//! * SIGUSR1 forces the server down, SIGUSR2 up (with the full weight), and
//!   checks pause; SIGHUP resumes them with the count at the threshold.
//!
//! What is ours (B1): the machine keeps what it believes is in the table
//! apart from what it wants there, and brings the table in line after every
//! change.  A failed ipvsadm leaves the belief unchanged, so the same change
//! is tried again on the next check instead of ending nanny; a failed `-a`
//! is followed by `-e` (the entry may already exist).  After a failure the
//! rest of that check's changes wait for the next check.

use crate::config::ServiceType;
use crate::ipvsadm::{Op, Table};
use crate::load::{initial_weight, load_weight, slow_start_next};

/// Where the server's weight comes from when the load monitor runs.
pub trait LoadSource {
    /// The 1-minute load average, or `None` (the failure is logged).
    fn load(&mut self) -> Option<f64>;
}

/// No load monitor.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoLoad;

impl LoadSource for NoLoad {
    fn load(&mut self) -> Option<f64> {
        None
    }
}

/// The fixed parameters of the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// `--lvs` or `--fos`.
    pub service_type: ServiceType,
    /// `RIP:RPORT` as logged.
    pub name: String,
    /// Configured weight.
    pub weight: i32,
    /// Check interval in seconds (≥ 1).
    pub interval_secs: u64,
    /// Successes needed to re-add.
    pub count_thresh: u64,
    /// Load monitor ceiling factor.
    pub scale: i32,
    /// Set weight 0 instead of removing.
    pub quiesce: bool,
    /// Run the load source at weight steps.
    pub load_monitor: bool,
}

/// What the machine believes the table holds for this server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// Not in the table.
    Absent,
    /// In the table with this weight.
    Present(i32),
}

/// Signal-driven override of the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forced {
    /// Checks decide.
    Normal,
    /// SIGUSR2: up, no checks.
    Up,
    /// SIGUSR1: down, no checks.
    Down,
}

/// What the caller should do after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Keep checking.
    Continue,
    /// Exit with this status (failover-services mode only).
    Exit(i32),
}

/// The machine.
#[derive(Debug, Clone)]
pub struct Machine {
    p: Params,
    active: bool,
    count: u64,
    last_weight: i32,
    entry: Entry,
    forced: Forced,
    fos_counter: u32,
    failed_this_step: bool,
    /// Extension (issue 9): which check decided, appended to state lines.
    reason: Option<String>,
}

impl Machine {
    /// A machine in its start state: inactive, count at the threshold.
    pub fn new(p: Params) -> Self {
        Machine {
            count: p.count_thresh,
            p,
            active: false,
            last_weight: 0,
            entry: Entry::Absent,
            forced: Forced::Normal,
            fos_counter: 0,
            failed_this_step: false,
            reason: None,
        }
    }

    /// Is the server active (in service, as far as the checks go)?
    pub fn active(&self) -> bool {
        self.active
    }

    /// The count of successes since the last failure (Piranha's currCount).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The weight the server should have while active.
    pub fn last_weight(&self) -> i32 {
        self.last_weight
    }

    /// What the machine believes the table holds.
    pub fn entry(&self) -> Entry {
        self.entry
    }

    /// The signal override in force.
    pub fn forced(&self) -> Forced {
        self.forced
    }

    fn wanted(&self) -> Entry {
        if self.p.service_type != ServiceType::Lvs {
            return Entry::Absent;
        }
        if self.active {
            Entry::Present(self.last_weight)
        } else if self.p.quiesce && self.forced != Forced::Down && self.entry != Entry::Absent {
            Entry::Present(0)
        } else {
            Entry::Absent
        }
    }

    /// Bring the table in line with what the machine wants; false if an
    /// ipvsadm failed (it will be tried again at the next step).
    pub fn reconcile(&mut self, table: &mut dyn Table) -> bool {
        if self.failed_this_step {
            return false;
        }
        let ok = match (self.wanted(), self.entry) {
            (want, have) if want == have => true,
            (Entry::Present(w), Entry::Absent) => {
                if table.apply(Op::Add(w)) || table.apply(Op::Edit(w)) {
                    self.entry = Entry::Present(w);
                    true
                } else {
                    false
                }
            }
            (Entry::Present(w), Entry::Present(_)) => {
                if table.apply(Op::Edit(w)) {
                    self.entry = Entry::Present(w);
                    true
                } else {
                    false
                }
            }
            (Entry::Absent, Entry::Present(_)) => {
                if table.apply(Op::Delete) {
                    self.entry = Entry::Absent;
                    true
                } else {
                    false
                }
            }
            (Entry::Absent, Entry::Absent) => true,
        };
        if !ok {
            self.failed_this_step = true;
        }
        ok
    }

    /// Feed one check result.
    pub fn after_check(
        &mut self,
        avail: bool,
        table: &mut dyn Table,
        load: &mut dyn LoadSource,
    ) -> Step {
        self.failed_this_step = false;
        let fos = self.p.service_type == ServiceType::Fos;
        if avail {
            self.count += 1;
        } else if fos {
            if self.fos_counter > 0 {
                self.fos_counter += 1;
            }
            if self.fos_counter > 1 {
                log::info!("Timeout waiting for remote service -- triggering failover!");
                return Step::Exit(1);
            }
        }
        log::debug!(
            "avail: {} active: {}: count: {}",
            avail as i32,
            self.active as i32,
            self.count
        );

        if avail && !self.active && self.count >= self.p.count_thresh {
            self.active = true;
            if fos {
                log::info!("Remote service {} is available", self.p.name);
            } else {
                log::info!(
                    "[ active ] making {} available{}",
                    self.p.name,
                    self.reason_suffix()
                );
                self.last_weight = initial_weight(self.p.weight);
                self.reconcile(table);
            }
        } else if !avail && self.active {
            self.count = 0;
            self.active = false;
            if fos {
                log::info!("Exiting due to connection failure of {}", self.p.name);
                return Step::Exit(0);
            }
            log::info!(
                "[inactive] shutting down {} due to connection failure{}",
                self.p.name,
                self.reason_suffix()
            );
            self.reconcile(table);
        } else if !avail && self.count != 0 {
            self.count = 0;
            if fos {
                log::info!("No service active & available...");
                self.fos_counter += 1;
            } else {
                log::debug!("No service active & available...");
            }
        }

        if !fos
            && self.active
            && (self.p.interval_secs > 20 || self.count % (20 / self.p.interval_secs) == 0)
        {
            self.weight_step(load);
        }
        // Whatever is still out of line (a failure at an earlier step).
        self.reconcile(table);
        Step::Continue
    }

    /// Extension (issue 9): say which check decided the next state change
    /// (`None`: Piranha's checks, Piranha's lines).
    pub fn set_reason(&mut self, reason: Option<String>) {
        self.reason = reason;
    }

    /// Why the last check decided as it did, when the check says.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    fn reason_suffix(&self) -> String {
        self.reason
            .as_ref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    }

    /// Extension (issue 9): a misc check in dynamic mode set the weight.
    /// It replaces the configured weight and, while the server is active,
    /// goes to the table at once (no slow start), as keepalived does.
    pub fn set_weight(&mut self, w: i32, table: &mut dyn Table) {
        if w == self.p.weight && (!self.active || w == self.last_weight) {
            return;
        }
        log::info!(
            "[ weight ] setting {} weight to {w}{}",
            self.p.name,
            self.reason_suffix()
        );
        self.p.weight = w;
        if self.active {
            self.last_weight = w;
            self.reconcile(table);
        }
    }

    fn weight_step(&mut self, load: &mut dyn LoadSource) {
        if self.last_weight < self.p.weight {
            self.last_weight = slow_start_next(self.last_weight, self.p.weight);
            log::debug!(
                "Adjusting weight of {} to {}",
                self.p.name,
                self.last_weight
            );
        } else if self.p.load_monitor {
            if let Some(l) = load.load() {
                log::debug!("Loadavg of {} is {:.6}", self.p.name, l);
                if let Some(w) = load_weight(self.last_weight, self.p.weight, self.p.scale, l) {
                    log::debug!(
                        "Computing new weight {w} based on last weight {} and load {l:.6}",
                        self.last_weight
                    );
                    self.last_weight = w;
                }
            }
        }
    }

    /// SIGUSR2: force the server up (full weight) and pause the checks.
    pub fn force_up(&mut self, table: &mut dyn Table) {
        self.failed_this_step = false;
        log::info!("rose-colored glasses on");
        self.forced = Forced::Up;
        if !self.active {
            self.active = true;
            self.last_weight = self.p.weight;
        }
        self.reconcile(table);
    }

    /// SIGUSR1: force the server down (removed, even with quiesce) and pause
    /// the checks.
    pub fn force_down(&mut self, table: &mut dyn Table) {
        self.failed_this_step = false;
        log::info!("opaque glasses on");
        self.forced = Forced::Down;
        self.active = false;
        self.reconcile(table);
    }

    /// SIGHUP: back to normal checking, count at the threshold.
    pub fn resume(&mut self) {
        log::info!("DEBUG -- removing glasses");
        self.forced = Forced::Normal;
        self.count = self.p.count_thresh;
    }

    /// A tick without a check (while forced): retry a failed change.
    pub fn retry(&mut self, table: &mut dyn Table) {
        self.failed_this_step = false;
        self.reconcile(table);
    }

    /// SIGTERM/SIGINT: remove the server if it is in the table (active or
    /// quiesced).  False if that ipvsadm failed.
    pub fn shutdown(&mut self, table: &mut dyn Table) -> bool {
        if self.p.service_type != ServiceType::Lvs {
            return true;
        }
        if self.active || self.entry != Entry::Absent {
            self.active = false;
            let ok = table.apply(Op::Delete);
            if ok {
                self.entry = Entry::Absent;
            }
            return ok;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records ops; fails the ones whose index is in `fail`.
    #[derive(Default)]
    struct Rec {
        ops: Vec<Op>,
        fail_next: usize,
    }

    impl Table for Rec {
        fn apply(&mut self, op: Op) -> bool {
            self.ops.push(op);
            if self.fail_next > 0 {
                self.fail_next -= 1;
                false
            } else {
                true
            }
        }
    }

    struct FixedLoad(Vec<Option<f64>>);
    impl LoadSource for FixedLoad {
        fn load(&mut self) -> Option<f64> {
            if self.0.is_empty() {
                None
            } else {
                self.0.remove(0)
            }
        }
    }

    fn params(weight: i32, interval: u64, reentry: u64, quiesce: bool) -> Params {
        Params {
            service_type: ServiceType::Lvs,
            name: "10.0.0.2:80".into(),
            weight,
            interval_secs: interval,
            count_thresh: reentry / interval,
            scale: 10,
            quiesce,
            load_monitor: false,
        }
    }

    fn feed(m: &mut Machine, t: &mut Rec, results: &str) {
        for c in results.chars() {
            assert_eq!(m.after_check(c == '+', t, &mut NoLoad), Step::Continue);
        }
    }

    #[test]
    fn first_success_adds_and_failure_removes() {
        let mut m = Machine::new(params(1, 10, 180, false));
        let mut t = Rec::default();
        feed(&mut m, &mut t, "+");
        assert_eq!(t.ops, [Op::Add(1)]);
        feed(&mut m, &mut t, "++-");
        assert_eq!(t.ops, [Op::Add(1), Op::Delete]);
        // A server that fails before its first success waits for reentry.
        let mut m = Machine::new(params(1, 10, 180, false));
        let mut t = Rec::default();
        feed(&mut m, &mut t, &"-".repeat(3));
        feed(&mut m, &mut t, &"+".repeat(17));
        assert!(t.ops.is_empty());
        feed(&mut m, &mut t, "+");
        assert_eq!(t.ops, [Op::Add(1)]);
    }

    #[test]
    fn reentry_needs_thresh_successes() {
        // reentry 30, interval 10: three successes after a failure.
        let mut m = Machine::new(params(1, 10, 30, false));
        let mut t = Rec::default();
        feed(&mut m, &mut t, "+-++");
        assert_eq!(t.ops, [Op::Add(1), Op::Delete]);
        feed(&mut m, &mut t, "+");
        assert_eq!(t.ops, [Op::Add(1), Op::Delete, Op::Add(1)]);
        // a failure in the middle restarts the count
        feed(&mut m, &mut t, "-++-+++");
        assert_eq!(t.ops[3..], [Op::Delete, Op::Add(1)]);
    }

    #[test]
    fn slow_start_doubles_at_weight_steps() {
        // interval 5: weight step when count % 4 == 0. reentry 0/5 = 0.
        let mut m = Machine::new(params(100, 5, 5, false));
        let mut t = Rec::default();
        // count starts at 1; first success -> 2 (add 3), steps at 4, 8, 12...
        feed(&mut m, &mut t, "+");
        assert_eq!(t.ops, [Op::Add(3)]);
        feed(&mut m, &mut t, "++");
        assert_eq!(t.ops, [Op::Add(3), Op::Edit(6)], "count 4");
        feed(&mut m, &mut t, &"+".repeat(20));
        assert_eq!(
            t.ops,
            [
                Op::Add(3),
                Op::Edit(6),
                Op::Edit(12),
                Op::Edit(24),
                Op::Edit(48),
                Op::Edit(96),
                Op::Edit(100)
            ]
        );
        feed(&mut m, &mut t, &"+".repeat(8));
        assert_eq!(
            t.ops.len(),
            7,
            "at full weight without load monitor nothing changes"
        );
    }

    #[test]
    fn activation_and_step_in_the_same_check() {
        // interval 1: step when count % 20 == 0; thresh 19 -> first success makes 20.
        let mut m = Machine::new(params(64, 1, 19, false));
        let mut t = Rec::default();
        feed(&mut m, &mut t, "+");
        assert_eq!(
            t.ops,
            [Op::Add(2), Op::Edit(4)],
            "Piranha runs -a then -e in one cycle"
        );
    }

    #[test]
    fn quiesce_sets_weight_zero_and_edits_back() {
        let mut m = Machine::new(params(1, 10, 10, true));
        let mut t = Rec::default();
        feed(&mut m, &mut t, "-+-+");
        assert_eq!(t.ops, [Op::Add(1), Op::Edit(0), Op::Edit(1)]);
        assert!(m.shutdown(&mut t));
        assert_eq!(t.ops.last(), Some(&Op::Delete));
    }

    #[test]
    fn quiesced_entry_is_removed_at_shutdown() {
        let mut m = Machine::new(params(1, 10, 10, true));
        let mut t = Rec::default();
        feed(&mut m, &mut t, "+-");
        assert_eq!(m.entry(), Entry::Present(0));
        assert!(m.shutdown(&mut t));
        assert_eq!(t.ops, [Op::Add(1), Op::Edit(0), Op::Delete]);
    }

    #[test]
    fn b1_failed_ipvsadm_is_retried_not_fatal() {
        let mut m = Machine::new(params(1, 10, 10, false));
        let mut t = Rec {
            fail_next: 2,
            ..Rec::default()
        };
        feed(&mut m, &mut t, "+");
        assert_eq!(t.ops, [Op::Add(1), Op::Edit(1)], "-a failed, then -e tried");
        assert_eq!(m.entry(), Entry::Absent);
        assert!(m.active());
        feed(&mut m, &mut t, "+");
        assert_eq!(t.ops[2..], [Op::Add(1)], "retried at the next check");
        assert_eq!(m.entry(), Entry::Present(1));
        t.fail_next = 1;
        feed(&mut m, &mut t, "-");
        assert_eq!(t.ops[3..], [Op::Delete]);
        assert_eq!(m.entry(), Entry::Present(1));
        feed(&mut m, &mut t, "-");
        assert_eq!(t.ops[4..], [Op::Delete]);
        assert_eq!(m.entry(), Entry::Absent);
        feed(&mut m, &mut t, "-");
        assert_eq!(t.ops.len(), 5);
    }

    #[test]
    fn add_that_finds_the_entry_falls_back_to_edit() {
        let mut m = Machine::new(params(1, 10, 10, false));
        let mut t = Rec {
            fail_next: 1,
            ..Rec::default()
        };
        feed(&mut m, &mut t, "+");
        assert_eq!(t.ops, [Op::Add(1), Op::Edit(1)]);
        assert_eq!(m.entry(), Entry::Present(1));
    }

    #[test]
    fn signals_force_and_resume() {
        let mut m = Machine::new(params(8, 10, 30, true));
        let mut t = Rec::default();
        m.force_up(&mut t);
        assert_eq!(t.ops, [Op::Add(8)], "forced up with the full weight");
        m.force_down(&mut t);
        assert_eq!(
            t.ops[1..],
            [Op::Delete],
            "forced down removes even with quiesce"
        );
        m.force_down(&mut t);
        assert_eq!(t.ops.len(), 2);
        m.resume();
        assert_eq!(m.count(), 3);
        assert_eq!(m.forced(), Forced::Normal);
        feed(&mut m, &mut t, "+");
        assert_eq!(
            t.ops[2],
            Op::Add(1),
            "re-added with -a, not -e (Piranha ran -e and died)"
        );
    }

    #[test]
    fn load_monitor_moves_weight_after_slow_start() {
        let mut p = params(8, 30, 30, false);
        p.load_monitor = true;
        let mut m = Machine::new(p);
        let mut t = Rec::default();
        let mut l = FixedLoad(vec![Some(0.0), Some(0.0), None, Some(9.0)]);
        for _ in 0..7 {
            m.after_check(true, &mut t, &mut l);
        }
        // add 1 (8>>5=0 -> 1), then doubling 2,4,8 (steps every check since
        // interval > 20; the add's own check steps to 2).
        assert_eq!(
            t.ops,
            [
                Op::Add(1),
                Op::Edit(2),
                Op::Edit(4),
                Op::Edit(8),
                Op::Edit(12),
                Op::Edit(16),
                Op::Edit(8)
            ]
        );
    }

    #[test]
    fn fos_mode_exits_like_piranha() {
        let mut p = params(1, 10, 10, false);
        p.service_type = ServiceType::Fos;
        let mut m = Machine::new(p.clone());
        let mut t = Rec::default();
        assert_eq!(m.after_check(true, &mut t, &mut NoLoad), Step::Continue);
        assert_eq!(m.after_check(false, &mut t, &mut NoLoad), Step::Exit(0));
        let mut m = Machine::new(p);
        assert_eq!(m.after_check(false, &mut t, &mut NoLoad), Step::Continue);
        assert_eq!(m.after_check(false, &mut t, &mut NoLoad), Step::Exit(1));
        assert!(t.ops.is_empty());
    }
}
