//! The `ipvsadm` command: a drop-in for ipvsadm 1.31.
//!
//! [`main`] is the whole program: connect (loading `ip_vs` with modprobe and
//! retrying once, as ipvsadm does), then parse argv with a popt-compatible
//! scanner, check options against ipvsadm's command/option matrix, and either
//! print a listing or apply one change. `-R` reads one command per line from
//! standard input; its changes go to the kernel in batches over the one
//! socket, and every message, exit code and output byte matches 1.31.
//!
//! Exit codes: 0 success; 1 listing failed; 2 invalid arguments or start-up
//! failure; 255 kernel refused a change, popt error, or "Try ... -h".

mod popt;

use std::io::{BufRead, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::Error;
use crate::format::{self, Format};
use crate::model::*;
use crate::netlink::NetlinkIpvs;
use crate::resolve::{self, Names, Numeric, System};
use crate::{IpvsBackend, Op};
use popt::{Opt, Popt};

/// The version line (`-v`, first line of `-h`).
pub const VERSION_LINE: &str = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)";
const MAX_TIMEOUT: i64 = 86400 * 31;
const CONN_PROC_FILE: &str = "/proc/net/ip_vs_conn";

/// ipvsadm's commands, in its internal order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `-A`
    Add,
    /// `-E`
    Edit,
    /// `-D`
    Del,
    /// `-C`
    Flush,
    /// `-L`/`-l`
    List,
    /// `-a`
    AddDest,
    /// `-d`
    DelDest,
    /// `-e`
    EditDest,
    /// `--set`
    Timeout,
    /// `--start-daemon`
    StartDaemon,
    /// `--stop-daemon`
    StopDaemon,
    /// `-R`
    Restore,
    /// `-S`
    Save,
    /// `-Z`
    Zero,
}

const CMD_NAMES: [&str; 14] = [
    "add-service",
    "edit-service",
    "delete-service",
    "flush",
    "list",
    "add-server",
    "delete-server",
    "edit-server",
    "set",
    "start-daemon",
    "stop-daemon",
    "restore",
    "save",
    "zero",
];

const OPT_NAMES: [&str; 34] = [
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "mcast-interface",
    "timeout",
    "daemon",
    "stats",
    "rate",
    "thresholds",
    "persistent-conn",
    "nosort",
    "syncid",
    "exact",
    "ops",
    "pe",
    "sched-flags",
    "mcast-group",
    "mcast-port",
    "mcast-ttl",
    "sync-maxlen",
    "tun-info",
    "tun-type",
    "tun-port",
    "tun-nocsum",
    "tun-csum",
    "tun-remcsum",
];

mod optc {
    pub const NUMERIC: usize = 0;
    pub const CONNECTION: usize = 1;
    pub const SERVICE: usize = 2;
    pub const SCHEDULER: usize = 3;
    pub const PERSISTENT: usize = 4;
    pub const NETMASK: usize = 5;
    pub const SERVER: usize = 6;
    pub const FORWARD: usize = 7;
    pub const WEIGHT: usize = 8;
    pub const UTHRESHOLD: usize = 9;
    pub const LTHRESHOLD: usize = 10;
    pub const MCAST: usize = 11;
    pub const TIMEOUT: usize = 12;
    pub const DAEMON: usize = 13;
    pub const STATS: usize = 14;
    pub const RATE: usize = 15;
    pub const THRESHOLDS: usize = 16;
    pub const PERSISTENTCONN: usize = 17;
    pub const NOSORT: usize = 18;
    pub const SYNCID: usize = 19;
    pub const EXACT: usize = 20;
    pub const ONEPACKET: usize = 21;
    pub const PE: usize = 22;
    pub const SCHED_FLAGS: usize = 23;
    pub const MCAST_GROUP: usize = 24;
    pub const MCAST_PORT: usize = 25;
    pub const MCAST_TTL: usize = 26;
    pub const SYNC_MAXLEN: usize = 27;
    pub const TUN_INFO: usize = 28;
    pub const TUN_TYPE: usize = 29;
    pub const TUN_PORT: usize = 30;
    pub const TUN_NOCSUM: usize = 31;
    pub const TUN_CSUM: usize = 32;
    pub const TUN_REMCSUM: usize = 33;
}

