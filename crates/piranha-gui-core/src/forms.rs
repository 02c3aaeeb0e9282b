//! What each panel shows and what its buttons change.
//!
//! Every panel works on [`Vals`], its fields as the strings the form shows.
//! `*_values` reads them from the configuration (the daemons' defaults where
//! a key is absent); `apply_*` compares the submitted form with them and
//! edits only the keys whose field changed, so an ACCEPT that changes
//! nothing leaves the file byte for byte as it was, and one that changes a
//! field touches that key's line (plus `serial_no`).

use std::collections::{BTreeMap, HashMap};

use lvs_config::value::{address_literal, Family, Mask};
use lvs_config::{Config, LoadMonitor, Network, Protocol, Scheduler, Target, VirtualServer};

use crate::store::Edit;

/// A panel's fields, by form name.
pub type Vals = BTreeMap<String, String>;
/// A submitted form.
pub type Form = HashMap<String, String>;

/// Netmasks offered by the netmask selects for an IPv4 address (Piranha's
/// list, /16 to /32).
pub const MASKS: [&str; 17] = [
    "255.255.255.255",
    "255.255.255.254",
    "255.255.255.252",
    "255.255.255.248",
    "255.255.255.240",
    "255.255.255.224",
    "255.255.255.192",
    "255.255.255.128",
    "255.255.255.0",
    "255.255.254.0",
    "255.255.252.0",
    "255.255.248.0",
    "255.255.240.0",
    "255.255.224.0",
    "255.255.192.0",
    "255.255.128.0",
    "255.255.0.0",
];

/// Prefix lengths offered by the netmask selects next to [`MASKS`], for an
/// IPv6 address (lvs.cf's `/N`; an IPv6 address takes no dotted mask).
pub const PREFIXES: [&str; 8] = ["/48", "/56", "/64", "/80", "/96", "/112", "/120", "/128"];

/// Scheduler names with the labels Piranha's select showed.
pub const SCHEDULERS: [(&str, &str); 14] = [
    ("rr", "Round robin"),
    ("wrr", "Weighted round robin"),
    ("lc", "Least-connection"),
    ("wlc", "Weighted least-connections"),
    ("lblc", "Locality-Based Least-Connection Scheduling"),
    ("lblcr", "Locality-Based Least-Connection Scheduling (R)"),
    ("dh", "Destination Hash Scheduling"),
    ("sh", "Source Hash Scheduling"),
    ("sed", "Shortest Expected Delay"),
    ("nq", "Never Queue"),
    ("fo", "Weighted Failover"),
    ("ovf", "Weighted Overflow"),
    ("mh", "Maglev Hashing"),
    ("twos", "Weighted Random Twos Choice"),
];

fn opt<T: std::fmt::Display>(o: &lvs_config::Opt<T>) -> String {
    o.as_ref().map(|s| s.value.to_string()).unwrap_or_default()
}

fn b(v: bool) -> String {
    if v { "1" } else { "0" }.to_string()
}

/// The network type as lvs.cf spells it.
pub fn network_word(n: Network) -> &'static str {
    match n {
        Network::Nat => "nat",
        Network::Direct => "direct",
        Network::Tunnel => "tunnel",
    }
}

/// The protocol as lvs.cf spells it.
pub fn protocol_word(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    }
}

fn mask_or_unused(m: &lvs_config::Opt<lvs_config::Mask>) -> String {
    match m {
        Some(s) if !s.value.is_unset() => s.value.to_string(),
        _ => String::new(),
    }
}

/// The hidden field that carries [`digest`] of the values a form showed.
pub const SHOWN: &str = "shown";

