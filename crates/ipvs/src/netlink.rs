//! The generic-netlink `IPVS` family: typed messages and the blocking client.
//!
//! Framing, attribute alignment and header layout come from the rust-netlink
//! crates (`netlink-packet-core`, `netlink-packet-generic`, `netlink-sys`);
//! this module only defines the IPVS commands and attribute spaces
//! (`include/uapi/linux/ip_vs.h`) and the request/acknowledge loop.
//!
//! One [`NetlinkIpvs`] holds one socket and resolves the family once. Bulk
//! changes go through [`crate::IpvsBackend::apply`], which writes many requests
//! per `send` and collects their acknowledgements in order, so a restore of
//! thousands of entries costs a few hundred system calls, not a socket (or a
//! process) per entry.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{
    emit_u16, emit_u16_be, emit_u32, parse_string, parse_u16, parse_u16_be, parse_u32, parse_u64,
    parse_u8, DecodeError, DefaultNla, Emitable, NetlinkBuffer, NetlinkHeader, NetlinkMessage,
    NetlinkPayload, Nla, NlaBuffer, NlasIterator, Parseable, ParseableParametrized, NLM_F_ACK,
    NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::{GenlFamily, GenlHeader, GenlMessage};
use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};

use crate::error::{Error, OpKind};
use crate::model::*;
use crate::{IpvsBackend, Op};

/// Generic netlink family name.
pub const IPVS_GENL_NAME: &str = "IPVS";
/// Generic netlink family version.
pub const IPVS_GENL_VERSION: u8 = 1;

/// IPVS generic-netlink commands.
#[allow(missing_docs)]
pub mod cmd {
    pub const NEW_SERVICE: u8 = 1;
    pub const SET_SERVICE: u8 = 2;
    pub const DEL_SERVICE: u8 = 3;
    pub const GET_SERVICE: u8 = 4;
    pub const NEW_DEST: u8 = 5;
    pub const SET_DEST: u8 = 6;
    pub const DEL_DEST: u8 = 7;
    pub const GET_DEST: u8 = 8;
    pub const NEW_DAEMON: u8 = 9;
    pub const DEL_DAEMON: u8 = 10;
    pub const GET_DAEMON: u8 = 11;
    pub const SET_CONFIG: u8 = 12;
    pub const GET_CONFIG: u8 = 13;
    pub const SET_INFO: u8 = 14;
    pub const GET_INFO: u8 = 15;
    pub const ZERO: u8 = 16;
    pub const FLUSH: u8 = 17;
}

/// Counter attribute (both `STATS` with 32/64-bit members and `STATS64`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsNla {
    /// `IPVS_STATS_ATTR_*` number (1 CONNS .. 10 OUTBPS).
    pub kind: u16,
    /// Value, widened.
    pub value: u64,
}

fn parse_stats(payload: &[u8]) -> Result<Stats, DecodeError> {
    let mut s = Stats::default();
    for nla in NlasIterator::new(payload) {
        let nla = nla?;
        let v = nla.value();
        let value = match v.len() {
            4 => parse_u32(v)? as u64,
            8 => parse_u64(v)?,
            _ => continue,
        };
        match nla.kind() {
            1 => s.conns = value,
            2 => s.inpkts = value,
            3 => s.outpkts = value,
            4 => s.inbytes = value,
            5 => s.outbytes = value,
            6 => s.cps = value,
            7 => s.inpps = value,
            8 => s.outpps = value,
            9 => s.inbps = value,
            10 => s.outbps = value,
            _ => {}
        }
    }
    Ok(s)
}

fn addr_bytes(addr: &IpAddr) -> [u8; 16] {
    let mut b = [0u8; 16];
    match addr {
        IpAddr::V4(a) => b[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => b.copy_from_slice(&a.octets()),
    }
    b
}

fn addr_from(af: u16, v: &[u8]) -> IpAddr {
    if af == AF_INET6 && v.len() >= 16 {
        let mut b = [0u8; 16];
        b.copy_from_slice(&v[..16]);
        IpAddr::V6(Ipv6Addr::from(b))
    } else if v.len() >= 4 {
        IpAddr::V4(Ipv4Addr::new(v[0], v[1], v[2], v[3]))
    } else {
        unspecified(af)
    }
}

/// Attributes of the `SERVICE` nest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SvcNla {
    /// 1: address family.
    Af(u16),
    /// 2: IP protocol.
    Protocol(u16),
    /// 3: address, 16 bytes (IPv4 in the first four).
    Addr([u8; 16]),
    /// 4: port, host order (sent in network order).
    Port(u16),
    /// 5: firewall mark.
    Fwmark(u32),
    /// 6: scheduler name.
    SchedName(String),
    /// 7: flags and the mask of flags to change.
    Flags {
        /// New flag bits.
        flags: u32,
        /// Which bits to change.
        mask: u32,
    },
    /// 8: persistence timeout, seconds.
    Timeout(u32),
    /// 9: netmask as it is on the wire (IPv4 mask bytes or IPv6 prefix length).
    Netmask([u8; 4]),
    /// 10 / 12: counters.
    Stats(Stats),
    /// 11: persistence engine.
    PeName(String),
    /// Anything else.
    Other(DefaultNla),
}

fn str_len(s: &str) -> usize {
    s.len() + 1
}

fn emit_str(buf: &mut [u8], s: &str) {
    buf[..s.len()].copy_from_slice(s.as_bytes());
    buf[s.len()] = 0;
}

