//! ipvsadm 1.31's text formats as pure functions over the model.
//!
//! Each function returns exactly the bytes ipvsadm prints (column widths,
//! trailing spaces, truncation of long IPv4 names, the large-number suffixes,
//! the sort order with its unsigned-subtraction quirk). Name lookups go
//! through a [`Names`] so tests can stay numeric.

use std::cmp::Ordering;
use std::fmt::Write;
use std::net::IpAddr;

use ipvs::model::*;

use crate::resolve::Names;

/// Which listing to produce (ipvsadm's `FMT_*` bits).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Format {
    /// `-n`: numeric addresses and ports.
    pub numeric: bool,
    /// `-S`: rule format.
    pub rule: bool,
    /// `--stats`.
    pub stats: bool,
    /// `--rate`.
    pub rate: bool,
    /// `--thresholds`.
    pub thresholds: bool,
    /// `--persistent-conn`.
    pub persistent_conn: bool,
    /// `--tun-info`.
    pub tun_info: bool,
    /// `--nosort`.
    pub nosort: bool,
    /// `--exact`.
    pub exact: bool,
}

fn protocol_name(p: u16) -> &'static str {
    match p {
        IPPROTO_TCP => "TCP",
        IPPROTO_UDP => "UDP",
        IPPROTO_SCTP => "SCTP",
        _ => "?",
    }
}

fn protocol_option(p: u16) -> &'static str {
    match p {
        IPPROTO_TCP => "-t",
        IPPROTO_UDP => "-u",
        IPPROTO_SCTP => "--sctp-service",
        _ => "--xxx-service",
    }
}

fn fwd_name(f: Forward) -> &'static str {
    match f {
        Forward::Masq => "Masq",
        Forward::Local => "Local",
        Forward::Tunnel => "Tunnel",
        Forward::Route => "Route",
        // printf("%s", NULL) in glibc
        Forward::Bypass => "(null)",
    }
}

fn fwd_switch(f: Forward) -> &'static str {
    match f {
        Forward::Masq => "-m",
        Forward::Tunnel => "-i",
        Forward::Local | Forward::Route => "-g",
        Forward::Bypass => "(null)",
    }
}

const TUN_FLAG_NAMES: [&str; 3] = ["-c", "+c", "r+c"];
const TUN_FLAG_OPTS: [&str; 3] = ["--tun-nocsum", "--tun-csum", "--tun-remcsum"];

fn tun_flag(i: u16, names: &'static [&'static str; 3]) -> &'static str {
    names.get(i as usize).copied().unwrap_or("(null)")
}

/// `addr:port` as ipvsadm prints it (`[v6]:port`), names unless numeric;
/// cut to 59 characters like ipvsadm's 60-byte buffer.
pub fn addrport(addr: &IpAddr, port: u16, proto: u16, numeric: bool, names: &dyn Names) -> String {
    let v6 = matches!(addr, IpAddr::V6(_));
    let host = if numeric { None } else { names.host(addr) }.unwrap_or_else(|| addr.to_string());
    let portname = if numeric {
        None
    } else {
        names.service(port, proto)
    }
    .unwrap_or_else(|| port.to_string());
    let mut s = if v6 {
        format!("[{host}]:{portname}")
    } else {
        format!("{host}:{portname}")
    };
    truncate(&mut s, 59);
    s
}