/// A digest of a panel's values (FNV-1a, 64 bits, hex), put in its form so
/// that an ACCEPT can tell whether the file changed under the page.
pub fn digest(vals: &Vals) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, v) in vals.iter().filter(|(k, _)| k.as_str() != SHOWN) {
        for b in k.bytes().chain([0]).chain(v.bytes()).chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// `vals` with their [`digest`] under [`SHOWN`], for a page to render.
pub fn with_digest(mut vals: Vals) -> Vals {
    let d = digest(&vals);
    vals.insert(SHOWN.to_string(), d);
    vals
}

/// Refuse an ACCEPT whose page showed other values than the file now holds
/// (another browser or an editor changed them since): applying it would
/// write back the old values of the fields the admin did not touch. A form
/// without the digest (a script) is not checked.
fn stale(e: &mut Edit<'_>, cur: &Vals, form: &Form) -> bool {
    match form.get(SHOWN) {
        Some(d) if *d != digest(cur) => {
            e.error(
                SHOWN,
                "lvs.cf was changed (in another browser or by hand) after this page was loaded, so nothing was saved. The page now shows the file as it is: make your change again.",
            );
            true
        }
        _ => false,
    }
}

/// The submitted value of `k`, trimmed ("" when absent).
pub fn field<'a>(form: &'a Form, k: &str) -> &'a str {
    form.get(k).map(|s| s.trim()).unwrap_or("")
}

fn changed(form: &Form, cur: &Vals, k: &str) -> bool {
    form.contains_key(k) && field(form, k) != cur.get(k).map(String::as_str).unwrap_or("")
}

fn checkbox_changed(form: &Form, cur: &Vals, k: &str) -> bool {
    let v = if form.contains_key(k) { "1" } else { "0" };
    v != cur.get(k).map(String::as_str).unwrap_or("0")
}

/// An address field takes one address literal, as lvs.cf reads it: IPv4
/// (any `inet_aton` form, as Piranha) or IPv6 written bare; what lvs.cf
/// refuses (brackets, a zone, link-local, IPv4-mapped, multicast) is
/// refused with its message. No host name: the panel does not resolve
/// names. Whether the address fits the rest of the file (its family, an
/// unset address where one is needed) is for the editor's re-parse to
/// say, with lvs.cf's message on the field the keyword belongs to.
fn check_ip(e: &mut Edit<'_>, field: &str, v: &str) -> bool {
    // inet_aton's shorthand (`10.200`, `192.168.1.010`: octal) is read by
    // lvs.cf with a warning the panel would not show: the form asks for
    // the address written out, as Piranha's panel did.
    if let Some((a, lvs_config::value::AddrForm::Shorthand)) = lvs_config::value::inet_aton(v) {
        e.error(
            field,
            format!("`{v}` is inet_aton shorthand, read as {a}: write {a}"),
        );
        return false;
    }
    match address_literal(v) {
        Ok(Some(_)) => true,
        Ok(None) => {
            e.error(
                field,
                format!("`{v}` is not an IPv4 or IPv6 address (write an address such as 192.168.1.10 or 2001:db8::10)"),
            );
            false
        }
        Err(r) => {
            e.error(field, crate::store::with_hint(&r.detail, r.hint.as_deref()));
            false
        }
    }
}

/// The family of an address field's value, when it is an address lvs.cf
/// takes and not its "unset" (`0.0.0.0`, `::`).
fn family_of(v: &str) -> Option<Family> {
    match address_literal(v) {
        Ok(Some(a)) if !a.is_unspecified() => Some(Family::of(&a)),
        _ => None,
    }
}

fn check_uint(e: &mut Edit<'_>, field: &str, v: &str, max: u64) -> bool {
    match v.parse::<u64>() {
        Ok(n) if n <= max => true,
        _ => {
            e.error(
                field,
                format!("`{v}` is not a whole number from 0 to {max}"),
            );
            false
        }
    }
}

/// A port field holds one lvs.cf word (no blank, comment, quote, brace or
/// `=` that would make it something else than a value); whether that word
/// is a port is lvs.cf's to say: the editor refuses what lvs.cf would not
/// read as written (out of range, wrapped, unknown service name), with
/// lvs.cf's message, so the panels take exactly what the file takes.
fn check_port_word(e: &mut Edit<'_>, field: &str, v: &str) -> bool {
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '{' | '}' | '=' | '#'));
    if !ok {
        e.error(field, format!("`{v}` is not a port number"));
    }
    ok
}

fn check_secs(e: &mut Edit<'_>, field: &str, v: &str) -> bool {
    match v.parse::<f64>() {
        Ok(n) if n > 0.0 && n < 1e6 && !v.contains(['e', 'E']) => true,
        _ => {
            e.error(field, format!("`{v}` is not a number of seconds above 0"));
            false
        }
    }
}