impl Nla for SvcNla {
    fn value_len(&self) -> usize {
        match self {
            SvcNla::Af(_) | SvcNla::Protocol(_) | SvcNla::Port(_) => 2,
            SvcNla::Addr(_) => 16,
            SvcNla::Fwmark(_) | SvcNla::Timeout(_) | SvcNla::Netmask(_) => 4,
            SvcNla::SchedName(s) | SvcNla::PeName(s) => str_len(s),
            SvcNla::Flags { .. } => 8,
            SvcNla::Stats(_) => 0,
            SvcNla::Other(n) => n.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            SvcNla::Af(_) => 1,
            SvcNla::Protocol(_) => 2,
            SvcNla::Addr(_) => 3,
            SvcNla::Port(_) => 4,
            SvcNla::Fwmark(_) => 5,
            SvcNla::SchedName(_) => 6,
            SvcNla::Flags { .. } => 7,
            SvcNla::Timeout(_) => 8,
            SvcNla::Netmask(_) => 9,
            SvcNla::Stats(_) => 12,
            SvcNla::PeName(_) => 11,
            SvcNla::Other(n) => n.kind(),
        }
    }

    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            SvcNla::Af(v) | SvcNla::Protocol(v) => emit_u16(buf, *v).unwrap(),
            SvcNla::Port(v) => emit_u16_be(buf, *v).unwrap(),
            SvcNla::Addr(a) => buf[..16].copy_from_slice(a),
            SvcNla::Fwmark(v) | SvcNla::Timeout(v) => emit_u32(buf, *v).unwrap(),
            SvcNla::Netmask(b) => buf[..4].copy_from_slice(b),
            SvcNla::SchedName(s) | SvcNla::PeName(s) => emit_str(buf, s),
            SvcNla::Flags { flags, mask } => {
                emit_u32(&mut buf[..4], *flags).unwrap();
                emit_u32(&mut buf[4..8], *mask).unwrap();
            }
            SvcNla::Stats(_) => {}
            SvcNla::Other(n) => n.emit_value(buf),
        }
    }

    fn is_nested(&self) -> bool {
        matches!(self, SvcNla::Stats(_))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for SvcNla {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let v = buf.value();
        Ok(match buf.kind() {
            1 => SvcNla::Af(parse_u16(v)?),
            2 => SvcNla::Protocol(parse_u16(v)?),
            3 => {
                let mut a = [0u8; 16];
                let n = v.len().min(16);
                a[..n].copy_from_slice(&v[..n]);
                SvcNla::Addr(a)
            }
            4 => SvcNla::Port(parse_u16_be(v)?),
            5 => SvcNla::Fwmark(parse_u32(v)?),
            6 => SvcNla::SchedName(parse_string(v)?),
            7 if v.len() >= 8 => SvcNla::Flags {
                flags: parse_u32(&v[..4])?,
                mask: parse_u32(&v[4..8])?,
            },
            8 => SvcNla::Timeout(parse_u32(v)?),
            9 if v.len() >= 4 => SvcNla::Netmask([v[0], v[1], v[2], v[3]]),
            10 | 12 => SvcNla::Stats(parse_stats(v)?),
            11 => SvcNla::PeName(parse_string(v)?),
            _ => SvcNla::Other(DefaultNla::parse(buf)?),
        })
    }
}

/// Attributes of the `DEST` nest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestNla {
    /// 1: address, 16 bytes.
    Addr([u8; 16]),
    /// 2: port, host order (network order on the wire).
    Port(u16),
    /// 3: forwarding method.
    FwdMethod(u32),
    /// 4: weight.
    Weight(u32),
    /// 5: upper threshold.
    UThresh(u32),
    /// 6: lower threshold.
    LThresh(u32),
    /// 7: active connections.
    ActiveConns(u32),
    /// 8: inactive connections.
    InactConns(u32),
    /// 9: persistence templates.
    PersistConns(u32),
    /// 10 / 12: counters.
    Stats(Stats),
    /// 11: address family of the real server.
    AddrFamily(u16),
    /// 13: tunnel type.
    TunType(u8),
    /// 14: tunnel port, host order (network order on the wire).
    TunPort(u16),
    /// 15: tunnel checksum flags.
    TunFlags(u16),
    /// Anything else.
    Other(DefaultNla),
}

impl Nla for DestNla {
    fn value_len(&self) -> usize {
        match self {
            DestNla::Addr(_) => 16,
            DestNla::Port(_)
            | DestNla::AddrFamily(_)
            | DestNla::TunPort(_)
            | DestNla::TunFlags(_) => 2,
            DestNla::TunType(_) => 1,
            DestNla::Stats(_) => 0,
            DestNla::Other(n) => n.value_len(),
            _ => 4,
        }
    }

    fn kind(&self) -> u16 {
        match self {
            DestNla::Addr(_) => 1,
            DestNla::Port(_) => 2,
            DestNla::FwdMethod(_) => 3,
            DestNla::Weight(_) => 4,
            DestNla::UThresh(_) => 5,
            DestNla::LThresh(_) => 6,
            DestNla::ActiveConns(_) => 7,
            DestNla::InactConns(_) => 8,
            DestNla::PersistConns(_) => 9,
            DestNla::Stats(_) => 12,
            DestNla::AddrFamily(_) => 11,
            DestNla::TunType(_) => 13,
            DestNla::TunPort(_) => 14,
            DestNla::TunFlags(_) => 15,
            DestNla::Other(n) => n.kind(),
        }
    }

    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            DestNla::Addr(a) => buf[..16].copy_from_slice(a),
            DestNla::Port(v) | DestNla::TunPort(v) => emit_u16_be(buf, *v).unwrap(),
            DestNla::AddrFamily(v) | DestNla::TunFlags(v) => emit_u16(buf, *v).unwrap(),
            DestNla::TunType(v) => buf[0] = *v,
            DestNla::FwdMethod(v)
            | DestNla::Weight(v)
            | DestNla::UThresh(v)
            | DestNla::LThresh(v)
            | DestNla::ActiveConns(v)
            | DestNla::InactConns(v)
            | DestNla::PersistConns(v) => emit_u32(buf, *v).unwrap(),
            DestNla::Stats(_) => {}
            DestNla::Other(n) => n.emit_value(buf),
        }
    }

    fn is_nested(&self) -> bool {
        matches!(self, DestNla::Stats(_))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for DestNla {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let v = buf.value();
        Ok(match buf.kind() {
            1 => {
                let mut a = [0u8; 16];
                let n = v.len().min(16);
                a[..n].copy_from_slice(&v[..n]);
                DestNla::Addr(a)
            }
            2 => DestNla::Port(parse_u16_be(v)?),
            3 => DestNla::FwdMethod(parse_u32(v)?),
            4 => DestNla::Weight(parse_u32(v)?),
            5 => DestNla::UThresh(parse_u32(v)?),
            6 => DestNla::LThresh(parse_u32(v)?),
            7 => DestNla::ActiveConns(parse_u32(v)?),
            8 => DestNla::InactConns(parse_u32(v)?),
            9 => DestNla::PersistConns(parse_u32(v)?),
            10 | 12 => DestNla::Stats(parse_stats(v)?),
            11 => DestNla::AddrFamily(parse_u16(v)?),
            13 => DestNla::TunType(parse_u8(v)?),
            14 => DestNla::TunPort(parse_u16_be(v)?),
            15 => DestNla::TunFlags(parse_u16(v)?),
            _ => DestNla::Other(DefaultNla::parse(buf)?),
        })
    }
}