/// Legal options per command: `+` required, `x` illegal, `1` at most one of
/// the `1`s, `.` optional. Columns follow [`OPT_NAMES`].
const MATRIX: [&[u8; 34]; 14] = [
    b"xx+...xxxxxxxxxxxxxxx...xxxxxxxxxx",
    b"xx+...xxxxxxxxxxxxxxx...xxxxxxxxxx",
    b"xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    b".11xxxxxxxxx11.......xxxxxxx.xxxxx",
    b"xx+xxx+....xxxxxxxxxxxxxxxxxx.....",
    b"xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx",
    b"xx+xxx+....xxxxxxxxxxxxxxxxxx.....",
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    b"xxxxxxxxxxx.xxxxxxx.xxxx....xxxxxx",
    b"xxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxx",
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    b".xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    b"xx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
];

/// Tunnel type x option matrix (columns: tun-port, tun-nocsum, tun-csum, tun-remcsum).
const TUN_MATRIX: [&[u8; 4]; 3] = [b"xxxx", b"+111", b"x11x"];
const TUN_OPTS: [usize; 4] = [
    optc::TUN_PORT,
    optc::TUN_NOCSUM,
    optc::TUN_CSUM,
    optc::TUN_REMCSUM,
];

/// What one invocation (or one `-R` line) asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Change the table.
    Apply(Op),
    /// Full listing.
    ListAll(Format),
    /// One service.
    ListService(Service, Format),
    /// Connections from /proc.
    ListConn(Format),
    /// `--timeout`.
    ListTimeout,
    /// `--daemon`.
    ListDaemon,
    /// `-S`.
    Save(Format),
    /// `-R`.
    Restore,
    /// `-h`.
    Help,
    /// `-v`.
    Version,
}

/// Why parsing stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diag {
    /// ``Try `prog -h' ...``, exit 255.
    TryHelp,
    /// ipvsadm's `fail(2, ...)`: message, exit 2.
    Fail(String),
    /// A popt error after the command: message, the line/invocation returns -1.
    Popt(String),
}

fn fail<T>(msg: impl Into<String>) -> Result<T, Diag> {
    Err(Diag::Fail(msg.into()))
}

