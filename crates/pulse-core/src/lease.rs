//! Floating addresses on a lease: added with a finite lifetime, renewed by
//! the active pulse every keepalive.
//!
//! Piranha added its floating addresses with `ifconfig` aliases, which live
//! until someone removes them: a pulse killed with `kill -9` (or stopped)
//! left the VIPs on its director while the partner took them over, and two
//! directors answered ARP for the same address until pulse was started
//! again.  Here every floating address carries a valid (and preferred)
//! lifetime of [`lifetime_secs`] seconds, about `deadtime`; the active pulse
//! renews it every `keepalive` with create-or-replace
//! ([`Kernel::renew_address`]), which also adds the address again if it
//! expired meanwhile.  A pulse that stops renewing loses its addresses at
//! most about `deadtime` (+ the kernel's one-second check granularity) after
//! its last renewal, which is when its partner takes over.  Deactivation
//! still removes them at once.
//!
//! [`Lease`] is the pure part (the cadence, the lifetime, logging a failure
//! once); the daemon calls it from its loop.

use std::collections::HashSet;
use std::net::IpAddr;

use crate::net::{Addr, Kernel};

/// The lifetime, in whole seconds, of a floating address renewed every
/// `keepalive_ms` by a pulse whose partner declares it dead after
/// `deadtime_ms`: `deadtime` rounded up, so the addresses of a pulse that
/// stopped renewing are gone about when the partner takes over; but at
/// least one second more than `keepalive`, so that a running pulse renews
/// each address before it expires even when `keepalive >= deadtime` (a
/// configuration in which the partner declares a live director dead
/// anyway).
pub fn lifetime_secs(keepalive_ms: u64, deadtime_ms: u64) -> u32 {
    let dead = deadtime_ms.div_ceil(1000);
    let keep = keepalive_ms.div_ceil(1000) + 1;
    dead.max(keep).min(u64::from(u32::MAX - 1)) as u32
}

/// What a renewal round reports, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The first failure to renew this address (later ones are silent until
    /// it succeeds again).
    Failed(String),
    /// Renewed again after failures.
    Recovered(String),
}

/// When to renew, for how long, and which addresses are failing.
#[derive(Debug, Clone)]
pub struct Lease {
    every_ms: u64,
    lifetime: u32,
    next_at: u64,
    failing: HashSet<IpAddr>,
}

impl Lease {
    /// A lease for `keepalive`/`deadtime` (milliseconds), first due at
    /// `now + keepalive`.
    pub fn new(keepalive_ms: u64, deadtime_ms: u64, now: u64) -> Lease {
        let every_ms = keepalive_ms.max(1);
        Lease {
            every_ms,
            lifetime: lifetime_secs(keepalive_ms, deadtime_ms),
            next_at: now + every_ms,
            failing: HashSet::new(),
        }
    }

    /// New timers (SIGHUP); the next renewal uses the new lifetime.
    pub fn reconfigure(&mut self, keepalive_ms: u64, deadtime_ms: u64, now: u64) {
        self.every_ms = keepalive_ms.max(1);
        self.lifetime = lifetime_secs(keepalive_ms, deadtime_ms);
        self.next_at = self.next_at.min(now + self.every_ms);
    }

    /// The lifetime to add and renew addresses with, seconds.
    pub fn lifetime(&self) -> u32 {
        self.lifetime
    }

    /// When the next renewal is due (ms on the caller's clock).
    pub fn next_at(&self) -> u64 {
        self.next_at
    }

    /// Whether a renewal is due at `now`.
    pub fn due(&self, now: u64) -> bool {
        now >= self.next_at
    }

    /// Addresses were just added (with this lifetime): the next renewal is
    /// one keepalive from now.
    pub fn restart(&mut self, now: u64) {
        self.next_at = now + self.every_ms;
    }

    /// Renew `addrs` (create or replace, with this lease's lifetime) and
    /// schedule the next round one keepalive after `now` (after a stall
    /// there is one round, not a burst of them).  A failure is reported the
    /// first time only, and again once the address is renewed.
    pub fn renew(&mut self, kernel: &mut dyn Kernel, addrs: &[Addr], now: u64) -> Vec<Event> {
        let mut out = Vec::new();
        for a in addrs {
            let a = Addr {
                lifetime: Some(self.lifetime),
                ..a.clone()
            };
            match kernel.renew_address(&a) {
                Ok(()) => {
                    if self.failing.remove(&a.ip) {
                        out.push(Event::Recovered(format!(
                            "renewed floating address {}/{} on {} again",
                            a.ip, a.prefix, a.label
                        )));
                    }
                }
                Err(e) => {
                    if self.failing.insert(a.ip) {
                        out.push(Event::Failed(format!(
                            "{}; it expires within {} s unless a later renewal succeeds (retried every keepalive, logged again once it does)",
                            piranha_runtime::error::chain(&e),
                            self.lifetime
                        )));
                    }
                }
            }
        }
        self.failing.retain(|ip| addrs.iter().any(|a| a.ip == *ip));
        self.next_at = now + self.every_ms;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Link, NetError};

    /// A kernel that records renewals and fails those listed in `refuse`.
    #[derive(Default)]
    struct Fake {
        renewed: Vec<(IpAddr, Option<u32>, u64)>,
        refuse: HashSet<IpAddr>,
        now: u64,
    }

