//! Active-active over BGP (issue 22) at run time: which virtual addresses
//! this director announces, and telling BIRD ([`crate::bird`]).
//!
//! A service's address is announced while the service has its quorum (at
//! least one live real server without `quorum`), the address is on this
//! director (pulse puts it on `lo` once the table is ready: announced
//! before, the routers would send traffic the director drops) and lvs is
//! not stopping. An address with several services is announced while any
//! of them is. lvs looks at BIRD every second: when it does not answer, lvs
//! says so once, and tells it again when it answers.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::Instant;

use super::state::Lvsd;
use crate::bird::{self, PROBE};

/// The addresses of this host.
fn local_addresses() -> BTreeSet<IpAddr> {
    let Ok(ifs) = nix::ifaddrs::getifaddrs() else {
        return BTreeSet::new();
    };
    ifs.filter_map(|i| {
        let a = i.address?;
        if let Some(v4) = a.as_sockaddr_in() {
            Some(IpAddr::V4(v4.ip()))
        } else {
            a.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
        }
    })
    .collect()
}

impl Lvsd {
    /// Every address of bgp mode, with why it is not announced (`None`:
    /// it is wanted).
    pub(super) fn announcement_wishes(&self) -> BTreeMap<IpAddr, Option<&'static str>> {
        let mut out: BTreeMap<IpAddr, Option<&'static str>> = BTreeMap::new();
        let Some(a) = &self.announcer else {
            return out;
        };
        let local = local_addresses();
        for d in &self.services {
            let Some(vip) = d.announce else {
                continue;
            };
            let why = if a.stopping {
                Some("stopping")
            } else if self.service_disabled(d.key) {
                Some("service disabled")
            } else if !self.quorums.get(&d.key).is_some_and(|q| q.up) {
                Some("no quorum")
            } else if !local.contains(&vip) {
                Some("not on this director yet")
            } else {
                None
            };
            let e = out.entry(vip).or_insert(why);
            if why.is_none() {
                *e = None;
            }
        }
        out
    }

    /// Tell BIRD what to announce now, if that changed (or BIRD has not
    /// taken it yet).
    pub(super) fn announce_update(&mut self) {
        if self.announcer.is_none() || self.opts.test_start {
            return;
        }
        let want: BTreeSet<IpAddr> = self
            .announcement_wishes()
            .into_iter()
            .filter(|(_, why)| why.is_none())
            .map(|(v, _)| v)
            .collect();
        let Some(a) = self.announcer.as_mut() else {
            return;
        };
        if a.told.as_ref() == Some(&want) {
            return;
        }
        let before = a.told.clone();
        match bird::announce(&a.socket, &a.routes, &want) {
            Ok(_) => {
                if a.down {
                    log::info!("BIRD answers again on {}", a.socket.display());
                    a.down = false;
                } else if before.is_none() && want.is_empty() {
                    log::info!(
                        "BIRD answers on {}: nothing announced yet ({})",
                        a.socket.display(),
                        a.routes.display()
                    );
                }
                let before = before.unwrap_or_default();
                for v in want.difference(&before) {
                    log::info!("announcing {v} through BIRD");
                }
                for v in before.difference(&want) {
                    log::info!("withdrew {v} through BIRD");
                }
                a.told = Some(want);
            }
            Err(e) => {
                if !a.down {
                    log::error!(
                        "{e}; the routers get no route to this director's virtual addresses until BIRD answers (lvs tries again every second)"
                    );
                    a.down = true;
                }
                a.told = None;
            }
        }
        a.next_at = Instant::now() + PROBE;
    }

    /// Every second: the addresses may have come up on lo, BIRD may have
    /// gone or come back.
    pub(super) fn announce_tick(&mut self) {
        let Some(a) = self.announcer.as_mut() else {
            return;
        };
        a.next_at = Instant::now() + PROBE;
        if a.told.is_some() {
            if let Err(e) = bird::alive(&a.socket) {
                log::error!(
                    "{e}: BIRD is not running; the routers withdraw this director's routes (BGP, BFD)"
                );
                a.down = true;
                a.told = None;
            }
        }
        self.announce_update();
    }

    /// When the announcer wants to look again.
    pub(super) fn announce_deadline(&self) -> Option<Instant> {
        self.announcer
            .as_ref()
            .filter(|_| !self.opts.test_start)
            .map(|a| a.next_at)
    }

    /// A stopping director: withdraw every address, then give the routers
    /// `withdraw_delay` to move the flows before the table goes.
    pub(super) fn withdraw_for_stop(&mut self) {
        let Some(a) = self.announcer.as_mut() else {
            return;
        };
        let had = a.told.as_ref().map_or(0, BTreeSet::len);
        a.stopping = true;
        let delay = a.delay;
        self.announce_update();
        let Some(a) = self.announcer.as_ref() else {
            return;
        };
        if had > 0 && a.told.as_ref().is_some_and(BTreeSet::is_empty) {
            log::info!(
                "withdrew {had} virtual address(es); forwarding for {} s more while the routers move the flows",
                lvs_config::Seconds(delay.as_millis() as u64)
            );
            std::thread::sleep(delay);
        }
    }
}

impl Lvsd {
    /// bgp mode: IPVS accepts a TCP (and SCTP) flow it sees in the middle,
    /// so a director the routers hand an established flow forwards it
    /// (`net.ipv4.vs.sloppy_tcp`, `sloppy_sctp`).
    pub(super) fn set_sloppy(&self) {
        if self.announcer.is_none() || self.opts.test_start {
            return;
        }
        for (name, needed) in [("sloppy_tcp", true), ("sloppy_sctp", false)] {
            let path = format!("/proc/sys/net/ipv4/vs/{name}");
            match std::fs::write(&path, "1") {
                Ok(()) => log::debug!("net.ipv4.vs.{name} = 1"),
                Err(e) if needed => log::error!(
                    "cannot set net.ipv4.vs.{name} = 1 ({path}: {e}): a flow the routers move to this director is not forwarded"
                ),
                Err(e) => log::debug!("net.ipv4.vs.{name}: {e}"),
            }
        }
    }
}
