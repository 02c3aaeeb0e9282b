//! The connection table handed to the partner director at once, in the
//! kernel's own sync protocol (version 1, `net/netfilter/ipvs/ip_vs_sync.c`).
//!
//! The kernel's master sync daemon sends a connection when it reaches its
//! third packet from the client and then holds a partly filled buffer for up
//! to two seconds, so the partner may not know the connections opened in the
//! last few seconds, nor any that had fewer than three packets, when the
//! role changes.  A director handing over (pulse) or one whose pulse died
//! (lvs) reads `/proc/net/ip_vs_conn` and sends every connection in the same
//! datagrams to the same multicast group; the partner's backup sync daemon
//! creates or refreshes each entry as if the kernel had sent it.
//!
//! IPv4 and IPv6 connections travel side by side in one datagram (36- and
//! 72-byte entries, as the kernel mixes them); the group may be IPv4 (the
//! kernel's default 224.0.0.81) or IPv6 (`--mcast-group ff02::8:81`), which
//! only changes the headers a datagram has to leave room for.
//!
//! Pure parts ([`parse_conns`], [`encode`], [`datagram_budget`]) are
//! unit-tested; the kernel lab checks what the partner makes of them
//! (`tests/lab/role-change.sh`).

use std::ffi::CString;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};
use std::os::fd::AsRawFd;

use crate::model::{af_of, AF_INET6};

/// The sync multicast group and port (the kernel's defaults).
pub const GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 81);
/// See [`GROUP`].
pub const PORT: u16 = 8848;
/// The MTU assumed when the interface's cannot be read.
const DEFAULT_MTU: usize = 1500;
/// IPv4 and UDP headers.
const HEADERS_V4: usize = 20 + 8;
/// IPv6 and UDP headers.
const HEADERS_V6: usize = 40 + 8;
/// `struct ip_vs_sync_mesg`.
const HEADER: usize = 8;
/// `struct ip_vs_sync_v4`.
const ENTRY_V4: usize = 36;
/// `struct ip_vs_sync_v6`.
const ENTRY_V6: usize = 72;
/// `STYPE_F_INET6`: the entry's type byte for IPv6 addresses.
const STYPE_F_INET6: u8 = 1;
/// A message counts its connections in one byte.
const MAX_CONNS: usize = 255;
/// `IP_VS_CONN_F_INACTIVE`: not (yet) established.
const F_INACTIVE: u32 = 0x0100;

/// How connections are forwarded (`IP_VS_CONN_F_*` of the forwarding
/// method), used by the partner when it has no such real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forward {
    /// NAT.
    Masq,
    /// IP tunnel.
    Tunnel,
    /// Direct routing.
    Route,
}

impl Forward {
    /// From ipvsadm's letter: `m`, `i`, `g` (anything else: `g`).
    pub fn from_letter(c: char) -> Self {
        match c {
            'm' => Forward::Masq,
            'i' => Forward::Tunnel,
            _ => Forward::Route,
        }
    }

    fn flags(self) -> u32 {
        match self {
            Forward::Masq => 0,
            Forward::Tunnel => 2,
            Forward::Route => 3,
        }
    }
}

/// One connection of the table (IPv4 or IPv6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conn {
    /// `IPPROTO_TCP` or `IPPROTO_UDP`.
    pub protocol: u8,
    /// Client.
    pub caddr: IpAddr,
    /// Client port.
    pub cport: u16,
    /// Virtual address.
    pub vaddr: IpAddr,
    /// Virtual port.
    pub vport: u16,
    /// Real server.
    pub daddr: IpAddr,
    /// Real server port.
    pub dport: u16,
    /// The protocol's state number (`IP_VS_TCP_S_*`; 0 for UDP).
    pub state: u16,
    /// Seconds until the entry expires (`Expires`; 0 when not known).
    pub expires: u32,
}

impl Conn {
    /// `AF_INET` or `AF_INET6` when the three addresses are of one family,
    /// else `None`: the protocol has one family an entry, so a connection
    /// to a real server of the other family (a tunnel, which the kernel
    /// allows only while no sync daemon runs) cannot be sent.
    pub fn af(&self) -> Option<u16> {
        let af = af_of(&self.caddr);
        (af_of(&self.vaddr) == af && af_of(&self.daddr) == af).then_some(af)
    }
}