    impl Kernel for Fake {
        fn addresses(&mut self) -> Result<Vec<Addr>, NetError> {
            Ok(Vec::new())
        }
        fn links(&mut self) -> Result<Vec<Link>, NetError> {
            Ok(Vec::new())
        }
        fn add_address(&mut self, _: &Addr) -> Result<(), NetError> {
            unreachable!("a lease only renews")
        }
        fn renew_address(&mut self, a: &Addr) -> Result<(), NetError> {
            if self.refuse.contains(&a.ip) {
                return Err(NetError::Refused {
                    what: format!("renew address {}", a.ip),
                    source: std::io::Error::from_raw_os_error(libc::ENODEV),
                });
            }
            self.renewed.push((a.ip, a.lifetime, self.now));
            Ok(())
        }
        fn del_address(&mut self, _: &Addr) -> Result<(), NetError> {
            unreachable!("a lease only renews")
        }
    }

    fn addr(last: u8) -> Addr {
        Addr {
            ip: IpAddr::from([10, 0, 0, last]),
            prefix: 24,
            index: 2,
            label: "eth0:1".to_string(),
            lifetime: None,
        }
    }

    /// Drive a lease on a fake clock in 100 ms steps, as the daemon's loop
    /// does, from `from` to `until` ms.
    fn run(lease: &mut Lease, k: &mut Fake, addrs: &[Addr], from: u64, until: u64) {
        let mut now = from;
        while now <= until {
            if lease.due(now) {
                k.now = now;
                lease.renew(k, addrs, now);
            }
            now += 100;
        }
    }

    #[test]
    fn lifetime_is_deadtime_but_outlives_a_keepalive() {
        assert_eq!(lifetime_secs(1000, 3000), 3);
        assert_eq!(lifetime_secs(2000, 5000), 5, "Piranha's defaults");
        assert_eq!(lifetime_secs(1000, 2500), 3, "rounded up");
        assert_eq!(lifetime_secs(1000, 1000), 2, "renewed before it expires");
        assert_eq!(lifetime_secs(6000, 3000), 7, "keepalive > deadtime");
        assert_eq!(lifetime_secs(200, 500), 2);
        assert_eq!(
            lifetime_secs(u64::MAX / 2, 1),
            u32::MAX - 1,
            "never forever"
        );
    }

    #[test]
    fn renews_every_keepalive_with_the_lifetime() {
        let mut k = Fake::default();
        let mut l = Lease::new(1000, 3000, 0);
        assert!(!l.due(999));
        assert!(l.due(1000));
        let addrs = [addr(100), addr(101)];
        run(&mut l, &mut k, &addrs, 0, 5000);
        let times: Vec<u64> = k.renewed.iter().map(|r| r.2).collect();
        assert_eq!(
            times,
            [1000, 1000, 2000, 2000, 3000, 3000, 4000, 4000, 5000, 5000]
        );
        assert!(k.renewed.iter().all(|r| r.1 == Some(3)));
        // between two renewals, less than the lifetime passes
        for w in times.windows(2) {
            assert!(w[1] - w[0] < u64::from(l.lifetime()) * 1000);
        }
    }

    #[test]
    fn a_stall_gives_one_renewal_then_the_cadence_again() {
        let mut k = Fake::default();
        let mut l = Lease::new(1000, 3000, 0);
        let addrs = [addr(100)];
        run(&mut l, &mut k, &addrs, 0, 1000);
        // the loop did not run from 1000 to 7300 (SIGSTOP): one round at 7300
        run(&mut l, &mut k, &addrs, 7300, 9300);
        let times: Vec<u64> = k.renewed.iter().map(|r| r.2).collect();
        assert_eq!(times, [1000, 7300, 8300, 9300]);
    }

    #[test]
    fn restart_after_adding_and_reconfigure() {
        let mut k = Fake::default();
        let mut l = Lease::new(2000, 5000, 0);
        l.restart(1500);
        assert_eq!(l.next_at(), 3500);
        // SIGHUP to keepalive 1 / deadtime 3: due no later than 1 s after
        l.reconfigure(1000, 3000, 1600);
        assert_eq!(l.next_at(), 2600);
        assert_eq!(l.lifetime(), 3);
        run(&mut l, &mut k, &[addr(1)], 1600, 3600);
        assert_eq!(
            k.renewed.iter().map(|r| (r.1, r.2)).collect::<Vec<_>>(),
            [(Some(3), 2600), (Some(3), 3600)]
        );
    }

    #[test]
    fn a_failure_is_reported_once_then_its_recovery() {
        let mut k = Fake::default();
        let mut l = Lease::new(1000, 3000, 0);
        let addrs = [addr(100), addr(101)];
        k.refuse.insert(addrs[0].ip);
        let e1 = l.renew(&mut k, &addrs, 1000);
        assert_eq!(e1.len(), 1, "{e1:?}");
        assert!(
            matches!(&e1[0], Event::Failed(s) if s.contains("renew address 10.0.0.100") && s.contains("within 3 s")),
            "{e1:?}"
        );
        // the other address was renewed all the same
        assert_eq!(k.renewed.len(), 1);
        assert_eq!(k.renewed[0].0, addrs[1].ip);
        for t in [2000, 3000, 4000] {
            assert!(l.renew(&mut k, &addrs, t).is_empty(), "logged once");
        }
        k.refuse.clear();
        let e2 = l.renew(&mut k, &addrs, 5000);
        assert_eq!(
            e2,
            [Event::Recovered(
                "renewed floating address 10.0.0.100/24 on eth0:1 again".to_string()
            )]
        );
        assert!(l.renew(&mut k, &addrs, 6000).is_empty());
        // failing again is reported again
        k.refuse.insert(addrs[1].ip);
        assert_eq!(l.renew(&mut k, &addrs, 7000).len(), 1);
    }
}