fn check_device(e: &mut Edit<'_>, field: &str, v: &str) -> bool {
    let ok = !v.is_empty()
        && v.len() <= 32
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '_' | '-' | '@'));
    if !ok {
        e.error(
            field,
            format!("`{v}` is not a network device name (such as eth0:1)"),
        );
    }
    ok
}

/// A netmask field takes one of the offered dotted masks, or a prefix
/// length `/N`, whose range (1 to 128) and family (a prefix longer than
/// /32 on an IPv4 address, a dotted mask on an IPv6 one) lvs.cf's
/// re-parse judges, with its message.
fn check_mask(e: &mut Edit<'_>, field: &str, v: &str) -> bool {
    let prefix = v.strip_prefix('/').is_some_and(|n| {
        !n.is_empty() && n.len() <= 8 && n.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    if MASKS.contains(&v) || prefix {
        true
    } else {
        e.error(
            field,
            format!("`{v}` is not one of the offered netmasks or a prefix length such as /64"),
        );
        false
    }
}

/// Before an address changes family, the masks and addresses of the same
/// panel that change with it and are set in the file are first set to
/// `0.0.0.0`, "unset" in either family: otherwise neither the new address
/// with the old mask nor the old address with the new mask would be valid
/// on the way, and an ACCEPT that changes both would be refused.
fn unset_for_family_change(
    e: &mut Edit<'_>,
    t: Target<'_>,
    cur: &Vals,
    form: &Form,
    from: Option<Family>,
    to: &str,
    keys: &[&str],
) {
    let to = family_of(to);
    if from.is_none() || to.is_none() || from == to {
        return;
    }
    for k in keys {
        if changed(form, cur, k) && !cur.get(*k).is_none_or(|v| v.is_empty()) {
            e.set(t, k, "0.0.0.0", k);
        }
    }
}

/// Block names: spaces become `_` as in Piranha; one word without quotes,
/// braces or `#`.
fn block_name(e: &mut Edit<'_>, field: &str, v: &str) -> Option<String> {
    let n = v.replace([' ', '\t'], "_");
    let ok = !n.is_empty()
        && n.len() <= 64
        && !n.starts_with('#')
        && n.chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '{' | '}'));
    if ok {
        Some(n)
    } else {
        e.error(field, format!("`{v}` is not a usable name (letters, digits and punctuation other than quotes, braces and a leading #)"));
        None
    }
}

// ---------------------------------------------------------------- global

/// GLOBAL SETTINGS fields.
pub fn global_values(c: &Config) -> Vals {
    let mut v = Vals::new();
    let host = |h: &lvs_config::Opt<lvs_config::Host>| {
        h.as_ref().map(|s| s.value.name.clone()).unwrap_or_default()
    };
    v.insert("primary".into(), host(&c.primary));
    v.insert("primary_private".into(), host(&c.primary_private));
    v.insert("network".into(), network_word(c.network()).into());
    let (ip, dev) = c
        .nat_router
        .as_ref()
        .map(|s| (s.value.ip.name.clone(), s.value.dev.clone()))
        .unwrap_or_default();
    v.insert("nat_router_ip".into(), ip);
    v.insert("nat_router_dev".into(), dev);
    v.insert("nat_nmask".into(), mask_or_unused(&c.nat_nmask));
    v.insert("tcp_timeout".into(), opt(&c.tcp_timeout));
    v.insert("tcpfin_timeout".into(), opt(&c.tcpfin_timeout));
    v.insert("udp_timeout".into(), opt(&c.udp_timeout));
    v
}

/// Which GLOBAL SETTINGS field shows problems with a keyword.
pub fn global_field(k: &str) -> Option<&'static str> {
    Some(match k {
        "primary" => "primary",
        "primary_private" | "backup_private" => "primary_private",
        "network" => "network",
        "nat_router" => "nat_router_ip",
        "nat_nmask" => "nat_nmask",
        "tcp_timeout" => "tcp_timeout",
        "tcpfin_timeout" => "tcpfin_timeout",
        "udp_timeout" => "udp_timeout",
        _ => return None,
    })
}

