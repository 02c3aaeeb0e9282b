//! How IPVS names a virtual service, shared by the plan, the quorum
//! runtime and the scripts.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use lvs_config::{Family, Protocol, VirtualServer};

/// How IPVS identifies a virtual service: a firewall mark, or protocol,
/// address and port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServiceKey {
    /// `-f MARK` (IPv4)
    Fwmark(u32),
    /// `-f MARK -6`: the kernel keys a mark service by family and mark, so
    /// an IPv4 and an IPv6 mark 5 are two services.
    Fwmark6(u32),
    /// `-t VIP:PORT` (`-t [VIP]:PORT` for IPv6)
    Tcp(IpAddr, u16),
    /// `-u VIP:PORT`
    Udp(IpAddr, u16),
}

impl ServiceKey {
    /// The key of an lvs.cf virtual server.
    pub fn of(vs: &VirtualServer) -> Self {
        match (vs.fwmark(), vs.protocol()) {
            (m, _) if m != 0 => match vs.family() {
                Family::Inet => ServiceKey::Fwmark(m),
                Family::Inet6 => ServiceKey::Fwmark6(m),
            },
            (_, Protocol::Tcp) => ServiceKey::Tcp(vs.vip(), vs.port()),
            (_, Protocol::Udp) => ServiceKey::Udp(vs.vip(), vs.port()),
        }
    }

    /// The ipvsadm words naming the service: `-t VIP:PORT`, `-u VIP:PORT`
    /// (`[VIP]:PORT` for IPv6), `-f MARK` or `-f MARK -6`.
    pub fn args(&self) -> Vec<String> {
        match self {
            ServiceKey::Fwmark(m) => vec!["-f".into(), m.to_string()],
            ServiceKey::Fwmark6(m) => vec!["-f".into(), m.to_string(), "-6".into()],
            ServiceKey::Tcp(a, p) => vec!["-t".into(), SocketAddr::new(*a, *p).to_string()],
            ServiceKey::Udp(a, p) => vec!["-u".into(), SocketAddr::new(*a, *p).to_string()],
        }
    }

    /// The service's address family.
    pub fn family(&self) -> Family {
        match self {
            ServiceKey::Fwmark(_) => Family::Inet,
            ServiceKey::Fwmark6(_) => Family::Inet6,
            ServiceKey::Tcp(a, _) | ServiceKey::Udp(a, _) => Family::of(a),
        }
    }

    /// The firewall mark, 0 for an address service.
    pub fn fwmark(&self) -> u32 {
        match self {
            ServiceKey::Fwmark(m) | ServiceKey::Fwmark6(m) => *m,
            _ => 0,
        }
    }

    /// The kernel's identity of the service (what `-t`, `-u` or `-f` name:
    /// ipvsadm gives a firewall-mark service the TCP protocol number).
    pub fn service(&self) -> ipvs::Service {
        let family = self.family();
        let (protocol, addr, port, fwmark) = match *self {
            ServiceKey::Fwmark(m) | ServiceKey::Fwmark6(m) => {
                (ipvs::IPPROTO_TCP, family.unspecified(), 0, m)
            }
            ServiceKey::Tcp(a, p) => (ipvs::IPPROTO_TCP, a, p, 0),
            ServiceKey::Udp(a, p) => (ipvs::IPPROTO_UDP, a, p, 0),
        };
        ipvs::Service {
            af: af(family),
            protocol,
            addr,
            port,
            fwmark,
            netmask: default_netmask(family),
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
        addr: SocketAddr,
        method: char,
        weight: Option<u32>,
    ) -> ipvs::Destination {
        let fwd = forward(method);
        let port = self.service().entry_port(fwd, addr.port());
        // A destination has its own family: a tunnel may carry one
        // family inside the other.
        let base = ipvs::Destination {
            af: af(Family::of(&addr.ip())),
            addr: addr.ip(),
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

    /// The key of a kernel service (of either family).
    pub fn of_kernel(s: &ipvs::Service) -> Option<Self> {
        if s.fwmark != 0 {
            return match s.af {
                ipvs::AF_INET => Some(ServiceKey::Fwmark(s.fwmark)),
                ipvs::AF_INET6 => Some(ServiceKey::Fwmark6(s.fwmark)),
                _ => None,
            };
        }
        let a = s.addr;
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

/// ipvsadm's persistence mask when `-M` is not given: all ones, or /128.
pub fn default_netmask(family: Family) -> u32 {
    match family {
        Family::Inet => u32::MAX,
        Family::Inet6 => 128,
    }
}

/// The kernel's address family number of `family`.
pub fn af(family: Family) -> u16 {
    match family {
        Family::Inet => ipvs::AF_INET,
        Family::Inet6 => ipvs::AF_INET6,
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.args().join(" "))
    }
}