/// C `strtol(s, &end, 10)` with `*end == '\0'` required; `None` on junk or overflow.
fn strtol_full(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let start = i;
    let mut v: i64 = 0;
    let mut overflow = false;
    while i < b.len() && b[i].is_ascii_digit() {
        let digit = (b[i] - b'0') as i64;
        match v.checked_mul(10).and_then(|x| x.checked_add(digit)) {
            Some(x) => v = x,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start || i != b.len() || overflow {
        return None;
    }
    Some(if neg { -v } else { v })
}

/// ipvsadm's `string_to_number`.
fn string_to_number(s: &str, min: i64, max: i64) -> Option<i64> {
    strtol_full(s).filter(|n| (min..=max).contains(n))
}

/// C `atoi`.
fn atoi(s: &str) -> i32 {
    let b = s
        .trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r'])
        .as_bytes();
    let mut i = 0;
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let mut v: i64 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        v = (v * 10 + (b[i] - b'0') as i64).min(i64::MAX / 20);
        i += 1;
    }
    (if neg { -v } else { v }) as i32
}

fn str_is_digit(s: &str) -> bool {
    s.bytes().all(|c| c.is_ascii_digit())
}

fn parse_ipv6(s: &str) -> Option<Ipv6Addr> {
    // inet_pton(AF_INET6) and Rust agree on the accepted forms.
    s.parse().ok()
}

/// Address (and port) being parsed: ipvsadm's `parse_service` on a copy of
/// the service entry.
#[derive(Clone)]
struct Target {
    af: u16,
    addr: IpAddr,
    port: u16,
    netmask: u32,
    protocol: u16,
}

const SERVICE_ADDR: u8 = 1;
const SERVICE_PORT: u8 = 2;

fn parse_service(buf: &str, t: &mut Target) -> u8 {
    if str_is_digit(buf) {
        return 0;
    }
    let mut host = buf;
    let mut portp: Option<&str> = None;
    if let Some(rest) = buf.strip_prefix('[') {
        let Some(i) = rest.find(']') else { return 0 };
        host = &rest[..i];
        let after = &rest[i + 1..];
        match after.strip_prefix(':') {
            Some(p) => portp = Some(p),
            None => return 0,
        }
    }
    if let Some(a) = parse_ipv6(host) {
        t.addr = IpAddr::V6(a);
        t.af = AF_INET6;
        t.netmask = 128;
    } else {
        portp = None;
        if let Some(i) = host.rfind(':') {
            portp = Some(&host[i + 1..]);
            host = &host[..i];
        }
        match resolve::ipv4_or_host(host) {
            Some(a) => {
                t.addr = IpAddr::V4(a);
                t.af = AF_INET;
            }
            None => return 0,
        }
    }
    let mut result = SERVICE_ADDR;
    if let Some(p) = portp {
        result |= SERVICE_PORT;
        if let Some(n) = string_to_number(p, 0, 65535) {
            t.port = n as u16;
        } else if let Some(n) = resolve::service_to_port(p, t.protocol) {
            t.port = n;
        } else {
            return 0;
        }
    }
    result
}

fn parse_timeout(buf: Option<&str>, min: i64, max: i64) -> Result<u32, Diag> {
    match buf {
        None => Ok(DEFAULT_PERSISTENT_TIMEOUT),
        Some(b) => match string_to_number(b, min, max) {
            Some(n) => Ok(n as u32),
            None => fail(format!("invalid timeout value `{b}' specified")),
        },
    }
}

fn parse_fwmark(buf: &str) -> Result<u32, Diag> {
    match strtol_full(buf) {
        Some(l) if l > 0 && l <= u32::MAX as i64 => Ok(l as u32),
        _ => fail(format!("invalid fwmark value `{buf}' specified")),
    }
}

fn parse_sched_flags(sched: &str, arg: &str) -> Result<u32, Diag> {
    let sched = if sched.is_empty() { "wlc" } else { sched };
    let mut flags = 0;
    for flag in arg.split(',').filter(|s| !s.is_empty()) {
        let (bit, needs) = match flag {
            "flag-1" => (SVC_F_SCHED1, None),
            "flag-2" => (SVC_F_SCHED2, None),
            "flag-3" => (SVC_F_SCHED3, None),
            "sh-fallback" => (SVC_F_SCHED1, Some("sh")),
            "sh-port" => (SVC_F_SCHED2, Some("sh")),
            "mh-fallback" => (SVC_F_SCHED1, Some("mh")),
            "mh-port" => (SVC_F_SCHED2, Some("mh")),
            _ => return fail(format!("invalid scheduler flag `{flag}'")),
        };
        flags |= bit;
        if let Some(n) = needs {
            if sched != n {
                return fail(format!("incompatible scheduler flag `{flag}'"));
            }
        }
    }
    Ok(flags)
}

fn truncated(s: &str, n: usize) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if out.len() + c.len_utf8() > n {
            break;
        }
        out.push(c);
    }
    out
}

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

fn generic_opt_check(cmd: Command, options: u64) -> Result<(), Diag> {
    let i = cmd as usize;
    let row = MATRIX[i];
    let mut last = 0;
    let mut count = 0;
    for (j, &kind) in row.iter().enumerate() {
        if options & (1u64 << j) == 0 {
            if kind == b'+' {
                return fail(format!(
                    "You need to supply the '{}' option for the '{}' command",
                    OPT_NAMES[j], CMD_NAMES[i]
                ));
            }
        } else {
            if kind == b'x' {
                return fail(format!(
                    "Illegal '{}' option with the '{}' command",
                    OPT_NAMES[j], CMD_NAMES[i]
                ));
            }
            if kind == b'1' {
                count += 1;
                if count == 1 {
                    last = j;
                    continue;
                }
                return fail(format!(
                    "The option '{}' conflicts with the '{}' option in the '{}' command",
                    OPT_NAMES[j], OPT_NAMES[last], CMD_NAMES[i]
                ));
            }
        }
    }
    Ok(())
}

