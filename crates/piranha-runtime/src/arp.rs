//! `send_arp`: Piranha's gratuitous-ARP sender, and its IPv6 mode, the
//! unsolicited neighbour advertisement.
//!
//! [`parse_command`] applies Piranha's argument rules (`[-i dev]` plus
//! exactly four addresses). With an IPv4 `src_ip_addr` it asks for
//! Piranha's ARP: [`build_frame`] makes the 60-byte frame with pnet (ARP
//! reply, sender and target both the announced address and MAC, as Piranha
//! did); [`send`] puts it on the wire through an AF_PACKET socket. The
//! `targ_ip_addr` argument is parsed and ignored, as in Piranha. An IPv6
//! literal as `src_ip_addr` asks for a neighbour advertisement
//! (`send_arp [-i dev] VIP MAC ff02::1 333300000001`). Both addresses must
//! be of one family, or it is a usage error.
//! [`build_na_frame`] makes the 86-byte frame the kernel sends for an
//! address that appears (`ndisc_send_unsol_na`): from the address itself,
//! hop limit 255, Override set, Solicited clear, Router set when the device
//! forwards IPv6, and a target link-layer address option.  [`announce`]
//! sends either kind.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

use pnet::datalink::{self, Channel, MacAddr};
use pnet::packet::arp::{ArpHardwareTypes, ArpOperations, MutableArpPacket};
use pnet::packet::ethernet::{EtherTypes, MutableEthernetPacket};
use pnet::packet::icmpv6::ndp::{
    Icmpv6Codes, MutableNeighborAdvertPacket, NdpOption, NdpOptionTypes, NeighborAdvertFlags,
};
use pnet::packet::icmpv6::{self, Icmpv6Packet, Icmpv6Types, MutableIcmpv6Packet};
use pnet::packet::ip::IpNextHeaderProtocols;
use pnet::packet::ipv6::MutableIpv6Packet;

/// Piranha's usage text (printed on stderr, exit 1).
pub const USAGE: &str = "send_arp: sends out custom ARP packet.\n\tusage: send_arp [-i dev] src_ip_addr src_hw_addr targ_ip_addr tar_hw_addr\n";

/// Length of the frame, padding included.
pub const FRAME_LEN: usize = 60;

/// Parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Device (`eth0` by default).
    pub dev: String,
    /// Address announced.
    pub src_ip: Ipv4Addr,
    /// MAC announced (Ethernet source and ARP sender/target hardware).
    pub src_hw: [u8; 6],
    /// Ignored, as in Piranha.
    pub targ_ip: Ipv4Addr,
    /// Ethernet destination.
    pub tar_hw: [u8; 6],
}

/// Length of a neighbour advertisement frame: Ethernet 14, IPv6 40,
/// ICMPv6 NA 24, target link-layer address option 8.
pub const NA_FRAME_LEN: usize = 86;

/// The all-nodes multicast group, where unsolicited advertisements go.
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// The Ethernet address of [`ALL_NODES`] (`33:33` and its last 32 bits).
pub const ALL_NODES_MAC: [u8; 6] = [0x33, 0x33, 0, 0, 0, 1];

/// A neighbour advertisement asked for on the command line (`src_ip_addr`
/// an IPv6 literal).  Field names follow the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NaRequest {
    /// Device (`eth0` by default).
    pub dev: String,
    /// Address announced: the IPv6 source and the advertisement's target.
    pub src_ip: Ipv6Addr,
    /// MAC announced: Ethernet source and target link-layer address option.
    pub src_hw: [u8; 6],
    /// IPv6 destination (`ff02::1` for an unsolicited advertisement).
    pub targ_ip: Ipv6Addr,
    /// Ethernet destination (`333300000001` with `ff02::1`).
    pub tar_hw: [u8; 6],
}

/// What a command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Announcement {
    /// Piranha's gratuitous ARP (IPv4).
    Arp(Request),
    /// An unsolicited neighbour advertisement (IPv6).
    Na(NaRequest),
}

