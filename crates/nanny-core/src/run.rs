//! The run loop: check, step the machine, wait for the next tick or a
//! signal.  Time and signals come through [`Env`], so tests drive the loop
//! with a fake clock; [`RealEnv`] uses the monotonic clock and caught signals.
//!
//! Checks start on a fixed grid, `start + k·interval`: a check's own duration
//! does not stretch the period (B5).  A check that overruns its slot is
//! followed at once by the next one.  While a signal has forced the server
//! up or down no checks run; the loop only retries a failed ipvsadm each
//! interval.  SIGTERM/SIGINT abandon a running check (killing its helper),
//! remove the server if it is in the table, and end the loop with 0 (1 if
//! that removal failed).

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use piranha_runtime::quote::dump;
use piranha_runtime::signals::SignalWaiter;
use piranha_runtime::spawn::{run, Interrupt, RunOptions};

use piranha_status::report::{CheckState, Report, Reporter};

use crate::check::{Checker, Outcome};
use crate::ipvsadm::Table;
use crate::load::parse_loadavg;
use crate::machine::{Forced, LoadSource, Machine, Step};

/// A signal, as the loop sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sig {
    /// SIGTERM or SIGINT (the number).
    Stop(i32),
    /// SIGUSR1.
    ForceDown,
    /// SIGUSR2.
    ForceUp,
    /// SIGHUP.
    Resume,
}

/// Time and signals.
pub trait Env {
    /// Time since some fixed start.
    fn now(&self) -> Duration;
    /// Wait until `deadline` (same origin as [`Env::now`]) or a signal;
    /// return the pending signals, empty at the deadline.  Pending signals
    /// are returned at once even when the deadline has passed.
    fn wait_until(&mut self, deadline: Duration) -> Vec<Sig>;
    /// Run one check, letting a stop signal interrupt it.
    fn run_check(&mut self, checker: &mut dyn Checker) -> Outcome;
    /// A stop signal came; called before the server leaves the table.
    fn before_stop(&mut self) {}
    /// A check ended: tell lvs (extension, issue 20; nothing when lvs did
    /// not ask for reports).
    fn report(&mut self, _r: &Report) {}
}

/// Exit status after a stop signal when the final removal worked.
pub const EXIT_OK: i32 = 0;
/// Exit status for a failure (final removal failed, bad arguments, ...).
pub const EXIT_FAILURE: i32 = 1;

/// Run until a stop signal (or, in failover-services mode, an exit step).
pub fn run_loop<E: Env>(
    machine: &mut Machine,
    env: &mut E,
    checker: &mut dyn Checker,
    table: &mut dyn Table,
    load: &mut dyn LoadSource,
    interval: Duration,
) -> i32 {
    run_loop_with(
        machine,
        env,
        checker,
        table,
        load,
        interval,
        &Policy::default(),
    )
}

/// Extension (issue 9): retries and warm-up (all zero: Piranha's loop).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// When a check of an active server fails, re-probe up to this many
    /// times before reporting the failure (keepalived's `retry`).
    pub retry: u32,
    /// Pause before each re-probe.
    pub retry_delay: Duration,
    /// Delay of the first check (already drawn at random by the caller).
    pub first_delay: Duration,
}

/// Handle signals that came during a wait; `Some(code)` ends the loop.
fn handle_signals<E: Env>(
    sigs: Vec<Sig>,
    machine: &mut Machine,
    env: &mut E,
    table: &mut dyn Table,
    next: &mut Duration,
) -> Option<i32> {
    for s in sigs {
        match s {
            Sig::Stop(n) => {
                log::info!("Terminating due to signal {n}");
                env.before_stop();
                return Some(if machine.shutdown(table) {
                    EXIT_OK
                } else {
                    EXIT_FAILURE
                });
            }
            Sig::ForceDown => machine.force_down(table),
            Sig::ForceUp => machine.force_up(table),
            Sig::Resume => {
                machine.resume();
                *next = env.now();
            }
        }
    }
    None
}