/// GLOBAL SETTINGS → ACCEPT.
pub fn apply_global(e: &mut Edit<'_>, cur: &Vals, form: &Form) {
    let g = Target::Global;
    if stale(e, cur, form) {
        return;
    }
    for k in ["primary", "primary_private"] {
        if changed(form, cur, k) {
            let v = field(form, k);
            if v.is_empty() {
                e.remove(g, k, k);
                if k == "primary_private" {
                    e.remove(g, "backup_private", k);
                }
            } else if check_ip(e, k, v) {
                e.set(g, k, v, k);
            }
        }
    }
    if changed(form, cur, "network") {
        let v = field(form, "network");
        if matches!(v, "nat" | "direct" | "tunnel") {
            e.set(g, "network", v, "network");
        } else {
            e.error(
                "network",
                format!("`{v}` is not NAT, Direct Routing or Tunneling"),
            );
        }
    }
    if changed(form, cur, "nat_router_ip") || changed(form, cur, "nat_router_dev") {
        let ip = field(form, "nat_router_ip");
        let dev = field(form, "nat_router_dev");
        if ip.is_empty() && dev.is_empty() {
            e.remove(g, "nat_router", "nat_router_ip");
        } else {
            let from = e
                .config()
                .nat_router
                .as_ref()
                .map(|r| r.value.ip.addr)
                .filter(|a| !a.is_unspecified())
                .map(|a| Family::of(&a));
            unset_for_family_change(e, g, cur, form, from, ip, &["nat_nmask"]);
            let a = check_ip(e, "nat_router_ip", ip);
            let d = check_device(e, "nat_router_dev", dev);
            if a && d {
                e.set(g, "nat_router", &format!("{ip} {dev}"), "nat_router_ip");
            }
        }
    }
    if changed(form, cur, "nat_nmask") {
        let v = field(form, "nat_nmask");
        if v.is_empty() {
            e.remove(g, "nat_nmask", "nat_nmask");
        } else if check_mask(e, "nat_nmask", v) {
            e.set(g, "nat_nmask", v, "nat_nmask");
        }
    }
    for k in ["tcp_timeout", "tcpfin_timeout", "udp_timeout"] {
        if changed(form, cur, k) {
            let v = field(form, k);
            if v.is_empty() {
                e.remove(g, k, k);
            } else if check_uint(e, k, v, u32::MAX as u64) {
                e.set(g, k, v, k);
            }
        }
    }
}

// ------------------------------------------------------------ redundancy

/// REDUNDANCY fields.
pub fn redundancy_values(c: &Config) -> Vals {
    let mut v = Vals::new();
    let host = |h: &lvs_config::Opt<lvs_config::Host>, d: &str| {
        h.as_ref()
            .map(|s| s.value.name.clone())
            .unwrap_or_else(|| d.to_string())
    };
    v.insert("backup_active".into(), b(c.backup_active()));
    // Unset: the unspecified address of the public channel's family.
    let unset = Family::of(&c.primary()).unspecified().to_string();
    v.insert("backup".into(), host(&c.backup, &unset));
    v.insert("backup_private".into(), host(&c.backup_private, ""));
    v.insert("keepalive".into(), c.keepalive().to_string());
    v.insert("deadtime".into(), c.deadtime().to_string());
    v.insert("heartbeat_port".into(), c.heartbeat_port().to_string());
    v.insert("monitor_links".into(), b(c.monitor_links() != 0));
    v.insert("syncdaemon".into(), b(c.syncdaemon()));
    v.insert("syncd_iface".into(), c.syncd_iface());
    v.insert("syncd_id".into(), c.syncd_id().to_string());
    v.insert("hot_standby".into(), b(c.hot_standby()));
    v
}

/// Which REDUNDANCY field shows problems with a keyword.
pub fn redundancy_field(k: &str) -> Option<&'static str> {
    Some(match k {
        "backup" => "backup",
        "backup_private" => "backup_private",
        "keepalive" => "keepalive",
        "deadtime" => "deadtime",
        "heartbeat_port" => "heartbeat_port",
        "monitor_links" => "monitor_links",
        "syncdaemon" => "syncdaemon",
        "syncd_iface" => "syncd_iface",
        "syncd_id" => "syncd_id",
        "hot_standby" => "hot_standby",
        _ => return None,
    })
}