fn truncate(s: &mut String, n: usize) {
    if s.len() > n {
        let mut cut = n;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

/// ipvsadm's `print_largenum`.
pub fn largenum(out: &mut String, i: u64, exact: bool) {
    if exact {
        let len = i.to_string().len();
        let w = if len <= 8 { 9 } else { len + 1 };
        let _ = write!(out, "{i:>w$}");
        return;
    }
    let _ = if i < 100_000_000 {
        write!(out, "{i:>9}")
    } else if i < 1_000_000_000 {
        write!(out, "{:>8}K", i / 1000)
    } else if i < 100_000_000_000 {
        write!(out, "{:>8}M", i / 1_000_000)
    } else if i < 100_000_000_000_000 {
        write!(out, "{:>8}G", i / 1_000_000_000)
    } else {
        write!(out, "{:>8}T", i / 1_000_000_000_000)
    };
}

fn sched_flags(s: &Service) -> String {
    let mut v: Vec<&str> = Vec::new();
    match s.sched_name.as_str() {
        "sh" | "mh" => {
            let (a, b) = if s.sched_name == "sh" {
                ("sh-fallback", "sh-port")
            } else {
                ("mh-fallback", "mh-port")
            };
            if s.flags & SVC_F_SCHED1 != 0 {
                v.push(a);
            }
            if s.flags & SVC_F_SCHED2 != 0 {
                v.push(b);
            }
        }
        _ => {
            if s.flags & SVC_F_SCHED1 != 0 {
                v.push("flag-1");
            }
            if s.flags & SVC_F_SCHED2 != 0 {
                v.push("flag-2");
            }
            if s.flags & SVC_F_SCHED3 != 0 {
                v.push("flag-3");
            }
        }
    }
    v.join(",")
}

/// The two title lines of a listing (nothing for `-S`).
pub fn title(f: &Format) -> String {
    if f.stats {
        format!(
            "{:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"
        )
    } else if f.rate {
        format!(
            "{:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"
        )
    } else if f.thresholds {
        format!(
            "{:<33} {:<10} {:<10} {:<10} {:<10}\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"
        )
    } else if f.persistent_conn {
        format!(
            "{:<33} {:<9} {:<11} {:<10} {:<10}\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", "Weight", "PersistConn", "ActiveConn", "InActConn"
        )
    } else if f.tun_info {
        "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n".to_string()
    } else if !f.rule {
        "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n".to_string()
    } else {
        String::new()
    }
}

/// The `IP Virtual Server version ...` header of full listings.
pub fn version_header(info: &Info) -> String {
    let (a, b, c) = info.version_triple();
    format!(
        "IP Virtual Server version {a}.{b}.{c} (size={})\n",
        info.conn_tab_size as i32
    )
}

fn v4_mask(m: u32) -> String {
    std::net::Ipv4Addr::from(m).to_string()
}

fn service_name(s: &Service, f: &Format, names: &dyn Names) -> String {
    // Debian's 1.31 prints the mark with %d.
    let mark = s.fwmark as i32;
    if s.fwmark != 0 {
        match (f.rule, s.af == AF_INET6) {
            (true, true) => format!("-f {mark} -6"),
            (true, false) => format!("-f {mark}"),
            (false, true) => format!("FWM  {mark} IPv6"),
            (false, false) => format!("FWM  {mark}"),
        }
    } else {
        let v = addrport(&s.addr, s.port, s.protocol, f.numeric, names);
        if f.rule {
            format!("{} {}", protocol_option(s.protocol), v)
        } else {
            let mut n = format!("{:<4} {}", protocol_name(s.protocol), v);
            if s.af != AF_INET6 {
                truncate(&mut n, 33);
            }
            n
        }
    }
}

/// One service and its destinations (sorted here unless `nosort`).
pub fn service_entry(
    out: &mut String,
    s: &Service,
    dests: &[Destination],
    f: &Format,
    names: &dyn Names,
) {
    let svc_name = service_name(s, f, names);
    if f.rule {
        let _ = write!(out, "-A {} -s {}", svc_name, s.sched_name);
        if s.is_persistent() {
            let _ = write!(out, " -p {}", s.timeout);
            if s.af == AF_INET && s.netmask != 0xffff_ffff {
                let _ = write!(out, " -M {}", v4_mask(s.netmask));
            }
            if s.af == AF_INET6 && s.netmask != 128 {
                let _ = write!(out, " -M {}", s.netmask as i32);
            }
        }
        if !s.pe_name.is_empty() {
            let _ = write!(out, " --pe {}", s.pe_name);
        }
        if s.flags & SVC_F_ONEPACKET != 0 {
            out.push_str(" -o");
        }
        if s.flags & SVC_F_SCHED_MASK != 0 {
            let _ = write!(out, " -b {}", sched_flags(s));
        }
    } else if f.stats || f.rate {
        let _ = write!(out, "{svc_name:<33}");
        let st = &s.stats;
        let v = if f.stats {
            [st.conns, st.inpkts, st.outpkts, st.inbytes, st.outbytes]
        } else {
            [st.cps, st.inpps, st.outpps, st.inbps, st.outbps]
        };
        for x in v {
            largenum(out, x, f.exact);
        }
    } else {
        let _ = write!(out, "{} {}", svc_name, s.sched_name);
        if s.flags & SVC_F_SCHED_MASK != 0 {
            let _ = write!(out, " ({})", sched_flags(s));
        }
        if s.is_persistent() {
            let _ = write!(out, " persistent {}", s.timeout);
            if s.af == AF_INET && s.netmask != 0xffff_ffff {
                let _ = write!(out, " mask {}", v4_mask(s.netmask));
            }
            if s.af == AF_INET6 && s.netmask != 128 {
                let _ = write!(out, " mask {}", s.netmask as i32);
            }
            if !s.pe_name.is_empty() {
                let _ = write!(out, " pe {}", s.pe_name);
            }
        }
        if s.flags & SVC_F_ONEPACKET != 0 {
            out.push_str(" ops");
        }
    }
    out.push('\n');

    let order: Vec<&Destination> = if f.nosort {
        dests.iter().collect()
    } else {
        let mut idx: Vec<usize> = (0..dests.len()).collect();
        msort(&mut idx, |&a, &b| cmp_dests(&dests[a], &dests[b]) <= 0);
        idx.into_iter().map(|i| &dests[i]).collect()
    };
    for d in order {
        let mut dname = addrport(&d.addr, d.port, s.protocol, f.numeric, names);
        if !f.rule && d.af != AF_INET6 {
            truncate(&mut dname, 28);
        }
        if f.rule {
            let _ = write!(
                out,
                "-a {} -r {} {} -w {}",
                svc_name,
                dname,
                fwd_switch(d.fwd),
                d.weight
            );
            if d.fwd == Forward::Tunnel {
                match d.tun_type {
                    TunnelType::Gre => {
                        let _ = write!(
                            out,
                            " --tun-type gre {}",
                            tun_flag(d.tun_flags, &TUN_FLAG_OPTS)
                        );
                    }
                    TunnelType::Gue => {
                        let _ = write!(
                            out,
                            " --tun-type gue --tun-port {} {}",
                            d.tun_port,
                            tun_flag(d.tun_flags, &TUN_FLAG_OPTS)
                        );
                    }
                    TunnelType::Ipip => out.push_str(" --tun-type ipip"),
                }
            }
            out.push('\n');
        } else if f.stats {
            // libipvs reads the 64-bit destination counters with 32-bit
            // getters (conns and packets); bytes are read in full.
            let st = &d.stats;
            let _ = write!(out, "  -> {dname:<28}");
            largenum(out, st.conns & 0xffff_ffff, f.exact);
            largenum(out, st.inpkts & 0xffff_ffff, f.exact);
            largenum(out, st.outpkts & 0xffff_ffff, f.exact);
            largenum(out, st.inbytes, f.exact);
            largenum(out, st.outbytes, f.exact);
            out.push('\n');
        } else if f.rate {
            let st = &d.stats;
            let _ = write!(
                out,
                "  -> {dname:<28} {:>8} {:>8} {:>8}",
                st.cps & 0xffff_ffff,
                st.inpps & 0xffff_ffff,
                st.outpps & 0xffff_ffff
            );
            largenum(out, st.inbps & 0xffff_ffff, f.exact);
            largenum(out, st.outbps & 0xffff_ffff, f.exact);
            out.push('\n');
        } else if f.thresholds {
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<10} {:<10} {:<10} {:<10}",
                d.u_threshold, d.l_threshold, d.active_conns, d.inact_conns
            );
        } else if f.persistent_conn {
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<9} {:<11} {:<10} {:<10}",
                d.weight as u32, d.persist_conns, d.active_conns, d.inact_conns
            );
        } else if f.tun_info {
            let ti = if d.fwd == Forward::Tunnel {
                match d.tun_type {
                    TunnelType::Ipip => "ipip".to_string(),
                    TunnelType::Gue => {
                        format!(
                            "gue:{}:{}",
                            d.tun_port,
                            tun_flag(d.tun_flags, &TUN_FLAG_NAMES)
                        )
                    }
                    TunnelType::Gre => format!("gre:{}", tun_flag(d.tun_flags, &TUN_FLAG_NAMES)),
                }
            } else {
                "n/a".to_string()
            };
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<7} {:<13} {:<6} {:<10} {:<10}",
                fwd_name(d.fwd),
                ti,
                d.weight,
                d.active_conns,
                d.inact_conns
            );
        } else {
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<7} {:<6} {:<10} {:<10}",
                fwd_name(d.fwd),
                d.weight,
                d.active_conns,
                d.inact_conns
            );
        }
    }
}

