//! An in-memory IPVS table with the kernel's observable rules (errno per
//! failure, destinations added at the head of the list), for unit tests of
//! logic that sits above the netlink client.

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