/// The heartbeat settings Piranha's REDUNDANCY panel filled in when they
/// were blank, and RESET put back.
pub const HEARTBEAT_DEFAULTS: [(&str, &str); 3] = [
    ("keepalive", "6"),
    ("deadtime", "18"),
    ("heartbeat_port", "539"),
];

/// REDUNDANCY → ENABLE, DISABLE, RESET or ACCEPT.
pub fn apply_redundancy(e: &mut Edit<'_>, cur: &Vals, form: &Form) {
    let g = Target::Global;
    match field(form, "action") {
        "enable" | "ENABLE" => {
            if !e.config().backup_active() {
                e.set(g, "backup_active", "1", "");
            }
            if !e.config().heartbeat() {
                e.set(g, "heartbeat", "1", "");
            }
            // Piranha's panel wrote keepalive 6, deadtime 18 and port 539
            // when they were blank; do the same for the keys not in the file
            // (the daemons' own defaults are 2 and 5 seconds).
            // The two timers only together: one alone is kept consistent
            // with the other by the admin.
            let c = e.config().clone();
            let timers = c.keepalive.is_none() && c.deadtime.is_none();
            let absent = |k: &str| match k {
                "heartbeat_port" => c.heartbeat_port.is_none(),
                _ => timers,
            };
            for (k, v) in HEARTBEAT_DEFAULTS {
                if absent(k) {
                    e.set(g, k, v, k);
                }
            }
            return;
        }
        "reset" | "RESET" => {
            for (k, v) in HEARTBEAT_DEFAULTS {
                if cur.get(k).map(String::as_str) != Some(v) {
                    e.set(g, k, v, k);
                }
            }
            return;
        }
        "disable" | "DISABLE" => {
            if e.config().backup_active() {
                e.set(g, "backup_active", "0", "");
            }
            return;
        }
        _ => {}
    }
    if stale(e, cur, form) {
        return;
    }
    for k in ["backup", "backup_private"] {
        if changed(form, cur, k) {
            let v = field(form, k);
            if v.is_empty() {
                e.remove(g, k, k);
            } else if check_ip(e, k, v) {
                e.set(g, k, v, k);
            }
        }
    }
    for k in ["keepalive", "deadtime"] {
        if changed(form, cur, k) {
            let v = field(form, k);
            if check_secs(e, k, v) {
                e.set(g, k, v, k);
            }
        }
    }
    if changed(form, cur, "heartbeat_port") {
        let v = field(form, "heartbeat_port");
        if check_port_word(e, "heartbeat_port", v) {
            e.set(g, "heartbeat_port", v, "heartbeat_port");
        }
    }
    for k in ["monitor_links", "syncdaemon", "hot_standby"] {
        if checkbox_changed(form, cur, k) {
            let v = if form.contains_key(k) { "1" } else { "0" };
            e.set(g, k, v, k);
        }
    }
    if changed(form, cur, "syncd_iface") {
        let v = field(form, "syncd_iface");
        if check_device(e, "syncd_iface", v) {
            e.set(g, "syncd_iface", v, "syncd_iface");
        }
    }
    if changed(form, cur, "syncd_id") {
        let v = field(form, "syncd_id");
        if check_uint(e, "syncd_id", v, 255) {
            e.set(g, "syncd_id", v, "syncd_id");
        }
    }
}

// --------------------------------------------------------------- virtual

/// The VIRTUAL SERVER fields of `vs`.
pub fn virtual_values(vs: &VirtualServer) -> Vals {
    let mut v = Vals::new();
    v.insert("name".into(), vs.name.value.clone());
    v.insert("port".into(), vs.port().to_string());
    v.insert("protocol".into(), protocol_word(vs.protocol()).into());
    let (ip, dev) = vs
        .address
        .as_ref()
        .map(|a| (a.value.ip.name.clone(), a.value.dev.clone()))
        .unwrap_or_default();
    v.insert("vip".into(), ip);
    v.insert("device".into(), dev);
    v.insert("vip_nmask".into(), mask_or_unused(&vs.vip_nmask));
    v.insert("fwmark".into(), opt(&vs.fwmark));
    v.insert("reentry".into(), vs.reentry().to_string());
    v.insert("timeout".into(), vs.timeout().to_string());
    v.insert("quiesce_server".into(), b(vs.quiesce_server()));
    v.insert(
        "load_monitor".into(),
        vs.load_monitor().as_str().to_string(),
    );
    v.insert("scheduler".into(), vs.scheduler().as_str().into());
    v.insert("persistent".into(), opt(&vs.persistent));
    v.insert("pmask".into(), mask_or_unused(&vs.pmask));
    v.insert(
        "sorry_server".into(),
        vs.sorry_server
            .as_ref()
            .map(|s| s.value.to_string())
            .unwrap_or_default(),
    );
    v
}