/// [`run_loop`] with retries and a first-check delay.
pub fn run_loop_with<E: Env>(
    machine: &mut Machine,
    env: &mut E,
    checker: &mut dyn Checker,
    table: &mut dyn Table,
    load: &mut dyn LoadSource,
    interval: Duration,
    policy: &Policy,
) -> i32 {
    let mut next = env.now() + policy.first_delay;
    loop {
        loop {
            let sigs = env.wait_until(next);
            if sigs.is_empty() {
                break;
            }
            if let Some(code) = handle_signals(sigs, machine, env, table, &mut next) {
                return code;
            }
        }
        let started = next;
        if machine.forced() == Forced::Normal {
            let mut t0 = env.now();
            let mut o = env.run_check(checker);
            // Extension: re-probe an active server before declaring it down.
            let mut tries = 0;
            while o == Outcome::Down && machine.active() && tries < policy.retry {
                tries += 1;
                log::debug!(
                    "check failed ({}); retry {tries} of {} in {:?}",
                    checker.detail().unwrap_or_default(),
                    policy.retry,
                    policy.retry_delay
                );
                let sigs = env.wait_until(env.now() + policy.retry_delay);
                if !sigs.is_empty() {
                    if let Some(code) = handle_signals(sigs, machine, env, table, &mut next) {
                        return code;
                    }
                    o = Outcome::Interrupted;
                    break;
                }
                t0 = env.now();
                o = env.run_check(checker);
            }
            match o {
                Outcome::Interrupted => continue,
                o => {
                    machine.set_reason(checker.detail().map(|d| {
                        if o == Outcome::Down && tries > 0 {
                            format!("{d}, after {tries} retries")
                        } else {
                            d
                        }
                    }));
                    let took = env.now().saturating_sub(t0);
                    let step = machine.after_check(o == Outcome::Up, table, load);
                    env.report(&Report {
                        state: if machine.active() {
                            CheckState::Up
                        } else if o == Outcome::Up {
                            CheckState::Rising
                        } else {
                            CheckState::Down
                        },
                        pass: o == Outcome::Up,
                        took,
                        reason: machine.reason().unwrap_or_default().to_string(),
                    });
                    if let Step::Exit(code) = step {
                        return code;
                    }
                    if o == Outcome::Up {
                        if let Some(w) = checker.dynamic_weight() {
                            machine.set_weight(w, table);
                        }
                    }
                }
            }
        } else {
            machine.retry(table);
        }
        next = started + interval;
        let now = env.now();
        if next < now {
            // Overran: skip the missed slots, start again now.
            let missed = (now - next).as_nanos() / interval.as_nanos().max(1);
            next += interval * (missed as u32);
            if next < now {
                next = now;
            }
        }
    }
}

/// The real world: monotonic clock and caught signals.
pub struct RealEnv {
    start: Instant,
    waiter: SignalWaiter,
    /// The parent (lvs) and the virtual address, when a stop that comes
    /// because the parent died must wait for the address to leave.
    orphan_hold: Option<(nix::unistd::Pid, std::net::IpAddr)>,
    /// Where each check's result goes (lvs's report socket), when lvs
    /// asked for reports ([`piranha_status::report::ENV`]).
    reporter: Option<Reporter>,
}

/// How long a nanny whose lvs died waits at most for the virtual address
/// to leave this director before removing its server.
pub const ORPHAN_HOLD_MAX: Duration = Duration::from_secs(30);

/// The signals nanny handles.
pub const SIGNALS: [i32; 5] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGHUP,
];

impl RealEnv {
    /// Use `waiter` (registered for [`SIGNALS`]).
    pub fn new(waiter: SignalWaiter) -> Self {
        RealEnv {
            start: Instant::now(),
            waiter,
            orphan_hold: None,
            reporter: Reporter::from_env(),
        }
    }

    /// When lvs dies (kill -9; the stop signal is the parent-death signal)
    /// while this director still holds `vip`, keep the server in the table
    /// until pulse has taken the address away (it does when it sees lvs
    /// die): emptying a service whose address still answers would refuse
    /// clients.  A stop sent by a live lvs or an administrator acts at once.
    pub fn hold_when_orphaned(mut self, vip: std::net::IpAddr) -> Self {
        let parent = nix::unistd::getppid();
        let comm = std::fs::read_to_string(format!("/proc/{parent}/comm")).unwrap_or_default();
        // only under lvs (a nanny run by hand acts at once)
        if parent.as_raw() > 1 && matches!(comm.trim(), "lvs" | "lvsd") {
            self.orphan_hold = Some((parent, vip));
        }
        self
    }

    fn map(sigs: Vec<i32>) -> Vec<Sig> {
        let mut out: Vec<Sig> = sigs
            .into_iter()
            .filter_map(|s| match s {
                libc::SIGTERM | libc::SIGINT => Some(Sig::Stop(s)),
                libc::SIGUSR1 => Some(Sig::ForceDown),
                libc::SIGUSR2 => Some(Sig::ForceUp),
                libc::SIGHUP => Some(Sig::Resume),
                _ => None,
            })
            .collect();
        // A stop wins over anything that came with it.
        if let Some(stop) = out.iter().find(|s| matches!(s, Sig::Stop(_))).copied() {
            out = vec![stop];
        }
        out
    }
}

