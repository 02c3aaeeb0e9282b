//! Addresses and link state through rtnetlink (no ifconfig, no ioctls).
//!
//! [`Netlink`] speaks NETLINK_ROUTE synchronously with the
//! netlink-packet-route types: dump the addresses of both families, add,
//! renew and delete one address with its prefix length (IPv4 also with its
//! broadcast and label, `eth0:1`) and lifetime, and dump links for their
//! flags.
//!
//! One type, [`Addr`], holds an address of either family; one message
//! builder, [`address_message`], makes what is sent for it.  An IPv6
//! address is added with `IFA_F_NODAD` (`ip -6 addr add ... nodad`), in the
//! header and in `IFA_FLAGS` as iproute2 sends it: a floating address that
//! waits for duplicate address detection is tentative for a second or
//! more, cannot be bound, and the kernel would not announce it (send_arp's
//! neighbour advertisements do).  IPv6 has no broadcast and no labels:
//! neither is sent, and a dumped IPv6 address has an empty label.
//!
//! Floating addresses are added with a finite lifetime (`IFA_CACHEINFO`,
//! `ip addr ... valid_lft N preferred_lft N`, Linux 3.9 and later) that the
//! active pulse renews with `RTM_NEWADDR` and `NLM_F_CREATE | NLM_F_REPLACE`:
//! the kernel resets the lifetime of an existing address and adds one that
//! has expired.  A pulse that stops renewing (killed, stopped) loses its
//! addresses when the lifetime runs out (see pulse's `lease` module).  The
//! daemon uses it through the [`Kernel`] trait so the activation logic can
//! be tested against a fake.

use std::net::{IpAddr, Ipv4Addr};

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL,
    NLM_F_REPLACE, NLM_F_REQUEST,
};
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, CacheInfo,
};
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

/// One address on a device, of either family.  An IPv6 address has no
/// label in the kernel: `label` is never sent for one, and is empty in a
/// dump.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Addr {
    /// The address.
    pub ip: IpAddr,
    /// Prefix length.
    pub prefix: u8,
    /// Device index.
    pub index: u32,
    /// Label (`eth0` or `eth0:1`; IPv4 only).
    pub label: String,
    /// Valid lifetime in seconds; `None` = forever (`valid_lft forever`).
    /// What to add or renew with; in a dump, what the kernel has left.
    pub lifetime: Option<u32>,
}

impl Addr {
    /// Where it is, for messages: the label, or the device index when it
    /// has none (IPv6).
    fn place(&self) -> String {
        if self.label.is_empty() {
            format!("device {}", self.index)
        } else {
            self.label.clone()
        }
    }
}