fn tunnel_opt_check(t: TunnelType, options: u64) -> Result<(), Diag> {
    let i = t.to_kernel() as usize;
    let row = TUN_MATRIX[i];
    let mut last = 0;
    let mut count = 0;
    for (j, &kind) in row.iter().enumerate() {
        let k = TUN_OPTS[j];
        if options & (1u64 << k) == 0 {
            if kind == b'+' {
                return fail(format!(
                    "You need to supply the '{}' option for the '{}' tunnel type",
                    OPT_NAMES[k],
                    t.name()
                ));
            }
        } else {
            if kind == b'x' {
                return fail(format!(
                    "Illegal '{}' option with the '{}' tunnel type",
                    OPT_NAMES[k],
                    t.name()
                ));
            }
            if kind == b'1' {
                count += 1;
                if count == 1 {
                    last = k;
                    continue;
                }
                return fail(format!(
                    "The option '{}' conflicts with the '{}' option in the '{}' tunnel type",
                    OPT_NAMES[k],
                    OPT_NAMES[last],
                    t.name()
                ));
            }
        }
    }
    Ok(())
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

/// Where a run writes and reads.
pub struct Io<'a> {
    /// Standard output.
    pub out: &'a mut dyn Write,
    /// Standard error.
    pub err: &'a mut dyn Write,
    /// Standard input (for `-R`).
    pub input: &'a mut dyn BufRead,
}

/// Process exit requested from deep inside (ipvsadm's `exit()`).
struct Exit(i32);

/// The help text (`-h`): our own wording of ipvsadm's usage summary.
pub fn usage(program: &str) -> String {
    let p = program;
    format!(
        "{VERSION_LINE}\n\
Usage:\n\
\x20 {p} -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]\n\
\x20 {p} -D virtual-service\n\
\x20 {p} -C\n\
\x20 {p} -R\n\
\x20 {p} -S [-n]\n\
\x20 {p} -a|e virtual-service -r server-address [options]\n\
\x20 {p} -d virtual-service -r server-address\n\
\x20 {p} -L|l [virtual-service] [options]\n\
\x20 {p} -Z [virtual-service]\n\
\x20 {p} --set tcp tcpfin udp\n\
\x20 {p} --start-daemon {{master|backup}} [daemon-options]\n\
\x20 {p} --stop-daemon {{master|backup}}\n\
\x20 {p} -h\n\
\n\
Commands (long or short form):\n\
\x20 --add-service     -A        add a virtual service\n\
\x20 --edit-service    -E        replace a virtual service's settings\n\
\x20 --delete-service  -D        delete a virtual service\n\
\x20 --clear           -C        delete every virtual service\n\
\x20 --restore         -R        read commands from standard input, one per line\n\
\x20 --save            -S        print the table as commands for --restore\n\
\x20 --add-server      -a        add a real server to a virtual service\n\
\x20 --edit-server     -e        change a real server\n\
\x20 --delete-server   -d        remove a real server\n\
\x20 --list            -L|-l     show the table\n\
\x20 --zero            -Z        reset counters of one or all virtual services\n\
\x20 --set tcp tcpfin udp        set connection timeouts (seconds, 0 = unchanged)\n\
\x20 --start-daemon              start a connection sync daemon\n\
\x20 --stop-daemon               stop a connection sync daemon\n\
\x20 --help            -h        show this text\n\
\n\
virtual-service:\n\
\x20 --tcp-service|-t  service-address   host[:port] (TCP)\n\
\x20 --udp-service|-u  service-address   host[:port] (UDP)\n\
\x20 --sctp-service    service-address   host[:port] (SCTP)\n\
\x20 --fwmark-service|-f fwmark          firewall mark, a positive integer\n\
\n\
Options:\n\
\x20 --ipv6         -6                   the fwmark service is IPv6\n\
\x20 --scheduler    -s scheduler         rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh (default wlc)\n\
\x20 --pe            engine              persistence engine: sip (default none)\n\
\x20 --persistent   -p [timeout]         persistent service (default 360 seconds)\n\
\x20 --netmask      -M netmask           client grouping for persistence\n\
\x20 --real-server  -r server-address    host[:port] of a real server\n\
\x20 --gatewaying   -g                   direct routing (default)\n\
\x20 --ipip         -i                   tunnelling\n\
\x20 --masquerading -m                   NAT\n\
\x20 --tun-type      type                ipip|gue|gre (default ipip)\n\
\x20 --tun-port      port                tunnel destination port\n\
\x20 --tun-nocsum                        tunnel without checksum\n\
\x20 --tun-csum                          tunnel with checksum\n\
\x20 --tun-remcsum                       tunnel with remote checksum\n\
\x20 --weight       -w weight            real server capacity, 0..65535 (default 1)\n\
\x20 --u-threshold  -x uthreshold        stop sending new connections above this many\n\
\x20 --l-threshold  -y lthreshold        resume below this many\n\
\x20 --connection   -c                   list connections\n\
\x20 --timeout                           list timeouts (tcp tcpfin udp)\n\
\x20 --daemon                            list sync daemons\n\
\x20 --stats                             list counters\n\
\x20 --rate                              list rates\n\
\x20 --exact                             print exact numbers\n\
\x20 --thresholds                        list thresholds\n\
\x20 --persistent-conn                   list persistence templates\n\
\x20 --tun-info                          list tunnel settings\n\
\x20 --nosort                            kernel order instead of sorted\n\
\x20 --sort                              accepted and ignored\n\
\x20 --ops          -o                   one-packet scheduling (UDP)\n\
\x20 --numeric      -n                   no name lookups\n\
\x20 --sched-flags  -b flags             scheduler flags, comma separated\n\
Daemon Options:\n\
\x20 --syncid sid                        sync id (default 0)\n\
\x20 --sync-maxlen length                largest sync message\n\
\x20 --mcast-interface interface         interface for sync traffic (default eth0)\n\
\x20 --mcast-group address               IPv4/IPv6 multicast group (default 224.0.0.81)\n\
\x20 --mcast-port port                   UDP port (default 8848)\n\
\x20 --mcast-ttl ttl                     multicast TTL (default 1)\n"
    )
}