impl Env for RealEnv {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn wait_until(&mut self, deadline: Duration) -> Vec<Sig> {
        let pending = Self::map(self.waiter.take());
        if !pending.is_empty() {
            return pending;
        }
        loop {
            let got = self.waiter.wait(Some(self.start + deadline));
            if got.is_empty() {
                return Vec::new();
            }
            let m = Self::map(got);
            if !m.is_empty() {
                return m;
            }
        }
    }

    fn run_check(&mut self, checker: &mut dyn Checker) -> Outcome {
        let w = &self.waiter;
        let abort = || {
            w.drain();
            w.is_pending(libc::SIGTERM) || w.is_pending(libc::SIGINT)
        };
        let intr = Interrupt {
            fd: w.as_fd(),
            abort: &abort,
        };
        checker.check(Some(&intr))
    }

    fn report(&mut self, r: &Report) {
        if let Some(to) = &self.reporter {
            to.send(r);
        }
    }

    fn before_stop(&mut self) {
        let Some((parent, vip)) = self.orphan_hold else {
            return;
        };
        if nix::unistd::getppid() == parent || piranha_runtime::net::count_local(&[vip]) == 0 {
            return;
        }
        log::info!("lvs is gone: keeping the server in the table while {vip} is still here");
        let waited = piranha_runtime::net::wait_while_local(&[vip], ORPHAN_HOLD_MAX, || {});
        log::info!("{vip} left after {} ms", waited.as_millis());
    }
}

/// The load monitor running a command.
#[derive(Debug, Clone)]
pub struct CommandLoad {
    /// `CMD RIP [uptime]`.
    pub argv: Vec<String>,
    /// Longest run (Piranha: the interval).
    pub timeout: Duration,
}