fn words(addr: &IpAddr) -> [u32; 4] {
    let b = match addr {
        IpAddr::V4(a) => {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&a.octets());
            b
        }
        IpAddr::V6(a) => a.octets(),
    };
    let mut w = [0u32; 4];
    for (i, x) in w.iter_mut().enumerate() {
        *x = u32::from_be_bytes([b[i * 4], b[i * 4 + 1], b[i * 4 + 2], b[i * 4 + 3]]);
    }
    w
}

fn addr_cmp(af: u16, a: &IpAddr, b: &IpAddr) -> i32 {
    let (wa, wb) = (words(a), words(b));
    if af == AF_INET6 {
        for i in 0..4 {
            let r = wa[i].wrapping_sub(wb[i]) as i32;
            if r != 0 {
                return r;
            }
        }
        0
    } else {
        wa[0].wrapping_sub(wb[0]) as i32
    }
}

/// libipvs `ipvs_cmp_services`: an `int` built from unsigned differences, so
/// addresses more than 2^31 apart compare the "wrong" way round.
pub fn cmp_services(a: &Service, b: &Service) -> i32 {
    let r = a.fwmark.wrapping_sub(b.fwmark) as i32;
    if r != 0 {
        return r;
    }
    let r = a.af as i32 - b.af as i32;
    if r != 0 {
        return r;
    }
    let r = a.protocol as i32 - b.protocol as i32;
    if r != 0 {
        return r;
    }
    let r = addr_cmp(a.af, &a.addr, &b.addr);
    if r != 0 {
        return r;
    }
    a.port as i32 - b.port as i32
}