struct Runner<'a, 'b> {
    backend: &'a mut dyn IpvsBackend,
    info: Info,
    program: String,
    io: &'a mut Io<'b>,
}

impl Runner<'_, '_> {
    fn names(&self, f: &Format) -> Box<dyn Names> {
        if f.numeric {
            Box::new(Numeric)
        } else {
            Box::new(System)
        }
    }

    fn err_line(&mut self, msg: &str) {
        let _ = self.io.out.flush();
        let _ = writeln!(self.io.err, "{msg}");
    }

    fn try_help(&mut self) -> Exit {
        let p = self.program.clone();
        self.err_line(&format!(
            "Try `{p} -h' or '{p} --help' for more information."
        ));
        Exit(255)
    }

    /// Run a parsed action (not Restore); Ok(return value) or Err(exit).
    fn exec(&mut self, action: Action) -> Result<i32, Exit> {
        match action {
            Action::Apply(op) => match self.backend.apply_one(&op) {
                Ok(()) => Ok(0),
                Err(e) => {
                    self.err_line(&e.ipvsadm_message());
                    Ok(-1)
                }
            },
            Action::ListAll(f) | Action::Save(f) => {
                self.list_all(&f)?;
                Ok(0)
            }
            Action::ListService(svc, f) => {
                let s = match self.backend.service(&svc) {
                    Ok(s) => s,
                    Err(e) => {
                        self.err_line(&e.ipvsadm_message());
                        return Err(Exit(1));
                    }
                };
                let dests = match self.backend.dests(&s) {
                    Ok(d) => d,
                    Err(e) => {
                        let _ = self.io.out.write_all(format::title(&f).as_bytes());
                        self.err_line(&e.ipvsadm_message());
                        return Err(Exit(1));
                    }
                };
                let names = self.names(&f);
                let text =
                    format::list_one(&ServiceEntry { service: s, dests }, &f, names.as_ref());
                let _ = self.io.out.write_all(text.as_bytes());
                Ok(0)
            }
            Action::ListConn(f) => {
                self.list_conn(&f)?;
                Ok(0)
            }
            Action::ListTimeout => match self.backend.timeouts() {
                Ok(t) => {
                    let _ = self.io.out.write_all(format::timeouts(&t).as_bytes());
                    Ok(0)
                }
                Err(_) => Err(Exit(1)),
            },
            Action::ListDaemon => match self.backend.daemons() {
                Ok(d) => {
                    let _ = self.io.out.write_all(format::daemons(&d).as_bytes());
                    Ok(0)
                }
                Err(_) => Err(Exit(1)),
            },
            Action::Help => {
                let _ = self.io.out.write_all(usage(&self.program).as_bytes());
                Err(Exit(0))
            }
            Action::Version => {
                let _ = writeln!(self.io.out, "{VERSION_LINE}");
                Err(Exit(0))
            }
            Action::Restore => self.restore(),
        }
    }

