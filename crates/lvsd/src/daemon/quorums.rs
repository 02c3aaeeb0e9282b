//! The quorum extension at run time: lvs evaluates each service's quorum
//! from its nannies' state lines, runs the `quorum_up`/`quorum_down`
//! scripts, and keeps the table in line ([`crate::quorum`] decides).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use super::state::{Lvsd, QState, Running};
use crate::plan::{DesiredService, ServiceKey};
use crate::quorum::{self, Transition};
use crate::scripts::Job;

/// How long lvs waits before retrying a table change that failed.
const QUORUM_RETRY: Duration = Duration::from_secs(5);

/// The quorum extension (issue 9): lvs decides from the nannies' state
/// lines and owns the real servers' entries ([`crate::quorum`]).
impl Lvsd {
    /// The running plan of service `key`.
    pub(super) fn service(&self, key: ServiceKey) -> Option<&DesiredService> {
        self.by_key.get(&key).map(|&i| &self.services[i])
    }

    /// The monitors of service `key` (a range of the ordered map).
    fn monitors_of(&self, key: ServiceKey) -> impl Iterator<Item = &Running> {
        self.monitors
            .range(
                (key, IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)
                    ..=(key, IpAddr::V6(Ipv6Addr::from(u128::MAX)), u16::MAX),
            )
            .map(|(_, r)| r)
    }

    /// Live weight of `key`: the weights its nannies report for their live
    /// real servers ([`quorum::live_weight`]).
    pub(super) fn live_weight(&self, key: ServiceKey) -> u64 {
        quorum::live_weight(self.monitors_of(key).map(|r| (r.live, r.entry)))
    }

    /// Re-evaluate the quorum of `key` and bring the table in line. `init`:
    /// at start-up or after a reload (keepalived's "starting with quorum
    /// down", which adds the sorry server and runs quorum_down).
    pub(super) fn quorum_eval(&mut self, key: ServiceKey, init: bool) {
        let Some(d) = self.service(key) else {
            return;
        };
        let Some(spec) = d.quorum.clone() else {
            return;
        };
        let name = d.name.clone();
        let sorry = d.sorry;
        let p = spec.params;
        let w = self.live_weight(key);
        let held = self.held(key);
        let fresh = !self.quorums.contains_key(&key);
        let st = self.quorums.entry(key).or_insert_with(|| QState {
            up: quorum::initial(w, p),
            ..QState::default()
        });
        let sorry_word = |on: bool| match sorry {
            Some(s) => format!(
                "; {} sorry_server {s}",
                if on { "activate" } else { "deactivate" }
            ),
            None => String::new(),
        };
        let mut run: Option<bool> = None;
        match quorum::step(st.up, w, p) {
            Some(Transition::Gained) => {
                st.up = true;
                log::info!(
                    "Virtual Server {name}: gained quorum: live weight {w} >= {}+{}{}",
                    p.quorum,
                    p.hysteresis,
                    if st.have.sorry.is_some() {
                        sorry_word(false)
                    } else {
                        String::new()
                    }
                );
                run = Some(true);
            }
            Some(Transition::Lost) => {
                st.up = false;
                let why = if w == 0 {
                    "no live real server".to_string()
                } else {
                    format!("live weight {w} < {}-{}", p.quorum, p.hysteresis)
                };
                log::info!(
                    "Virtual Server {name}: lost quorum: {why}{}",
                    sorry_word(true)
                );
                run = Some(false);
            }
            None if (init || fresh)
                && !held
                && !st.up
                && sorry.is_some()
                && st.have.sorry.is_none() =>
            {
                log::info!(
                    "Virtual Server {name}: starting with quorum down: live weight {w} < {}+{}{}",
                    p.quorum,
                    p.hysteresis,
                    sorry_word(true)
                );
                run = Some(false);
            }
            None => log::debug!(
                "Virtual Server {name}: live weight {w}, quorum {}",
                if st.up { "up" } else { "down" }
            ),
        }
        if let Some(up) = run {
            let command = if up { &spec.up } else { &spec.down };
            if let (Some(command), true) = (command, self.opts.test_start) {
                log::info!(
                    "[test-start] Virtual Server {name}: {} script: {command}",
                    if up { "quorum_up" } else { "quorum_down" }
                );
            } else if let Some(command) = command {
                self.scripts.submit(Job {
                    key,
                    vs: name.clone(),
                    what: if up { "quorum_up" } else { "quorum_down" },
                    command: command.clone(),
                    env: vec![
                        ("LVS_VIRTUAL".into(), name.clone()),
                        ("LVS_SERVICE".into(), key.to_string()),
                        ("LVS_QUORUM".into(), if up { "up" } else { "down" }.into()),
                        ("LVS_WEIGHT".into(), w.to_string()),
                    ],
                });
            }
        }
        self.quorum_reconcile(key);
        // bgp mode: a quorum gained or lost may change what is announced
        // (the one-second tick covers the rest, e.g. the VIPs reaching lo)
        if run.is_some() {
            self.announce_update();
        }
    }