/// libipvs `ipvs_cmp_dests`.
pub fn cmp_dests(a: &Destination, b: &Destination) -> i32 {
    let r = addr_cmp(a.af, &a.addr, &b.addr);
    if r != 0 {
        return r;
    }
    a.port as i32 - b.port as i32
}

/// glibc's `qsort` (a top-down merge sort that takes from the left run while
/// `le(left, right)`); with ipvsadm's non-transitive comparators the exact
/// algorithm decides the order, so it is reproduced here.
pub fn msort<T: Clone>(v: &mut [T], le: impl Fn(&T, &T) -> bool + Copy) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    msort(&mut v[..n1], le);
    msort(&mut v[n1..], le);
    let mut merged = Vec::with_capacity(n);
    let (mut i, mut j) = (0, n1);
    while i < n1 && j < n {
        if le(&v[i], &v[j]) {
            merged.push(v[i].clone());
            i += 1;
        } else {
            merged.push(v[j].clone());
            j += 1;
        }
    }
    merged.extend_from_slice(&v[i..n1]);
    merged.extend_from_slice(&v[j..n]);
    v.clone_from_slice(&merged);
}

/// Sort service entries the way `ipvsadm -L`/`-S` do (unless `--nosort`).
pub fn sort_entries(entries: &mut Vec<ServiceEntry>) {
    // Sort indices (cheap to move), then move the entries into that order.
    let mut idx: Vec<usize> = (0..entries.len()).collect();
    {
        let e = &*entries;
        msort(&mut idx, |&a, &b| {
            cmp_services(&e[a].service, &e[b].service) <= 0
        });
    }
    let mut taken: Vec<Option<ServiceEntry>> =
        std::mem::take(entries).into_iter().map(Some).collect();
    *entries = idx
        .into_iter()
        .map(|i| taken[i].take().expect("each index once"))
        .collect();
}

/// A full listing (`-L` without a service) or a save (`-S`).
pub fn list_all(info: &Info, entries: &[ServiceEntry], f: &Format, names: &dyn Names) -> String {
    let mut out = String::with_capacity(64 + entries.len() * 300);
    if !f.rule {
        out.push_str(&version_header(info));
    }
    let owned;
    let entries = if f.nosort {
        entries
    } else {
        let mut v = entries.to_vec();
        sort_entries(&mut v);
        owned = v;
        &owned[..]
    };
    out.push_str(&title(f));
    for e in entries {
        service_entry(&mut out, &e.service, &e.dests, f, names);
    }
    out
}

/// A single-service listing (`-L -t VIP:port`).
pub fn list_one(entry: &ServiceEntry, f: &Format, names: &dyn Names) -> String {
    let mut out = title(f);
    service_entry(&mut out, &entry.service, &entry.dests, f, names);
    out
}

/// `--timeout`.
pub fn timeouts(t: &Timeouts) -> String {
    format!(
        "Timeout (tcp tcpfin udp): {} {} {}\n",
        t.tcp as i32, t.tcp_fin as i32, t.udp as i32
    )
}