/// Attributes of the `DAEMON` nest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaemonNla {
    /// 1: master (1) or backup (2).
    State(u32),
    /// 2: multicast interface.
    McastIfn(String),
    /// 3: sync id.
    SyncId(u32),
    /// 4: maximum message length.
    SyncMaxlen(u16),
    /// 5: IPv4 multicast group.
    McastGroup(Ipv4Addr),
    /// 6: IPv6 multicast group.
    McastGroup6(Ipv6Addr),
    /// 7: multicast port (host order).
    McastPort(u16),
    /// 8: multicast TTL.
    McastTtl(u8),
    /// Anything else.
    Other(DefaultNla),
}

impl Nla for DaemonNla {
    fn value_len(&self) -> usize {
        match self {
            DaemonNla::State(_) | DaemonNla::SyncId(_) | DaemonNla::McastGroup(_) => 4,
            DaemonNla::McastIfn(s) => str_len(s),
            DaemonNla::SyncMaxlen(_) | DaemonNla::McastPort(_) => 2,
            DaemonNla::McastGroup6(_) => 16,
            DaemonNla::McastTtl(_) => 1,
            DaemonNla::Other(n) => n.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            DaemonNla::State(_) => 1,
            DaemonNla::McastIfn(_) => 2,
            DaemonNla::SyncId(_) => 3,
            DaemonNla::SyncMaxlen(_) => 4,
            DaemonNla::McastGroup(_) => 5,
            DaemonNla::McastGroup6(_) => 6,
            DaemonNla::McastPort(_) => 7,
            DaemonNla::McastTtl(_) => 8,
            DaemonNla::Other(n) => n.kind(),
        }
    }

    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            DaemonNla::State(v) | DaemonNla::SyncId(v) => emit_u32(buf, *v).unwrap(),
            DaemonNla::McastIfn(s) => emit_str(buf, s),
            DaemonNla::SyncMaxlen(v) | DaemonNla::McastPort(v) => emit_u16(buf, *v).unwrap(),
            DaemonNla::McastGroup(a) => buf[..4].copy_from_slice(&a.octets()),
            DaemonNla::McastGroup6(a) => buf[..16].copy_from_slice(&a.octets()),
            DaemonNla::McastTtl(v) => buf[0] = *v,
            DaemonNla::Other(n) => n.emit_value(buf),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for DaemonNla {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let v = buf.value();
        Ok(match buf.kind() {
            1 => DaemonNla::State(parse_u32(v)?),
            2 => DaemonNla::McastIfn(parse_string(v)?),
            3 => DaemonNla::SyncId(parse_u32(v)?),
            4 => DaemonNla::SyncMaxlen(parse_u16(v)?),
            5 if v.len() >= 4 => DaemonNla::McastGroup(Ipv4Addr::new(v[0], v[1], v[2], v[3])),
            6 if v.len() >= 16 => {
                let mut b = [0u8; 16];
                b.copy_from_slice(&v[..16]);
                DaemonNla::McastGroup6(Ipv6Addr::from(b))
            }
            7 => DaemonNla::McastPort(parse_u16(v)?),
            8 => DaemonNla::McastTtl(parse_u8(v)?),
            _ => DaemonNla::Other(DefaultNla::parse(buf)?),
        })
    }
}

/// Top-level attributes of an IPVS message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdNla {
    /// 1: service nest.
    Service(Vec<SvcNla>),
    /// 2: destination nest.
    Dest(Vec<DestNla>),
    /// 3: daemon nest.
    Daemon(Vec<DaemonNla>),
    /// 4: TCP timeout.
    TimeoutTcp(u32),
    /// 5: TCP FIN timeout.
    TimeoutTcpFin(u32),
    /// 6: UDP timeout.
    TimeoutUdp(u32),
    /// `SET_INFO` replies, 1: version code.
    InfoVersion(u32),
    /// `SET_INFO` replies, 2: connection table size.
    InfoConnTabSize(u32),
    /// Anything else.
    Other(DefaultNla),
}

impl Nla for CmdNla {
    fn value_len(&self) -> usize {
        match self {
            CmdNla::Service(v) => v.as_slice().buffer_len(),
            CmdNla::Dest(v) => v.as_slice().buffer_len(),
            CmdNla::Daemon(v) => v.as_slice().buffer_len(),
            CmdNla::Other(n) => n.value_len(),
            _ => 4,
        }
    }

    fn kind(&self) -> u16 {
        match self {
            CmdNla::Service(_) => 1,
            CmdNla::Dest(_) => 2,
            CmdNla::Daemon(_) => 3,
            CmdNla::TimeoutTcp(_) => 4,
            CmdNla::TimeoutTcpFin(_) => 5,
            CmdNla::TimeoutUdp(_) => 6,
            CmdNla::InfoVersion(_) => 1,
            CmdNla::InfoConnTabSize(_) => 2,
            CmdNla::Other(n) => n.kind(),
        }
    }

    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            CmdNla::Service(v) => v.as_slice().emit(buf),
            CmdNla::Dest(v) => v.as_slice().emit(buf),
            CmdNla::Daemon(v) => v.as_slice().emit(buf),
            CmdNla::TimeoutTcp(v)
            | CmdNla::TimeoutTcpFin(v)
            | CmdNla::TimeoutUdp(v)
            | CmdNla::InfoVersion(v)
            | CmdNla::InfoConnTabSize(v) => emit_u32(buf, *v).unwrap(),
            CmdNla::Other(n) => n.emit_value(buf),
        }
    }

    fn is_nested(&self) -> bool {
        matches!(
            self,
            CmdNla::Service(_) | CmdNla::Dest(_) | CmdNla::Daemon(_)
        )
    }
}

fn parse_nested<N>(v: &[u8]) -> Result<Vec<N>, DecodeError>
where
    N: for<'a> Parseable<NlaBuffer<&'a [u8]>>,
{
    let mut out = Vec::new();
    for nla in NlasIterator::new(v) {
        out.push(N::parse(&nla?)?);
    }
    Ok(out)
}

