//! The command-line parser: one argv (or one `-R` line) to an [`Action`],
//! with ipvsadm's option checks, without touching the kernel.

use std::net::{IpAddr, Ipv4Addr};

use ipvs::model::*;
use ipvs::Op;

use crate::action::{fail, Action, Diag};
use crate::format::Format;
use crate::options::{generic_opt_check, optc, tunnel_opt_check, Command, OPT_NAMES};
use crate::popt::{Opt, Popt};
use crate::resolve;
use crate::values::{
    atoi, parse_fwmark, parse_ipv6, parse_sched_flags, parse_service, parse_timeout,
    string_to_number, truncated, Target, SERVICE_ADDR,
};

const MAX_TIMEOUT: i64 = 86400 * 31;

/// Everything one command line sets (ipvsadm's `ipvs_command_entry`).
struct Entry {
    cmd: Option<Command>,
    svc: Target,
    fwmark: u32,
    sched_name: String,
    pe_name: String,
    flags: u32,
    timeout: u32,
    dest: Target,
    fwd: Forward,
    weight: i32,
    u_threshold: u32,
    l_threshold: u32,
    tun_type: TunnelType,
    tun_port: u16,
    tun_flags: u16,
    timeouts: Timeouts,
    daemon: Daemon,
    options: u64,
    format: Format,
}

impl Entry {
    fn new() -> Self {
        let zero = Target {
            af: 0,
            addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 0,
            netmask: 0xffff_ffff,
            protocol: 0,
        };
        Entry {
            cmd: None,
            svc: zero.clone(),
            fwmark: 0,
            sched_name: String::new(),
            pe_name: String::new(),
            flags: 0,
            timeout: 0,
            dest: Target { netmask: 0, ..zero },
            fwd: Forward::Route,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            tun_type: TunnelType::Ipip,
            tun_port: 0,
            tun_flags: 0,
            timeouts: Timeouts::default(),
            daemon: Daemon::default(),
            options: 0,
            format: Format::default(),
        }
    }

    fn set_option(&mut self, optc: usize) -> Result<(), Diag> {
        let bit = 1u64 << optc;
        if self.options & bit != 0 {
            return fail(format!("multiple '{}' options specified", OPT_NAMES[optc]));
        }
        self.options |= bit;
        Ok(())
    }

    fn has(&self, optc: usize) -> bool {
        self.options & (1u64 << optc) != 0
    }

    fn service(&self) -> Service {
        Service {
            af: self.svc.af,
            protocol: self.svc.protocol,
            addr: self.svc.addr,
            port: self.svc.port,
            fwmark: self.fwmark,
            sched_name: self.sched_name.clone(),
            pe_name: self.pe_name.clone(),
            flags: self.flags,
            timeout: self.timeout,
            netmask: self.svc.netmask,
            stats: Stats::default(),
        }
    }

    fn destination(&self) -> Destination {
        Destination {
            af: self.dest.af,
            addr: self.dest.addr,
            port: self.dest.port,
            fwd: self.fwd,
            weight: self.weight,
            u_threshold: self.u_threshold,
            l_threshold: self.l_threshold,
            tun_type: self.tun_type,
            tun_port: self.tun_port,
            tun_flags: self.tun_flags,
            ..Destination::default()
        }
    }
}

fn protocol_of(o: Opt) -> u16 {
    match o {
        Opt::TcpService => IPPROTO_TCP,
        Opt::UdpService => IPPROTO_UDP,
        Opt::SctpService => IPPROTO_SCTP,
        _ => 0,
    }
}