/// TCP state names as `/proc/net/ip_vs_conn` prints them, by number.
const TCP_STATES: [&str; 11] = [
    "NONE",
    "ESTABLISHED",
    "SYN_SENT",
    "SYN_RECV",
    "FIN_WAIT",
    "TIME_WAIT",
    "CLOSE",
    "CLOSE_WAIT",
    "LAST_ACK",
    "LISTEN",
    "SYNACK",
];

/// An address as `/proc/net/ip_vs_conn` prints it: IPv4 as eight hex
/// digits (`%08X`), IPv6 as eight groups of four hex digits (`%pI6`,
/// never compressed).  Any other form is not the kernel's and reads as
/// nothing.
fn proc_addr(s: &str) -> Option<IpAddr> {
    if s.len() == 8 {
        return u32::from_str_radix(s, 16)
            .ok()
            .map(|a| IpAddr::V4(Ipv4Addr::from(a)));
    }
    if s.len() != 39 {
        return None;
    }
    let mut groups = [0u16; 8];
    let mut n = 0;
    for g in s.split(':') {
        if n == 8 || g.len() != 4 || !g.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        groups[n] = u16::from_str_radix(g, 16).ok()?;
        n += 1;
    }
    (n == 8).then(|| IpAddr::V6(Ipv6Addr::from(groups)))
}

/// The TCP and UDP connections of `/proc/net/ip_vs_conn`, IPv4 and IPv6;
/// persistence templates (state NONE or ASSURED), other protocols and
/// connections whose real server is of the other family (see
/// [`Conn::af`]) are left out (the kernel's own sync daemon sends
/// templates).
pub fn parse_conns(text: &str) -> Vec<Conn> {
    let hex_port = |s: &str| u16::from_str_radix(s, 16).ok();
    text.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            if w.len() < 8 {
                return None;
            }
            let (protocol, state) = match (w[0], w[7]) {
                ("TCP", s) => (
                    libc::IPPROTO_TCP as u8,
                    TCP_STATES.iter().position(|n| *n == s).filter(|&n| n > 0)? as u16,
                ),
                ("UDP", "UDP") => (libc::IPPROTO_UDP as u8, 0),
                _ => return None,
            };
            Some(Conn {
                protocol,
                caddr: proc_addr(w[1])?,
                cport: hex_port(w[2])?,
                vaddr: proc_addr(w[3])?,
                vport: hex_port(w[4])?,
                daddr: proc_addr(w[5])?,
                dport: hex_port(w[6])?,
                state,
                expires: w.get(8).and_then(|e| e.parse().ok()).unwrap_or(0),
            })
        })
        .filter(|c| c.af().is_some())
        .collect()
}

/// The datagrams (version 1 messages of at most `max` bytes, at least one
/// connection each, at most 255) carrying `conns` for the backup daemons
/// with `syncid` (0: every backup accepts them), in the order given, IPv4
/// and IPv6 entries side by side.  A connection whose addresses are not of
/// one family ([`Conn::af`]) is left out.  Each entry's timeout is the
/// time it has left here, so that the partner's copy ends with this one:
/// sent as 0 (the partner's timeout for the state, a full 2 minutes for
/// TIME_WAIT) every push would give a finished connection 2 more minutes
/// there, and a client reusing its port after it ended here would be sent
/// to its old real server by the new director.
pub fn encode(conns: &[Conn], syncid: u8, fwd: Forward, max: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut m: Vec<u8> = Vec::new();
    let mut n = 0;
    for (i, c) in conns.iter().enumerate() {
        let Some(af) = c.af() else {
            continue;
        };
        let size = if af == AF_INET6 { ENTRY_V6 } else { ENTRY_V4 };
        if n > 0 && (m.len() + size > max || n == MAX_CONNS) {
            out.push(finish(std::mem::take(&mut m), n));
            n = 0;
        }
        if n == 0 {
            m.reserve(max.min(HEADER + (conns.len() - i) * ENTRY_V6));
            m.push(0); // reserved
            m.push(syncid);
            m.extend_from_slice(&[0, 0]); // size, set by finish
            m.push(0); // connections, set by finish
            m.push(1); // version
            m.extend_from_slice(&[0, 0]); // spare
        }
        let established = c.protocol != libc::IPPROTO_TCP as u8 || c.state == 1;
        let flags = fwd.flags() | if established { 0 } else { F_INACTIVE };
        m.push(if af == AF_INET6 { STYPE_F_INET6 } else { 0 });
        m.push(c.protocol);
        m.extend_from_slice(&(size as u16).to_be_bytes()); // version 0, size
        m.extend_from_slice(&flags.to_be_bytes());
        m.extend_from_slice(&c.state.to_be_bytes());
        m.extend_from_slice(&c.cport.to_be_bytes());
        m.extend_from_slice(&c.vport.to_be_bytes());
        m.extend_from_slice(&c.dport.to_be_bytes());
        m.extend_from_slice(&0u32.to_be_bytes()); // fwmark
                                                  // seconds left (0 would mean "your own timeout for the state")
        m.extend_from_slice(&c.expires.max(1).to_be_bytes()); // timeout
        for a in [c.caddr, c.vaddr, c.daddr] {
            match a {
                IpAddr::V4(a) => m.extend_from_slice(&a.octets()),
                IpAddr::V6(a) => m.extend_from_slice(&a.octets()),
            }
        }
        n += 1;
    }
    if n > 0 {
        out.push(finish(m, n));
    }
    out
}