    /// Make the table hold what the quorum state says ([`quorum::target`]).
    fn quorum_reconcile(&mut self, key: ServiceKey) {
        let held = self.held(key);
        let Some(d) = self.service(key) else {
            return;
        };
        // Until the first checks had their time the sorry server stays out
        // (see `sorry_hold`).
        let sorry = d
            .sorry
            .filter(|_| !held)
            .map(|s| SocketAddr::new(s, d.port));
        let method = d.method;
        // bgp mode: every real server stays in, at weight 0 when out
        let pinned = d.announce.is_some();
        if self.service_disabled(key) {
            return;
        }
        // the administrator's overrides (drain, weight, disable) first
        let wanted: BTreeMap<SocketAddr, u32> = self
            .monitors_of(key)
            .filter_map(|r| {
                let a = SocketAddr::new(r.mon.rip, r.mon.rport);
                let w = r.entry.and_then(|w| self.quorum_weight(key, a, w));
                match (w, pinned) {
                    (Some(w), _) => Some((a, w)),
                    (None, true) => Some((a, 0)),
                    (None, false) => None,
                }
            })
            .collect();
        let Some(st) = self.quorums.get_mut(&key) else {
            return;
        };
        st.retry_at = None;
        let want = quorum::target(st.up, sorry, &wanted, pinned);
        let changes = quorum::changes(&st.have, &want);
        if changes.is_empty() {
            return;
        }
        let ops: Vec<ipvs::Op> = changes
            .iter()
            .map(|c| quorum::change_op(&key, method, *c))
            .collect();
        if self.table.apply(&ops) {
            st.have = want;
            return;
        }
        // Learn what the kernel holds, and try again later.
        st.retry_at = Some(Instant::now() + QUORUM_RETRY);
        match self.table.read() {
            Ok(all) => {
                let dests = all
                    .iter()
                    .find(|e| ServiceKey::of_kernel(&e.service) == Some(key))
                    .map(|e| e.dests.as_slice())
                    .unwrap_or_default();
                let have = quorum::kernel_entries(dests, method, sorry, &wanted);
                st.have = have;
            }
            Err(e) => log::error!("cannot read the IPVS table: {e}"),
        }
    }

    /// A real server of `key` came up: say so when the quorum keeps it out.
    pub(super) fn note_kept_out(&self, key: ServiceKey, a: SocketAddr) {
        let (Some(st), Some(d)) = (self.quorums.get(&key), self.service(key)) else {
            return;
        };
        if let (false, Some(_), Some(spec)) = (st.up, st.have.sorry, &d.quorum) {
            log::info!(
                "Virtual Server {}: quorum down (live weight {} < {}): {a} stays out of the table",
                d.name,
                self.live_weight(key),
                spec.params.gain_at()
            );
        }
    }
}