/// Parse and check one command line (ipvsadm's `parse_options` plus the
/// checks of `process_options`), without touching the kernel.
pub fn parse(argv: &[String], reading_stdin: bool) -> Result<Action, Diag> {
    let mut ce = Entry::new();
    let mut p = Popt::new(argv);
    let first = match p.next_opt() {
        Ok(Some(x)) => x,
        _ => return Err(Diag::TryHelp),
    };
    let cmd = match first {
        (Opt::AddService, _) => Command::Add,
        (Opt::EditService, _) => Command::Edit,
        (Opt::DeleteService, _) => Command::Del,
        (Opt::AddServer, _) => Command::AddDest,
        (Opt::EditServer, _) => Command::EditDest,
        (Opt::DeleteServer, _) => Command::DelDest,
        (Opt::Clear, _) => Command::Flush,
        (Opt::List, _) => Command::List,
        (Opt::Zero, _) => Command::Zero,
        (Opt::Set, _) => Command::Timeout,
        (Opt::Restore, _) => Command::Restore,
        (Opt::Save, _) => Command::Save,
        (o @ (Opt::StartDaemon | Opt::StopDaemon), arg) => {
            let arg = arg.unwrap_or_default();
            ce.daemon.state = match arg.as_str() {
                "master" => DAEMON_MASTER,
                "backup" => DAEMON_BACKUP,
                _ if o == Opt::StartDaemon => {
                    return fail("illegal start-daemon parameter specified")
                }
                _ => return fail("illegal start_daemon specified"),
            };
            if o == Opt::StartDaemon {
                Command::StartDaemon
            } else {
                Command::StopDaemon
            }
        }
        (Opt::Help, _) => return Ok(Action::Help),
        (Opt::Version, _) => return Ok(Action::Version),
        _ => return Err(Diag::TryHelp),
    };
    ce.cmd = Some(cmd);
    let mut sched_flags_arg = String::new();
    let mut mcast_group: Option<IpAddr> = None;

    loop {
        let (opt, arg) = match p.next_opt() {
            Ok(Some(x)) => x,
            Ok(None) => break,
            Err(e) => return Err(Diag::Popt(format!("{}: {}", p.bad_option(), e.message()))),
        };
        let a = arg.clone().unwrap_or_default();
        match opt {
            Opt::TcpService | Opt::UdpService | Opt::SctpService => {
                ce.set_option(optc::SERVICE)?;
                ce.svc.protocol = protocol_of(opt);
                if parse_service(&a, &mut ce.svc) & SERVICE_ADDR == 0 {
                    return fail("illegal virtual server address[:port] specified");
                }
            }
            Opt::FwmarkService => {
                ce.set_option(optc::SERVICE)?;
                ce.svc.af = AF_INET;
                ce.svc.protocol = IPPROTO_TCP;
                ce.fwmark = parse_fwmark(&a)?;
            }
            Opt::Scheduler => {
                ce.set_option(optc::SCHEDULER)?;
                ce.sched_name = truncated(&a, 15);
            }
            Opt::Persistent => {
                ce.set_option(optc::PERSISTENT)?;
                ce.flags |= SVC_F_PERSISTENT;
                ce.timeout = parse_timeout(arg.as_deref(), 1, MAX_TIMEOUT)?;
            }
            Opt::Netmask => {
                ce.set_option(optc::NETMASK)?;
                if ce.svc.af != AF_INET6 {
                    match resolve::ipv4_or_host(&a) {
                        Some(m) => ce.svc.netmask = u32::from(m),
                        None => return fail("illegal virtual server persistent mask specified"),
                    }
                } else {
                    let n = atoi(&a) as u32;
                    ce.svc.netmask = n;
                    if !(1..=128).contains(&n) {
                        return fail("illegal ipv6 netmask specified");
                    }
                }
            }
            Opt::RealServer => {
                ce.set_option(optc::SERVER)?;
                let mut t = ce.svc.clone();
                let r = parse_service(&a, &mut t);
                ce.dest.af = t.af;
                ce.dest.addr = t.addr;
                ce.dest.port = t.port;
                if r & SERVICE_ADDR == 0 {
                    return fail("illegal real server address[:port] specified");
                }
                if r == SERVICE_ADDR {
                    ce.dest.port = ce.svc.port;
                }
            }
            Opt::Ipip => {
                ce.set_option(optc::FORWARD)?;
                ce.fwd = Forward::Tunnel;
            }
            Opt::Gatewaying => {
                ce.set_option(optc::FORWARD)?;
                ce.fwd = Forward::Route;
            }
            Opt::Masquerading => {
                ce.set_option(optc::FORWARD)?;
                ce.fwd = Forward::Masq;
            }
            Opt::Weight => {
                ce.set_option(optc::WEIGHT)?;
                // Debian's 1.31 accepts any non-negative int weight
                match string_to_number(&a, 0, i32::MAX as i64) {
                    Some(n) => ce.weight = n as i32,
                    None => return fail("illegal weight specified"),
                }
            }
            Opt::UThreshold => {
                ce.set_option(optc::UTHRESHOLD)?;
                match string_to_number(&a, 0, i32::MAX as i64) {
                    Some(n) => ce.u_threshold = n as u32,
                    None => return fail("illegal u_threshold specified"),
                }
            }
            Opt::LThreshold => {
                ce.set_option(optc::LTHRESHOLD)?;
                match string_to_number(&a, 0, i32::MAX as i64) {
                    Some(n) => ce.l_threshold = n as u32,
                    None => return fail("illegal l_threshold specified"),
                }
            }
            Opt::Connection => ce.set_option(optc::CONNECTION)?,
            Opt::Numeric => {
                ce.set_option(optc::NUMERIC)?;
                ce.format.numeric = true;
            }
            Opt::McastInterface => {
                ce.set_option(optc::MCAST)?;
                ce.daemon.mcast_ifn = truncated(&a, 15);
            }
            Opt::SyncId => {
                ce.set_option(optc::SYNCID)?;
                match string_to_number(&a, 0, 255) {
                    Some(n) => ce.daemon.syncid = n as u32,
                    None => return fail("illegal syncid specified"),
                }
            }
            Opt::Timeout => ce.set_option(optc::TIMEOUT)?,
            Opt::Daemon => ce.set_option(optc::DAEMON)?,
            Opt::Stats => {
                ce.set_option(optc::STATS)?;
                ce.format.stats = true;
            }
            Opt::Rate => {
                ce.set_option(optc::RATE)?;
                ce.format.rate = true;
            }
            Opt::Thresholds => {
                ce.set_option(optc::THRESHOLDS)?;
                ce.format.thresholds = true;
            }
            Opt::PersistentConn => {
                ce.set_option(optc::PERSISTENTCONN)?;
                ce.format.persistent_conn = true;
            }
            Opt::NoSort => {
                ce.set_option(optc::NOSORT)?;
                ce.format.nosort = true;
            }
            Opt::Sort => {}
            Opt::Exact => {
                ce.set_option(optc::EXACT)?;
                ce.format.exact = true;
            }
            Opt::Ipv6 => {
                if ce.fwmark != 0 {
                    ce.svc.af = AF_INET6;
                    ce.svc.addr = ipvs::model::unspecified(AF_INET6);
                    ce.svc.netmask = 128;
                } else {
                    return fail("-6 used before -f\n");
                }
            }
            Opt::Ops => {
                ce.set_option(optc::ONEPACKET)?;
                ce.flags |= SVC_F_ONEPACKET;
            }
            Opt::Pe => {
                ce.set_option(optc::PE)?;
                ce.pe_name = truncated(&a, 16);
            }
            Opt::SchedFlags => {
                ce.set_option(optc::SCHED_FLAGS)?;
                sched_flags_arg = truncated(&a, 127);
            }
            Opt::McastGroup => {
                ce.set_option(optc::MCAST_GROUP)?;
                if a.contains(':') {
                    match parse_ipv6(&a) {
                        Some(g) if g.is_multicast() => mcast_group = Some(IpAddr::V6(g)),
                        _ => return fail(format!("invalid IPv6 mcast-group `{a}'")),
                    }
                } else {
                    match a.parse::<Ipv4Addr>() {
                        Ok(g) if g.is_multicast() => mcast_group = Some(IpAddr::V4(g)),
                        _ => return fail(format!("invalid IPv4 mcast-group `{a}'")),
                    }
                }
            }
            Opt::McastPort => {
                ce.set_option(optc::MCAST_PORT)?;
                match string_to_number(&a, 1, 65535) {
                    Some(n) => ce.daemon.mcast_port = n as u16,
                    None => return fail("illegal mcast-port specified"),
                }
            }
            Opt::McastTtl => {
                ce.set_option(optc::MCAST_TTL)?;
                match string_to_number(&a, 1, 255) {
                    Some(n) => ce.daemon.mcast_ttl = n as u8,
                    None => return fail("illegal mcast-ttl specified"),
                }
            }
            Opt::SyncMaxlen => {
                ce.set_option(optc::SYNC_MAXLEN)?;
                match string_to_number(&a, 1, 65535 - 20 - 8) {
                    Some(n) => ce.daemon.sync_maxlen = n as u16,
                    None => return fail("illegal sync-maxlen specified"),
                }
            }
            Opt::TunInfo => {
                ce.set_option(optc::TUN_INFO)?;
                ce.format.tun_info = true;
            }
            Opt::TunType => {
                ce.set_option(optc::TUN_TYPE)?;
                ce.tun_type = match a.as_str() {
                    "ipip" => TunnelType::Ipip,
                    "gue" => TunnelType::Gue,
                    "gre" => TunnelType::Gre,
                    _ => return fail("illegal tunnel type specified"),
                };
            }
            Opt::TunPort => {
                ce.set_option(optc::TUN_PORT)?;
                match string_to_number(&a, 1, 65535) {
                    Some(n) => ce.tun_port = n as u16,
                    None => return fail("illegal tunnel port specified"),
                }
            }
            Opt::TunNoCsum => ce.set_option(optc::TUN_NOCSUM)?,
            Opt::TunCsum => {
                ce.set_option(optc::TUN_CSUM)?;
                ce.tun_flags |= 1;
            }
            Opt::TunRemCsum => {
                ce.set_option(optc::TUN_REMCSUM)?;
                ce.tun_flags |= 2;
            }
            _ => return fail(format!("invalid option `{}'", p.bad_option())),
        }
    }
    ce.daemon.mcast_group = mcast_group;

    if cmd == Command::Timeout {
        match (p.get_arg(), p.get_arg(), p.get_arg()) {
            (Some(a), Some(b), Some(c)) => {
                ce.timeouts.tcp = parse_timeout(Some(&a), 0, MAX_TIMEOUT)?;
                ce.timeouts.tcp_fin = parse_timeout(Some(&b), 0, MAX_TIMEOUT)?;
                ce.timeouts.udp = parse_timeout(Some(&c), 0, MAX_TIMEOUT)?;
            }
            _ => return fail("--set option requires 3 timeout values"),
        }
    }
    if let Some(a) = p.get_arg() {
        return fail(format!("unexpected argument {a}"));
    }
    if !sched_flags_arg.is_empty() {
        ce.flags &= !SVC_F_SCHED_MASK;
        ce.flags |= parse_sched_flags(&ce.sched_name, &sched_flags_arg)?;
    }

    generic_opt_check(cmd, ce.options)?;

    if matches!(cmd, Command::Add | Command::Edit) {
        if ce.fwmark == 0 && ce.svc.port == 0 && ce.flags & SVC_F_PERSISTENT == 0 {
            return fail("Zero port specified for non-persistent service");
        }
        if ce.flags & SVC_F_ONEPACKET != 0 && ce.fwmark == 0 && ce.svc.protocol != IPPROTO_UDP {
            return fail("One-Packet Scheduling is only for UDP virtual services");
        }
        if ce.sched_name.is_empty() {
            ce.sched_name = "wlc".into();
        }
    }
    if cmd == Command::StartDaemon && ce.daemon.mcast_ifn.is_empty() {
        ce.daemon.mcast_ifn = "eth0".into();
    }
    if matches!(cmd, Command::AddDest | Command::EditDest) {
        if ce.fwmark == 0 && matches!(ce.fwd, Forward::Tunnel | Forward::Route) {
            ce.dest.port = ce.svc.port;
        }
        if ce.dest.af != ce.svc.af && ce.fwd != Forward::Tunnel {
            return fail("Different address family is allowed only for tunneling servers");
        }
        let tun = (1u64 << optc::TUN_TYPE)
            | (1 << optc::TUN_PORT)
            | (1 << optc::TUN_NOCSUM)
            | (1 << optc::TUN_CSUM)
            | (1 << optc::TUN_REMCSUM);
        if ce.options & tun != 0 && ce.fwd != Forward::Tunnel {
            return fail("Tunnel options conflict with forward method");
        }
        tunnel_opt_check(ce.tun_type, ce.options)?;
    }

    let svc = ce.service();
    Ok(match cmd {
        Command::List => {
            let list_like =
                ce.has(optc::CONNECTION) || ce.has(optc::TIMEOUT) || ce.has(optc::DAEMON);
            let fmt_opts = ce.has(optc::STATS) || ce.has(optc::RATE) || ce.has(optc::THRESHOLDS);
            if (list_like && fmt_opts)
                || ((ce.has(optc::TIMEOUT) || ce.has(optc::DAEMON)) && ce.has(optc::PERSISTENTCONN))
            {
                return fail("options conflicts in the list command");
            }
            if ce.has(optc::CONNECTION) {
                Action::ListConn(ce.format)
            } else if ce.has(optc::SERVICE) {
                Action::ListService(svc, ce.format)
            } else if ce.has(optc::TIMEOUT) {
                Action::ListTimeout
            } else if ce.has(optc::DAEMON) {
                Action::ListDaemon
            } else {
                Action::ListAll(ce.format)
            }
        }
        Command::Restore => {
            if reading_stdin {
                return Err(Diag::TryHelp);
            }
            Action::Restore
        }
        Command::Save => Action::Save(Format {
            rule: true,
            ..ce.format
        }),
        Command::Flush => Action::Apply(Op::Flush),
        Command::Add => Action::Apply(Op::AddService(svc)),
        Command::Edit => Action::Apply(Op::EditService(svc)),
        Command::Del => Action::Apply(Op::DelService(svc)),
        Command::Zero => {
            let any = svc.fwmark != 0 || !svc.addr.is_unspecified() || svc.port != 0;
            Action::Apply(Op::Zero(any.then_some(svc)))
        }
        Command::AddDest => Action::Apply(Op::AddDest(svc, ce.destination())),
        Command::EditDest => Action::Apply(Op::EditDest(svc, ce.destination())),
        Command::DelDest => Action::Apply(Op::DelDest(svc, ce.destination())),
        Command::Timeout => Action::Apply(Op::SetTimeouts(ce.timeouts)),
        Command::StartDaemon => Action::Apply(Op::StartDaemon(ce.daemon)),
        Command::StopDaemon => Action::Apply(Op::StopDaemon(ce.daemon)),
    })
}
