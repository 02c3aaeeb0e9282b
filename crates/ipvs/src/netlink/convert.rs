//! Model <-> attributes: the nests ipvsadm sends for services,
//! destinations and daemons, their decoding, and the request for one [`Op`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::attrs::{cmd, CmdNla, DaemonNla, DestNla, IpvsMessage, SvcNla};
use crate::model::*;
use crate::Op;

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