impl LoadSource for CommandLoad {
    fn load(&mut self) -> Option<f64> {
        let opts = RunOptions {
            capture: true,
            max_output: 4095,
            inherit_stderr: false,
            timeout: self.timeout,
            search_path: true,
        };
        let out = match run(&self.argv, &opts, None) {
            Ok(o) if o.completion.success() => o.stdout,
            _ => {
                log::info!("failed to read remote load");
                return None;
            }
        };
        let l = parse_loadavg(&out);
        if l.is_none() {
            log::info!("bad load average returned: {}", dump(out.trim_ascii_end()));
        }
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ServiceType;
    use crate::ipvsadm::Op;
    use crate::machine::{NoLoad, Params};
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    /// A fake clock shared by the env and the checker.
    #[derive(Clone, Default)]
    struct Clock(Rc<Cell<Duration>>);

    struct FakeEnv {
        clock: Clock,
        /// (time, signal) to deliver, in order.
        signals: Vec<(Duration, Sig)>,
        stop_at: Duration,
    }

    impl Env for FakeEnv {
        fn now(&self) -> Duration {
            self.clock.0.get()
        }
        fn wait_until(&mut self, deadline: Duration) -> Vec<Sig> {
            if let Some(&(t, s)) = self.signals.first() {
                if t <= deadline.max(self.now()) {
                    self.signals.remove(0);
                    self.clock.0.set(t.max(self.now()));
                    return vec![s];
                }
            }
            if deadline >= self.stop_at {
                self.clock.0.set(self.stop_at.max(self.now()));
                return vec![Sig::Stop(15)];
            }
            if deadline > self.now() {
                self.clock.0.set(deadline);
            }
            Vec::new()
        }
        fn run_check(&mut self, c: &mut dyn Checker) -> Outcome {
            c.check(None)
        }
    }

    /// Answers from a function of the time; each check takes `cost`.
    struct FakeCheck {
        clock: Clock,
        up: Box<dyn Fn(Duration) -> bool>,
        cost: Duration,
        starts: Rc<RefCell<Vec<Duration>>>,
    }

    impl Checker for FakeCheck {
        fn check(&mut self, _: Option<&Interrupt<'_>>) -> Outcome {
            let t = self.clock.0.get();
            self.starts.borrow_mut().push(t);
            self.clock.0.set(t + self.cost);
            if (self.up)(t) {
                Outcome::Up
            } else {
                Outcome::Down
            }
        }
    }

    #[derive(Default)]
    struct Rec {
        clock: Clock,
        ops: Vec<(Duration, Op)>,
    }
    impl Table for Rec {
        fn apply(&mut self, op: Op) -> bool {
            self.ops.push((self.clock.0.get(), op));
            true
        }
    }

    fn s(x: f64) -> Duration {
        Duration::from_secs_f64(x)
    }

    fn machine(interval: u64, reentry: u64) -> Machine {
        Machine::new(Params {
            service_type: ServiceType::Lvs,
            name: "10.0.0.2:80".into(),
            weight: 1,
            interval_secs: interval,
            count_thresh: reentry / interval,
            scale: 10,
            quiesce: false,
            load_monitor: false,
        })
    }

    #[allow(clippy::type_complexity)]
    fn go(
        interval: u64,
        reentry: u64,
        cost: f64,
        up: Box<dyn Fn(Duration) -> bool>,
        signals: Vec<(Duration, Sig)>,
        stop_at: f64,
    ) -> (i32, Vec<(Duration, Op)>, Vec<Duration>) {
        let clock = Clock::default();
        let starts = Rc::new(RefCell::new(Vec::new()));
        let mut env = FakeEnv {
            clock: clock.clone(),
            signals,
            stop_at: s(stop_at),
        };
        let mut chk = FakeCheck {
            clock: clock.clone(),
            up,
            cost: s(cost),
            starts: starts.clone(),
        };
        let mut t = Rec {
            clock,
            ops: Vec::new(),
        };
        let mut m = machine(interval, reentry);
        let code = run_loop(
            &mut m,
            &mut env,
            &mut chk,
            &mut t,
            &mut NoLoad,
            Duration::from_secs(interval),
        );
        let st = starts.borrow().clone();
        (code, t.ops, st)
    }

    #[test]
    fn command_load_runs_and_parses() {
        let sh = |script: &str| CommandLoad {
            argv: vec!["sh".into(), "-c".into(), script.into()],
            timeout: Duration::from_secs(5),
        };
        let up = " 10:00:00 up 1 day,  2:03,  1 user,  load average: 0.25, 0.10, 0.00";
        assert_eq!(sh(&format!("echo '{up}'")).load(), Some(0.25));
        assert_eq!(sh("echo 'ssh: connect to host: No route'").load(), None);
        assert_eq!(sh("exit 1").load(), None);
        let mut slow = sh("exec sleep 5");
        slow.timeout = Duration::from_millis(200);
        assert_eq!(slow.load(), None);
    }

    #[test]
    fn period_does_not_stretch_by_check_duration() {
        let (code, _, starts) = go(2, 10, 0.7, Box::new(|_| true), vec![], 9.0);
        assert_eq!(code, 0);
        assert_eq!(starts, [s(0.0), s(2.0), s(4.0), s(6.0), s(8.0)]);
    }

    #[test]
    fn overrunning_check_is_followed_at_once() {
        let (_, _, starts) = go(1, 10, 2.5, Box::new(|_| true), vec![], 6.0);
        assert_eq!(starts, [s(0.0), s(2.5), s(5.0)]);
    }

    #[test]
    fn timeline_add_remove_readd_and_stop() {
        // down between 3.5 s and 7.5 s; interval 1, reentry 3.
        let up = Box::new(|t: Duration| t < s(3.5) || t >= s(7.5));
        let (code, ops, _) = go(1, 3, 0.0, up, vec![], 12.5);
        assert_eq!(code, 0);
        assert_eq!(
            ops,
            [
                (s(0.0), Op::Add(1)),
                (s(4.0), Op::Delete),
                (s(10.0), Op::Add(1)),
                (s(12.5), Op::Delete),
            ]
        );
    }

    #[test]
    fn signals_force_pause_and_resume() {
        let sigs = vec![
            (s(2.5), Sig::ForceDown),
            (s(5.5), Sig::ForceUp),
            (s(7.25), Sig::Resume),
        ];
        let (code, ops, starts) = go(1, 3, 0.0, Box::new(|_| true), sigs, 9.5);
        assert_eq!(code, 0);
        assert_eq!(
            ops,
            [
                (s(0.0), Op::Add(1)),
                (s(2.5), Op::Delete),
                (s(5.5), Op::Add(1)),
                (s(9.5), Op::Delete),
            ]
        );
        // no checks while forced; an immediate check on SIGHUP, then the grid restarts.
        assert_eq!(starts, [s(0.0), s(1.0), s(2.0), s(7.25), s(8.25), s(9.25)]);
    }
}
