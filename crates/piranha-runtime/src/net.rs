//! Addresses and link state through rtnetlink (no ifconfig, no ioctls).
//!
//! [`Netlink`] speaks NETLINK_ROUTE synchronously with the
//! netlink-packet-route types: dump IPv4 addresses, add, renew and delete
//! one address with its prefix length, broadcast, label (`eth0:1`) and
//! lifetime, and dump links for their flags.
//!
//! Floating addresses are added with a finite lifetime (`IFA_CACHEINFO`,
//! `ip addr ... valid_lft N preferred_lft N`, Linux 3.9 and later) that the
//! active pulse renews with `RTM_NEWADDR` and `NLM_F_CREATE | NLM_F_REPLACE`:
//! the kernel resets the lifetime of an existing address and adds one that
//! has expired.  A pulse that stops renewing (killed, stopped) loses its
//! addresses when the lifetime runs out (see pulse's `lease` module).  The daemon uses it through the [`Kernel`] trait so
//! the activation logic can be tested against a fake.

use std::net::{IpAddr, Ipv4Addr};

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL,
    NLM_F_REPLACE, NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage, CacheInfo};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

/// Errors talking to the kernel.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// Socket setup or I/O.
    #[error("netlink socket failed")]
    Io(#[source] std::io::Error),
    /// The kernel refused a request.
    #[error("failed to {what}")]
    Refused {
        /// What we asked for.
        what: String,
        /// The errno.
        #[source]
        source: std::io::Error,
    },
    /// No such device.
    #[error("no such device {0}")]
    NoDevice(String),
    /// A reply we could not parse.
    #[error("bad netlink reply: {0}")]
    Decode(String),
}

/// One IPv4 address on a device.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Addr {
    /// The address.
    pub ip: Ipv4Addr,
    /// Prefix length.
    pub prefix: u8,
    /// Device index.
    pub index: u32,
    /// Label (`eth0` or `eth0:1`).
    pub label: String,
    /// Valid lifetime in seconds; `None` = forever (`valid_lft forever`).
    /// What to add or renew with; in a dump, what the kernel has left.
    pub lifetime: Option<u32>,
}

/// The kernel's "forever" lifetime (`INFINITY_LIFE_TIME`).
pub const FOREVER: u32 = u32::MAX;

/// One link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Index.
    pub index: u32,
    /// Name.
    pub name: String,
    /// IFF_UP (administratively up).
    pub up: bool,
    /// IFF_LOWER_UP (carrier).
    pub lower_up: bool,
    /// MAC address, when it has one.
    pub mac: Option<[u8; 6]>,
}

impl Link {
    /// Up and with carrier: what monitor_links calls "link up".
    pub fn running(&self) -> bool {
        self.up && self.lower_up
    }
}

/// What pulse needs from the kernel's network configuration.
pub trait Kernel {
    /// Every IPv4 address.
    fn addresses(&mut self) -> Result<Vec<Addr>, NetError>;
    /// Every link.
    fn links(&mut self) -> Result<Vec<Link>, NetError>;
    /// Add `a` (with broadcast `ip | !mask` when the prefix is below 31,
    /// and `a.lifetime` as valid and preferred lifetime); fails when it is
    /// there already.
    fn add_address(&mut self, a: &Addr) -> Result<(), NetError>;
    /// Create or replace `a`: reset the lifetime of the address to
    /// `a.lifetime` when it is there, add it when it is not (expired).
    fn renew_address(&mut self, a: &Addr) -> Result<(), NetError>;
    /// Delete `a` (matched by address, prefix and device).
    fn del_address(&mut self, a: &Addr) -> Result<(), NetError>;
}

/// The real kernel, over NETLINK_ROUTE.
#[derive(Debug)]
pub struct Netlink {
    sock: Socket,
    seq: u32,
}

/// Prefix length of a dotted netmask (contiguous ones counted).
pub fn prefix_of(mask: Ipv4Addr) -> u8 {
    u32::from(mask).leading_ones() as u8
}

/// The broadcast address of `ip/prefix`.
pub fn broadcast(ip: Ipv4Addr, prefix: u8) -> Ipv4Addr {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    };
    Ipv4Addr::from(u32::from(ip) | !mask)
}