/// Errors of send_arp.
#[derive(Debug, thiserror::Error)]
pub enum ArpError {
    /// Wrong arguments: print the usage.
    #[error("usage")]
    Usage,
    /// Not an IPv4 address or resolvable host name.
    #[error("invalid IP address {0}")]
    BadIp(String),
    /// Not 12 hex digits.
    #[error("invalid hardware address {0} (want 12 hex digits, ':' allowed)")]
    BadMac(String),
    /// No such interface.
    #[error("no such device {0}")]
    NoDevice(String),
    /// Socket refused (usually not root).
    #[error("failed to open a packet socket on {dev}{hint}")]
    Socket {
        /// The device.
        dev: String,
        /// " (are you root?)" for EPERM.
        hint: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// sendto failed.
    #[error("failed to send the ARP frame on {dev}")]
    Send {
        /// The device.
        dev: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// sendto failed for a neighbour advertisement.
    #[error("failed to send the neighbour advertisement on {dev}")]
    SendNa {
        /// The device.
        dev: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Parse a MAC: 12 hex digits with optional `:` separators.
pub fn parse_mac(s: &str) -> Result<[u8; 6], ArpError> {
    let hex: String = s.chars().filter(|c| *c != ':').collect();
    if hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ArpError::BadMac(s.to_string()));
    }
    let mut out = [0u8; 6];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
            .map_err(|_| ArpError::BadMac(s.to_string()))?;
    }
    Ok(out)
}

/// Parse an IPv4 address or resolve a host name.
pub fn parse_ip(s: &str) -> Result<Ipv4Addr, ArpError> {
    if let Ok(ip) = s.parse() {
        return Ok(ip);
    }
    (s, 0)
        .to_socket_addrs()
        .ok()
        .and_then(|mut it| {
            it.find_map(|a| match a.ip() {
                std::net::IpAddr::V4(v) => Some(v),
                _ => None,
            })
        })
        .ok_or_else(|| ArpError::BadIp(s.to_string()))
}

/// Read a command line, Piranha's rules: `-i dev` (getopt style, also
/// `-idev`) and exactly four positional arguments; anything else is a
/// usage error.  An IPv6 literal as `src_ip_addr` asks for a neighbour
/// advertisement, and then `targ_ip_addr` must be an IPv6 literal too;
/// anything else is Piranha's ARP, and then `targ_ip_addr` must not be an
/// IPv6 literal.  Mixed families are a usage error.
pub fn parse_command(args: &[String]) -> Result<Announcement, ArpError> {
    let (dev, pos) = split_args(args)?;
    let Ok(src_ip) = pos[0].parse::<Ipv6Addr>() else {
        return arp_request(dev, &pos).map(Announcement::Arp);
    };
    let targ_ip = match pos[2].parse::<Ipv6Addr>() {
        Ok(t) => t,
        // an IPv4 address (or a name that is one) with an IPv6 source
        Err(_) if parse_ip(&pos[2]).is_ok() => return Err(ArpError::Usage),
        Err(_) => return Err(ArpError::BadIp(pos[2].clone())),
    };
    Ok(Announcement::Na(NaRequest {
        dev,
        src_ip,
        src_hw: parse_mac(&pos[1])?,
        targ_ip,
        tar_hw: parse_mac(&pos[3])?,
    }))
}

/// The device and the four positional arguments.
fn split_args(args: &[String]) -> Result<(String, Vec<String>), ArpError> {
    let mut dev = "eth0".to_string();
    let mut pos = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "-i" {
            dev = it.next().ok_or(ArpError::Usage)?.clone();
        } else if let Some(d) = a.strip_prefix("-i") {
            dev = d.to_string();
        } else if a == "--" {
            pos.extend(it.by_ref().cloned());
        } else if a.starts_with('-') && a.len() > 1 {
            return Err(ArpError::Usage);
        } else {
            pos.push(a.clone());
        }
    }
    if pos.len() != 4 {
        return Err(ArpError::Usage);
    }
    Ok((dev, pos))
}

/// The IPv4 request, in Piranha's order of checks; an IPv6 literal as
/// `targ_ip_addr` after a valid IPv4 source is a usage error (mixed
/// families).
fn arp_request(dev: String, pos: &[String]) -> Result<Request, ArpError> {
    let src_ip = parse_ip(&pos[0])?;
    if pos[2].parse::<Ipv6Addr>().is_ok() {
        return Err(ArpError::Usage);
    }
    Ok(Request {
        dev,
        src_ip,
        src_hw: parse_mac(&pos[1])?,
        targ_ip: parse_ip(&pos[2])?,
        tar_hw: parse_mac(&pos[3])?,
    })
}

