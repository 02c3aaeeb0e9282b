//! An in-memory IPVS table with the kernel's observable rules (errno per
//! failure, destinations added at the head of the list), for unit tests of
//! logic that sits above the netlink client.
//!
//! The address-family rules are the kernel's (`ip_vs_genl_set_cmd`,
//! `ip_vs_genl_new_daemon` in `ip_vs_ctl.c`): a real server of another
//! family than its service's is added or changed only with tunnel
//! forwarding and only while no sync daemon runs (EINVAL), and no sync
//! daemon starts while such a real server exists (EINVAL), since the sync
//! protocol cannot carry its connections.

use crate::error::{Error, OpKind};
use crate::model::*;
use crate::{IpvsBackend, Op};

/// A fake kernel table.
#[derive(Debug, Clone, Default)]
pub struct FakeIpvs {
    /// Services with destinations, in insertion order.
    pub table: Vec<ServiceEntry>,
    /// Current timeouts.
    pub timeouts: Timeouts,
    /// Running daemons.
    pub daemons: Vec<Daemon>,
    /// Every change applied, in order (including failed ones).
    pub log: Vec<Op>,
}

/// Schedulers the fake kernel knows.
const SCHEDULERS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos",
];

impl FakeIpvs {
    /// An empty table with the kernel's default timeouts.
    pub fn new() -> Self {
        FakeIpvs {
            timeouts: Timeouts {
                tcp: 900,
                tcp_fin: 120,
                udp: 300,
            },
            ..Default::default()
        }
    }

    fn find(&self, s: &Service) -> Option<usize> {
        self.table.iter().position(|e| e.service.same_service(s))
    }

    /// True when some real server's family differs from its service's
    /// (the kernel's `mixed_address_family_dests`).
    fn has_mixed_family_dests(&self) -> bool {
        self.table
            .iter()
            .any(|e| e.dests.iter().any(|d| d.af != e.service.af))
    }

    fn do_op(&mut self, op: &Op) -> Result<(), i32> {
        match op {
            Op::Flush => self.table.clear(),
            Op::AddService(s) | Op::EditService(s) => {
                if !SCHEDULERS.contains(&s.sched_name.as_str())
                    || !(s.pe_name.is_empty() || s.pe_name == "sip")
                {
                    return Err(libc::ENOENT);
                }
                let found = self.find(s);
                match (op, found) {
                    (Op::AddService(_), Some(_)) => return Err(libc::EEXIST),
                    (Op::AddService(_), None) => self.table.push(ServiceEntry {
                        service: s.clone(),
                        dests: vec![],
                    }),
                    (_, None) => return Err(libc::ESRCH),
                    (_, Some(i)) => {
                        let e = &mut self.table[i].service;
                        e.sched_name = s.sched_name.clone();
                        e.pe_name = s.pe_name.clone();
                        e.flags = s.flags;
                        e.timeout = s.timeout;
                        e.netmask = s.netmask;
                    }
                }
            }
            Op::DelService(s) => {
                let i = self.find(s).ok_or(libc::ESRCH)?;
                self.table.remove(i);
            }
            Op::Zero(None) => {
                for e in &mut self.table {
                    e.service.stats = Stats::default();
                    for d in &mut e.dests {
                        d.stats = Stats::default();
                    }
                }
            }
            Op::Zero(Some(s)) => {
                let i = self.find(s).ok_or(libc::ESRCH)?;
                self.table[i].service.stats = Stats::default();
            }
            Op::AddDest(s, d) | Op::EditDest(s, d) | Op::DelDest(s, d) => {
                let i = self.find(s).ok_or(libc::ESRCH)?;
                if d.af != AF_INET && d.af != AF_INET6 {
                    return Err(libc::EAFNOSUPPORT);
                }
                if d.af != self.table[i].service.af && !matches!(op, Op::DelDest(..)) {
                    // The sync protocol has one family an entry; other
                    // families are forwarded only through a tunnel.
                    if !self.daemons.is_empty() || d.fwd != Forward::Tunnel {
                        return Err(libc::EINVAL);
                    }
                }
                if d.weight < 0 || (d.u_threshold != 0 && d.l_threshold > d.u_threshold) {
                    return Err(libc::ERANGE);
                }
                let dests = &mut self.table[i].dests;
                let pos = dests
                    .iter()
                    .position(|x| x.addr == d.addr && x.port == d.port);
                match (op, pos) {
                    (Op::AddDest(..), Some(_)) => return Err(libc::EEXIST),
                    (Op::AddDest(..), None) => dests.insert(0, d.clone()),
                    (_, None) => return Err(libc::ENOENT),
                    (Op::EditDest(..), Some(j)) => dests[j] = d.clone(),
                    (_, Some(j)) => {
                        dests.remove(j);
                    }
                }
            }
            Op::SetTimeouts(t) => {
                if t.tcp != 0 {
                    self.timeouts.tcp = t.tcp;
                }
                if t.tcp_fin != 0 {
                    self.timeouts.tcp_fin = t.tcp_fin;
                }
                if t.udp != 0 {
                    self.timeouts.udp = t.udp;
                }
            }
            Op::StartDaemon(d) => {
                if self.has_mixed_family_dests() {
                    return Err(libc::EINVAL);
                }
                if self.daemons.iter().any(|x| x.state == d.state) {
                    return Err(libc::EEXIST);
                }
                self.daemons.push(d.clone());
                self.daemons.sort_by_key(|d| d.state);
            }
            Op::StopDaemon(d) => {
                let i = self
                    .daemons
                    .iter()
                    .position(|x| x.state == d.state)
                    .ok_or(libc::ESRCH)?;
                self.daemons.remove(i);
            }
        }
        Ok(())
    }
}

