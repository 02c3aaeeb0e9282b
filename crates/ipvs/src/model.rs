//! The IPVS table model: virtual services, real servers (destinations), sync
//! daemons, protocol timeouts, module information and counters.
//!
//! Field values keep the kernel's meaning (address families, protocol numbers,
//! flag bits) so that the netlink layer maps them one to one and the text
//! formats can reproduce ipvsadm's output exactly.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `AF_INET`.
pub const AF_INET: u16 = libc::AF_INET as u16;
/// `AF_INET6`.
pub const AF_INET6: u16 = libc::AF_INET6 as u16;
/// `IPPROTO_TCP`.
pub const IPPROTO_TCP: u16 = 6;
/// `IPPROTO_UDP`.
pub const IPPROTO_UDP: u16 = 17;
/// `IPPROTO_SCTP`.
pub const IPPROTO_SCTP: u16 = 132;

/// Service flag: persistent service.
pub const SVC_F_PERSISTENT: u32 = 0x0001;
/// Service flag: hashed entry (kernel internal).
pub const SVC_F_HASHED: u32 = 0x0002;
/// Service flag: one-packet scheduling.
pub const SVC_F_ONEPACKET: u32 = 0x0004;
/// Scheduler flag 1 (`sh-fallback` / `mh-fallback` for sh / mh).
pub const SVC_F_SCHED1: u32 = 0x0008;
/// Scheduler flag 2 (`sh-port` / `mh-port` for sh / mh).
pub const SVC_F_SCHED2: u32 = 0x0010;
/// Scheduler flag 3.
pub const SVC_F_SCHED3: u32 = 0x0020;
/// All scheduler flags.
pub const SVC_F_SCHED_MASK: u32 = SVC_F_SCHED1 | SVC_F_SCHED2 | SVC_F_SCHED3;

/// Default persistence timeout in seconds (libipvs `IPVS_SVC_PERSISTENT_TIMEOUT`).
pub const DEFAULT_PERSISTENT_TIMEOUT: u32 = 360;
/// IPVS version this client speaks (1.2.1).
pub const IPVS_VERSION_CODE: u32 = 0x010201;

/// Packet forwarding method of a real server (low bits of the connection flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Forward {
    /// NAT (`-m`), 0.
    Masq,
    /// Local node, 1 (only the kernel sets it).
    Local,
    /// IP-IP / GUE / GRE tunnelling (`-i`), 2.
    Tunnel,
    /// Direct routing (`-g`), 3; ipvsadm's default.
    #[default]
    Route,
    /// Bypass, 4 (not settable).
    Bypass,
}

impl Forward {
    /// Kernel value (`IP_VS_CONN_F_*` forwarding bits).
    pub fn to_kernel(self) -> u32 {
        match self {
            Forward::Masq => 0,
            Forward::Local => 1,
            Forward::Tunnel => 2,
            Forward::Route => 3,
            Forward::Bypass => 4,
        }
    }

    /// From the kernel's connection flags (masked with 7).
    pub fn from_kernel(v: u32) -> Forward {
        match v & 7 {
            0 => Forward::Masq,
            1 => Forward::Local,
            2 => Forward::Tunnel,
            3 => Forward::Route,
            _ => Forward::Bypass,
        }
    }
}

/// Tunnel encapsulation of a tunnelling real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TunnelType {
    /// IP in IP, 0 (default).
    #[default]
    Ipip,
    /// Generic UDP encapsulation, 1.
    Gue,
    /// GRE, 2.
    Gre,
}

impl TunnelType {
    /// Kernel value.
    pub fn to_kernel(self) -> u8 {
        match self {
            TunnelType::Ipip => 0,
            TunnelType::Gue => 1,
            TunnelType::Gre => 2,
        }
    }

    /// From the kernel value (unknown values read as ipip).
    pub fn from_kernel(v: u8) -> TunnelType {
        match v {
            1 => TunnelType::Gue,
            2 => TunnelType::Gre,
            _ => TunnelType::Ipip,
        }
    }

    /// The name ipvsadm uses (`ipip`, `gue`, `gre`).
    pub fn name(self) -> &'static str {
        match self {
            TunnelType::Ipip => "ipip",
            TunnelType::Gue => "gue",
            TunnelType::Gre => "gre",
        }
    }
}

/// Traffic counters and rate estimates of a service or destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Connections scheduled.
    pub conns: u64,
    /// Incoming packets.
    pub inpkts: u64,
    /// Outgoing packets.
    pub outpkts: u64,
    /// Incoming bytes.
    pub inbytes: u64,
    /// Outgoing bytes.
    pub outbytes: u64,
    /// Connections per second.
    pub cps: u64,
    /// Incoming packets per second.
    pub inpps: u64,
    /// Outgoing packets per second.
    pub outpps: u64,
    /// Incoming bytes per second.
    pub inbps: u64,
    /// Outgoing bytes per second.
    pub outbps: u64,
}

/// A virtual service, identified by address family plus fwmark, or protocol,
/// address and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// `AF_INET` or `AF_INET6`.
    pub af: u16,
    /// `IPPROTO_TCP`/`UDP`/`SCTP`; 0 as reported by the kernel for fwmark services.
    pub protocol: u16,
    /// Virtual address (unspecified for fwmark services).
    pub addr: IpAddr,
    /// Virtual port, host order.
    pub port: u16,
    /// Firewall mark, 0 when the service is addressed by protocol/address/port.
    pub fwmark: u32,
    /// Scheduler name (`wlc`, `rr`, ...).
    pub sched_name: String,
    /// Persistence engine name (`sip`) or empty.
    pub pe_name: String,
    /// `SVC_F_*` flags.
    pub flags: u32,
    /// Persistence timeout in seconds.
    pub timeout: u32,
    /// Persistence granularity: an IPv4 mask in host order (`0xffffffff` = /32),
    /// or an IPv6 prefix length.
    pub netmask: u32,
    /// Counters (from listings only).
    pub stats: Stats,
}

