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
//! Pure parts ([`parse_conns`], [`encode`]) are unit-tested; the kernel lab
//! checks what the partner makes of them (`tests/lab/role-change.sh`).

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;

/// The sync multicast group and port (the kernel's defaults).
pub const GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 81);
/// See [`GROUP`].
pub const PORT: u16 = 8848;
/// The largest datagram for a 1500-byte MTU (IPv4 and UDP headers off),
/// as the kernel sizes its own.
const MAX_DATAGRAM: usize = 1472;
const HEADER: usize = 8;
const ENTRY_V4: usize = 36;
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

/// One IPv4 connection of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conn {
    /// `IPPROTO_TCP` or `IPPROTO_UDP`.
    pub protocol: u8,
    /// Client.
    pub caddr: Ipv4Addr,
    /// Client port.
    pub cport: u16,
    /// Virtual address.
    pub vaddr: Ipv4Addr,
    /// Virtual port.
    pub vport: u16,
    /// Real server.
    pub daddr: Ipv4Addr,
    /// Real server port.
    pub dport: u16,
    /// The protocol's state number (`IP_VS_TCP_S_*`; 0 for UDP).
    pub state: u16,
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

/// The IPv4 TCP and UDP connections of `/proc/net/ip_vs_conn`; persistence
/// templates (state NONE or ASSURED), IPv6 and other protocols are left
/// out (the kernel's own sync daemon sends templates).
pub fn parse_conns(text: &str) -> Vec<Conn> {
    let hex_ip = |s: &str| {
        (s.len() == 8)
            .then(|| u32::from_str_radix(s, 16).ok())
            .flatten()
            .map(Ipv4Addr::from)
    };
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
                caddr: hex_ip(w[1])?,
                cport: hex_port(w[2])?,
                vaddr: hex_ip(w[3])?,
                vport: hex_port(w[4])?,
                daddr: hex_ip(w[5])?,
                dport: hex_port(w[6])?,
                state,
            })
        })
        .collect()
}

/// The datagrams (version 1 messages of at most `max` bytes, at least one
/// connection each) carrying `conns` for the backup daemons with `syncid`
/// (0: every backup accepts them).  Timeouts are sent as 0: the partner
/// gives each entry its own timeout for the state.
pub fn encode(conns: &[Conn], syncid: u8, fwd: Forward, max: usize) -> Vec<Vec<u8>> {
    let per = (max.saturating_sub(HEADER) / ENTRY_V4).clamp(1, 255);
    conns
        .chunks(per)
        .map(|chunk| {
            let size = HEADER + chunk.len() * ENTRY_V4;
            let mut m = Vec::with_capacity(size);
            m.push(0); // reserved
            m.push(syncid);
            m.extend_from_slice(&(size as u16).to_be_bytes());
            m.push(chunk.len() as u8);
            m.push(1); // version
            m.extend_from_slice(&[0, 0]); // spare
            for c in chunk {
                let established = c.protocol != libc::IPPROTO_TCP as u8 || c.state == 1;
                let flags = fwd.flags() | if established { 0 } else { F_INACTIVE };
                m.push(0); // type: IPv4
                m.push(c.protocol);
                m.extend_from_slice(&(ENTRY_V4 as u16).to_be_bytes()); // version 0, size
                m.extend_from_slice(&flags.to_be_bytes());
                m.extend_from_slice(&c.state.to_be_bytes());
                m.extend_from_slice(&c.cport.to_be_bytes());
                m.extend_from_slice(&c.vport.to_be_bytes());
                m.extend_from_slice(&c.dport.to_be_bytes());
                m.extend_from_slice(&0u32.to_be_bytes()); // fwmark
                m.extend_from_slice(&0u32.to_be_bytes()); // timeout
                m.extend_from_slice(&c.caddr.octets());
                m.extend_from_slice(&c.vaddr.octets());
                m.extend_from_slice(&c.daddr.octets());
            }
            m
        })
        .collect()
}

/// The largest sync datagram for `iface`: its MTU less the IPv4 and UDP
/// headers (what the partner's backup daemon reads at most), or 1472.
pub fn max_datagram(iface: &str) -> usize {
    std::fs::read_to_string(format!("/sys/class/net/{iface}/mtu"))
        .ok()
        .and_then(|m| m.trim().parse::<usize>().ok())
        .map_or(MAX_DATAGRAM, |mtu| mtu.saturating_sub(28).min(65507))
}

/// Send `datagrams` to the sync group out of `iface`; how many were sent.
/// A full socket buffer (ENOBUFS) waits a millisecond and tries again,
/// a few times.
pub fn send(datagrams: &[Vec<u8>], iface: &str) -> io::Result<usize> {
    let sock = UdpSocket::bind("0.0.0.0:0")?;
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
    sock.set_multicast_ttl_v4(1)?;
    sock.set_multicast_loop_v4(false)?;
    let to = SocketAddrV4::new(GROUP, PORT);
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

/// Read the connection table and send it out of `iface`; how many
/// connections went.
pub fn push_table(iface: &str, syncid: u8, fwd: Forward) -> io::Result<usize> {
    let text = std::fs::read_to_string("/proc/net/ip_vs_conn")?;
    let conns = parse_conns(&text);
    send(&encode(&conns, syncid, fwd, max_datagram(iface)), iface)?;
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
                caddr: Ipv4Addr::new(10, 9, 0, 2),
                cport: 50000,
                vaddr: Ipv4Addr::new(10, 9, 0, 100),
                vport: 80,
                daddr: Ipv4Addr::new(10, 8, 0, 21),
                dport: 80,
                state: 1,
            }
        );
        assert_eq!(c[1].state, 3, "SYN_RECV");
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
        assert_eq!(&e[16..24], &[0; 8], "fwmark, timeout");
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
}