/// Fill in a message's size and connection count.
fn finish(mut m: Vec<u8>, n: usize) -> Vec<u8> {
    let size = m.len() as u16;
    m[2..4].copy_from_slice(&size.to_be_bytes());
    m[4] = n as u8;
    m
}

/// The largest sync datagram for an interface of `mtu` bytes (1500 when
/// unknown) and a group of family `af`: the MTU less the IP and UDP
/// headers (28 bytes for IPv4, 48 for IPv6), at most what a UDP length
/// can say, as the kernel sizes its own.
pub fn datagram_budget(mtu: Option<usize>, af: u16) -> usize {
    let headers = if af == AF_INET6 {
        HEADERS_V6
    } else {
        HEADERS_V4
    };
    mtu.unwrap_or(DEFAULT_MTU)
        .saturating_sub(headers)
        .min(65535 - headers)
}

/// The largest sync datagram for `iface` and the default (IPv4) group:
/// its MTU less the IPv4 and UDP headers (what the partner's backup daemon
/// reads at most), or 1472.
pub fn max_datagram(iface: &str) -> usize {
    max_datagram_for(iface, &IpAddr::V4(GROUP))
}

/// The largest sync datagram for `iface` and a group of `group`'s family
/// ([`datagram_budget`] of the interface's MTU).
pub fn max_datagram_for(iface: &str, group: &IpAddr) -> usize {
    let mtu = std::fs::read_to_string(format!("/sys/class/net/{iface}/mtu"))
        .ok()
        .and_then(|m| m.trim().parse::<usize>().ok());
    datagram_budget(mtu, af_of(group))
}

/// Send `datagrams` to the default sync group (224.0.0.81, port 8848) out
/// of `iface`; how many were sent.  See [`send_to`].
pub fn send(datagrams: &[Vec<u8>], iface: &str) -> io::Result<usize> {
    send_to(datagrams, iface, IpAddr::V4(GROUP), PORT)
}