impl Default for Service {
    fn default() -> Self {
        Service {
            af: AF_INET,
            protocol: 0,
            addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 0,
            fwmark: 0,
            sched_name: String::new(),
            pe_name: String::new(),
            flags: 0,
            timeout: 0,
            netmask: 0xffff_ffff,
            stats: Stats::default(),
        }
    }
}

impl Service {
    /// True when this service carries persistence.
    pub fn is_persistent(&self) -> bool {
        self.flags & SVC_F_PERSISTENT != 0
    }

    /// The identifying part only (what the kernel needs to find the service).
    pub fn id(&self) -> Service {
        Service {
            af: self.af,
            protocol: self.protocol,
            addr: self.addr,
            port: self.port,
            fwmark: self.fwmark,
            ..Service::default()
        }
    }

    /// The port under which the kernel keeps a real server given with
    /// `port` and forwarded by `fwd`: direct routing and tunnels cannot
    /// change the port, so ipvsadm files such an entry of an address
    /// service under the service's own port (a firewall-mark service has
    /// none and keeps `port`).
    pub fn entry_port(&self, fwd: Forward, port: u16) -> u16 {
        if self.fwmark == 0 && matches!(fwd, Forward::Route | Forward::Tunnel) {
            self.port
        } else {
            port
        }
    }

    /// True when `other` names the same kernel service.
    pub fn same_service(&self, other: &Service) -> bool {
        self.af == other.af
            && self.fwmark == other.fwmark
            && (self.fwmark != 0
                || (self.protocol == other.protocol
                    && self.addr == other.addr
                    && self.port == other.port))
    }
}

/// A real server of a virtual service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// Address family of the real server (may differ from the service's for tunnels).
    pub af: u16,
    /// Real server address.
    pub addr: IpAddr,
    /// Real server port, host order.
    pub port: u16,
    /// Forwarding method.
    pub fwd: Forward,
    /// Weight (0 = quiesced).
    pub weight: i32,
    /// Upper connection threshold (0 = none).
    pub u_threshold: u32,
    /// Lower connection threshold.
    pub l_threshold: u32,
    /// Active connections (listings only).
    pub active_conns: u32,
    /// Inactive connections (listings only).
    pub inact_conns: u32,
    /// Persistence templates (listings only).
    pub persist_conns: u32,
    /// Tunnel type (tunnelling servers).
    pub tun_type: TunnelType,
    /// Tunnel destination port, host order (GUE).
    pub tun_port: u16,
    /// Tunnel checksum flags: 0 nocsum, 1 csum, 2 remcsum.
    pub tun_flags: u16,
    /// Counters (listings only).
    pub stats: Stats,
}

impl Default for Destination {
    fn default() -> Self {
        Destination {
            af: AF_INET,
            addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 0,
            fwd: Forward::Route,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            active_conns: 0,
            inact_conns: 0,
            persist_conns: 0,
            tun_type: TunnelType::Ipip,
            tun_port: 0,
            tun_flags: 0,
            stats: Stats::default(),
        }
    }
}

/// Sync daemon state: master.
pub const DAEMON_MASTER: u32 = 1;
/// Sync daemon state: backup.
pub const DAEMON_BACKUP: u32 = 2;

/// A connection synchronisation daemon.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Daemon {
    /// `DAEMON_MASTER` or `DAEMON_BACKUP`.
    pub state: u32,
    /// Multicast interface name.
    pub mcast_ifn: String,
    /// Sync id (0..255).
    pub syncid: u32,
    /// Maximum sync message length (0 = kernel default).
    pub sync_maxlen: u16,
    /// Multicast group (None = kernel default).
    pub mcast_group: Option<IpAddr>,
    /// Multicast UDP port (0 = kernel default).
    pub mcast_port: u16,
    /// Multicast TTL (0 = kernel default).
    pub mcast_ttl: u8,
}

/// Protocol timeouts in seconds (0 in a request = leave unchanged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timeouts {
    /// Established TCP.
    pub tcp: u32,
    /// TCP after FIN.
    pub tcp_fin: u32,
    /// UDP.
    pub udp: u32,
}

/// IPVS module information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Info {
    /// Version code, e.g. 0x010201 for 1.2.1.
    pub version: u32,
    /// Connection hash table size.
    pub conn_tab_size: u32,
}

impl Info {
    /// `major.minor.patch` of the version code.
    pub fn version_triple(&self) -> (u32, u32, u32) {
        (
            (self.version >> 16) & 0xff,
            (self.version >> 8) & 0xff,
            self.version & 0xff,
        )
    }
}

/// A virtual service with its real servers, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEntry {
    /// The service.
    pub service: Service,
    /// Its real servers in kernel order.
    pub dests: Vec<Destination>,
}

/// The address family of an address: [`AF_INET`] or [`AF_INET6`].
pub fn af_of(addr: &IpAddr) -> u16 {
    match addr {
        IpAddr::V4(_) => AF_INET,
        IpAddr::V6(_) => AF_INET6,
    }
}

/// Unspecified address of a family.
pub fn unspecified(af: u16) -> IpAddr {
    if af == AF_INET6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_family_comes_from_the_address() {
        assert_eq!(af_of(&"10.0.0.1".parse().unwrap()), AF_INET);
        assert_eq!(af_of(&"2001:db8::1".parse().unwrap()), AF_INET6);
        assert_eq!(af_of(&"::ffff:10.0.0.1".parse().unwrap()), AF_INET6);
        for af in [AF_INET, AF_INET6] {
            assert_eq!(af_of(&unspecified(af)), af);
        }
    }
}
