//! How IPVS names a virtual service, shared by the plan, the quorum
//! runtime and the scripts.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};

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

    /// The kernel's identity of the service (what `-t`, `-u` or `-f` name:
    /// ipvsadm gives a firewall-mark service the TCP protocol number).
    pub fn service(&self) -> ipvs::Service {
        let (protocol, addr, port, fwmark) = match *self {
            ServiceKey::Fwmark(m) => (ipvs::IPPROTO_TCP, Ipv4Addr::UNSPECIFIED, 0, m),
            ServiceKey::Tcp(a, p) => (ipvs::IPPROTO_TCP, a, p, 0),
            ServiceKey::Udp(a, p) => (ipvs::IPPROTO_UDP, a, p, 0),
        };
        ipvs::Service {
            af: ipvs::AF_INET,
            protocol,
            addr: IpAddr::V4(addr),
            port,
            fwmark,
            ..ipvs::Service::default()
        }
    }

    /// The real server `addr` of this service as the kernel keys it when it
    /// is forwarded by `method` (lvs.cf's `m`, `g` or `i`): direct routing
    /// and tunnels cannot change the port, so such an entry of a `-t`/`-u`
    /// service lives under the service's port whatever port lvs.cf gives.
    /// `weight` is `None` for a removal (the kernel only needs the address).
    pub fn destination(
        &self,
        addr: SocketAddrV4,
        method: char,
        weight: Option<u32>,
    ) -> ipvs::Destination {
        let fwd = forward(method);
        let port = self.service().entry_port(fwd, addr.port());
        let base = ipvs::Destination {
            af: ipvs::AF_INET,
            addr: IpAddr::V4(*addr.ip()),
            port,
            ..ipvs::Destination::default()
        };
        match weight {
            Some(w) => ipvs::Destination {
                fwd,
                weight: i32::try_from(w).unwrap_or(i32::MAX),
                ..base
            },
            None => base,
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

/// The kernel's forwarding method for lvs.cf's letter (`m` NAT, `i`
/// tunnel, anything else direct routing, ipvsadm's default).
pub fn forward(method: char) -> ipvs::Forward {
    match method {
        'm' => ipvs::Forward::Masq,
        'i' => ipvs::Forward::Tunnel,
        _ => ipvs::Forward::Route,
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b] = self.args();
        write!(f, "{a} {b}")
    }
}