/// An IPVS generic-netlink message: a command and its attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpvsMessage {
    /// One of [`cmd`].
    pub cmd: u8,
    /// Top-level attributes.
    pub nlas: Vec<CmdNla>,
}

impl GenlFamily for IpvsMessage {
    fn family_name() -> &'static str {
        IPVS_GENL_NAME
    }

    fn command(&self) -> u8 {
        self.cmd
    }

    fn version(&self) -> u8 {
        IPVS_GENL_VERSION
    }
}

impl Emitable for IpvsMessage {
    fn buffer_len(&self) -> usize {
        self.nlas.as_slice().buffer_len()
    }

    fn emit(&self, buffer: &mut [u8]) {
        self.nlas.as_slice().emit(buffer)
    }
}

impl ParseableParametrized<[u8], GenlHeader> for IpvsMessage {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        let mut nlas = Vec::new();
        for nla in NlasIterator::new(buf) {
            let nla = nla?;
            let v = nla.value();
            let parsed = if header.cmd == cmd::SET_INFO {
                match nla.kind() {
                    1 => CmdNla::InfoVersion(parse_u32(v)?),
                    2 => CmdNla::InfoConnTabSize(parse_u32(v)?),
                    _ => CmdNla::Other(DefaultNla::parse(&nla)?),
                }
            } else {
                match nla.kind() {
                    1 => CmdNla::Service(parse_nested(v)?),
                    2 => CmdNla::Dest(parse_nested(v)?),
                    3 => CmdNla::Daemon(parse_nested(v)?),
                    4 => CmdNla::TimeoutTcp(parse_u32(v)?),
                    5 => CmdNla::TimeoutTcpFin(parse_u32(v)?),
                    6 => CmdNla::TimeoutUdp(parse_u32(v)?),
                    _ => CmdNla::Other(DefaultNla::parse(&nla)?),
                }
            };
            nlas.push(parsed);
        }
        Ok(IpvsMessage {
            cmd: header.cmd,
            nlas,
        })
    }
}

// ------------------------------------------------------------------ model <-> attributes

/// The identifying attributes of a service (what `GET_DEST` wants).
pub fn service_id_nlas(s: &Service) -> Vec<SvcNla> {
    let mut v = vec![SvcNla::Af(s.af)];
    if s.fwmark != 0 {
        v.push(SvcNla::Fwmark(s.fwmark));
    } else {
        v.push(SvcNla::Protocol(s.protocol));
        v.push(SvcNla::Addr(addr_bytes(&s.addr)));
        v.push(SvcNla::Port(s.port));
    }
    v
}

fn netmask_wire(s: &Service) -> [u8; 4] {
    if s.af == AF_INET6 {
        s.netmask.to_ne_bytes()
    } else {
        s.netmask.to_be_bytes()
    }
}

/// All service attributes as ipvsadm sends them (flags with a full mask, so
/// an edit replaces every flag).
pub fn service_nlas(s: &Service) -> Vec<SvcNla> {
    let mut v = service_id_nlas(s);
    v.push(SvcNla::SchedName(s.sched_name.clone()));
    if !s.pe_name.is_empty() {
        v.push(SvcNla::PeName(s.pe_name.clone()));
    }
    v.push(SvcNla::Flags {
        flags: s.flags,
        mask: !0,
    });
    v.push(SvcNla::Timeout(s.timeout));
    v.push(SvcNla::Netmask(netmask_wire(s)));
    v
}

/// All destination attributes as ipvsadm sends them.
pub fn dest_nlas(d: &Destination) -> Vec<DestNla> {
    vec![
        DestNla::AddrFamily(d.af),
        DestNla::Addr(addr_bytes(&d.addr)),
        DestNla::Port(d.port),
        DestNla::FwdMethod(d.fwd.to_kernel()),
        DestNla::Weight(d.weight as u32),
        DestNla::TunType(d.tun_type.to_kernel()),
        DestNla::TunPort(d.tun_port),
        DestNla::TunFlags(d.tun_flags),
        DestNla::UThresh(d.u_threshold),
        DestNla::LThresh(d.l_threshold),
    ]
}

/// Decode a service nest.
pub fn service_from_nlas(nlas: &[SvcNla]) -> Service {
    let mut s = Service {
        netmask: 0,
        ..Service::default()
    };
    let mut addr = None;
    let mut mask = [0u8; 4];
    for n in nlas {
        match n {
            SvcNla::Af(v) => s.af = *v,
            SvcNla::Protocol(v) => s.protocol = *v,
            SvcNla::Addr(a) => addr = Some(*a),
            SvcNla::Port(v) => s.port = *v,
            SvcNla::Fwmark(v) => s.fwmark = *v,
            SvcNla::SchedName(v) => s.sched_name = v.clone(),
            SvcNla::PeName(v) => s.pe_name = v.clone(),
            SvcNla::Flags { flags, mask } => s.flags = flags & mask,
            SvcNla::Timeout(v) => s.timeout = *v,
            SvcNla::Netmask(b) => mask = *b,
            SvcNla::Stats(st) => s.stats = *st,
            SvcNla::Other(_) => {}
        }
    }
    s.addr = match addr {
        Some(a) => addr_from(s.af, &a),
        None => unspecified(s.af),
    };
    s.netmask = if s.af == AF_INET6 {
        u32::from_ne_bytes(mask)
    } else {
        u32::from_be_bytes(mask)
    };
    s
}

/// Decode a destination nest; `svc_af` applies when the kernel omits the
/// destination's own family.
pub fn dest_from_nlas(nlas: &[DestNla], svc_af: u16) -> Destination {
    let mut d = Destination {
        af: svc_af,
        weight: 0,
        ..Destination::default()
    };
    let mut addr = [0u8; 16];
    for n in nlas {
        match n {
            DestNla::Addr(a) => addr = *a,
            DestNla::Port(v) => d.port = *v,
            DestNla::FwdMethod(v) => d.fwd = Forward::from_kernel(*v),
            DestNla::Weight(v) => d.weight = *v as i32,
            DestNla::UThresh(v) => d.u_threshold = *v,
            DestNla::LThresh(v) => d.l_threshold = *v,
            DestNla::ActiveConns(v) => d.active_conns = *v,
            DestNla::InactConns(v) => d.inact_conns = *v,
            DestNla::PersistConns(v) => d.persist_conns = *v,
            DestNla::Stats(st) => d.stats = *st,
            DestNla::AddrFamily(v) if *v != 0 => d.af = *v,
            DestNla::AddrFamily(_) => {}
            DestNla::TunType(v) => d.tun_type = TunnelType::from_kernel(*v),
            DestNla::TunPort(v) => d.tun_port = *v,
            DestNla::TunFlags(v) => d.tun_flags = *v,
            DestNla::Other(_) => {}
        }
    }
    d.addr = addr_from(d.af, &addr);
    d
}