    fn list_all(&mut self, f: &Format) -> Result<(), Exit> {
        if !f.rule {
            let _ = self
                .io
                .out
                .write_all(format::version_header(&self.info).as_bytes());
        }
        let table = match self.backend.table() {
            Ok(t) => t,
            Err(e) => {
                self.err_line(&e.ipvsadm_message());
                return Err(Exit(1));
            }
        };
        let names = self.names(f);
        let mut entries = table;
        if !f.nosort {
            format::sort_entries(&mut entries);
        }
        let mut text = format::title(f);
        text.reserve(entries.len() * 200);
        for e in &entries {
            format::service_entry(&mut text, &e.service, &e.dests, f, names.as_ref());
        }
        let _ = self.io.out.write_all(text.as_bytes());
        Ok(())
    }

    fn list_conn(&mut self, f: &Format) -> Result<(), Exit> {
        let data = match std::fs::read(CONN_PROC_FILE) {
            Ok(d) => d,
            Err(_) => {
                self.err_line(&format!("cannot open file {CONN_PROC_FILE}"));
                return Err(Exit(1));
            }
        };
        let text = String::from_utf8_lossy(&data);
        let mut lines = text.split_inclusive('\n');
        if lines.next().is_none() {
            self.err_line(&format!("unexpected input from {CONN_PROC_FILE}"));
            return Err(Exit(1));
        }
        let names = self.names(f);
        let mut out = format::conn_header(f.persistent_conn);
        for l in lines {
            if let Some(s) = format::conn_line(l, f, names.as_ref()) {
                out.push_str(&s);
            }
        }
        let _ = self.io.out.write_all(out.as_bytes());
        Ok(())
    }

    /// Apply queued changes; print their errors in order; the last one's
    /// result is returned.
    fn flush_pending(&mut self, pending: &mut Vec<Op>) -> i32 {
        if pending.is_empty() {
            return 0;
        }
        let results = self.backend.apply(pending);
        pending.clear();
        let mut last = 0;
        for r in results {
            last = match r {
                Ok(()) => 0,
                Err(e) => {
                    self.err_line(&e.ipvsadm_message());
                    -1
                }
            };
        }
        last
    }

    fn restore(&mut self) -> Result<i32, Exit> {
        let mut result = 0;
        let mut pending: Vec<Op> = Vec::new();
        let mut line = Vec::new();
        loop {
            line.clear();
            match self.io.input.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let text = String::from_utf8_lossy(&line);
            let mut argv = vec![self.program.clone()];
            argv.extend(
                text.split([' ', '\t', '\r', '\n'])
                    .filter(|t| !t.is_empty() && *t != "ipvsadm")
                    .map(str::to_string),
            );
            if argv.len() <= 1 {
                continue;
            }
            match parse(&argv, true) {
                Ok(Action::Apply(op)) => {
                    pending.push(op);
                    result = 0;
                }
                Ok(other) => {
                    self.flush_pending(&mut pending);
                    result = self.exec(other)?;
                }
                Err(d) => {
                    self.flush_pending(&mut pending);
                    match d {
                        Diag::TryHelp => return Err(self.try_help()),
                        Diag::Fail(m) => {
                            self.err_line(&m);
                            return Err(Exit(2));
                        }
                        Diag::Popt(m) => {
                            self.err_line(&m);
                            result = -1;
                        }
                    }
                }
            }
        }
        if !pending.is_empty() {
            result = self.flush_pending(&mut pending);
        }
        Ok(result)
    }
}

/// Run ipvsadm against a backend that is already connected (`info` from its
/// start-up `GET_INFO`); returns the exit code.
pub fn run(backend: &mut dyn IpvsBackend, info: Info, argv: &[String], io: &mut Io<'_>) -> i32 {
    let program = argv.first().cloned().unwrap_or_else(|| "ipvsadm".into());
    let mut r = Runner {
        backend,
        info,
        program,
        io,
    };
    if info.version < 0x010104 {
        let (a, b, c) = info.version_triple();
        let _ = write!(
            r.io.err,
            "Warning: IPVS version mismatch: \n  Kernel compiled with IPVS version {a}.{b}.{c}\n  ipvsadm v1.31  requires minimum IPVS version 1.1.4\n\n"
        );
    }
    let code = if argv.len() <= 1 {
        match r.list_all(&Format::default()) {
            Ok(()) => 0,
            Err(Exit(c)) => c,
        }
    } else {
        match parse(argv, false) {
            Ok(action) => match r.exec(action) {
                Ok(v) => v,
                Err(Exit(c)) => c,
            },
            Err(Diag::TryHelp) => r.try_help().0,
            Err(Diag::Fail(m)) => {
                r.err_line(&m);
                2
            }
            Err(Diag::Popt(m)) => {
                r.err_line(&m);
                -1
            }
        }
    };
    let _ = r.io.out.flush();
    let _ = r.io.err.flush();
    code & 0xff
}