/// The `RTM_NEWADDR` payload that adds or renews `a`.  Both families:
/// `IFA_LOCAL` and `IFA_ADDRESS` (equal), `IFA_CACHEINFO` with `a.lifetime`
/// as valid and preferred lifetime when it has one.  IPv4 also:
/// `IFA_BROADCAST` (`ip | !mask`) when the prefix is below 31, `IFA_LABEL`
/// when `a.label` is set.  IPv6 instead: no broadcast, no label, and
/// `IFA_F_NODAD` both in the header's flags and in `IFA_FLAGS`.
pub fn address_message(a: &Addr) -> AddressMessage {
    let mut m = AddressMessage::default();
    m.header.prefix_len = a.prefix;
    m.header.index = a.index;
    m.attributes.push(AddressAttribute::Local(a.ip));
    m.attributes.push(AddressAttribute::Address(a.ip));
    match a.ip {
        IpAddr::V4(ip) => {
            m.header.family = AddressFamily::Inet;
            if a.prefix < 31 {
                m.attributes
                    .push(AddressAttribute::Broadcast(broadcast(ip, a.prefix)));
            }
            if !a.label.is_empty() {
                m.attributes.push(AddressAttribute::Label(a.label.clone()));
            }
        }
        IpAddr::V6(_) => {
            m.header.family = AddressFamily::Inet6;
            m.header.flags = AddressHeaderFlags::Nodad;
            m.attributes
                .push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
    }
    match (a.ip, a.lifetime) {
        // An IPv6 floating address is deprecated from the start (preferred
        // lifetime 0): it takes every packet sent to it, but source
        // address selection never picks it for the director's own
        // connections (health checks, heartbeats), whose answers a real
        // server holding the VIP on lo would keep for itself.
        (IpAddr::V6(_), lifetime) => {
            let mut ci = CacheInfo::default();
            ci.ifa_valid = lifetime.unwrap_or(FOREVER);
            ci.ifa_preferred = 0;
            m.attributes.push(AddressAttribute::CacheInfo(ci));
        }
        (IpAddr::V4(_), Some(secs)) => {
            let mut ci = CacheInfo::default();
            ci.ifa_valid = secs;
            ci.ifa_preferred = secs;
            m.attributes.push(AddressAttribute::CacheInfo(ci));
        }
        (IpAddr::V4(_), None) => {}
    }
    m
}

/// The `RTM_DELADDR` payload that removes `a`: family, prefix length,
/// device, `IFA_LOCAL` and `IFA_ADDRESS` (the kernel matches the address
/// and its prefix length, so give the prefix it was added with).
pub fn address_delete_message(a: &Addr) -> AddressMessage {
    let mut m = address_message(a);
    m.header.flags = AddressHeaderFlags::empty();
    m.attributes
        .retain(|x| matches!(x, AddressAttribute::Local(_) | AddressAttribute::Address(_)));
    m
}

/// An address of a dump reply (IPv4 or IPv6; `None` for another family or
/// a reply without an address).  `IFA_LOCAL` is the address itself on a
/// point-to-point link (`IFA_ADDRESS` is the peer's there), so it wins.
fn dumped(a: &AddressMessage) -> Option<Addr> {
    let mut ip = None;
    let mut local = None;
    let mut label = String::new();
    let mut lifetime = None;
    for attr in &a.attributes {
        match attr {
            AddressAttribute::Address(x) => ip = Some(*x),
            AddressAttribute::Local(x) => local = Some(*x),
            AddressAttribute::Label(l) => label = l.clone(),
            AddressAttribute::CacheInfo(c) if c.ifa_valid != FOREVER => {
                lifetime = Some(c.ifa_valid)
            }
            _ => {}
        }
    }
    let ip = local.or(ip)?;
    let family_ok = match ip {
        IpAddr::V4(_) => a.header.family == AddressFamily::Inet,
        IpAddr::V6(_) => a.header.family == AddressFamily::Inet6,
    };
    family_ok.then_some(Addr {
        ip,
        prefix: a.header.prefix_len,
        index: a.header.index,
        label,
        lifetime,
    })
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
    /// Every address, both families.
    fn addresses(&mut self) -> Result<Vec<Addr>, NetError>;
    /// Every link.
    fn links(&mut self) -> Result<Vec<Link>, NetError>;
    /// Add `a` (see [`address_message`]: an IPv4 address with broadcast
    /// `ip | !mask` when the prefix is below 31 and its label, an IPv6 one
    /// with `nodad`; `a.lifetime` as valid and preferred lifetime); fails
    /// when it is there already.
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

    fn dump(&mut self, family: AddressFamily) -> Result<Vec<Addr>, NetError> {
        let mut m = AddressMessage::default();
        m.header.family = family;
        let replies = self.request(
            RouteNetlinkMessage::GetAddress(m),
            NLM_F_REQUEST | NLM_F_DUMP,
            "list addresses",
        )?;
        Ok(replies
            .iter()
            .filter_map(|r| match r {
                RouteNetlinkMessage::NewAddress(a) => dumped(a),
                _ => None,
            })
            .collect())
    }
}

impl Kernel for Netlink {
    fn addresses(&mut self) -> Result<Vec<Addr>, NetError> {
        // one dump, AF_UNSPEC: both families
        self.dump(AddressFamily::Unspec)
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
            RouteNetlinkMessage::NewAddress(address_message(a)),
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
            &format!("add address {}/{} on {}", a.ip, a.prefix, a.place()),
        )
        .map(|_| ())
    }

    fn renew_address(&mut self, a: &Addr) -> Result<(), NetError> {
        self.request(
            RouteNetlinkMessage::NewAddress(address_message(a)),
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
            &format!("renew address {}/{} on {}", a.ip, a.prefix, a.place()),
        )
        .map(|_| ())
    }

    fn del_address(&mut self, a: &Addr) -> Result<(), NetError> {
        self.request(
            RouteNetlinkMessage::DelAddress(address_delete_message(a)),
            NLM_F_REQUEST | NLM_F_ACK,
            &format!("remove address {}/{} from {}", a.ip, a.prefix, a.place()),
        )
        .map(|_| ())
    }
}