/// Decode a daemon nest.
pub fn daemon_from_nlas(nlas: &[DaemonNla]) -> Daemon {
    let mut d = Daemon::default();
    let mut g4 = None;
    let mut g6 = None;
    for n in nlas {
        match n {
            DaemonNla::State(v) => d.state = *v,
            DaemonNla::McastIfn(v) => d.mcast_ifn = v.clone(),
            DaemonNla::SyncId(v) => d.syncid = *v,
            DaemonNla::SyncMaxlen(v) => d.sync_maxlen = *v,
            DaemonNla::McastGroup(a) => g4 = Some(IpAddr::V4(*a)),
            DaemonNla::McastGroup6(a) => g6 = Some(IpAddr::V6(*a)),
            DaemonNla::McastPort(v) => d.mcast_port = *v,
            DaemonNla::McastTtl(v) => d.mcast_ttl = *v,
            DaemonNla::Other(_) => {}
        }
    }
    d.mcast_group = g4.or(g6);
    d
}

/// The request for one change.
pub fn op_message(op: &Op) -> IpvsMessage {
    let (c, nlas) = match op {
        Op::Flush => (cmd::FLUSH, vec![]),
        Op::AddService(s) => (cmd::NEW_SERVICE, vec![CmdNla::Service(service_nlas(s))]),
        Op::EditService(s) => (cmd::SET_SERVICE, vec![CmdNla::Service(service_nlas(s))]),
        Op::DelService(s) => (cmd::DEL_SERVICE, vec![CmdNla::Service(service_nlas(s))]),
        Op::Zero(None) => (cmd::ZERO, vec![]),
        Op::Zero(Some(s)) => (cmd::ZERO, vec![CmdNla::Service(service_nlas(s))]),
        Op::AddDest(s, d) => (
            cmd::NEW_DEST,
            vec![CmdNla::Service(service_nlas(s)), CmdNla::Dest(dest_nlas(d))],
        ),
        Op::EditDest(s, d) => (
            cmd::SET_DEST,
            vec![CmdNla::Service(service_nlas(s)), CmdNla::Dest(dest_nlas(d))],
        ),
        Op::DelDest(s, d) => (
            cmd::DEL_DEST,
            vec![CmdNla::Service(service_nlas(s)), CmdNla::Dest(dest_nlas(d))],
        ),
        Op::SetTimeouts(t) => (
            cmd::SET_CONFIG,
            vec![
                CmdNla::TimeoutTcp(t.tcp),
                CmdNla::TimeoutTcpFin(t.tcp_fin),
                CmdNla::TimeoutUdp(t.udp),
            ],
        ),
        Op::StartDaemon(d) => {
            let mut v = vec![
                DaemonNla::State(d.state),
                DaemonNla::McastIfn(d.mcast_ifn.clone()),
                DaemonNla::SyncId(d.syncid),
            ];
            if d.sync_maxlen != 0 {
                v.push(DaemonNla::SyncMaxlen(d.sync_maxlen));
            }
            if d.mcast_port != 0 {
                v.push(DaemonNla::McastPort(d.mcast_port));
            }
            if d.mcast_ttl != 0 {
                v.push(DaemonNla::McastTtl(d.mcast_ttl));
            }
            match d.mcast_group {
                Some(IpAddr::V6(a)) => v.push(DaemonNla::McastGroup6(a)),
                Some(IpAddr::V4(a)) => v.push(DaemonNla::McastGroup(a)),
                None => {}
            }
            (cmd::NEW_DAEMON, vec![CmdNla::Daemon(v)])
        }
        Op::StopDaemon(d) => (
            cmd::DEL_DAEMON,
            vec![CmdNla::Daemon(vec![
                DaemonNla::State(d.state),
                DaemonNla::McastIfn(d.mcast_ifn.clone()),
                DaemonNla::SyncId(d.syncid),
            ])],
        ),
    };
    IpvsMessage { cmd: c, nlas }
}

// ------------------------------------------------------------------ the client

/// How many requests go out per `send` in [`IpvsBackend::apply`]; their
/// error answers must fit the receive buffer, the requests the send buffer.
const BATCH: usize = 512;
const RECV_BUF: usize = 256 * 1024;
/// Datagrams read per `recvmmsg` while dumping, and the size of each buffer
/// (the kernel caps dump datagrams at 32 KiB).
const MULTI: usize = 4;
const MULTI_BUF: usize = 64 * 1024;
const SOL_NETLINK: libc::c_int = 270;
const NETLINK_CAP_ACK: libc::c_int = 10;

/// The real IPVS client: one generic-netlink socket.
pub struct NetlinkIpvs {
    sock: Socket,
    family: u16,
    seq: u32,
    buf: Vec<u8>,
    /// Buffers for [`NetlinkIpvs::recv_multi`].
    mbufs: Vec<Vec<u8>>,
    mlens: Vec<usize>,
}

fn sock_err(op: OpKind, e: std::io::Error) -> Error {
    match e.raw_os_error() {
        Some(errno) => Error::Kernel { op, errno },
        None => Error::Socket { op, source: e },
    }
}

fn decode_err(op: OpKind, e: impl std::fmt::Display) -> Error {
    Error::Decode {
        op,
        detail: e.to_string(),
    }
}

/// What the legacy `[gs]etsockopt` interface says when the `IPVS` family is
/// missing; this is the errno ipvsadm reports at start-up (e.g. `ENOPROTOOPT`
/// when the kernel has no IPVS, `EPERM` when not root).
fn legacy_probe_errno() -> i32 {
    // SAFETY: plain socket/getsockopt/close calls on a descriptor we own, with
    // a correctly sized output buffer.
    unsafe {
        let fd = libc::socket(
            libc::AF_INET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::IPPROTO_RAW,
        );
        if fd < 0 {
            return *libc::__errno_location();
        }
        let mut info = [0u8; 12];
        let mut len = info.len() as libc::socklen_t;
        let rc = libc::getsockopt(
            fd,
            libc::IPPROTO_IP,
            1153, // IP_VS_SO_GET_INFO
            info.as_mut_ptr() as *mut libc::c_void,
            &mut len,
        );
        let errno = if rc < 0 {
            *libc::__errno_location()
        } else {
            libc::ENOPROTOOPT
        };
        libc::close(fd);
        errno
    }
}