/// The 60-byte frame: Ethernet to `tar_hw` from `src_hw`, ARP reply with
/// sender = target = (`src_hw`, `src_ip`), zero padding.
pub fn build_frame(r: &Request) -> [u8; FRAME_LEN] {
    let mut buf = [0u8; FRAME_LEN];
    let mac = |m: [u8; 6]| MacAddr::new(m[0], m[1], m[2], m[3], m[4], m[5]);
    {
        let mut eth = MutableEthernetPacket::new(&mut buf[..]).expect("60 bytes hold a header");
        eth.set_destination(mac(r.tar_hw));
        eth.set_source(mac(r.src_hw));
        eth.set_ethertype(EtherTypes::Arp);
    }
    let mut arp = MutableArpPacket::new(&mut buf[14..42]).expect("28 bytes hold an ARP packet");
    arp.set_hardware_type(ArpHardwareTypes::Ethernet);
    arp.set_protocol_type(EtherTypes::Ipv4);
    arp.set_hw_addr_len(6);
    arp.set_proto_addr_len(4);
    arp.set_operation(ArpOperations::Reply);
    arp.set_sender_hw_addr(mac(r.src_hw));
    arp.set_sender_proto_addr(r.src_ip);
    arp.set_target_hw_addr(mac(r.src_hw));
    arp.set_target_proto_addr(r.src_ip);
    buf
}

/// The unsolicited neighbour advertisement of `r.src_ip` at `r.src_hw`,
/// 86 bytes: Ethernet to `r.tar_hw` from `r.src_hw` (type 0x86dd); IPv6
/// from `r.src_ip` to `r.targ_ip`, hop limit 255 (receivers drop neighbour
/// discovery with any other), next header 58; ICMPv6 type 136 code 0,
/// flags Override, plus Router when `router` (the device forwards IPv6:
/// a neighbour that sees Router go from 1 to 0 drops us as a default
/// router), never Solicited; target `r.src_ip`; one option, target
/// link-layer address (type 2, length 1) `r.src_hw`.  The checksum covers
/// the IPv6 pseudo-header.
pub fn build_na_frame(r: &NaRequest, router: bool) -> [u8; NA_FRAME_LEN] {
    let mut buf = [0u8; NA_FRAME_LEN];
    let mac = |m: [u8; 6]| MacAddr::new(m[0], m[1], m[2], m[3], m[4], m[5]);
    {
        let mut eth = MutableEthernetPacket::new(&mut buf[..]).expect("86 bytes hold a header");
        eth.set_destination(mac(r.tar_hw));
        eth.set_source(mac(r.src_hw));
        eth.set_ethertype(EtherTypes::Ipv6);
    }
    {
        let mut ip = MutableIpv6Packet::new(&mut buf[14..54]).expect("40 bytes hold a header");
        ip.set_version(6);
        ip.set_traffic_class(0);
        ip.set_flow_label(0);
        ip.set_payload_length((NA_FRAME_LEN - 54) as u16);
        ip.set_next_header(IpNextHeaderProtocols::Icmpv6);
        ip.set_hop_limit(255);
        ip.set_source(r.src_ip);
        ip.set_destination(r.targ_ip);
    }
    {
        let mut na = MutableNeighborAdvertPacket::new(&mut buf[54..]).expect("32 bytes hold an NA");
        na.set_icmpv6_type(Icmpv6Types::NeighborAdvert);
        na.set_icmpv6_code(Icmpv6Codes::NoCode);
        let mut flags = NeighborAdvertFlags::Override;
        if router {
            flags |= NeighborAdvertFlags::Router;
        }
        na.set_flags(flags);
        na.set_reserved(0);
        na.set_target_addr(r.src_ip);
        na.set_options(&[NdpOption {
            option_type: NdpOptionTypes::TargetLLAddr,
            length: 1,
            data: r.src_hw.to_vec(),
        }]);
    }
    let sum = icmpv6::checksum(
        &Icmpv6Packet::new(&buf[54..]).expect("32 bytes hold ICMPv6"),
        &r.src_ip,
        &r.targ_ip,
    );
    MutableIcmpv6Packet::new(&mut buf[54..])
        .expect("32 bytes hold ICMPv6")
        .set_checksum(sum);
    buf
}

