//! Quorum with hysteresis for a virtual server with the `quorum` extension
//! (issue 9), keepalived's algorithm (reference keepalived.md §2), pure:
//! the decision and the table it leads to, no processes and no clock.
//!
//! * W, the live weight, is the sum of the current weights of the real
//!   servers whose nanny last said `[ active ]`: the weight each nanny last
//!   reported for the table (`[lvs-table] RIP:PORT weight W`), so a misc
//!   check's dynamic weight counts, as in keepalived (which sums the
//!   servers' effective weights); see [`live_weight`].
//! * Down → up when W ≥ quorum + hysteresis; up → down when W = 0 or
//!   W < quorum − hysteresis; in between nothing changes.
//! * Quorum up, or no sorry server: the table holds the entries the nannies
//!   want (their `[lvs-table]` lines). Quorum down with a sorry server: the
//!   table holds the sorry server only, whatever the nannies want.
//!
//! lvs owns the real servers' entries of such a service (nanny runs with
//! `--lvs-table` and only reports), so "while the quorum is lost, server
//! changes don't touch the table" holds with one writer and no race.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::key::ServiceKey;

/// `quorum` and `hysteresis` of one virtual server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// `quorum` (≥ 1).
    pub quorum: u32,
    /// `hysteresis`.
    pub hysteresis: u32,
}

impl Params {
    /// The live weight at which a lost quorum is gained: quorum + hysteresis.
    pub fn gain_at(&self) -> u64 {
        u64::from(self.quorum) + u64::from(self.hysteresis)
    }

    /// The quorum is lost below this (and at W = 0): quorum − hysteresis,
    /// which may be zero or negative.
    pub fn lose_below(&self) -> i64 {
        i64::from(self.quorum) - i64::from(self.hysteresis)
    }
}

/// A change of the quorum state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// W reached quorum + hysteresis.
    Gained,
    /// W fell to 0 or below quorum − hysteresis.
    Lost,
}

/// keepalived's rule: what happens to a service whose quorum is `up` when
/// the live weight is `w`.
pub fn step(up: bool, w: u64, p: Params) -> Option<Transition> {
    if !up && w >= p.gain_at() {
        Some(Transition::Gained)
    } else if up && (w == 0 || (w as i128) < i128::from(p.lose_below())) {
        Some(Transition::Lost)
    } else {
        None
    }
}

/// The quorum state a service starts with (keepalived: up iff W ≥
/// quorum + hysteresis).
pub fn initial(w: u64, p: Params) -> bool {
    w >= p.gain_at()
}

/// W of one service from its real servers, each given as (live, the
/// weight its nanny last reported for the table or `None`): the sum of the
/// reported weights of the live ones. A live server whose nanny has not
/// reported a weight yet (its `[ active ]` line arrived first) adds
/// nothing until it does: counting its lvs.cf weight instead could gain a
/// quorum that the reported weight (slow start, a dynamic weight) does not.
pub fn live_weight(servers: impl IntoIterator<Item = (bool, Option<u32>)>) -> u64 {
    servers
        .into_iter()
        .filter(|(live, _)| *live)
        .map(|(_, w)| u64::from(w.unwrap_or(0)))
        .sum()
}

/// The entries of one service that lvs manages: real servers with their
/// weight, and the sorry server.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entries {
    /// Real servers in the table, with their weights.
    pub real: BTreeMap<SocketAddr, u32>,
    /// The sorry server, when it is in the table.
    pub sorry: Option<SocketAddr>,
}

/// What the table should hold: see the module docs. `pinned` (bgp mode):
/// the real servers never leave the table, a lost quorum sets them to
/// weight 0 (a destination deleted and added again would move to the end
/// of the service's list, and `mh` builds its lookup table in list order).
pub fn target(
    up: bool,
    sorry: Option<SocketAddr>,
    wanted: &BTreeMap<SocketAddr, u32>,
    pinned: bool,
) -> Entries {
    match sorry {
        Some(s) if !up => Entries {
            real: if pinned {
                wanted.keys().map(|a| (*a, 0)).collect()
            } else {
                BTreeMap::new()
            },
            sorry: Some(s),
        },
        _ => Entries {
            real: wanted.clone(),
            sorry: None,
        },
    }
}

