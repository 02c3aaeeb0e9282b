//! The dns check: one query over UDP, the reply checked.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

use nix::poll::PollFlags;
use nix::sys::socket::{connect, SockType, SockaddrStorage};
use piranha_runtime::spawn::Interrupt;

use crate::check::{wait_fd, Wait};

use super::io::*;

/// Why a DNS query could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadQuery {
    /// Not one of the types the check asks for.
    #[error("unknown query type {0}")]
    Type(String),
    /// Not a domain name.
    #[error("bad name {name}: {reason}")]
    Name { name: String, reason: String },
    /// The encoder refused the packet.
    #[error("cannot build query: {0}")]
    Build(String),
}

/// Build a query for `name` of type `qtype` with id `id`.
pub fn dns_query(id: u16, name: &str, qtype: &str) -> Result<Vec<u8>, BadQuery> {
    use simple_dns::{Name, Packet, Question, CLASS, QCLASS, QTYPE, TYPE};
    let t = match qtype {
        "A" => TYPE::A,
        "NS" => TYPE::NS,
        "CNAME" => TYPE::CNAME,
        "SOA" => TYPE::SOA,
        "MX" => TYPE::MX,
        "TXT" => TYPE::TXT,
        "AAAA" => TYPE::AAAA,
        other => return Err(BadQuery::Type(other.to_string())),
    };
    let qname = name.trim_end_matches('.');
    let n = Name::new(qname).map_err(|e| BadQuery::Name {
        name: name.to_string(),
        reason: e.to_string(),
    })?;
    let mut p = Packet::new_query(id);
    p.set_flags(simple_dns::PacketFlag::RECURSION_DESIRED);
    p.questions.push(Question::new(
        n,
        QTYPE::TYPE(t),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    p.build_bytes_vec()
        .map_err(|e| BadQuery::Build(e.to_string()))
}

/// Check a DNS reply to query `id`: a response with that id and RCODE 0.
pub fn check_dns_reply(buf: &[u8], id: u16) -> Result<(), Garbled> {
    if buf.len() < 12 {
        return Err(Garbled::DnsShort(buf.len()));
    }
    let rid = u16::from_be_bytes([buf[0], buf[1]]);
    if rid != id {
        return Err(Garbled::DnsId { got: rid, want: id });
    }
    if buf[2] & 0x80 == 0 {
        return Err(Garbled::DnsNotResponse);
    }
    let rcode = buf[3] & 0x0f;
    if rcode != 0 {
        return Err(Garbled::DnsRcode(rcode));
    }
    simple_dns::Packet::parse(buf).map_err(|e| Garbled::DnsMalformed(e.to_string()))?;
    Ok(())
}

/// The dns check: one query over UDP, the reply checked.
pub fn dns_check(
    addr: SocketAddr,
    name: &str,
    qtype: &str,
    timeout: Duration,
    intr: Option<&Interrupt<'_>>,
) -> Res<()> {
    let deadline = Instant::now() + timeout;
    let mut idb = [0u8; 2];
    let _ = getrandom::fill(&mut idb);
    let id = u16::from_ne_bytes(idb);
    let q = dns_query(id, name, qtype).map_err(|e| Fail::Down(e.to_string()))?;
    let fd = nonblocking_socket(super::io::family_of(&addr), SockType::Datagram)?;
    connect(fd.as_raw_fd(), &SockaddrStorage::from(addr))
        .or_else(|e| down(format!("connect to {addr}: {}", e.desc())))?;
    let sock = UdpSocket::from(fd);
    sock.send(&q).map_err(|e| io_fail("send query", &e))?;
    let mut buf = vec![0u8; MAX_DNS];
    loop {
        match wait_fd(sock.as_fd(), PollFlags::POLLIN, deadline, intr) {
            Wait::Ready => {}
            Wait::TimedOut => return down("no reply: timed out"),
            Wait::Interrupted => return Err(Fail::Interrupted),
        }
        match sock.recv(&mut buf) {
            Ok(n) => {
                // A stray datagram with another id is ignored, not a failure.
                if n >= 2 && u16::from_be_bytes([buf[0], buf[1]]) != id {
                    continue;
                }
                return check_dns_reply(&buf[..n], id).map_err(|e| Fail::Down(e.to_string()));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_fail("receive reply", &e)),
        }
    }
}
