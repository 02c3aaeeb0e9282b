//! Name and number lookups the way ipvsadm 1.31 does them: the C library's
//! resolver (`/etc/hosts`, DNS, `/etc/services` through NSS), IPv4-only host
//! lookups, `inet_aton` number syntax.

use std::ffi::{CStr, CString};
use std::net::{IpAddr, Ipv4Addr};

use ipvs::model::{AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP};

/// Reverse lookups used by non-numeric listings.
pub trait Names {
    /// Host name of an address, if any.
    fn host(&self, addr: &IpAddr) -> Option<String>;
    /// Service name of a port for a protocol, if any.
    fn service(&self, port: u16, proto: u16) -> Option<String>;
}

/// No lookups (`-n`).
pub struct Numeric;

impl Names for Numeric {
    fn host(&self, _: &IpAddr) -> Option<String> {
        None
    }
    fn service(&self, _: u16, _: u16) -> Option<String> {
        None
    }
}

/// The system resolver (`gethostbyaddr`, `getservbyport`).
pub struct System;

fn proto_name(proto: u16) -> Option<&'static CStr> {
    match proto {
        IPPROTO_TCP => Some(c"tcp"),
        IPPROTO_UDP => Some(c"udp"),
        IPPROTO_SCTP => Some(c"sctp"),
        _ => None,
    }
}

impl Names for System {
    fn host(&self, addr: &IpAddr) -> Option<String> {
        let (bytes, af): (Vec<u8>, libc::c_int) = match addr {
            IpAddr::V4(a) => (a.octets().to_vec(), libc::AF_INET),
            IpAddr::V6(a) => (a.octets().to_vec(), libc::AF_INET6),
        };
        // SAFETY: gethostbyaddr reads `bytes` (alive for the call) and returns
        // static storage that is copied before any other resolver call.
        unsafe {
            let h = gethostbyaddr(
                bytes.as_ptr() as *const libc::c_void,
                bytes.len() as u32,
                af,
            );
            if h.is_null() || (*h).h_name.is_null() {
                return None;
            }
            Some(CStr::from_ptr((*h).h_name).to_string_lossy().into_owned())
        }
    }

    fn service(&self, port: u16, proto: u16) -> Option<String> {
        let p = proto_name(proto)?;
        // SAFETY: getservbyport returns static storage, copied immediately.
        unsafe {
            let s = libc::getservbyport((port.to_be() as u32) as libc::c_int, p.as_ptr());
            if s.is_null() || (*s).s_name.is_null() {
                return None;
            }
            Some(CStr::from_ptr((*s).s_name).to_string_lossy().into_owned())
        }
    }
}

#[repr(C)]
struct HostEnt {
    h_name: *mut libc::c_char,
    h_aliases: *mut *mut libc::c_char,
    h_addrtype: libc::c_int,
    h_length: libc::c_int,
    h_addr_list: *mut *mut libc::c_char,
}

extern "C" {
    fn gethostbyaddr(addr: *const libc::c_void, len: u32, af: libc::c_int) -> *mut HostEnt;
    fn gethostbyname(name: *const libc::c_char) -> *mut HostEnt;
    fn inet_aton(cp: *const libc::c_char, inp: *mut libc::in_addr) -> libc::c_int;
}

/// `inet_aton` syntax (accepts `10.1`, `0x0a000001`, ...).
pub fn parse_inet_aton(s: &str) -> Option<Ipv4Addr> {
    let c = CString::new(s).ok()?;
    let mut a = libc::in_addr { s_addr: 0 };
    // SAFETY: `c` is a valid C string and `a` a valid out-pointer.
    let ok = unsafe { inet_aton(c.as_ptr(), &mut a) };
    if ok == 0 {
        return None;
    }
    Some(Ipv4Addr::from(u32::from_be(a.s_addr)))
}

/// IPv4 host lookup by name (`gethostbyname`, first address, IPv4 only).
pub fn host_to_ipv4(name: &str) -> Option<Ipv4Addr> {
    let c = CString::new(name).ok()?;
    // SAFETY: valid C string; the returned static hostent is read at once.
    unsafe {
        let h = gethostbyname(c.as_ptr());
        if h.is_null() || (*h).h_addrtype != libc::AF_INET || (*h).h_length != 4 {
            return None;
        }
        let list = (*h).h_addr_list;
        if list.is_null() || (*list).is_null() {
            return None;
        }
        let p = *list as *const u8;
        Some(Ipv4Addr::new(*p, *p.add(1), *p.add(2), *p.add(3)))
    }
}

/// Resolve either a dotted quad (inet_aton) or a host name to IPv4.
pub fn ipv4_or_host(s: &str) -> Option<Ipv4Addr> {
    parse_inet_aton(s).or_else(|| host_to_ipv4(s))
}

/// Port of a service name for a protocol (`getservbyname`).
pub fn service_to_port(name: &str, proto: u16) -> Option<u16> {
    let p = proto_name(proto)?;
    let c = CString::new(name).ok()?;
    // SAFETY: valid C strings; static servent read at once.
    unsafe {
        let s = libc::getservbyname(c.as_ptr(), p.as_ptr());
        if s.is_null() {
            return None;
        }
        Some(u16::from_be((*s).s_port as u16))
    }
}

/// Address family of an address.
pub fn af_of(addr: &IpAddr) -> u16 {
    match addr {
        IpAddr::V4(_) => ipvs::model::AF_INET,
        IpAddr::V6(_) => AF_INET6,
    }
}