/// Send `datagrams` to the multicast `group` and `port` out of `iface`;
/// how many were sent.  The socket is bound to the interface, sends with
/// a TTL (hop limit) of 1 and does not loop its datagrams back, as the
/// kernel's master daemon does; an IPv6 group also goes out of the
/// interface by index (`IPV6_MULTICAST_IF`, and the scope of a link-local
/// group).  A full socket buffer (ENOBUFS) waits a millisecond and tries
/// again, a few times.
pub fn send_to(datagrams: &[Vec<u8>], iface: &str, group: IpAddr, port: u16) -> io::Result<usize> {
    if !group.is_multicast() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("sync group {group} is not a multicast address"),
        ));
    }
    let (sock, to) = match group {
        IpAddr::V4(g) => {
            let sock = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?;
            bind_to_device(&sock, iface)?;
            sock.set_multicast_ttl_v4(1)?;
            sock.set_multicast_loop_v4(false)?;
            (sock, SocketAddr::V4(SocketAddrV4::new(g, port)))
        }
        IpAddr::V6(g) => {
            let sock = UdpSocket::bind((Ipv6Addr::UNSPECIFIED, 0))?;
            bind_to_device(&sock, iface)?;
            let index = ifindex(iface)?;
            set_int(
                &sock,
                libc::IPPROTO_IPV6,
                libc::IPV6_MULTICAST_IF,
                index as i32,
            )
            .map_err(|e| context(e, format!("failed to set IPV6_MULTICAST_IF {iface}")))?;
            set_int(&sock, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_HOPS, 1)
                .map_err(|e| context(e, "failed to set IPV6_MULTICAST_HOPS 1".into()))?;
            sock.set_multicast_loop_v6(false)?;
            (sock, SocketAddr::V6(SocketAddrV6::new(g, port, 0, index)))
        }
    };
    let mut n = 0;
    for d in datagrams {
        let mut tries = 0;
        loop {
            match sock.send_to(d, to) {
                Ok(_) => break,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) && tries < 20 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Err(e) => return Err(e),
            }
        }
        n += 1;
    }
    Ok(n)
}

/// `SO_BINDTODEVICE`: the socket sends out of `iface` only.
fn bind_to_device(sock: &UdpSocket, iface: &str) -> io::Result<()> {
    let name = iface.as_bytes();
    // SAFETY: setsockopt with a byte buffer of the given length.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            name.as_ptr().cast(),
            name.len() as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// An integer socket option.
fn set_int(sock: &UdpSocket, level: i32, name: i32, value: i32) -> io::Result<()> {
    // SAFETY: setsockopt with a pointer to an int and its size.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&value as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The index of interface `iface`.
fn ifindex(iface: &str) -> io::Result<u32> {
    let name = CString::new(iface).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("interface name {iface:?} holds a NUL byte"),
        )
    })?;
    // SAFETY: a valid NUL-terminated string.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if index == 0 {
        return Err(context(
            io::Error::last_os_error(),
            format!("failed to find interface {iface}"),
        ));
    }
    Ok(index)
}

/// `e` with what was being done in front, of the same kind.
fn context(e: io::Error, what: String) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// Read the connection table and send it to the default group out of
/// `iface`; how many connections went.  See [`push_table_to`].
pub fn push_table(iface: &str, syncid: u8, fwd: Forward) -> io::Result<usize> {
    push_table_to(iface, syncid, fwd, None, None)
}