/// Which VIRTUAL SERVER field shows problems with a keyword.
pub fn virtual_field(k: &str) -> Option<&'static str> {
    Some(match k {
        "port" => "port",
        "protocol" => "protocol",
        "address" => "vip",
        "vip_nmask" => "vip_nmask",
        "fwmark" => "fwmark",
        "reentry" => "reentry",
        "timeout" => "timeout",
        "quiesce_server" => "quiesce_server",
        "load_monitor" => "load_monitor",
        "scheduler" => "scheduler",
        "persistent" => "persistent",
        "pmask" => "pmask",
        "sorry_server" => "sorry_server",
        "virtual" => "name",
        _ => return None,
    })
}

/// VIRTUAL SERVER → ACCEPT. Returns the (possibly new) name.
pub fn apply_virtual(e: &mut Edit<'_>, vs: &str, cur: &Vals, form: &Form) -> String {
    let t = Target::Virtual(vs);
    if stale(e, cur, form) {
        return vs.to_string();
    }
    if changed(form, cur, "port") {
        let v = field(form, "port");
        if check_port_word(e, "port", v) {
            e.set(t, "port", v, "port");
        }
    }
    if changed(form, cur, "protocol") {
        let v = field(form, "protocol");
        if matches!(v, "tcp" | "udp") {
            e.set(t, "protocol", v, "protocol");
        } else {
            e.error("protocol", format!("`{v}` is not tcp or udp"));
        }
    }
    if changed(form, cur, "vip") || changed(form, cur, "device") {
        let ip = field(form, "vip");
        let dev = field(form, "device");
        let from = e.config().virtual_server(vs).map(|v| v.family());
        unset_for_family_change(
            e,
            t,
            cur,
            form,
            from,
            ip,
            &["vip_nmask", "pmask", "sorry_server"],
        );
        let a = check_ip(e, "vip", ip);
        let d = check_device(e, "device", dev);
        if a && d {
            e.set(t, "address", &format!("{ip} {dev}"), "vip");
        }
    }
    for k in ["vip_nmask", "pmask"] {
        if changed(form, cur, k) {
            let v = field(form, k);
            if v.is_empty() {
                e.remove(t, k, k);
            } else if check_mask(e, k, v) && (k != "pmask" || pmask_is_read(e, vs, v)) {
                e.set(t, k, v, k);
            }
        }
    }
    for (k, max) in [("fwmark", u32::MAX as u64), ("persistent", u32::MAX as u64)] {
        if changed(form, cur, k) {
            let v = field(form, k);
            if v.is_empty() {
                e.remove(t, k, k);
            } else if check_uint(e, k, v, max) {
                e.set(t, k, v, k);
            }
        }
    }
    for k in ["reentry", "timeout"] {
        if changed(form, cur, k) {
            let v = field(form, k);
            if check_uint(e, k, v, u32::MAX as u64) {
                e.set(t, k, v, k);
            }
        }
    }
    if changed(form, cur, "quiesce_server") {
        let v = field(form, "quiesce_server");
        if matches!(v, "0" | "1") {
            e.set(t, "quiesce_server", v, "quiesce_server");
        } else {
            e.error("quiesce_server", "choose yes or no");
        }
    }
    if changed(form, cur, "load_monitor") {
        let v = field(form, "load_monitor");
        if matches!(LoadMonitor::from_token(v), LoadMonitor::Command(_)) {
            e.error(
                "load_monitor",
                format!("`{v}` is not none, uptime, rup or ruptime"),
            );
        } else {
            e.set(t, "load_monitor", v, "load_monitor");
        }
    }
    if changed(form, cur, "scheduler") {
        let v = field(form, "scheduler");
        if Scheduler::from_name(v).is_some() {
            e.set(t, "scheduler", v, "scheduler");
        } else {
            e.error("scheduler", format!("`{v}` is not a known scheduler"));
        }
    }
    if changed(form, cur, "sorry_server") {
        let v = field(form, "sorry_server");
        if v.is_empty() {
            e.remove(t, "sorry_server", "sorry_server");
        } else if check_ip(e, "sorry_server", v) {
            e.set(t, "sorry_server", v, "sorry_server");
        }
    }
    let mut name = vs.to_string();
    if changed(form, cur, "name") {
        if let Some(n) = block_name(e, "name", field(form, "name")) {
            if n != vs && e.with("name", t, &format!("renamed to {n}"), |ed| ed.rename(t, &n)) {
                name = n;
            }
        }
    }
    name
}