impl NetlinkIpvs {
    /// Open a socket and resolve the `IPVS` family. Failures carry the errno
    /// ipvsadm would report at start-up.
    pub fn connect() -> Result<Self, Error> {
        let op = OpKind::Init;
        let mut sock = Socket::new(NETLINK_GENERIC).map_err(|e| sock_err(op, e))?;
        sock.bind_auto().map_err(|e| sock_err(op, e))?;
        sock.connect(&SocketAddr::new(0, 0))
            .map_err(|e| sock_err(op, e))?;
        set_int_opt(&sock, SOL_NETLINK, NETLINK_CAP_ACK, 1);
        if !set_int_opt(&sock, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, 4 << 20) {
            set_int_opt(&sock, libc::SOL_SOCKET, libc::SO_RCVBUF, 4 << 20);
        }
        if !set_int_opt(&sock, libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, 1 << 20) {
            set_int_opt(&sock, libc::SOL_SOCKET, libc::SO_SNDBUF, 1 << 20);
        }
        let mut me = NetlinkIpvs {
            sock,
            family: 0,
            seq: 0,
            buf: Vec::with_capacity(RECV_BUF),
            mbufs: Vec::new(),
            mlens: Vec::new(),
        };
        match me.resolve_family() {
            Ok(id) => me.family = id,
            Err(_) => {
                return Err(Error::Kernel {
                    op,
                    errno: legacy_probe_errno(),
                })
            }
        }
        Ok(me)
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn resolve_family(&mut self) -> Result<u16, Error> {
        let op = OpKind::Init;
        let mut genl = GenlMessage::from_payload(GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName(IPVS_GENL_NAME.to_string())],
        });
        genl.finalize();
        let seq = self.next_seq();
        let mut msg = NetlinkMessage::from(genl);
        msg.header.flags = NLM_F_REQUEST | NLM_F_ACK;
        msg.header.sequence_number = seq;
        msg.finalize();
        let mut out = vec![0u8; msg.buffer_len()];
        msg.serialize(&mut out);
        self.sock.send(&out, 0).map_err(|e| sock_err(op, e))?;
        let mut family = None;
        loop {
            self.recv(op)?;
            let buf = std::mem::take(&mut self.buf);
            let mut off = 0;
            let mut done = false;
            while off < buf.len() {
                let nb = NetlinkBuffer::new_checked(&buf[off..]).map_err(|e| decode_err(op, e))?;
                let len = nb.length() as usize;
                let m = NetlinkMessage::<GenlMessage<GenlCtrl>>::deserialize(&buf[off..off + len])
                    .map_err(|e| decode_err(op, e))?;
                off += align4(len);
                if m.header.sequence_number != seq {
                    continue;
                }
                match m.payload {
                    NetlinkPayload::InnerMessage(g) => {
                        for a in &g.payload.nlas {
                            if let GenlCtrlAttrs::FamilyId(id) = a {
                                family = Some(*id);
                            }
                        }
                    }
                    NetlinkPayload::Error(e) => {
                        done = true;
                        if let Some(code) = e.code {
                            self.buf = buf;
                            return Err(Error::Kernel {
                                op,
                                errno: -code.get(),
                            });
                        }
                    }
                    NetlinkPayload::Done(_) => done = true,
                    _ => {}
                }
            }
            self.buf = buf;
            if done {
                break;
            }
        }
        family.ok_or_else(|| decode_err(op, "no family id in reply"))
    }

    fn recv(&mut self, op: OpKind) -> Result<(), Error> {
        self.buf.clear();
        if self.buf.capacity() < RECV_BUF {
            self.buf.reserve(RECV_BUF);
        }
        loop {
            match self.sock.recv(&mut self.buf, 0) {
                Ok(n) if n > self.buf.len() => {
                    return Err(decode_err(op, "netlink message truncated"))
                }
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(sock_err(op, e)),
            }
        }
    }

    fn encode(&mut self, m: IpvsMessage, flags: u16, out: &mut Vec<u8>) -> u32 {
        let seq = self.next_seq();
        let mut genl = GenlMessage::from_payload(m);
        genl.set_resolved_family_id(self.family);
        let mut msg =
            NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::InnerMessage(genl));
        msg.header.flags = flags;
        msg.header.sequence_number = seq;
        msg.finalize();
        let start = out.len();
        out.resize(start + msg.buffer_len(), 0);
        msg.serialize(&mut out[start..]);
        seq
    }

    /// Send one request and collect its replies: a dump until `NLMSG_DONE`, a
    /// plain request until its acknowledgement.
    pub fn request(
        &mut self,
        op: OpKind,
        m: IpvsMessage,
        dump: bool,
    ) -> Result<Vec<IpvsMessage>, Error> {
        let flags = if dump {
            NLM_F_REQUEST | NLM_F_DUMP
        } else {
            NLM_F_REQUEST | NLM_F_ACK
        };
        let mut out = Vec::with_capacity(256);
        let seq = self.encode(m, flags, &mut out);
        self.sock.send(&out, 0).map_err(|e| sock_err(op, e))?;
        let mut replies = Vec::new();
        loop {
            // A dump's final NLMSG_DONE is queued while its data is being
            // read, so one recvmmsg usually returns both.
            let n = if dump {
                self.recv_multi(op)?
            } else {
                self.recv(op)?;
                1
            };
            let mut finished = false;
            for i in 0..n {
                let buf = if dump {
                    std::mem::take(&mut self.mbufs[i])
                } else {
                    std::mem::take(&mut self.buf)
                };
                let len = if dump { self.mlens[i] } else { buf.len() };
                let r = parse_replies(op, &buf[..len], |s, p| {
                    if s != seq {
                        return Ok(false);
                    }
                    match p {
                        NetlinkPayload::InnerMessage(g) => {
                            replies.push(g.payload);
                            Ok(false)
                        }
                        NetlinkPayload::Error(e) => match e.code {
                            Some(code) => Err(Error::Kernel {
                                op,
                                errno: -code.get(),
                            }),
                            None => Ok(true),
                        },
                        NetlinkPayload::Done(_) => Ok(true),
                        _ => Ok(false),
                    }
                });
                if dump {
                    self.mbufs[i] = buf;
                } else {
                    self.buf = buf;
                }
                if r? {
                    finished = true;
                }
            }
            if finished {
                return Ok(replies);
            }
        }
    }

    /// Read every queued datagram (blocking for the first) with one
    /// `recvmmsg`; returns how many, their bytes in `mbufs[..n]` and lengths
    /// in `mlens[..n]`.
    fn recv_multi(&mut self, op: OpKind) -> Result<usize, Error> {
        use std::os::fd::AsRawFd;
        if self.mbufs.len() < MULTI {
            self.mbufs = (0..MULTI).map(|_| vec![0u8; MULTI_BUF]).collect();
        }
        let mut iov: Vec<libc::iovec> = self
            .mbufs
            .iter_mut()
            .map(|b| libc::iovec {
                iov_base: b.as_mut_ptr() as *mut libc::c_void,
                iov_len: b.len(),
            })
            .collect();
        // SAFETY: zeroed mmsghdr is a valid "no address, no control" header.
        let mut msgs: Vec<libc::mmsghdr> =
            (0..MULTI).map(|_| unsafe { std::mem::zeroed() }).collect();
        for (m, v) in msgs.iter_mut().zip(iov.iter_mut()) {
            m.msg_hdr.msg_iov = v;
            m.msg_hdr.msg_iovlen = 1;
        }
        loop {
            // SAFETY: every mmsghdr points at one live iovec over a live
            // buffer of the stated length; the arrays outlive the call.
            let n = unsafe {
                libc::recvmmsg(
                    self.sock.as_raw_fd(),
                    msgs.as_mut_ptr(),
                    MULTI as libc::c_uint,
                    libc::MSG_WAITFORONE,
                    std::ptr::null_mut(),
                )
            };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(sock_err(op, e));
            }
            let n = n as usize;
            self.mlens.clear();
            for m in &msgs[..n] {
                if m.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
                    return Err(decode_err(op, "netlink message truncated"));
                }
                self.mlens.push(m.msg_len as usize);
            }
            return Ok(n);
        }
    }

    /// One batch: every request goes out in a single `send`. The kernel
    /// handles generic-netlink requests synchronously inside that `send` and
    /// answers failures whether or not an acknowledgement was asked for, so
    /// only the last request asks for one: once its acknowledgement is read,
    /// every failure of the batch has been read too.
    fn apply_chunk(&mut self, ops: &[Op], results: &mut Vec<Result<(), Error>>) {
        let mut out = Vec::with_capacity(ops.len() * 160);
        let mut first = 0;
        for (i, op) in ops.iter().enumerate() {
            let flags = if i + 1 == ops.len() {
                NLM_F_REQUEST | NLM_F_ACK
            } else {
                NLM_F_REQUEST
            };
            let seq = self.encode(op_message(op), flags, &mut out);
            if i == 0 {
                first = seq;
            }
        }
        let base = results.len();
        results.extend(ops.iter().map(|_| Ok(())));
        let fail_all = |results: &mut Vec<Result<(), Error>>, errno: i32| {
            for (i, op) in ops.iter().enumerate() {
                if results[base + i].is_ok() {
                    results[base + i] = Err(Error::Kernel {
                        op: op.kind(),
                        errno,
                    });
                }
            }
        };
        if let Err(e) = self.sock.send(&out, 0) {
            fail_all(results, e.raw_os_error().unwrap_or(libc::EIO));
            return;
        }
        let last = ops.len() - 1;
        let mut done = false;
        while !done {
            if let Err(e) = self.recv(OpKind::Flush) {
                // acknowledgements lost (e.g. ENOBUFS): outcome unknown
                fail_all(results, e.errno());
                return;
            }
            let buf = std::mem::take(&mut self.buf);
            let _ = parse_replies(OpKind::Flush, &buf, |s, p| {
                let i = s.wrapping_sub(first) as usize;
                if i > last {
                    return Ok(false);
                }
                if let NetlinkPayload::Error(e) = p {
                    if let Some(code) = e.code {
                        results[base + i] = Err(Error::Kernel {
                            op: ops[i].kind(),
                            errno: -code.get(),
                        });
                    }
                    if i == last {
                        done = true;
                    }
                }
                Ok(false)
            });
            self.buf = buf;
        }
    }
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