impl IpvsBackend for FakeIpvs {
    fn info(&mut self) -> Result<Info, Error> {
        Ok(Info {
            version: IPVS_VERSION_CODE,
            conn_tab_size: 4096,
        })
    }

    fn services(&mut self) -> Result<Vec<Service>, Error> {
        Ok(self.table.iter().map(|e| e.service.clone()).collect())
    }

    fn service(&mut self, id: &Service) -> Result<Service, Error> {
        match self.find(id) {
            Some(i) => Ok(self.table[i].service.clone()),
            None => Err(Error::Kernel {
                op: OpKind::GetService,
                errno: libc::ESRCH,
            }),
        }
    }

    fn dests(&mut self, svc: &Service) -> Result<Vec<Destination>, Error> {
        match self.find(svc) {
            Some(i) => Ok(self.table[i].dests.clone()),
            None => Err(Error::Kernel {
                op: OpKind::GetDests,
                errno: libc::ESRCH,
            }),
        }
    }

    fn timeouts(&mut self) -> Result<Timeouts, Error> {
        Ok(self.timeouts)
    }

    fn daemons(&mut self) -> Result<Vec<Daemon>, Error> {
        Ok(self.daemons.clone())
    }

    fn apply(&mut self, ops: &[Op]) -> Vec<Result<(), Error>> {
        ops.iter()
            .map(|op| {
                self.log.push(op.clone());
                self.do_op(op).map_err(|errno| Error::Kernel {
                    op: op.kind(),
                    errno,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(addr: &str) -> Service {
        let addr: std::net::IpAddr = addr.parse().unwrap();
        Service {
            af: af_of(&addr),
            protocol: IPPROTO_TCP,
            addr,
            port: 80,
            sched_name: "wlc".into(),
            ..Service::default()
        }
    }

    fn dest(addr: &str, fwd: Forward) -> Destination {
        let addr: std::net::IpAddr = addr.parse().unwrap();
        Destination {
            af: af_of(&addr),
            addr,
            port: 80,
            fwd,
            ..Destination::default()
        }
    }

    fn daemon(state: u32) -> Daemon {
        Daemon {
            state,
            mcast_ifn: "eth1".into(),
            ..Daemon::default()
        }
    }

    fn errno(r: Result<(), Error>) -> Option<i32> {
        r.err().map(|e| e.errno())
    }

    #[test]
    fn same_family_and_tunnels_to_the_other_family_are_taken() {
        let mut k = FakeIpvs::new();
        let v6 = service("2001:db8::100");
        let v4 = service("10.0.0.100");
        k.apply_one(&Op::AddService(v6.clone())).unwrap();
        k.apply_one(&Op::AddService(v4.clone())).unwrap();
        for fwd in [Forward::Route, Forward::Masq, Forward::Tunnel] {
            let r = k.apply_one(&Op::AddDest(v6.clone(), dest("2001:db8::21", fwd)));
            assert_eq!(errno(r), None, "{fwd:?}");
            k.apply_one(&Op::DelDest(v6.clone(), dest("2001:db8::21", fwd)))
                .unwrap();
        }
        k.apply_one(&Op::AddDest(v6.clone(), dest("10.0.0.21", Forward::Tunnel)))
            .unwrap();
        k.apply_one(&Op::AddDest(
            v4.clone(),
            dest("2001:db8::22", Forward::Tunnel),
        ))
        .unwrap();
        let edited = Destination {
            weight: 5,
            ..dest("10.0.0.21", Forward::Tunnel)
        };
        k.apply_one(&Op::EditDest(v6.clone(), edited)).unwrap();
        assert_eq!(k.table[0].dests[0].weight, 5);
        assert_eq!(k.table[1].dests[0].af, AF_INET6);
    }

    #[test]
    fn the_other_family_without_a_tunnel_is_einval() {
        let mut k = FakeIpvs::new();
        let v6 = service("2001:db8::100");
        k.apply_one(&Op::AddService(v6.clone())).unwrap();
        for fwd in [Forward::Route, Forward::Masq] {
            let r = k.apply_one(&Op::AddDest(v6.clone(), dest("10.0.0.21", fwd)));
            assert_eq!(errno(r), Some(libc::EINVAL), "add {fwd:?}");
        }
        k.apply_one(&Op::AddDest(v6.clone(), dest("10.0.0.21", Forward::Tunnel)))
            .unwrap();
        let r = k.apply_one(&Op::EditDest(v6.clone(), dest("10.0.0.21", Forward::Route)));
        assert_eq!(errno(r), Some(libc::EINVAL), "edit to direct routing");
        assert_eq!(k.table[0].dests[0].fwd, Forward::Tunnel, "unchanged");
        let r = k.apply_one(&Op::AddDest(
            v6.clone(),
            Destination {
                af: 99,
                ..dest("10.0.0.22", Forward::Tunnel)
            },
        ));
        assert_eq!(errno(r), Some(libc::EAFNOSUPPORT));
        let r = k.apply_one(&Op::AddDest(
            service("2001:db8::101"),
            dest("10.0.0.21", Forward::Route),
        ));
        assert_eq!(errno(r), Some(libc::ESRCH), "no such service comes first");
    }

    #[test]
    fn the_other_family_while_a_sync_daemon_runs_is_einval() {
        for state in [DAEMON_MASTER, DAEMON_BACKUP] {
            let mut k = FakeIpvs::new();
            let v6 = service("2001:db8::100");
            let tun4 = dest("10.0.0.21", Forward::Tunnel);
            let tun6 = dest("2001:db8::21", Forward::Tunnel);
            k.apply_one(&Op::AddService(v6.clone())).unwrap();
            k.apply_one(&Op::AddDest(v6.clone(), tun4.clone())).unwrap();
            let r = k.apply_one(&Op::StartDaemon(daemon(state)));
            assert_eq!(errno(r), Some(libc::EINVAL), "start beside it, {state}");
            k.apply_one(&Op::DelDest(v6.clone(), tun4.clone())).unwrap();
            k.apply_one(&Op::StartDaemon(daemon(state))).unwrap();
            let r = k.apply_one(&Op::AddDest(v6.clone(), tun4.clone()));
            assert_eq!(errno(r), Some(libc::EINVAL), "add with daemon {state}");
            let r = k.apply_one(&Op::EditDest(v6.clone(), tun4.clone()));
            assert_eq!(errno(r), Some(libc::EINVAL), "edit with daemon {state}");
            k.apply_one(&Op::AddDest(v6.clone(), tun6.clone())).unwrap();
            k.apply_one(&Op::EditDest(v6.clone(), tun6.clone()))
                .unwrap();
            k.apply_one(&Op::DelDest(v6.clone(), tun6)).unwrap();
            k.apply_one(&Op::StopDaemon(daemon(state))).unwrap();
            k.apply_one(&Op::AddDest(v6.clone(), tun4)).unwrap();
        }
    }
}
