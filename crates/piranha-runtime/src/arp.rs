//! `send_arp`: Piranha's gratuitous-ARP sender.
//!
//! [`parse_args`] applies Piranha's argument rules (`[-i dev]` plus exactly
//! four addresses); [`build_frame`] makes the 60-byte frame with pnet (ARP
//! reply, sender and target both the announced address and MAC, as Piranha
//! did); [`send`] puts it on the wire through an AF_PACKET socket.  The
//! `targ_ip_addr` argument is parsed and ignored, as in Piranha.

use std::net::{Ipv4Addr, ToSocketAddrs};

use pnet::datalink::{self, Channel, MacAddr};
use pnet::packet::arp::{ArpHardwareTypes, ArpOperations, MutableArpPacket};
use pnet::packet::ethernet::{EtherTypes, MutableEthernetPacket};

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

/// Piranha's rules: `-i dev` (getopt style, also `-idev`) and exactly four
/// positional arguments; anything else is a usage error.
pub fn parse_args(args: &[String]) -> Result<Request, ArpError> {
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
    Ok(Request {
        dev,
        src_ip: parse_ip(&pos[0])?,
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

/// Send the frame on `r.dev` through AF_PACKET.
pub fn send(r: &Request) -> Result<(), ArpError> {
    let iface = datalink::interfaces()
        .into_iter()
        .find(|i| i.name == r.dev)
        .ok_or_else(|| ArpError::NoDevice(r.dev.clone()))?;
    let cfg = datalink::Config {
        read_timeout: Some(std::time::Duration::from_millis(1)),
        ..Default::default()
    };
    let (mut tx, _rx) = match datalink::channel(&iface, cfg) {
        Ok(Channel::Ethernet(tx, rx)) => (tx, rx),
        Ok(_) => {
            return Err(ArpError::Socket {
                dev: r.dev.clone(),
                hint: "",
                source: std::io::Error::other("not an Ethernet channel"),
            })
        }
        Err(source) => {
            let hint = if source.kind() == std::io::ErrorKind::PermissionDenied {
                " (are you root?)"
            } else {
                ""
            };
            return Err(ArpError::Socket {
                dev: r.dev.clone(),
                hint,
                source,
            });
        }
    };
    let frame = build_frame(r);
    match tx.send_to(&frame, None) {
        Some(Ok(())) => Ok(()),
        Some(Err(source)) => Err(ArpError::Send {
            dev: r.dev.clone(),
            source,
        }),
        None => Err(ArpError::Send {
            dev: r.dev.clone(),
            source: std::io::Error::other("no send buffer"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
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
}
