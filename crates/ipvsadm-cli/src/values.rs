//! Option arguments as ipvsadm reads them: C-style numbers, service and
//! server addresses, timeouts, firewall marks and scheduler flags.

use std::net::{IpAddr, Ipv6Addr};

use ipvs::model::*;

use crate::action::{fail, Diag};
use crate::resolve;

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
pub(super) fn string_to_number(s: &str, min: i64, max: i64) -> Option<i64> {
    strtol_full(s).filter(|n| (min..=max).contains(n))
}

/// C `atoi`.
pub(super) fn atoi(s: &str) -> i32 {
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

pub(super) fn parse_ipv6(s: &str) -> Option<Ipv6Addr> {
    // inet_pton(AF_INET6) and Rust agree on the accepted forms.
    s.parse().ok()
}

/// Address (and port) being parsed: ipvsadm's `parse_service` on a copy of
/// the service entry.
#[derive(Clone)]
pub(super) struct Target {
    pub(super) af: u16,
    pub(super) addr: IpAddr,
    pub(super) port: u16,
    pub(super) netmask: u32,
    pub(super) protocol: u16,
}

pub(super) const SERVICE_ADDR: u8 = 1;
const SERVICE_PORT: u8 = 2;

pub(super) fn parse_service(buf: &str, t: &mut Target) -> u8 {
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

pub(super) fn parse_timeout(buf: Option<&str>, min: i64, max: i64) -> Result<u32, Diag> {
    match buf {
        None => Ok(DEFAULT_PERSISTENT_TIMEOUT),
        Some(b) => match string_to_number(b, min, max) {
            Some(n) => Ok(n as u32),
            None => fail(format!("invalid timeout value `{b}' specified")),
        },
    }
}

pub(super) fn parse_fwmark(buf: &str) -> Result<u32, Diag> {
    match strtol_full(buf) {
        Some(l) if l > 0 && l <= u32::MAX as i64 => Ok(l as u32),
        _ => fail(format!("invalid fwmark value `{buf}' specified")),
    }
}

pub(super) fn parse_sched_flags(sched: &str, arg: &str) -> Result<u32, Diag> {
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

pub(super) fn truncated(s: &str, n: usize) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if out.len() + c.len_utf8() > n {
            break;
        }
        out.push(c);
    }
    out
}