/// `--daemon`: one line per running daemon, master first.
pub fn daemons(list: &[Daemon]) -> String {
    let mut out = String::new();
    let mut slots: [Option<&Daemon>; 2] = [None, None];
    for (i, d) in list.iter().take(2).enumerate() {
        slots[i] = Some(d);
    }
    for d in slots.into_iter().flatten() {
        let kind = if d.state & DAEMON_MASTER != 0 {
            "master"
        } else if d.state & DAEMON_BACKUP != 0 {
            "backup"
        } else {
            continue;
        };
        let _ = write!(
            out,
            "{kind} sync daemon (mcast={}, syncid={}",
            d.mcast_ifn, d.syncid as i32
        );
        if d.sync_maxlen != 0 {
            let _ = write!(out, ", maxlen={}", d.sync_maxlen);
        }
        if let Some(g) = d.mcast_group {
            let _ = write!(out, ", group={g}");
        }
        if d.mcast_port != 0 {
            let _ = write!(out, ", port={}", d.mcast_port);
        }
        if d.mcast_ttl != 0 {
            let _ = write!(out, ", ttl={}", d.mcast_ttl);
        }
        out.push_str(")\n");
    }
    out
}

/// The header of `-c` (connection) listings.
pub fn conn_header(persistent_conn: bool) -> String {
    let mut out = String::from("IPVS connection entries\n");
    if persistent_conn {
        out.push_str("pro expire state       source             virtual            destination        pe name          pe_data
");
    } else {
        out.push_str(
            "pro expire state       source             virtual            destination
",
        );
    }
    out
}

fn parse_hex_u16(s: &str) -> u16 {
    // sscanf %hX: leading hex digits (optional 0x), truncated to 16 bits
    let t = s.trim_start_matches("0x").trim_start_matches("0X");
    let digits: String = t.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    u64::from_str_radix(&digits, 16)
        .map(|v| v as u16)
        .unwrap_or(0)
}

fn parse_conn_addr(s: &str) -> (u16, IpAddr) {
    if let Ok(a) = s.parse::<std::net::Ipv6Addr>() {
        return (AF_INET6, IpAddr::V6(a));
    }
    if let Ok(a) = s.parse::<std::net::Ipv4Addr>() {
        return (AF_INET, IpAddr::V4(a));
    }
    let digits: String = s
        .trim_start_matches("0x")
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    let v = u64::from_str_radix(&digits, 16).unwrap_or(0) as u32;
    (AF_INET, IpAddr::V4(std::net::Ipv4Addr::from(v)))
}

/// One `/proc/net/ip_vs_conn` line as `-c` prints it; `None` for lines
/// ipvsadm would not print.
pub fn conn_line(line: &str, f: &Format, names: &dyn Names) -> Option<String> {
    let t: Vec<&str> = line.split_ascii_whitespace().collect();
    if t.len() < 9 {
        return None;
    }
    let proto = match t[0] {
        "TCP" => IPPROTO_TCP,
        "UDP" => IPPROTO_UDP,
        "SCTP" => IPPROTO_SCTP,
        _ => 0,
    };
    let (af, caddr) = parse_conn_addr(t[1]);
    let vaddr = if af == AF_INET6 {
        t[3].parse::<std::net::Ipv6Addr>()
            .map(IpAddr::V6)
            .unwrap_or(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED))
    } else {
        parse_conn_addr(t[3]).1
    };
    let (_, daddr) = parse_conn_addr(t[5]);
    let cport = parse_hex_u16(t[2]);
    let vport = parse_hex_u16(t[4]);
    let dport = parse_hex_u16(t[6]);
    let expires: i64 = t[8].parse().unwrap_or(0);
    let expires = expires as u32;
    let cname = addrport(&caddr, cport, proto, f.numeric, names);
    let vname = addrport(&vaddr, vport, proto, f.numeric, names);
    let dname = addrport(&daddr, dport, proto, f.numeric, names);
    let exp = format!("{:02}:{:02}", (expires / 60) as i32, (expires % 60) as i32);
    if f.persistent_conn && t.len() >= 11 {
        Some(format!(
            "{:<3} {:<6} {:<11} {:<18} {:<18} {:<16} {:<18} {}\n",
            t[0], exp, t[7], cname, vname, dname, t[9], t[10]
        ))
    } else {
        Some(format!(
            "{:<3} {:<6} {:<11} {:<18} {:<18} {}\n",
            t[0], exp, t[7], cname, vname, dname
        ))
    }
}

/// Ordering helper for callers that want a total order (not ipvsadm's).
pub fn total_cmp_services(a: &Service, b: &Service) -> Ordering {
    (a.fwmark, a.af, a.protocol, words(&a.addr), a.port).cmp(&(
        b.fwmark,
        b.af,
        b.protocol,
        words(&b.addr),
        b.port,
    ))
}

#[cfg(test)]
mod tests;