/// lvs.cf ignores a prefix length up to /32 as the persistence netmask
/// of an IPv4 service, as Piranha ignored what `inet_aton` could not read
/// (a warning): the panel refuses it and names the dotted mask to choose.
fn pmask_is_read(e: &mut Edit<'_>, vs: &str, v: &str) -> bool {
    let ipv4 = e
        .config()
        .virtual_server(vs)
        .is_some_and(|s| s.family() == Family::Inet);
    let dotted = v
        .strip_prefix('/')
        .and_then(|n| n.parse::<u8>().ok())
        .filter(|n| (1..=32).contains(n))
        .and_then(|n| Mask::Prefix(n).as_ipv4());
    match dotted {
        Some(d) if ipv4 => {
            e.error(
                "pmask",
                format!("`{v}` is not a netmask Piranha read: lvs.cf ignores it on the IPv4 service `{vs}` (choose {d})"),
            );
            false
        }
        _ => true,
    }
}

fn unique(base: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_string();
    }
    (2..)
        .map(|i| format!("{base}_{i}"))
        .find(|n| !taken(n))
        .expect("some suffix is free")
}

/// VIRTUAL SERVERS → ADD: a new inactive virtual server with Piranha's
/// defaults. Returns its name.
pub fn add_virtual(e: &mut Edit<'_>) -> String {
    let cfg = e.config().clone();
    let name = unique("[server_name]", |n| cfg.virtual_server(n).is_some());
    let t = Target::Virtual(&name);
    if !e.with("", t, "added", |ed| ed.add_virtual(&name)) {
        return name;
    }
    let defaults = [
        ("active", "0"),
        ("address", "0.0.0.0 eth0:1"),
        ("port", "80"),
        ("send", "\"GET / HTTP/1.0\\r\\n\\r\\n\""),
        ("expect", "\"HTTP\""),
        ("use_regex", "0"),
        ("load_monitor", "none"),
        ("scheduler", "wlc"),
        ("protocol", "tcp"),
        ("timeout", "6"),
        ("reentry", "15"),
        ("quiesce_server", "0"),
    ];
    for (k, v) in defaults {
        if !e.set(t, k, v, "") {
            break;
        }
    }
    name
}

// ------------------------------------------------------------ real server

/// The REAL SERVER fields of `rs` in `vs`.
pub fn real_values(vs: &VirtualServer, rs: &str) -> Vals {
    let mut v = Vals::new();
    if let Some(s) = vs.server(rs) {
        v.insert("name".into(), s.name.value.clone());
        v.insert(
            "address".into(),
            s.address
                .as_ref()
                .map(|h| h.value.name.clone())
                .unwrap_or_default(),
        );
        v.insert("weight".into(), s.weight().to_string());
    }
    v
}

/// Which REAL SERVER field shows problems with a keyword.
pub fn real_field(k: &str) -> Option<&'static str> {
    Some(match k {
        "address" => "address",
        "weight" => "weight",
        "server" => "name",
        _ => return None,
    })
}