/// One change to a destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// `-d`
    Delete(SocketAddr),
    /// `-a ... -w W`
    Add(SocketAddr, u32),
    /// `-e ... -w W`
    Edit(SocketAddr, u32),
}

/// The changes that turn `have` into `want`: every removal first (real
/// servers, then the sorry server), then the sorry server's addition, then
/// real servers' additions and edits. So on a lost quorum the real servers
/// leave before the sorry server enters, and on a gained one the sorry
/// server leaves before they return (keepalived's order).
pub fn changes(have: &Entries, want: &Entries) -> Vec<Change> {
    let mut v = Vec::new();
    for a in have.real.keys() {
        if !want.real.contains_key(a) {
            v.push(Change::Delete(*a));
        }
    }
    if let Some(s) = have.sorry {
        if want.sorry != Some(s) {
            v.push(Change::Delete(s));
        }
    }
    if let Some(s) = want.sorry {
        if have.sorry != Some(s) {
            v.push(Change::Add(s, 1));
        }
    }
    for (a, w) in &want.real {
        match have.real.get(a) {
            None => v.push(Change::Add(*a, *w)),
            Some(h) if h != w => v.push(Change::Edit(*a, *w)),
            Some(_) => {}
        }
    }
    v
}

/// The kernel change `c` on service `key`, forwarding method letter
/// `method` (`m`, `g`, `i`), as nanny would have made it. Direct routing
/// and tunnels cannot change the port: the kernel keeps such an entry under
/// the service's port ([`ServiceKey::destination`]).
pub fn change_op(key: &ServiceKey, method: char, c: Change) -> ipvs::Op {
    let id = key.service();
    match c {
        Change::Delete(a) => ipvs::Op::DelDest(id, key.destination(a, method, None)),
        Change::Add(a, w) => ipvs::Op::AddDest(id, key.destination(a, method, Some(w))),
        Change::Edit(a, w) => ipvs::Op::EditDest(id, key.destination(a, method, Some(w))),
    }
}

/// What the kernel holds for one service (`ipvsadm -S -n` read back after a
/// failed change), keyed as [`target`] keys it. Direct routing and tunnels
/// keep an entry under the service's port (see [`change_op`]), so such an
/// entry is keyed by the port of the wanted real server with its address;
/// otherwise the next pass would delete and re-add it.
pub fn kernel_entries(
    dests: &[ipvs::Destination],
    method: char,
    sorry: Option<SocketAddr>,
    wanted: &BTreeMap<SocketAddr, u32>,
) -> Entries {
    let mut have = Entries::default();
    for dest in dests {
        let ip = dest.addr;
        let mut a = SocketAddr::new(ip, dest.port);
        if matches!(method, 'g' | 'i') && Some(a) != sorry {
            if let Some(w) = wanted.keys().find(|w| w.ip() == ip) {
                a = *w;
            }
        }
        if Some(a) == sorry {
            have.sorry = Some(a);
        } else {
            have.real.insert(a, dest.weight.max(0) as u32);
        }
    }
    have
}

/// What a nanny started with `--lvs-table` wants for its real server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wanted {
    /// In the table with this weight.
    Weight(u32),
    /// Not in the table.
    Absent,
}