fn modprobe_ipvs() -> bool {
    matches!(
        std::process::Command::new("/sbin/modprobe").args(["--", "ip_vs"]).status(),
        Ok(s) if s.success()
    )
}

fn init() -> Result<(NetlinkIpvs, Info), Error> {
    let mut c = NetlinkIpvs::connect()?;
    let info = c.info()?;
    Ok((c, info))
}

/// The kernel's IPVS could not be reached; its `Display` is the message
/// ipvsadm prints (to standard error, with exit code 2).
#[derive(Debug, thiserror::Error)]
#[error(
    "Can't initialize ipvs: {}\nAre you sure that IP Virtual Server is built in the kernel or as module?\n",
    .0.ipvsadm_message()
)]
struct CannotInit(Error);

/// Connect and read the kernel's `GET_INFO`, running modprobe and trying
/// once more on failure as ipvsadm does.
fn connect() -> Result<(NetlinkIpvs, Info), CannotInit> {
    // ipvsadm: on failure run modprobe and try once more; when modprobe
    // fails the first error is reported.
    let connected = match init() {
        Ok(x) => Ok(x),
        Err(first) => {
            if modprobe_ipvs() {
                init()
            } else {
                Err(first)
            }
        }
    };
    connected.map_err(CannotInit)
}

/// The `ipvsadm` program: connect to the kernel (with the modprobe retry),
/// run, and return the exit code.
pub fn main(argv: Vec<String>) -> i32 {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut err = stderr.lock();
    let (mut backend, info) = match connect() {
        Ok(x) => x,
        Err(m) => {
            let _ = err.write_all(m.to_string().as_bytes());
            return 2;
        }
    };
    let mut input = stdin.lock();
    let mut io = Io {
        out: &mut out,
        err: &mut err,
        input: &mut input,
    };
    run(&mut backend, info, &argv, &mut io)
}

/// What one in-process ipvsadm run gave: what the program would have
/// exited with and printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// The exit code (0-255).
    pub code: i32,
    /// Standard output.
    pub out: Vec<u8>,
    /// Standard error.
    pub err: Vec<u8>,
}

/// Run our ipvsadm inside this process: the same connection, parser,
/// kernel requests, output and exit code as running the program with
/// `argv` (`argv[0]` names it in messages) and `input` on its standard
/// input, without a fork and exec. For callers that have checked
/// [`is_ours`] on the program they were told to run.
pub fn run_captured(argv: &[String], input: &[u8]) -> Captured {
    let mut c = Captured::default();
    let (mut backend, info) = match connect() {
        Ok(x) => x,
        Err(m) => {
            c.err = m.to_string().into_bytes();
            c.code = 2;
            return c;
        }
    };
    let mut inp = input;
    let mut io = Io {
        out: &mut c.out,
        err: &mut c.err,
        input: &mut inp,
    };
    c.code = run(&mut backend, info, argv, &mut io);
    c
}

/// Is `path` this suite's own ipvsadm, the `ipvsadm` installed next to the
/// running executable (compared after resolving links)? Then lvs and nanny
/// may do what it would do in-process ([`run_captured`]); any other program
/// (Debian's ipvsadm, an administrator's wrapper) must be run.
pub fn is_ours(path: &str) -> bool {
    std::env::current_exe().is_ok_and(|exe| is_next_to(&exe, path))
}

/// Whether `path` is the `ipvsadm` in the directory of `exe`, after
/// resolving links (what [`is_ours`] asks of the running executable).
fn is_next_to(exe: &std::path::Path, path: &str) -> bool {
    match (
        std::fs::canonicalize(path),
        std::fs::canonicalize(exe.with_file_name("ipvsadm")),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