/// REAL SERVER → ACCEPT. Returns the (possibly new) name.
pub fn apply_real(e: &mut Edit<'_>, vs: &str, rs: &str, cur: &Vals, form: &Form) -> String {
    let t = Target::Server(vs, rs);
    if stale(e, cur, form) {
        return rs.to_string();
    }
    if changed(form, cur, "address") {
        let v = field(form, "address");
        if check_ip(e, "address", v) {
            e.set(t, "address", v, "address");
        }
    }
    if changed(form, cur, "weight") {
        let v = field(form, "weight");
        if check_uint(e, "weight", v, 65535) {
            e.set(t, "weight", v, "weight");
        }
    }
    let mut name = rs.to_string();
    if changed(form, cur, "name") {
        if let Some(n) = block_name(e, "name", field(form, "name")) {
            if n != rs && e.with("name", t, &format!("renamed to {n}"), |ed| ed.rename(t, &n)) {
                name = n;
            }
        }
    }
    name
}

/// REAL SERVER → ADD: `[unnamed]`, inactive, weight 1, at 0.0.0.0 (`::`
/// in an IPv6 virtual server: lvs.cf's "unset" of its family).
pub fn add_real(e: &mut Edit<'_>, vs: &str) -> String {
    let cfg = e.config().clone();
    let Some(v) = cfg.virtual_server(vs) else {
        e.error("", format!("no virtual server `{vs}`"));
        return String::new();
    };
    let name = unique("[unnamed]", |n| v.server(n).is_some());
    let unset = v.family().unspecified().to_string();
    let t = Target::Server(vs, &name);
    if e.with("", t, "added", |ed| ed.add_server(vs, &name)) {
        let _ = e.set(t, "address", &unset, "")
            && e.set(t, "active", "0", "")
            && e.set(t, "weight", "1", "");
    }
    name
}

// ----------------------------------------------------- monitoring scripts

/// The MONITORING SCRIPTS fields of `vs`.
pub fn services_values(vs: &VirtualServer) -> Vals {
    let q = |o: &lvs_config::Opt<lvs_config::QString>| {
        o.as_ref().map(|s| s.value.text.clone()).unwrap_or_default()
    };
    let mut v = Vals::new();
    v.insert("send_program".into(), q(&vs.send_program));
    v.insert("send".into(), q(&vs.send));
    v.insert("expect".into(), q(&vs.expect));
    v.insert("use_regex".into(), b(vs.use_regex()));
    v
}

/// Which MONITORING SCRIPTS field shows problems with a keyword.
pub fn services_field(k: &str) -> Option<&'static str> {
    Some(match k {
        "send_program" => "send_program",
        "send" => "send",
        "expect" => "expect",
        "use_regex" => "use_regex",
        _ => return None,
    })
}

/// MONITORING SCRIPTS → ACCEPT, BLANK SEND, BLANK EXPECT or NO SEND PROGRAM.
pub fn apply_services(e: &mut Edit<'_>, vs: &str, cur: &Vals, form: &Form) {
    let t = Target::Virtual(vs);
    let blank = |k: &str| -> Option<&'static str> {
        match (field(form, "action"), k) {
            ("blank_send", "send") => Some("send"),
            ("blank_expect", "expect") => Some("expect"),
            ("no_send_program", "send_program") => Some("send_program"),
            _ => None,
        }
    };
    let action = field(form, "action");
    if (action == "accept" || action.is_empty()) && stale(e, cur, form) {
        return;
    }
    for k in ["send_program", "send", "expect"] {
        if let Some(k) = blank(k) {
            if !cur.get(k).is_none_or(|v| v.is_empty()) {
                e.remove(t, k, k);
            }
            continue;
        }
        if action != "accept" && !action.is_empty() {
            continue;
        }
        if form.contains_key(k) && form[k] != cur.get(k).cloned().unwrap_or_default() {
            // Not trimmed: a send string may end in a blank on purpose.
            let v = form[k].as_str();
            if v.is_empty() {
                e.remove(t, k, k);
            } else if v.contains(['\n', '\r']) {
                e.error(k, "a line break cannot be stored; write \\n or \\r instead");
            } else if v.contains('"') && v.contains('\'') {
                e.error(k, "lvs.cf cannot hold a value with both \" and ' quotes");
            } else {
                e.set_quoted(t, k, v, k);
            }
        }
    }
    if (action == "accept" || action.is_empty()) && checkbox_changed(form, cur, "use_regex") {
        let v = if form.contains_key("use_regex") {
            "1"
        } else {
            "0"
        };
        e.set(t, "use_regex", v, "use_regex");
    }
}