/// How many of `ips` (either family) are addresses of this host now (0
/// when the kernel cannot be asked).
pub fn count_local(ips: &[IpAddr]) -> usize {
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
    ips: &[IpAddr],
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

/// Find a link by index.
pub fn link_by_index(links: &[Link], index: u32) -> Option<&Link> {
    links.iter().find(|l| l.index == index)
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
        // both families in one dump
        let any = nl.addresses().unwrap();
        let lo4 = any
            .iter()
            .find(|a| a.ip == IpAddr::V4(Ipv4Addr::LOCALHOST))
            .expect("127.0.0.1 listed");
        assert_eq!(lo4.label, "lo");
        let links = nl.links().unwrap();
        let lo = link_by_name(&links, "lo").expect("lo listed");
        assert_eq!(link_by_index(&links, lo.index), Some(lo));
        assert_eq!(lo4.index, lo.index);
        // ::1 is on lo unless IPv6 is off (no /proc/net/if_inet6, or lo
        // left out of it)
        let lo6 = std::fs::read_to_string("/proc/net/if_inet6")
            .map(|t| {
                t.lines()
                    .any(|l| l.starts_with("00000000000000000000000000000001"))
            })
            .unwrap_or(false);
        if lo6 {
            let one = any
                .iter()
                .find(|a| a.ip == IpAddr::V6(std::net::Ipv6Addr::LOCALHOST))
                .expect("::1 listed");
            assert_eq!(one.prefix, 128);
            assert!(one.label.is_empty(), "{one:?}");
            assert_eq!(count_local(&[one.ip, "127.0.0.1".parse().unwrap()]), 2);
        } else {
            eprintln!("skipped the ::1 check: no IPv6 on lo");
        }
        assert_eq!(count_local(&["2001:db8::dead".parse().unwrap()]), 0);
    }

    /// The attributes of an emitted address message, as (type, payload).
    fn emitted(m: &AddressMessage) -> ([u8; 8], Vec<(u16, Vec<u8>)>) {
        use netlink_packet_core::Emitable;
        let mut buf = vec![0u8; m.buffer_len()];
        m.emit(&mut buf);
        let mut header = [0u8; 8];
        header.copy_from_slice(&buf[..8]);
        let mut nlas = Vec::new();
        let mut off = 8;
        while off + 4 <= buf.len() {
            let len = usize::from(u16::from_ne_bytes([buf[off], buf[off + 1]]));
            let kind = u16::from_ne_bytes([buf[off + 2], buf[off + 3]]);
            assert!(len >= 4 && off + len <= buf.len(), "bad attribute at {off}");
            nlas.push((kind, buf[off + 4..off + len].to_vec()));
            off += (len + 3) & !3;
        }
        (header, nlas)
    }

    const IFA_ADDRESS: u16 = 1;
    const IFA_LOCAL: u16 = 2;
    const IFA_LABEL: u16 = 3;
    const IFA_BROADCAST: u16 = 4;
    const IFA_CACHEINFO: u16 = 6;
    const IFA_FLAGS: u16 = 8;

    fn kinds(nlas: &[(u16, Vec<u8>)]) -> Vec<u16> {
        nlas.iter().map(|(k, _)| *k).collect()
    }

    #[test]
    fn ipv4_message_as_before() {
        let a = Addr {
            ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5)),
            prefix: 24,
            index: 7,
            label: "eth0:1".into(),
            lifetime: Some(6),
        };
        let m = address_message(&a);
        assert_eq!(m.header.family, AddressFamily::Inet);
        assert_eq!(m.header.flags, AddressHeaderFlags::empty());
        let (h, nlas) = emitted(&m);
        // family AF_INET, /24, no flags, scope universe, index 7
        assert_eq!(h[..4], [2, 24, 0, 0]);
        assert_eq!(u32::from_ne_bytes([h[4], h[5], h[6], h[7]]), 7);
        assert_eq!(
            kinds(&nlas),
            [
                IFA_LOCAL,
                IFA_ADDRESS,
                IFA_BROADCAST,
                IFA_LABEL,
                IFA_CACHEINFO
            ]
        );
        assert_eq!(nlas[0].1, [10, 0, 0, 5]);
        assert_eq!(nlas[2].1, [10, 0, 0, 255]);
        assert_eq!(nlas[3].1, b"eth0:1\0");
        // ifa_prefered, ifa_valid, cstamp, tstamp
        assert_eq!(nlas[4].1[..8], [6, 0, 0, 0, 6, 0, 0, 0]);
        // /31 and /32: no broadcast
        for prefix in [31, 32] {
            let m = address_message(&Addr {
                prefix,
                lifetime: None,
                ..a.clone()
            });
            assert_eq!(kinds(&emitted(&m).1), [IFA_LOCAL, IFA_ADDRESS, IFA_LABEL]);
        }
        let d = address_delete_message(&a);
        assert_eq!(kinds(&emitted(&d).1), [IFA_LOCAL, IFA_ADDRESS]);
    }

    #[test]
    fn ipv6_message_nodad_no_broadcast_no_label() {
        let a = Addr {
            ip: "2001:db8::100".parse().unwrap(),
            prefix: 64,
            index: 3,
            // pulse's own name for it: never sent for IPv6
            label: "eth0:1".into(),
            lifetime: Some(6),
        };
        let m = address_message(&a);
        assert_eq!(m.header.family, AddressFamily::Inet6);
        assert_eq!(m.header.flags, AddressHeaderFlags::Nodad);
        assert!(m
            .attributes
            .contains(&AddressAttribute::Flags(AddressFlags::Nodad)));
        let (h, nlas) = emitted(&m);
        // family AF_INET6, /64, IFA_F_NODAD, scope universe, index 3
        assert_eq!(h[..4], [10, 64, 0x02, 0]);
        assert_eq!(u32::from_ne_bytes([h[4], h[5], h[6], h[7]]), 3);
        assert_eq!(
            kinds(&nlas),
            [IFA_LOCAL, IFA_ADDRESS, IFA_FLAGS, IFA_CACHEINFO]
        );
        let v6 = [0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0];
        assert_eq!(nlas[0].1, v6);
        assert_eq!(nlas[1].1, v6);
        assert_eq!(nlas[2].1, 0x02u32.to_ne_bytes());
        // preferred 0 (deprecated: never a source address), valid 6 s
        assert_eq!(nlas[3].1[..8], [0, 0, 0, 0, 6, 0, 0, 0]);
        // forever: still deprecated
        let m = address_message(&Addr {
            lifetime: None,
            prefix: 128,
            ..a.clone()
        });
        let (h, nlas) = emitted(&m);
        assert_eq!(h[1], 128);
        assert_eq!(
            kinds(&nlas),
            [IFA_LOCAL, IFA_ADDRESS, IFA_FLAGS, IFA_CACHEINFO]
        );
        assert_eq!(nlas[3].1[..8], [0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        // delete: the address and its prefix, nothing else
        let d = address_delete_message(&a);
        let (h, nlas) = emitted(&d);
        assert_eq!(h[..4], [10, 64, 0, 0]);
        assert_eq!(kinds(&nlas), [IFA_LOCAL, IFA_ADDRESS]);
    }

    #[test]
    fn dump_replies_of_both_families() {
        let v6: IpAddr = "2001:db8::100".parse().unwrap();
        let mut m = AddressMessage::default();
        m.header.family = AddressFamily::Inet6;
        m.header.prefix_len = 64;
        m.header.index = 3;
        m.attributes.push(AddressAttribute::Address(v6));
        m.attributes.push(AddressAttribute::Flags(
            AddressFlags::Nodad | AddressFlags::Permanent,
        ));
        let mut ci = CacheInfo::default();
        ci.ifa_valid = 5;
        ci.ifa_preferred = 5;
        m.attributes.push(AddressAttribute::CacheInfo(ci));
        assert_eq!(
            dumped(&m),
            Some(Addr {
                ip: v6,
                prefix: 64,
                index: 3,
                label: String::new(),
                lifetime: Some(5),
            })
        );
        // point to point: the local end is ours
        let mut p = m.clone();
        p.attributes
            .push(AddressAttribute::Local("2001:db8::1".parse().unwrap()));
        assert_eq!(dumped(&p).unwrap().ip.to_string(), "2001:db8::1");
        // an IPv4 one, as addresses() lists it
        let a = Addr {
            ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5)),
            prefix: 24,
            index: 7,
            label: "eth0:1".into(),
            lifetime: None,
        };
        assert_eq!(dumped(&address_message(&a)), Some(a));
        // another family, or no address
        let mut o = AddressMessage::default();
        o.header.family = AddressFamily::Packet;
        o.attributes.push(AddressAttribute::Address(v6));
        assert_eq!(dumped(&o), None);
        let mut e = AddressMessage::default();
        e.header.family = AddressFamily::Inet6;
        assert_eq!(dumped(&e), None);
        // an IPv4 family header with an IPv6 address: not ours to read
        let mut x = m.clone();
        x.header.family = AddressFamily::Inet;
        assert_eq!(dumped(&x), None);
    }
}