/// Read the connection table and send it out of `iface` to `group` (the
/// kernel's 224.0.0.81 when `None`) and `port` (8848 when `None` or 0, as
/// the kernel reads a daemon's port); how many connections went.  The
/// datagrams are sized for the group's family ([`max_datagram_for`]).
pub fn push_table_to(
    iface: &str,
    syncid: u8,
    fwd: Forward,
    group: Option<IpAddr>,
    port: Option<u16>,
) -> io::Result<usize> {
    let group = group.unwrap_or(IpAddr::V4(GROUP));
    let port = port.filter(|&p| p != 0).unwrap_or(PORT);
    let text = std::fs::read_to_string("/proc/net/ip_vs_conn")?;
    let conns = parse_conns(&text);
    let datagrams = encode(&conns, syncid, fwd, max_datagram_for(iface, &group));
    send_to(&datagrams, iface, group, port)?;
    Ok(conns.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
TCP 0A090002 C350 0A090064 0050 0A080015 0050 ESTABLISHED     899
TCP 0A090002 C351 0A090064 0050 0A080016 0050 SYN_RECV         59
TCP 0A090002 0000 0A090064 0050 0A080016 0050 NONE            299
UDP 0A090002 8235 0A090064 0035 0A080017 0035 UDP             299
TCP 2001:0db8:0000:0000:0000:0000:0000:0002 C352 2001:0db8:0000:0000:0000:0000:0000:0064 0050 2001:db8::21 0050 ESTABLISHED 899
SCTP 0A090002 C353 0A090064 0050 0A080015 0050 ESTABLISHED     899
";

    #[test]
    fn the_table_is_read_as_the_kernel_prints_it() {
        let c = parse_conns(TABLE);
        assert_eq!(c.len(), 3, "{c:?}");
        assert_eq!(
            c[0],
            Conn {
                protocol: 6,
                caddr: Ipv4Addr::new(10, 9, 0, 2).into(),
                cport: 50000,
                vaddr: Ipv4Addr::new(10, 9, 0, 100).into(),
                vport: 80,
                daddr: Ipv4Addr::new(10, 8, 0, 21).into(),
                dport: 80,
                state: 1,
                expires: 899,
            }
        );
        assert_eq!(c[1].state, 3, "SYN_RECV");
        assert_eq!(c[1].expires, 59);
        assert_eq!((c[2].protocol, c[2].state, c[2].dport), (17, 0, 53));
    }

    #[test]
    fn messages_are_the_kernels_version_1_layout() {
        let c = parse_conns(TABLE);
        let d = encode(&c[..2], 7, Forward::Route, 1472);
        assert_eq!(d.len(), 1);
        let m = &d[0];
        assert_eq!(m.len(), 8 + 2 * 36);
        assert_eq!(
            &m[..8],
            &[0, 7, 0, 80, 2, 1, 0, 0],
            "header: size 80, 2 conns, v1"
        );
        let e = &m[8..44];
        assert_eq!(&e[..4], &[0, 6, 0, 36], "IPv4, TCP, version 0 size 36");
        assert_eq!(&e[4..8], &3u32.to_be_bytes(), "DROUTE, established");
        assert_eq!(&e[8..10], &1u16.to_be_bytes(), "ESTABLISHED");
        assert_eq!(&e[10..16], &[0xc3, 0x50, 0, 80, 0, 80], "ports");
        assert_eq!(&e[16..20], &[0; 4], "fwmark");
        assert_eq!(&e[20..24], &899u32.to_be_bytes(), "timeout: the time left");
        assert_eq!(&e[24..36], &[10, 9, 0, 2, 10, 9, 0, 100, 10, 8, 0, 21]);
        let e2 = &m[44..80];
        assert_eq!(
            &e2[4..8],
            &0x0103u32.to_be_bytes(),
            "not established: INACTIVE"
        );
    }

    #[test]
    fn a_big_table_is_split_into_datagrams_that_fit() {
        let one = parse_conns(TABLE)[0];
        let d = encode(&vec![one; 100], 0, Forward::Masq, 1472);
        assert_eq!(d.iter().map(|m| m[4] as usize).sum::<usize>(), 100);
        assert!(d.iter().all(|m| m.len() <= 1472));
        assert_eq!(d.len(), 3, "40 connections a datagram at 1500 bytes of MTU");
        let small = encode(&vec![one; 100], 0, Forward::Masq, 1400 - 28);
        assert!(
            small.iter().all(|m| m.len() <= 1372),
            "a smaller MTU, smaller datagrams"
        );
        for m in &d {
            assert_eq!(u16::from_be_bytes([m[2], m[3]]) as usize, m.len());
        }
    }

    /// IPv6 connections as the kernel prints them (`%pI6`: eight groups of
    /// four lower-case hex digits, never compressed), with a template, a
    /// connection to an IPv4 real server (a tunnel), an IPv4 client to an
    /// IPv6 real server, and a line not in the kernel's form.
    const TABLE6: &str = "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
TCP 2001:0db8:0000:0000:0000:0000:0000:0002 C352 2001:0db8:0000:0000:0000:0000:0000:0100 0050 2001:0db8:0000:0000:0000:0000:0000:0021 0050 ESTABLISHED     899
TCP 2001:0db8:0000:0000:0000:0000:0000:0002 C353 2001:0db8:0000:0000:0000:0000:0000:0100 0050 2001:0db8:0000:0000:0000:0000:0000:0022 0050 FIN_WAIT         97
UDP 2001:0db8:00ca:fe00:0000:0000:0000:beef D431 2001:0db8:0000:0000:0000:0000:0000:0100 0035 2001:0db8:0000:0000:0000:0000:0000:0021 0035 UDP             299
TCP 2001:0db8:0000:0000:0000:0000:0000:0002 0000 2001:0db8:0000:0000:0000:0000:0000:0100 0050 2001:0db8:0000:0000:0000:0000:0000:0021 0050 NONE            299
TCP 2001:0db8:0000:0000:0000:0000:0000:0003 C354 2001:0db8:0000:0000:0000:0000:0000:0100 0050 0A080015 0050 ESTABLISHED     899
TCP 0A090002 C355 0A090064 0050 2001:0db8:0000:0000:0000:0000:0000:0021 0050 ESTABLISHED     899
TCP 2001:db8::3 C356 2001:db8::100 0050 2001:db8::21 0050 ESTABLISHED     899
";

    fn v6(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv6_lines_are_read_as_the_kernel_prints_them() {
        let c = parse_conns(TABLE6);
        assert_eq!(c.len(), 3, "{c:?}");
        assert_eq!(
            c[0],
            Conn {
                protocol: 6,
                caddr: v6("2001:db8::2"),
                cport: 0xc352,
                vaddr: v6("2001:db8::100"),
                vport: 80,
                daddr: v6("2001:db8::21"),
                dport: 80,
                state: 1,
                expires: 899,
            }
        );
        assert_eq!((c[1].cport, c[1].state), (0xc353, 4), "FIN_WAIT");
        assert_eq!(
            (c[2].protocol, c[2].caddr, c[2].state, c[2].dport),
            (17, v6("2001:db8:ca:fe00::beef"), 0, 53)
        );
        assert!(c.iter().all(|c| c.af() == Some(crate::model::AF_INET6)));
    }

    #[test]
    fn only_the_kernels_address_forms_are_read() {
        let full = "2001:0db8:0000:0000:0000:0000:0000:0021";
        assert_eq!(proc_addr(full), Some(v6("2001:db8::21")));
        assert_eq!(
            proc_addr("FE80:0000:0000:0000:0000:0000:0000:00AB"),
            Some(v6("fe80::ab"))
        );
        assert_eq!(proc_addr("0A080015"), Some(v6("10.8.0.21")));
        for bad in [
            "2001:db8::21",
            "2001:0db8:0000:0000:0000:0000:0000:021",
            "2001:0db8:0000:0000:0000:0000:0000:00210",
            "2001:0db8:0000:0000:0000:0000:0000:0021:",
            "2001:0db8:0000:0000:0000:0000:0000::021",
            "2001:0db8:0000:0000:0000:0000:000g:0021",
            "[2001:0db8:0000:0000:0000:0000:0000:021]",
            "0A08001",
            "",
        ] {
            assert_eq!(proc_addr(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_ipv6_entry_is_the_kernels_ip_vs_sync_v6() {
        let c = parse_conns(TABLE6);
        let d = encode(&c, 7, Forward::Route, 1452);
        assert_eq!(d.len(), 1);
        let m = &d[0];
        assert_eq!(m.len(), 8 + 3 * 72);
        assert_eq!(
            &m[..8],
            &[0, 7, 0, 224, 3, 1, 0, 0],
            "header: size 224, 3 conns, v1"
        );
        #[rustfmt::skip]
        let golden: [u8; 72] = [
            1, 6, 0, 72, // STYPE_F_INET6, TCP, version 0 size 72
            0, 0, 0, 3, // DROUTE, established
            0, 1, // ESTABLISHED
            0xc3, 0x52, 0, 80, 0, 80, // cport, vport, dport
            0, 0, 0, 0, // fwmark
            0, 0, 0x03, 0x83, // timeout: 899 s left
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // caddr
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00, // vaddr
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x21, // daddr
        ];
        assert_eq!(&m[8..80], &golden[..]);
        let e2 = &m[80..152];
        assert_eq!(&e2[..4], &[1, 6, 0, 72]);
        assert_eq!(
            &e2[4..10],
            &[0, 0, 0x01, 0x03, 0, 4],
            "not established: INACTIVE, FIN_WAIT"
        );
        let e3 = &m[152..224];
        assert_eq!(&e3[..4], &[1, 17, 0, 72], "IPv6, UDP");
        assert_eq!(&e3[4..16], &[0, 0, 0, 3, 0, 0, 0xd4, 0x31, 0, 53, 0, 53]);
        assert_eq!(
            &e3[24..40],
            &Ipv6Addr::from([0x2001, 0xdb8, 0xca, 0xfe00, 0, 0, 0, 0xbeef]).octets()
        );
    }

    /// Walk a message as the kernel's backup daemon does
    /// (`ip_vs_process_message`): the header, then each entry by its own
    /// size; the entries' families in order.
    fn walk(m: &[u8]) -> Vec<u16> {
        assert_eq!(u16::from_be_bytes([m[2], m[3]]) as usize, m.len(), "size");
        assert_eq!((m[0], m[5], m[6], m[7]), (0, 1, 0, 0), "v1 header");
        let mut p = HEADER;
        let mut out = vec![];
        for _ in 0..m[4] {
            let ver_size = u16::from_be_bytes([m[p + 2], m[p + 3]]);
            assert_eq!(ver_size >> 12, 0, "entry version 0");
            let size = (ver_size & 0x0fff) as usize;
            let (af, want) = if m[p] & STYPE_F_INET6 != 0 {
                (crate::model::AF_INET6, ENTRY_V6)
            } else {
                assert_eq!(m[p], 0, "type");
                (crate::model::AF_INET, ENTRY_V4)
            };
            assert_eq!(size, want);
            out.push(af);
            p += (size + 3) & !3;
        }
        assert_eq!(p, m.len(), "nothing after the last entry");
        out
    }

    #[test]
    fn ipv4_and_ipv6_entries_share_datagrams_that_fit() {
        let four = parse_conns(TABLE)[0];
        let six = parse_conns(TABLE6)[0];
        let conns: Vec<Conn> = (0..100)
            .map(|i| if i % 3 == 0 { six } else { four })
            .collect();
        for max in [
            datagram_budget(Some(1500), crate::model::AF_INET),
            datagram_budget(Some(1500), crate::model::AF_INET6),
            datagram_budget(Some(1280), crate::model::AF_INET6),
        ] {
            let d = encode(&conns, 0, Forward::Masq, max);
            let families: Vec<u16> = d.iter().flat_map(|m| walk(m)).collect();
            let want: Vec<u16> = conns.iter().map(|c| c.af().unwrap()).collect();
            assert_eq!(families, want, "every connection, in order, at {max}");
            assert!(d.iter().all(|m| m.len() <= max), "at most {max} bytes");
            let mut next = 0;
            for m in &d[..d.len() - 1] {
                next += m[4] as usize;
                let size = if conns[next].af() == Some(crate::model::AF_INET6) {
                    ENTRY_V6
                } else {
                    ENTRY_V4
                };
                assert!(m.len() + size > max, "a datagram is filled before the next");
            }
        }
        let d = encode(&conns, 0, Forward::Masq, 1452);
        assert_eq!(d.len(), 4, "4824 bytes of entries in 1444-byte datagrams");
    }

    #[test]
    fn a_datagram_holds_at_most_255_connections() {
        let one = parse_conns(TABLE)[0];
        let d = encode(&vec![one; 300], 0, Forward::Route, 65507);
        assert_eq!(d.iter().map(|m| m[4]).collect::<Vec<_>>(), [255, 45]);
        assert_eq!(d[0].len(), 8 + 255 * 36);
    }

    #[test]
    fn a_connection_of_two_families_is_left_out() {
        let mut c = parse_conns(TABLE6);
        c[0].daddr = v6("10.8.0.21");
        assert_eq!(c[0].af(), None);
        let d = encode(&c, 0, Forward::Tunnel, 1452);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0][4], 2);
        assert!(encode(&c[..1], 0, Forward::Tunnel, 1452).is_empty());
    }

    #[test]
    fn the_budget_leaves_room_for_the_groups_headers() {
        use crate::model::{AF_INET, AF_INET6};
        assert_eq!(datagram_budget(Some(1500), AF_INET), 1472);
        assert_eq!(datagram_budget(Some(1500), AF_INET6), 1452);
        assert_eq!(datagram_budget(None, AF_INET), 1472);
        assert_eq!(datagram_budget(None, AF_INET6), 1452);
        assert_eq!(datagram_budget(Some(9000), AF_INET6), 8952);
        assert_eq!(datagram_budget(Some(65536), AF_INET), 65507);
        assert_eq!(datagram_budget(Some(65536), AF_INET6), 65487);
        assert_eq!(max_datagram("no-such-interface"), 1472);
        assert_eq!(
            max_datagram_for("no-such-interface", &v6("ff02::8:81")),
            1452
        );
    }

    #[test]
    fn a_group_must_be_multicast() {
        for group in ["10.0.0.1", "2001:db8::1"] {
            let e = send_to(&[], "lo", v6(group), PORT).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
            assert_eq!(
                e.to_string(),
                format!("sync group {group} is not a multicast address")
            );
        }
    }

    /// What `send_to` sends out of one end of a veth pair, to the default
    /// IPv4 group and to an IPv6 group on another port, arrives on the
    /// other end, byte for byte.  Runs itself again under `unshare -rn`
    /// (a user and network namespace of its own, gone when it exits);
    /// skipped where such namespaces or veth pairs cannot be made.
    #[test]
    fn datagrams_reach_the_group_on_the_interface() {
        const INNER: &str = "IPVS_SYNC_TEST_IN_NETNS";
        let name = "sync::tests::datagrams_reach_the_group_on_the_interface";
        if std::env::var_os(INNER).is_none() {
            let probe = std::process::Command::new("unshare")
                .args(["-rn", "ip", "link", "add", "sa", "type", "veth"])
                .args(["peer", "name", "sb"])
                .output();
            match probe {
                Ok(o) if o.status.success() => {}
                Ok(o) => {
                    eprintln!(
                        "skipped: no veth pair in a user and network namespace here: {}",
                        String::from_utf8_lossy(&o.stderr).trim()
                    );
                    return;
                }
                Err(e) => {
                    eprintln!("skipped: cannot run unshare: {e}");
                    return;
                }
            }
            let out = std::process::Command::new("unshare")
                .arg("-rn")
                .arg(std::env::current_exe().unwrap())
                .args(["--exact", name, "--nocapture", "--test-threads=1"])
                .env(INNER, "1")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "in the namespace:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        let ip = |args: &str| {
            let st = std::process::Command::new("ip")
                .args(args.split_whitespace())
                .status()
                .unwrap();
            assert!(st.success(), "ip {args}");
        };
        ip("link add sa type veth peer name sb");
        ip("addr add fd00::1/64 dev sa nodad");
        ip("addr add fd00::2/64 dev sb nodad");
        ip("link set sa up");
        ip("link set sb up");
        let sb = ifindex("sb").unwrap();
        let r4 = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, PORT)).unwrap();
        // By index: the interfaces have no IPv4 address (the datagrams
        // leave `sa` from 0.0.0.0, which a link-local group accepts).
        let mreq = libc::ip_mreqn {
            imr_multiaddr: libc::in_addr {
                s_addr: u32::from(GROUP).to_be(),
            },
            imr_address: libc::in_addr { s_addr: 0 },
            imr_ifindex: sb as i32,
        };
        // SAFETY: setsockopt with a pointer to an ip_mreqn and its size.
        let r = unsafe {
            libc::setsockopt(
                r4.as_raw_fd(),
                libc::IPPROTO_IP,
                libc::IP_ADD_MEMBERSHIP,
                (&mreq as *const libc::ip_mreqn).cast(),
                std::mem::size_of::<libc::ip_mreqn>() as libc::socklen_t,
            )
        };
        assert_eq!(r, 0, "{}", io::Error::last_os_error());
        let group6: Ipv6Addr = "ff02::8:81".parse().unwrap();
        let r6 = UdpSocket::bind((Ipv6Addr::UNSPECIFIED, PORT + 1)).unwrap();
        r6.join_multicast_v6(&group6, sb).unwrap();
        let mut conns = parse_conns(TABLE);
        conns.extend(parse_conns(TABLE6));
        let d = encode(&conns, 3, Forward::Route, 200);
        assert_eq!(d.len(), 2, "3 IPv4 and 1 IPv6, then 2 IPv6");
        assert_eq!(send(&d, "sa").unwrap(), 2);
        assert_eq!(send_to(&d, "sa", IpAddr::V6(group6), PORT + 1).unwrap(), 2);
        for r in [&r4, &r6] {
            r.set_read_timeout(Some(std::time::Duration::from_secs(5)))
                .unwrap();
            for want in &d {
                let mut buf = [0u8; 2048];
                let (n, _) = r.recv_from(&mut buf).unwrap();
                assert_eq!(&buf[..n], &want[..]);
            }
        }
    }
}