fn set_int_opt(sock: &Socket, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: setsockopt with a pointer to a live c_int and its exact size.
    unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            &value as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        ) == 0
    }
}

/// Walk the netlink messages in `buf`, calling `f(seq, payload)`; stops early
/// and returns `Ok(true)` when `f` says the exchange is complete.
fn parse_replies<F>(op: OpKind, buf: &[u8], mut f: F) -> Result<bool, Error>
where
    F: FnMut(u32, NetlinkPayload<GenlMessage<IpvsMessage>>) -> Result<bool, Error>,
{
    let mut off = 0;
    let mut finished = false;
    while off + 16 <= buf.len() {
        let nb = NetlinkBuffer::new_checked(&buf[off..]).map_err(|e| decode_err(op, e))?;
        let len = nb.length() as usize;
        if len < 16 || off + len > buf.len() {
            return Err(decode_err(op, "bad netlink message length"));
        }
        let m = NetlinkMessage::<GenlMessage<IpvsMessage>>::deserialize(&buf[off..off + len])
            .map_err(|e| decode_err(op, e))?;
        off += align4(len);
        if f(m.header.sequence_number, m.payload)? {
            finished = true;
        }
    }
    Ok(finished)
}

impl IpvsBackend for NetlinkIpvs {
    fn info(&mut self) -> Result<Info, Error> {
        let op = OpKind::GetInfo;
        let r = self.request(
            op,
            IpvsMessage {
                cmd: cmd::GET_INFO,
                nlas: vec![],
            },
            false,
        )?;
        let mut info = Info::default();
        let mut seen = 0;
        for m in &r {
            for n in &m.nlas {
                match n {
                    CmdNla::InfoVersion(v) => {
                        info.version = *v;
                        seen |= 1;
                    }
                    CmdNla::InfoConnTabSize(v) => {
                        info.conn_tab_size = *v;
                        seen |= 2;
                    }
                    _ => {}
                }
            }
        }
        if seen != 3 {
            return Err(decode_err(op, "GET_INFO reply without version"));
        }
        Ok(info)
    }

