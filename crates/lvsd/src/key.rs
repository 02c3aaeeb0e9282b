//! How IPVS names a virtual service, shared by the plan, the quorum
//! runtime and the scripts.

use std::fmt;
use std::net::Ipv4Addr;

use lvs_config::{Protocol, VirtualServer};

/// How IPVS identifies a virtual service: a firewall mark, or protocol,
/// address and port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServiceKey {
    /// `-f MARK`
    Fwmark(u32),
    /// `-t VIP:PORT`
    Tcp(Ipv4Addr, u16),
    /// `-u VIP:PORT`
    Udp(Ipv4Addr, u16),
}

impl ServiceKey {
    /// The key of an lvs.cf virtual server.
    pub fn of(vs: &VirtualServer) -> Self {
        match (vs.fwmark(), vs.protocol()) {
            (m, _) if m != 0 => ServiceKey::Fwmark(m),
            (_, Protocol::Tcp) => ServiceKey::Tcp(vs.vip(), vs.port()),
            (_, Protocol::Udp) => ServiceKey::Udp(vs.vip(), vs.port()),
        }
    }

    /// The ipvsadm words naming the service: `-t VIP:PORT`, `-u VIP:PORT`
    /// or `-f MARK`.
    pub fn args(&self) -> [String; 2] {
        match self {
            ServiceKey::Fwmark(m) => ["-f".into(), m.to_string()],
            ServiceKey::Tcp(a, p) => ["-t".into(), format!("{a}:{p}")],
            ServiceKey::Udp(a, p) => ["-u".into(), format!("{a}:{p}")],
        }
    }

    /// The key of a kernel service (IPv4 only; others are never ours).
    pub fn of_kernel(s: &ipvs::Service) -> Option<Self> {
        if s.fwmark != 0 {
            return (s.af == ipvs::AF_INET).then_some(ServiceKey::Fwmark(s.fwmark));
        }
        let std::net::IpAddr::V4(a) = s.addr else {
            return None;
        };
        match s.protocol {
            p if p == libc::IPPROTO_TCP as u16 => Some(ServiceKey::Tcp(a, s.port)),
            p if p == libc::IPPROTO_UDP as u16 => Some(ServiceKey::Udp(a, s.port)),
            _ => None,
        }
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b] = self.args();
        write!(f, "{a} {b}")
    }
}