impl Netlink {
    /// Open a NETLINK_ROUTE socket.
    pub fn open() -> Result<Netlink, NetError> {
        let mut sock = Socket::new(NETLINK_ROUTE).map_err(NetError::Io)?;
        sock.bind_auto().map_err(NetError::Io)?;
        sock.connect(&SocketAddr::new(0, 0)).map_err(NetError::Io)?;
        Ok(Netlink { sock, seq: 1 })
    }

    fn request(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
        what: &str,
    ) -> Result<Vec<RouteNetlinkMessage>, NetError> {
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        self.seq += 1;
        header.sequence_number = self.seq;
        let mut nl = NetlinkMessage::new(header, NetlinkPayload::from(msg));
        nl.finalize();
        let mut buf = vec![0u8; nl.buffer_len()];
        nl.serialize(&mut buf);
        self.sock.send(&buf, 0).map_err(NetError::Io)?;
        let mut out = Vec::new();
        loop {
            let (data, _) = self.sock.recv_from_full().map_err(NetError::Io)?;
            let mut off = 0;
            while off < data.len() {
                let m = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&data[off..])
                    .map_err(|e| NetError::Decode(e.to_string()))?;
                let len = m.header.length as usize;
                if len == 0 {
                    return Err(NetError::Decode("zero-length message".into()));
                }
                off += (len + 3) & !3;
                if m.header.sequence_number != self.seq {
                    continue;
                }
                match m.payload {
                    NetlinkPayload::Done(_) => return Ok(out),
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(out),
                            Some(_) => Err(NetError::Refused {
                                what: what.to_string(),
                                source: e.to_io(),
                            }),
                        }
                    }
                    NetlinkPayload::InnerMessage(i) => {
                        out.push(i);
                        if flags & NLM_F_DUMP != NLM_F_DUMP {
                            // A non-dump request with an ACK still follows.
                            continue;
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn addr_message(a: &Addr) -> AddressMessage {
        let mut m = AddressMessage::default();
        m.header.family = AddressFamily::Inet;
        m.header.prefix_len = a.prefix;
        m.header.index = a.index;
        m.attributes.push(AddressAttribute::Local(IpAddr::V4(a.ip)));
        m.attributes
            .push(AddressAttribute::Address(IpAddr::V4(a.ip)));
        if a.prefix < 31 {
            m.attributes
                .push(AddressAttribute::Broadcast(broadcast(a.ip, a.prefix)));
        }
        if !a.label.is_empty() {
            m.attributes.push(AddressAttribute::Label(a.label.clone()));
        }
        if let Some(secs) = a.lifetime {
            let mut ci = CacheInfo::default();
            ci.ifa_valid = secs;
            ci.ifa_preferred = secs;
            m.attributes.push(AddressAttribute::CacheInfo(ci));
        }
        m
    }
}

impl Kernel for Netlink {
    fn addresses(&mut self) -> Result<Vec<Addr>, NetError> {
        let mut m = AddressMessage::default();
        m.header.family = AddressFamily::Inet;
        let replies = self.request(
            RouteNetlinkMessage::GetAddress(m),
            NLM_F_REQUEST | NLM_F_DUMP,
            "list addresses",
        )?;
        let mut out = Vec::new();
        for r in replies {
            if let RouteNetlinkMessage::NewAddress(a) = r {
                if a.header.family != AddressFamily::Inet {
                    continue;
                }
                let mut ip = None;
                let mut local = None;
                let mut label = String::new();
                let mut lifetime = None;
                for attr in &a.attributes {
                    match attr {
                        AddressAttribute::Address(IpAddr::V4(x)) => ip = Some(*x),
                        AddressAttribute::Local(IpAddr::V4(x)) => local = Some(*x),
                        AddressAttribute::Label(l) => label = l.clone(),
                        AddressAttribute::CacheInfo(c) if c.ifa_valid != FOREVER => {
                            lifetime = Some(c.ifa_valid)
                        }
                        _ => {}
                    }
                }
                if let Some(ip) = local.or(ip) {
                    out.push(Addr {
                        ip,
                        prefix: a.header.prefix_len,
                        index: a.header.index,
                        label,
                        lifetime,
                    });
                }
            }
        }
        Ok(out)
    }

    fn links(&mut self) -> Result<Vec<Link>, NetError> {
        let replies = self.request(
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_REQUEST | NLM_F_DUMP,
            "list links",
        )?;
        let mut out = Vec::new();
        for r in replies {
            if let RouteNetlinkMessage::NewLink(l) = r {
                let mut name = String::new();
                let mut mac = None;
                for attr in &l.attributes {
                    match attr {
                        LinkAttribute::IfName(n) => name = n.clone(),
                        LinkAttribute::Address(a) if a.len() == 6 => {
                            let mut m = [0u8; 6];
                            m.copy_from_slice(a);
                            mac = Some(m);
                        }
                        _ => {}
                    }
                }
                out.push(Link {
                    index: l.header.index,
                    name,
                    up: l.header.flags.contains(LinkFlags::Up),
                    lower_up: l.header.flags.contains(LinkFlags::LowerUp),
                    mac,
                });
            }
        }
        Ok(out)
    }

    fn add_address(&mut self, a: &Addr) -> Result<(), NetError> {
        self.request(
            RouteNetlinkMessage::NewAddress(Self::addr_message(a)),
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
            &format!("add address {}/{} on {}", a.ip, a.prefix, a.label),
        )
        .map(|_| ())
    }

    fn renew_address(&mut self, a: &Addr) -> Result<(), NetError> {
        self.request(
            RouteNetlinkMessage::NewAddress(Self::addr_message(a)),
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
            &format!("renew address {}/{} on {}", a.ip, a.prefix, a.label),
        )
        .map(|_| ())
    }

    fn del_address(&mut self, a: &Addr) -> Result<(), NetError> {
        let mut m = Self::addr_message(a);
        m.attributes
            .retain(|x| matches!(x, AddressAttribute::Local(_) | AddressAttribute::Address(_)));
        self.request(
            RouteNetlinkMessage::DelAddress(m),
            NLM_F_REQUEST | NLM_F_ACK,
            &format!("remove address {}/{} from {}", a.ip, a.prefix, a.label),
        )
        .map(|_| ())
    }
}

/// How many of `ips` are addresses of this host now (0 when the kernel
/// cannot be asked).
pub fn count_local(ips: &[Ipv4Addr]) -> usize {
    match Netlink::open().and_then(|mut n| n.addresses()) {
        Ok(a) => ips
            .iter()
            .filter(|ip| a.iter().any(|x| x.ip == **ip))
            .count(),
        Err(_) => 0,
    }
}

/// Wait while any of `ips` is an address of this host, at most `bound`,
/// looking every 100 ms and calling `between` after each look.  Returns
/// how long it waited.  A process whose parent died while the director
/// held its virtual addresses (pulse or lvs killed) keeps the table they
/// lead to until they are gone, so that no client finds a refusal there.
pub fn wait_while_local(
    ips: &[Ipv4Addr],
    bound: std::time::Duration,
    mut between: impl FnMut(),
) -> std::time::Duration {
    let t0 = std::time::Instant::now();
    while count_local(ips) > 0 && t0.elapsed() < bound {
        std::thread::sleep(std::time::Duration::from_millis(100));
        between();
    }
    t0.elapsed()
}

/// Find a link by name.
pub fn link_by_name<'a>(links: &'a [Link], name: &str) -> Option<&'a Link> {
    links.iter().find(|l| l.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(prefix_of(Ipv4Addr::new(255, 255, 255, 0)), 24);
        assert_eq!(prefix_of(Ipv4Addr::new(0, 0, 0, 0)), 0);
        assert_eq!(prefix_of(Ipv4Addr::new(255, 255, 255, 255)), 32);
        assert_eq!(
            broadcast(Ipv4Addr::new(10, 0, 0, 5), 24),
            Ipv4Addr::new(10, 0, 0, 255)
        );
    }

    #[test]
    fn loopback_is_listed() {
        let Ok(mut nl) = Netlink::open() else {
            eprintln!("skipped: no netlink socket");
            return;
        };
        let addrs = nl.addresses().unwrap();
        assert!(addrs.iter().any(|a| a.ip == Ipv4Addr::LOCALHOST));
        let links = nl.links().unwrap();
        assert!(link_by_name(&links, "lo").is_some());
    }
}