/// Does `dev` forward IPv6 (`/proc/sys/net/ipv6/conf/DEV/forwarding` is
/// 1, in the caller's network namespace)?  What the kernel sets the
/// Router flag from.  False when it cannot be read (no IPv6 on `dev`).
pub fn forwarding(dev: &str) -> bool {
    if dev.is_empty() || dev.contains('/') || dev == "." || dev == ".." {
        return false;
    }
    std::fs::read_to_string(format!("/proc/sys/net/ipv6/conf/{dev}/forwarding"))
        .map(|s| s.trim() == "1")
        .unwrap_or(false)
}

/// Send the frame on `r.dev` through AF_PACKET.
pub fn send(r: &Request) -> Result<(), ArpError> {
    let mut tx = open(&r.dev)?;
    let frame = build_frame(r);
    transmit(&mut *tx, &frame).map_err(|source| ArpError::Send {
        dev: r.dev.clone(),
        source,
    })
}

/// Send what `a` asks for: a gratuitous ARP ([`send`]), or a neighbour
/// advertisement with the Router flag from [`forwarding`] of its device.
pub fn announce(a: &Announcement) -> Result<(), ArpError> {
    match a {
        Announcement::Arp(r) => send(r),
        Announcement::Na(r) => {
            let mut tx = open(&r.dev)?;
            let frame = build_na_frame(r, forwarding(&r.dev));
            transmit(&mut *tx, &frame).map_err(|source| ArpError::SendNa {
                dev: r.dev.clone(),
                source,
            })
        }
    }
}

impl Announcement {
    /// `src_ip_addr`.
    pub fn address(&self) -> IpAddr {
        match self {
            Announcement::Arp(r) => IpAddr::V4(r.src_ip),
            Announcement::Na(r) => IpAddr::V6(r.src_ip),
        }
    }

    /// The device.
    pub fn dev(&self) -> &str {
        match self {
            Announcement::Arp(r) => &r.dev,
            Announcement::Na(r) => &r.dev,
        }
    }
}

/// An Ethernet sender on `dev` (looked up by name among the interfaces).
fn open(dev: &str) -> Result<Box<dyn datalink::DataLinkSender>, ArpError> {
    let iface = datalink::interfaces()
        .into_iter()
        .find(|i| i.name == dev)
        .ok_or_else(|| ArpError::NoDevice(dev.to_string()))?;
    let cfg = datalink::Config {
        read_timeout: Some(std::time::Duration::from_millis(1)),
        ..Default::default()
    };
    match datalink::channel(&iface, cfg) {
        Ok(Channel::Ethernet(tx, _rx)) => Ok(tx),
        Ok(_) => Err(ArpError::Socket {
            dev: dev.to_string(),
            hint: "",
            source: std::io::Error::other("not an Ethernet channel"),
        }),
        Err(source) => {
            let hint = if source.kind() == std::io::ErrorKind::PermissionDenied {
                " (are you root?)"
            } else {
                ""
            };
            Err(ArpError::Socket {
                dev: dev.to_string(),
                hint,
                source,
            })
        }
    }
}