/// Read a `[lvs-table] RIP:PORT weight W|absent` line (with or without
/// the `nanny: ` prefix); see nanny's `lvs_table` module.
pub fn parse_line(line: &str) -> Option<(SocketAddr, Wanted)> {
    let rest = line.split_once("[lvs-table] ")?.1;
    let mut words = rest.split_whitespace();
    let addr = words.next()?.parse().ok()?;
    let wanted = match (words.next()?, words.next()) {
        ("absent", None) => Wanted::Absent,
        ("weight", Some(w)) => Wanted::Weight(w.parse().ok()?),
        _ => return None,
    };
    words.next().is_none().then_some((addr, wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    const P: Params = Params {
        quorum: 7,
        hysteresis: 2,
    };

    #[test]
    fn table_lines_of_ipv6_servers() {
        assert_eq!(
            parse_line("nanny: [lvs-table] [2001:db8::2]:80 weight 3"),
            Some((a("[2001:db8::2]:80"), Wanted::Weight(3)))
        );
        assert_eq!(
            parse_line("[lvs-table] [2001:db8::2]:80 absent"),
            Some((a("[2001:db8::2]:80"), Wanted::Absent))
        );
        assert_eq!(parse_line("[lvs-table] 2001:db8::2:80 absent"), None);
    }

    #[test]
    fn live_weight_sums_the_reported_weights_of_live_servers() {
        // Dynamic weights (misc exit 7 -> 5), a live server at weight 0,
        // a dead server's last report, a live one not reported yet.
        assert_eq!(
            live_weight([
                (true, Some(5)),
                (true, Some(0)),
                (false, Some(9)),
                (true, None),
                (true, Some(1)),
            ]),
            6
        );
        assert_eq!(live_weight([]), 0);
        assert_eq!(
            live_weight([(true, Some(u32::MAX)), (true, Some(u32::MAX))]),
            2 * u64::from(u32::MAX)
        );
        // keepalived's quorum 4 over one server of lvs.cf weight 1: only
        // its dynamic weight can reach it.
        let p = Params {
            quorum: 4,
            hysteresis: 0,
        };
        assert_eq!(step(false, live_weight([(true, Some(1))]), p), None);
        assert_eq!(
            step(false, live_weight([(true, Some(5))]), p),
            Some(Transition::Gained)
        );
        assert_eq!(
            step(true, live_weight([(true, Some(1))]), p),
            Some(Transition::Lost)
        );
    }

    #[test]
    fn kernel_entries_key_direct_routing_by_the_real_port() {
        let d = |ip: &str, port: u16, weight: i32| ipvs::Destination {
            addr: ip.parse().unwrap(),
            port,
            weight,
            ..Default::default()
        };
        // -g service on port 80; the nanny checks port 8080; the kernel
        // holds the entry under 80.
        let kernel = [
            d("10.0.0.1", 80, 3),
            d("10.0.0.9", 80, 1),
            d("10.0.0.2", 80, 2),
        ];
        let wanted: BTreeMap<_, _> = [(a("10.0.0.1:8080"), 3)].into();
        let sorry = Some(a("10.0.0.9:80"));
        let have = kernel_entries(&kernel, 'g', sorry, &wanted);
        assert_eq!(have.sorry, sorry);
        // 10.0.0.1 matches the wanted key, so no change is planned for it;
        // 10.0.0.2 is not wanted and stays under the port the kernel shows
        // (change_op deletes it there).
        let real: Vec<_> = have.real.iter().map(|(k, w)| (*k, *w)).collect();
        assert_eq!(real, vec![(a("10.0.0.1:8080"), 3), (a("10.0.0.2:80"), 2)]);
        // Quorum up, no sorry server wanted: only the unwanted entries go,
        // real servers first; 10.0.0.1 is left alone (keyed by the kernel's
        // port it would have been deleted and re-added).
        let want = target(true, None, &wanted, false);
        assert_eq!(
            changes(&have, &want),
            vec![
                Change::Delete(a("10.0.0.2:80")),
                Change::Delete(a("10.0.0.9:80"))
            ]
        );
        // NAT keeps the kernel's port.
        let nat = kernel_entries(&[d("10.0.0.1", 8080, 3)], 'm', None, &wanted);
        assert_eq!(
            nat.real.keys().copied().collect::<Vec<_>>(),
            vec![a("10.0.0.1:8080")]
        );
        let nat = kernel_entries(&[d("10.0.0.1", 80, 3)], 'm', None, &wanted);
        assert_eq!(
            nat.real.keys().copied().collect::<Vec<_>>(),
            vec![a("10.0.0.1:80")]
        );
    }

    #[test]
    fn keepalived_worked_example() {
        // 10 servers of weight 1, quorum 7, hysteresis 2: gained at >= 9,
        // lost below 5 (keepalived's doc/samples/keepalived.conf.quorum).
        assert!(!initial(8, P));
        assert!(initial(9, P));
        assert_eq!(step(false, 8, P), None);
        assert_eq!(step(false, 9, P), Some(Transition::Gained));
        for w in 5..=10 {
            assert_eq!(step(true, w, P), None, "{w} is in the band");
        }
        assert_eq!(step(true, 4, P), Some(Transition::Lost));
        assert_eq!(step(true, 0, P), Some(Transition::Lost));
        // A pool moving between 7 and 6 does not flap.
        let mut up = true;
        for w in [7, 6, 7, 6, 5, 6, 7, 8] {
            if let Some(t) = step(up, w, P) {
                up = t == Transition::Gained;
            }
            assert!(up);
        }
    }

    #[test]
    fn zero_live_weight_always_loses() {
        // hysteresis >= quorum: only W = 0 loses.
        let p = Params {
            quorum: 2,
            hysteresis: 3,
        };
        assert_eq!(p.lose_below(), -1);
        assert_eq!(step(true, 1, p), None);
        assert_eq!(step(true, 0, p), Some(Transition::Lost));
        assert_eq!(step(false, 4, p), None);
        assert_eq!(step(false, 5, p), Some(Transition::Gained));
        // Piranha's rule as a quorum: quorum 1, hysteresis 0.
        let p1 = Params {
            quorum: 1,
            hysteresis: 0,
        };
        assert_eq!(step(false, 1, p1), Some(Transition::Gained));
        assert_eq!(step(true, 0, p1), Some(Transition::Lost));
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let p = Params {
            quorum: i32::MAX as u32,
            hysteresis: i32::MAX as u32,
        };
        assert_eq!(step(false, u64::MAX, p), Some(Transition::Gained));
        assert_eq!(step(true, u64::MAX, p), None);
        assert_eq!(step(true, 0, p), Some(Transition::Lost));
    }

    #[test]
    fn pinned_servers_stay_at_weight_zero() {
        let sorry = Some(a("10.0.5.2:80"));
        let wanted: BTreeMap<_, _> = [(a("10.0.0.1:80"), 0), (a("10.0.0.2:80"), 3)].into();
        let up = target(true, sorry, &wanted, true);
        assert_eq!(up.real, wanted);
        let down = target(false, sorry, &wanted, true);
        assert_eq!(down.sorry, sorry);
        assert!(down.real.values().all(|w| *w == 0));
        assert_eq!(down.real.len(), 2);
        // losing the quorum edits, never deletes, a real server
        assert!(changes(&up, &down)
            .iter()
            .all(|c| !matches!(c, Change::Delete(x) if wanted.contains_key(x))));
        // additions come in address order, the same on every director
        let adds: Vec<SocketAddr> = changes(&Entries::default(), &up)
            .iter()
            .filter_map(|c| match c {
                Change::Add(x, _) => Some(*x),
                _ => None,
            })
            .collect();
        assert_eq!(adds, [a("10.0.0.1:80"), a("10.0.0.2:80")]);
    }

    #[test]
    fn target_and_changes() {
        let sorry = Some(a("10.0.5.2:80"));
        let wanted: BTreeMap<_, _> = [(a("10.0.0.1:80"), 1), (a("10.0.0.2:80"), 3)].into();
        let up = target(true, sorry, &wanted, false);
        let down = target(false, sorry, &wanted, false);
        assert_eq!(up.sorry, None);
        assert_eq!(up.real, wanted);
        assert_eq!(down.real.len(), 0);
        assert_eq!(down.sorry, sorry);
        // No sorry server: the quorum never empties the table.
        assert_eq!(target(false, None, &wanted, false).real, wanted);
        // Lost: real servers out first, then the sorry server in.
        assert_eq!(
            changes(&up, &down),
            [
                Change::Delete(a("10.0.0.1:80")),
                Change::Delete(a("10.0.0.2:80")),
                Change::Add(a("10.0.5.2:80"), 1),
            ]
        );
        // Gained: the sorry server out first, then the real servers in.
        assert_eq!(
            changes(&down, &up),
            [
                Change::Delete(a("10.0.5.2:80")),
                Change::Add(a("10.0.0.1:80"), 1),
                Change::Add(a("10.0.0.2:80"), 3),
            ]
        );
        // A weight change is an edit; nothing to do is nothing.
        let mut w2 = wanted.clone();
        w2.insert(a("10.0.0.2:80"), 0);
        assert_eq!(
            changes(&up, &target(true, sorry, &w2, false)),
            [Change::Edit(a("10.0.0.2:80"), 0)]
        );
        assert!(changes(&up, &up).is_empty());
        // While down, nanny changes change nothing.
        assert!(changes(&down, &target(false, sorry, &w2, false)).is_empty());
        // A sorry server that duplicates a real server: deleted as a real
        // server before it is added as the sorry server.
        let dup = target(false, Some(a("10.0.0.1:80")), &wanted, false);
        assert_eq!(
            changes(&up, &dup),
            [
                Change::Delete(a("10.0.0.1:80")),
                Change::Delete(a("10.0.0.2:80")),
                Change::Add(a("10.0.0.1:80"), 1),
            ]
        );
    }

    /// The text a foreign ipvsadm is given for a change (what nanny would
    /// have run).
    fn change_line(key: &ServiceKey, method: char, c: Change) -> Vec<String> {
        crate::kernel::foreign::op_words(&change_op(key, method, c))
    }

    #[test]
    fn lines() {
        let k = ServiceKey::Tcp("192.168.1.100".parse().unwrap(), 80);
        assert_eq!(
            change_line(&k, 'm', Change::Add(a("10.0.0.1:8080"), 2)).join(" "),
            "-a -t 192.168.1.100:80 -r 10.0.0.1:8080 -m -w 2"
        );
        assert_eq!(
            change_line(
                &ServiceKey::Fwmark(5),
                'g',
                Change::Edit(a("10.0.0.1:80"), 0)
            )
            .join(" "),
            "-e -f 5 -r 10.0.0.1:80 -g -w 0"
        );
        assert_eq!(
            change_line(&k, 'i', Change::Delete(a("10.0.0.1:80"))).join(" "),
            "-d -t 192.168.1.100:80 -r 10.0.0.1:80"
        );
        // Direct routing and tunnels: the kernel holds the entry under the
        // service's port, so -e and -d name it there.
        assert_eq!(
            change_line(&k, 'g', Change::Delete(a("10.0.0.1:8080"))).join(" "),
            "-d -t 192.168.1.100:80 -r 10.0.0.1:80"
        );
        assert_eq!(
            change_line(&k, 'i', Change::Edit(a("10.0.0.1:8080"), 3)).join(" "),
            "-e -t 192.168.1.100:80 -r 10.0.0.1:80 -i -w 3"
        );
        assert_eq!(
            change_line(&k, 'm', Change::Delete(a("10.0.0.1:8080"))).join(" "),
            "-d -t 192.168.1.100:80 -r 10.0.0.1:8080"
        );
        assert_eq!(
            parse_line("nanny: [lvs-table] 10.0.0.2:80 weight 3"),
            Some((a("10.0.0.2:80"), Wanted::Weight(3)))
        );
        assert_eq!(
            parse_line("[lvs-table] 10.0.0.2:80 absent"),
            Some((a("10.0.0.2:80"), Wanted::Absent))
        );
        for bad in [
            "[lvs-table] 10.0.0.2:80",
            "[lvs-table] 10.0.0.2:80 weight",
            "[lvs-table] 10.0.0.2:80 weight -1",
            "[lvs-table] 10.0.0.2:80 absent now",
            "[lvs-table] host:80 absent",
            "[ active ] making 10.0.0.2:80 available",
        ] {
            assert_eq!(parse_line(bad), None, "{bad}");
        }
    }

    use proptest::prelude::*;

    proptest! {
        /// The band: a lost quorum is gained only at W >= q + h, a held one
        /// lost only at W = 0 or W < q - h, and otherwise nothing changes;
        /// a loss (W > 0) and the next gain are more than 2h apart in W.
        #[test]
        fn hysteresis_band(q in 1u32..40, h in 0u32..20, ws in proptest::collection::vec(0u64..80, 1..60)) {
            let p = Params { quorum: q, hysteresis: h };
            let mut up = initial(ws[0], p);
            let mut last_loss: Option<u64> = None;
            for &w in &ws[1..] {
                match step(up, w, p) {
                    Some(Transition::Gained) => {
                        prop_assert!(!up && w >= u64::from(q + h));
                        if let Some(l) = last_loss.filter(|l| *l > 0) {
                            prop_assert!(w - l > u64::from(2 * h));
                        }
                        up = true;
                    }
                    Some(Transition::Lost) => {
                        prop_assert!(up && (w == 0 || (w as i64) < i64::from(q) - i64::from(h)));
                        last_loss = Some(w);
                        up = false;
                    }
                    None => {
                        let stays = if up {
                            w > 0 && (w as i64) >= i64::from(q) - i64::from(h)
                        } else {
                            w < u64::from(q + h)
                        };
                        prop_assert!(stays);
                    }
                }
            }
        }

        /// Whatever the entries and the state, applying `changes` to what
        /// lvs has gives the target, and a down quorum with a sorry server
        /// leaves only the sorry server.
        #[test]
        fn changes_reach_the_target(
            have in proptest::collection::btree_map(0u8..8, 0u32..4, 0..8),
            want in proptest::collection::btree_map(0u8..8, 0u32..4, 0..8),
            have_sorry in any::<bool>(), up in any::<bool>(), with_sorry in any::<bool>(),
        ) {
            let addr = |i: u8| SocketAddr::new(std::net::Ipv4Addr::new(10, 0, 0, i + 1).into(), 80);
            let sorry = with_sorry.then(|| SocketAddr::new(std::net::Ipv4Addr::new(10, 9, 9, 9).into(), 80));
            let mut cur = Entries {
                real: have.iter().map(|(k, v)| (addr(*k), *v)).collect(),
                sorry: if have_sorry { sorry } else { None },
            };
            let wanted = want.iter().map(|(k, v)| (addr(*k), *v)).collect();
            let t = target(up, sorry, &wanted, false);
            for c in changes(&cur, &t) {
                match c {
                    Change::Delete(a) if Some(a) == cur.sorry => cur.sorry = None,
                    Change::Delete(a) => { prop_assert!(cur.real.remove(&a).is_some()); }
                    Change::Add(a, _) if Some(a) == t.sorry => cur.sorry = Some(a),
                    Change::Add(a, w) => { prop_assert!(cur.real.insert(a, w).is_none()); }
                    Change::Edit(a, w) => { prop_assert!(cur.real.insert(a, w).is_some()); }
                }
            }
            prop_assert_eq!(&cur, &t);
            if !up && with_sorry {
                prop_assert!(cur.real.is_empty() && cur.sorry.is_some());
            }
        }
    }
}
