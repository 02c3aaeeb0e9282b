//! `/proc/net/ip_vs`: every service and real server in one read, with the
//! real servers' weights and connection counts (no traffic counters).
//!
//! Listing the table over netlink takes one dump per service; for a status
//! of a large table that is most of the cost (`lvs --status`, issue 20).
//! The file is the kernel's own text (`ip_vs_info_seq_show`):
//!
//! ```text
//! IP Virtual Server version 1.2.1 (size=4096)
//! Prot LocalAddress:Port Scheduler Flags
//!   -> RemoteAddress:Port Forward Weight ActiveConn InActConn
//! TCP  0A010064:0050 rr
//!   -> 0A000202:0050      Masq    1      0          0
//! FWM  00000005 wlc persistent 300 FFFFFFFF
//! TCP  [2001:0db8:0000:0000:0000:0000:0000:0100]:0050 rr
//!   -> [2001:0db8:0000:0000:0000:0000:0000:0021]:0050      Route   1      0          0
//! ```
//!
//! A firewall-mark line does not say its address family: such a service
//! is reported as IPv4.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::model::{af_of, Destination, Forward, Service, ServiceEntry, AF_INET};

/// Where the kernel keeps it (in the reader's network namespace).
pub const PATH: &str = "/proc/net/ip_vs";

/// `IPPROTO_SCTP`.
const IPPROTO_SCTP: u16 = 132;

fn addr_port(s: &str) -> Option<(u16, IpAddr, u16)> {
    let (addr, p) = match s.strip_prefix('[') {
        Some(rest) => {
            let (a, p) = rest.split_once("]:")?;
            (IpAddr::V6(a.parse::<Ipv6Addr>().ok()?), p)
        }
        None => {
            let (a, p) = s.split_once(':')?;
            (
                IpAddr::V4(Ipv4Addr::from(u32::from_str_radix(a, 16).ok()?)),
                p,
            )
        }
    };
    Some((af_of(&addr), addr, u16::from_str_radix(p, 16).ok()?))
}

fn forward(s: &str) -> Option<Forward> {
    Some(match s {
        "Masq" => Forward::Masq,
        "Local" => Forward::Local,
        "Tunnel" => Forward::Tunnel,
        "Route" => Forward::Route,
        "Bypass" => Forward::Bypass,
        _ => return None,
    })
}

/// Read the file's text; lines that do not read are skipped.
pub fn parse(text: &str) -> Vec<ServiceEntry> {
    let mut out: Vec<ServiceEntry> = Vec::new();
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            ["->", dest, fwd, weight, active, inactive, ..] => {
                let (Some(entry), Some((af, addr, port)), Some(fwd)) =
                    (out.last_mut(), addr_port(dest), forward(fwd))
                else {
                    continue;
                };
                let (Ok(weight), Ok(active), Ok(inactive)) =
                    (weight.parse(), active.parse(), inactive.parse())
                else {
                    continue;
                };
                entry.dests.push(Destination {
                    af,
                    addr,
                    port,
                    fwd,
                    weight,
                    active_conns: active,
                    inact_conns: inactive,
                    ..Destination::default()
                });
            }
            ["FWM", mark, sched, rest @ ..] => {
                let Ok(fwmark) = u32::from_str_radix(mark, 16) else {
                    continue;
                };
                out.push(ServiceEntry {
                    service: with_flags(
                        Service {
                            af: AF_INET,
                            protocol: 0,
                            addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                            port: 0,
                            fwmark,
                            sched_name: (*sched).to_string(),
                            ..Service::default()
                        },
                        rest,
                    ),
                    dests: Vec::new(),
                });
            }
            [proto @ ("TCP" | "UDP" | "SCTP"), a, sched, rest @ ..] => {
                let Some((af, addr, port)) = addr_port(a) else {
                    continue;
                };
                let protocol = match *proto {
                    "TCP" => crate::model::IPPROTO_TCP,
                    "UDP" => crate::model::IPPROTO_UDP,
                    _ => IPPROTO_SCTP,
                };
                out.push(ServiceEntry {
                    service: with_flags(
                        Service {
                            af,
                            protocol,
                            addr,
                            port,
                            sched_name: (*sched).to_string(),
                            ..Service::default()
                        },
                        rest,
                    ),
                    dests: Vec::new(),
                });
            }
            _ => {}
        }
    }
    out
}

/// `persistent TIMEOUT NETMASK` after the scheduler.
fn with_flags(mut s: Service, rest: &[&str]) -> Service {
    if let Some(i) = rest.iter().position(|w| *w == "persistent") {
        if let (Some(t), Some(m)) = (rest.get(i + 1), rest.get(i + 2)) {
            if let (Ok(t), Ok(m)) = (t.parse(), u32::from_str_radix(m, 16)) {
                s.flags |= crate::model::SVC_F_PERSISTENT;
                s.timeout = t;
                s.netmask = m;
            }
        }
    }
    s
}

/// Read [`PATH`].
pub fn read() -> std::io::Result<Vec<ServiceEntry>> {
    std::fs::read_to_string(PATH).map(|t| parse(&t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AF_INET6;

    #[test]
    fn reads_the_kernels_text() {
        let text = "IP Virtual Server version 1.2.1 (size=4096)\n\
Prot LocalAddress:Port Scheduler Flags\n\
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n\
TCP  0A010064:0050 rr \n\
  -> 0A000302:0050      Masq    0      1          2         \n\
  -> 0A000202:0050      Masq    1      0          0         \n\
FWM  00000005 wlc persistent 300 FFFFFFFF\n\
  -> 0A000402:0050      Route   3      10         20        \n\
UDP  [2001:0db8:0000:0000:0000:0000:0000:0100]:0035 rr \n\
  -> [2001:0db8:0000:0000:0000:0000:0000:0021]:0035      Tunnel  1      0          7         \n\
garbage line\n";
        let t = parse(text);
        assert_eq!(t.len(), 3);
        let s = &t[0];
        assert_eq!(
            (s.service.protocol, s.service.addr, s.service.port),
            (6, "10.1.0.100".parse().unwrap(), 80)
        );
        assert_eq!(s.service.sched_name, "rr");
        assert_eq!(s.dests.len(), 2);
        let d = &s.dests[0];
        assert_eq!(
            (
                d.addr,
                d.port,
                d.fwd,
                d.weight,
                d.active_conns,
                d.inact_conns
            ),
            ("10.0.3.2".parse().unwrap(), 80, Forward::Masq, 0, 1, 2)
        );
        let f = &t[1];
        assert_eq!(f.service.fwmark, 5);
        assert!(f.service.is_persistent());
        assert_eq!((f.service.timeout, f.service.netmask), (300, u32::MAX));
        assert_eq!(f.dests[0].fwd, Forward::Route);
        let v6 = &t[2];
        assert_eq!(v6.service.af, AF_INET6);
        assert_eq!(v6.service.port, 53);
        assert_eq!(v6.dests[0].addr, "2001:db8::21".parse::<IpAddr>().unwrap());
        assert_eq!(v6.dests[0].inact_conns, 7);
    }
}
