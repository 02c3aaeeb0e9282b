//! The IPVS attribute spaces on the wire: the family's name and commands,
//! the `SERVICE`, `DEST`, `DAEMON` and top-level attributes with their
//! encoding and decoding, and the whole [`IpvsMessage`].

use std::net::{Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{
    emit_u16, emit_u16_be, emit_u32, parse_string, parse_u16, parse_u16_be, parse_u32, parse_u64,
    parse_u8, DecodeError, DefaultNla, Emitable, Nla, NlaBuffer, NlasIterator, Parseable,
    ParseableParametrized,
};
use netlink_packet_generic::{GenlFamily, GenlHeader};

use crate::model::*;

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