    fn services(&mut self) -> Result<Vec<Service>, Error> {
        let r = self.request(
            OpKind::GetServices,
            IpvsMessage {
                cmd: cmd::GET_SERVICE,
                nlas: vec![],
            },
            true,
        )?;
        Ok(services_of(&r))
    }

    fn service(&mut self, id: &Service) -> Result<Service, Error> {
        let op = OpKind::GetService;
        let r = self.request(
            op,
            IpvsMessage {
                cmd: cmd::GET_SERVICE,
                nlas: vec![CmdNla::Service(service_nlas(id))],
            },
            false,
        )?;
        services_of(&r)
            .into_iter()
            .next()
            .ok_or_else(|| decode_err(op, "GET_SERVICE reply without service"))
    }

    fn dests(&mut self, svc: &Service) -> Result<Vec<Destination>, Error> {
        let r = self.request(
            OpKind::GetDests,
            IpvsMessage {
                cmd: cmd::GET_DEST,
                nlas: vec![CmdNla::Service(service_id_nlas(svc))],
            },
            true,
        )?;
        let mut out = Vec::new();
        for m in &r {
            for n in &m.nlas {
                if let CmdNla::Dest(d) = n {
                    out.push(dest_from_nlas(d, svc.af));
                }
            }
        }
        Ok(out)
    }

    fn timeouts(&mut self) -> Result<Timeouts, Error> {
        let r = self.request(
            OpKind::GetTimeouts,
            IpvsMessage {
                cmd: cmd::GET_CONFIG,
                nlas: vec![],
            },
            false,
        )?;
        let mut t = Timeouts::default();
        for m in &r {
            for n in &m.nlas {
                match n {
                    CmdNla::TimeoutTcp(v) => t.tcp = *v,
                    CmdNla::TimeoutTcpFin(v) => t.tcp_fin = *v,
                    CmdNla::TimeoutUdp(v) => t.udp = *v,
                    _ => {}
                }
            }
        }
        Ok(t)
    }

    fn daemons(&mut self) -> Result<Vec<Daemon>, Error> {
        let r = self.request(
            OpKind::GetDaemons,
            IpvsMessage {
                cmd: cmd::GET_DAEMON,
                nlas: vec![],
            },
            true,
        )?;
        let mut out = Vec::new();
        for m in &r {
            for n in &m.nlas {
                if let CmdNla::Daemon(d) = n {
                    out.push(daemon_from_nlas(d));
                }
            }
        }
        Ok(out)
    }

    fn apply(&mut self, ops: &[Op]) -> Vec<Result<(), Error>> {
        let mut results = Vec::with_capacity(ops.len());
        for chunk in ops.chunks(BATCH) {
            self.apply_chunk(chunk, &mut results);
        }
        results
    }
}

fn services_of(r: &[IpvsMessage]) -> Vec<Service> {
    let mut out = Vec::new();
    for m in r {
        for n in &m.nlas {
            if let CmdNla::Service(s) = n {
                out.push(service_from_nlas(s));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(m: &IpvsMessage) -> IpvsMessage {
        let mut buf = vec![0u8; m.buffer_len()];
        m.emit(&mut buf);
        IpvsMessage::parse_with_param(
            &buf,
            GenlHeader {
                cmd: m.cmd,
                version: 1,
            },
        )
        .unwrap()
    }

    #[test]
    fn service_attributes_round_trip() {
        let s = Service {
            af: AF_INET,
            protocol: IPPROTO_TCP,
            addr: "10.0.0.1".parse().unwrap(),
            port: 80,
            sched_name: "rr".into(),
            flags: SVC_F_PERSISTENT,
            timeout: 360,
            netmask: 0xffffff00,
            ..Service::default()
        };
        let m = op_message(&Op::AddService(s.clone()));
        let back = roundtrip(&m);
        let CmdNla::Service(nlas) = &back.nlas[0] else {
            panic!()
        };
        assert_eq!(service_from_nlas(nlas), s);
    }

    #[test]
    fn wire_bytes_of_port_and_netmask_are_network_order() {
        let s = Service {
            af: AF_INET,
            protocol: IPPROTO_TCP,
            addr: "10.0.0.1".parse().unwrap(),
            port: 0x1234,
            netmask: 0xffffff00,
            ..Service::default()
        };
        let nlas = service_nlas(&s);
        let mut buf = vec![0u8; nlas.as_slice().buffer_len()];
        nlas.as_slice().emit(&mut buf);
        // AF(8) PROTOCOL(8) ADDR(20) then PORT: header 4 bytes, value 12 34.
        assert_eq!(&buf[36 + 4..36 + 6], &[0x12, 0x34]);
        assert!(buf.windows(4).any(|w| w == [0xff, 0xff, 0xff, 0x00]));
        // address: 16 bytes, IPv4 in the first four
        assert_eq!(
            &buf[20..36],
            &[10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn dest_round_trip_keeps_tunnel_fields() {
        let d = Destination {
            af: AF_INET6,
            addr: "2001:db8::2".parse().unwrap(),
            port: 8080,
            fwd: Forward::Tunnel,
            weight: 3,
            u_threshold: 10,
            l_threshold: 5,
            tun_type: TunnelType::Gue,
            tun_port: 6080,
            tun_flags: 1,
            ..Destination::default()
        };
        let svc = Service::default();
        let m = op_message(&Op::AddDest(svc, d.clone()));
        let back = roundtrip(&m);
        let CmdNla::Dest(nlas) = &back.nlas[1] else {
            panic!()
        };
        assert_eq!(dest_from_nlas(nlas, AF_INET), d);
    }

    #[test]
    fn daemon_round_trip() {
        let d = Daemon {
            state: DAEMON_MASTER,
            mcast_ifn: "eth0".into(),
            syncid: 7,
            sync_maxlen: 1400,
            mcast_group: Some("239.1.2.3".parse().unwrap()),
            mcast_port: 8849,
            mcast_ttl: 2,
        };
        let back = roundtrip(&op_message(&Op::StartDaemon(d.clone())));
        let CmdNla::Daemon(nlas) = &back.nlas[0] else {
            panic!()
        };
        assert_eq!(daemon_from_nlas(nlas), d);
    }
}