/// One frame out.
fn transmit(tx: &mut dyn datalink::DataLinkSender, frame: &[u8]) -> std::io::Result<()> {
    match tx.send_to(frame, None) {
        Some(r) => r,
        None => Err(std::io::Error::other("no send buffer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// `parse_command` of an IPv4 command line: the ARP it asks for.
    fn parse_args(a: &[String]) -> Result<Request, ArpError> {
        parse_command(a).map(|x| match x {
            Announcement::Arp(r) => r,
            na => panic!("{a:?}: {na:?}"),
        })
    }

    #[test]
    fn argument_rules() {
        let r = parse_args(&args(&[
            "-i",
            "eth1",
            "10.0.0.100",
            "0A0B0C0D0E0F",
            "10.0.0.255",
            "ffffffffffff",
        ]))
        .unwrap();
        assert_eq!(r.dev, "eth1");
        assert_eq!(r.src_hw, [10, 11, 12, 13, 14, 15]);
        let r = parse_args(&args(&[
            "10.0.0.100",
            "0a:0b:0c:0d:0e:0f",
            "1.2.3.4",
            "ff:ff:ff:ff:ff:ff",
        ]))
        .unwrap();
        assert_eq!(r.dev, "eth0", "default device");
        assert!(matches!(
            parse_args(&args(&["1.2.3.4", "0A0B0C0D0E0F", "1.2.3.4"])),
            Err(ArpError::Usage)
        ));
        assert!(matches!(
            parse_args(&args(&["-x", "a", "b", "c", "d"])),
            Err(ArpError::Usage)
        ));
        assert!(matches!(
            parse_args(&args(&["1.2.3.4", "0A0B0C0D0E", "1.2.3.4", "ffffffffffff"])),
            Err(ArpError::BadMac(_))
        ));
        assert!(matches!(
            parse_args(&args(&[
                "no.such.host.invalid",
                "0A0B0C0D0E0F",
                "1.2.3.4",
                "ffffffffffff"
            ])),
            Err(ArpError::BadIp(_))
        ));
    }

    #[test]
    fn frame_is_piranhas_gratuitous_reply() {
        let r = Request {
            dev: "eth0".into(),
            src_ip: Ipv4Addr::new(10, 0, 0, 100),
            src_hw: [2, 0, 0, 0, 0, 1],
            targ_ip: Ipv4Addr::new(9, 9, 9, 9),
            tar_hw: [0xff; 6],
        };
        let f = build_frame(&r);
        assert_eq!(f.len(), 60);
        assert_eq!(&f[0..6], &[0xff; 6]);
        assert_eq!(&f[6..12], &[2, 0, 0, 0, 0, 1]);
        assert_eq!(&f[12..14], &[0x08, 0x06]);
        assert_eq!(&f[14..22], &[0, 1, 8, 0, 6, 4, 0, 2]);
        assert_eq!(&f[22..28], &[2, 0, 0, 0, 0, 1]);
        assert_eq!(&f[28..32], &[10, 0, 0, 100]);
        assert_eq!(&f[32..38], &[2, 0, 0, 0, 0, 1]);
        assert_eq!(&f[38..42], &[10, 0, 0, 100], "target ip = sender ip");
        assert!(f[42..].iter().all(|b| *b == 0));
    }

    fn na_request() -> NaRequest {
        NaRequest {
            dev: "eth0".into(),
            src_ip: "2001:db8::100".parse().unwrap(),
            src_hw: [2, 0, 0, 0, 0, 1],
            targ_ip: ALL_NODES,
            tar_hw: ALL_NODES_MAC,
        }
    }

    /// What each command line reads as: the IPv4 form unchanged, the IPv6
    /// mode, and mixed families a usage error.
    #[test]
    fn command_line_table() {
        use Announcement::{Arp, Na};
        #[derive(Debug)]
        enum Want {
            Arp(&'static str, Ipv4Addr, [u8; 6], Ipv4Addr, [u8; 6]),
            Na(&'static str, &'static str, [u8; 6], &'static str, [u8; 6]),
            Usage,
            BadIp(&'static str),
            BadMac(&'static str),
        }
        const M: [u8; 6] = [0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f];
        const B: [u8; 6] = [0xff; 6];
        const V4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
        const BC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 255);
        let table: &[(&[&str], Want)] = &[
            // Piranha's form, as pulse runs it
            (
                &[
                    "-i",
                    "eth1",
                    "10.0.0.100",
                    "0A0B0C0D0E0F",
                    "10.0.0.255",
                    "ffffffffffff",
                ],
                Want::Arp("eth1", V4, M, BC, B),
            ),
            (
                &[
                    "10.0.0.100",
                    "0a:0b:0c:0d:0e:0f",
                    "10.0.0.255",
                    "ff:ff:ff:ff:ff:ff",
                ],
                Want::Arp("eth0", V4, M, BC, B),
            ),
            (
                &[
                    "-ieth2",
                    "10.0.0.100",
                    "0A0B0C0D0E0F",
                    "10.0.0.255",
                    "ffffffffffff",
                ],
                Want::Arp("eth2", V4, M, BC, B),
            ),
            // the IPv6 mode, as pulse will run it
            (
                &[
                    "-i",
                    "eth1",
                    "2001:db8::100",
                    "0A0B0C0D0E0F",
                    "ff02::1",
                    "333300000001",
                ],
                Want::Na("eth1", "2001:db8::100", M, "ff02::1", ALL_NODES_MAC),
            ),
            (
                &[
                    "2001:db8::100",
                    "0a:0b:0c:0d:0e:0f",
                    "ff02::1",
                    "33:33:00:00:00:01",
                ],
                Want::Na("eth0", "2001:db8::100", M, "ff02::1", ALL_NODES_MAC),
            ),
            (
                &[
                    "--",
                    "::ffff:10.0.0.1",
                    "0A0B0C0D0E0F",
                    "ff02::1",
                    "333300000001",
                ],
                Want::Na("eth0", "::ffff:10.0.0.1", M, "ff02::1", ALL_NODES_MAC),
            ),
            // mixed families
            (
                &["10.0.0.100", "0A0B0C0D0E0F", "ff02::1", "333300000001"],
                Want::Usage,
            ),
            (
                &["-i", "eth0", "10.0.0.100", "zz", "ff02::1", "ffffffffffff"],
                Want::Usage,
            ),
            (
                &[
                    "2001:db8::100",
                    "0A0B0C0D0E0F",
                    "10.0.0.255",
                    "ffffffffffff",
                ],
                Want::Usage,
            ),
            (
                &["2001:db8::100", "0A0B0C0D0E0F", "localhost", "ffffffffffff"],
                Want::Usage,
            ),
            // shape
            (&["2001:db8::100", "0A0B0C0D0E0F", "ff02::1"], Want::Usage),
            (
                &[
                    "-x",
                    "2001:db8::100",
                    "0A0B0C0D0E0F",
                    "ff02::1",
                    "333300000001",
                ],
                Want::Usage,
            ),
            (
                &[
                    "-i",
                    "eth0",
                    "2001:db8::100",
                    "0A0B0C0D0E0F",
                    "ff02::1",
                    "333300000001",
                    "x",
                ],
                Want::Usage,
            ),
            // bad values
            (
                &["2001:db8::100", "0A0B0C0D0E", "ff02::1", "333300000001"],
                Want::BadMac("0A0B0C0D0E"),
            ),
            (
                &["2001:db8::100", "0A0B0C0D0E0F", "ff02::1", "3333"],
                Want::BadMac("3333"),
            ),
            (
                &[
                    "2001:db8::100",
                    "0A0B0C0D0E0F",
                    "no.such.host.invalid",
                    "333300000001",
                ],
                Want::BadIp("no.such.host.invalid"),
            ),
            (
                &["2001:db8::zz", "0A0B0C0D0E0F", "ff02::1", "333300000001"],
                Want::BadIp("2001:db8::zz"),
            ),
            (
                &["1.2.3.4", "0A0B0C0D0E", "1.2.3.4", "ffffffffffff"],
                Want::BadMac("0A0B0C0D0E"),
            ),
        ];
        for (argv, want) in table {
            let got = parse_command(&args(argv));
            let ok = match (&got, want) {
                (Ok(Arp(r)), Want::Arp(dev, ip, hw, t, th)) => {
                    r.dev == *dev
                        && r.src_ip == *ip
                        && r.src_hw == *hw
                        && r.targ_ip == *t
                        && r.tar_hw == *th
                }
                (Ok(Na(r)), Want::Na(dev, ip, hw, t, th)) => {
                    r.dev == *dev
                        && r.src_ip == ip.parse::<Ipv6Addr>().unwrap()
                        && r.src_hw == *hw
                        && r.targ_ip == t.parse::<Ipv6Addr>().unwrap()
                        && r.tar_hw == *th
                }
                (Err(ArpError::Usage), Want::Usage) => true,
                (Err(ArpError::BadIp(a)), Want::BadIp(b)) => a == b,
                (Err(ArpError::BadMac(a)), Want::BadMac(b)) => a == b,
                _ => false,
            };
            assert!(ok, "{argv:?}: got {got:?}, want {want:?}");
        }
    }

    /// RFC 1071 one's-complement sum over the IPv6 pseudo-header (source,
    /// destination, 32-bit upper-layer length, three zero bytes, next
    /// header 58) and the ICMPv6 message, written out independently of
    /// pnet.  Over a message whose checksum field is right it gives 0.
    fn icmpv6_sum(src: Ipv6Addr, dst: Ipv6Addr, msg: &[u8]) -> u16 {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&src.octets());
        bytes.extend_from_slice(&dst.octets());
        bytes.extend_from_slice(&(msg.len() as u32).to_be_bytes());
        bytes.extend_from_slice(&[0, 0, 0, 58]);
        bytes.extend_from_slice(msg);
        if bytes.len() % 2 == 1 {
            bytes.push(0);
        }
        let mut sum: u32 = 0;
        for w in bytes.chunks(2) {
            sum += u32::from(w[0]) << 8 | u32::from(w[1]);
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    #[test]
    fn na_frame_golden() {
        #[rustfmt::skip]
        let want: [u8; NA_FRAME_LEN] = [
            // Ethernet: 33:33:00:00:00:01 <- 02:00:00:00:00:01, IPv6
            0x33, 0x33, 0x00, 0x00, 0x00, 0x01,
            0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
            0x86, 0xdd,
            // IPv6: version 6, class 0, flow 0; payload 32; ICMPv6; hop limit 255
            0x60, 0x00, 0x00, 0x00,
            0x00, 0x20, 0x3a, 0xff,
            // source 2001:db8::100
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
            // destination ff02::1
            0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
            // ICMPv6 136, code 0, checksum
            0x88, 0x00, 0xf7, 0x2c,
            // R 0, S 0, O 1, reserved
            0x20, 0x00, 0x00, 0x00,
            // target 2001:db8::100
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
            // option 2 (target link-layer address), length 1 (8 bytes), MAC
            0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
        ];
        let r = na_request();
        let f = build_na_frame(&r, false);
        assert_eq!(f.len(), 86);
        assert_eq!(f, want);
        assert_eq!(icmpv6_sum(r.src_ip, r.targ_ip, &f[54..]), 0);
        let mut zeroed = f;
        zeroed[56..58].fill(0);
        assert_eq!(
            icmpv6_sum(r.src_ip, r.targ_ip, &zeroed[54..]).to_be_bytes(),
            [f[56], f[57]]
        );
    }

    #[test]
    fn na_router_flag() {
        let r = na_request();
        let plain = build_na_frame(&r, false);
        let router = build_na_frame(&r, true);
        assert_eq!(plain[58], NeighborAdvertFlags::Override);
        assert_eq!(router[58], 0xa0, "Router and Override");
        assert_eq!(router[58] & NeighborAdvertFlags::Solicited, 0);
        assert_eq!(&router[56..58], &[0x77, 0x2c]);
        assert_eq!(icmpv6_sum(r.src_ip, r.targ_ip, &router[54..]), 0);
        // only the flags and the checksum differ
        let differ: Vec<usize> = (0..NA_FRAME_LEN)
            .filter(|i| plain[*i] != router[*i])
            .collect();
        assert_eq!(differ, vec![56, 58]);
    }

    #[test]
    fn na_checksum_follows_the_addresses() {
        // a unicast destination and another address: pnet's sum and the
        // hand-written one agree
        let r = NaRequest {
            dev: "eth0".into(),
            src_ip: "fd00:1:2:3:4:5:6:7".parse().unwrap(),
            src_hw: [0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54],
            targ_ip: "fe80::1".parse().unwrap(),
            tar_hw: [0x52, 0x54, 0, 0x12, 0x34, 0x56],
        };
        for router in [false, true] {
            let f = build_na_frame(&r, router);
            assert_eq!(icmpv6_sum(r.src_ip, r.targ_ip, &f[54..]), 0);
            assert_eq!(&f[0..6], &r.tar_hw);
            assert_eq!(&f[80..86], &r.src_hw);
        }
    }

    #[test]
    fn forwarding_of_odd_names_is_off() {
        assert!(!forwarding(""));
        assert!(!forwarding("../../../../etc/passwd"));
        assert!(!forwarding(".."));
        assert!(!forwarding("no-such-device-0"));
    }
}
