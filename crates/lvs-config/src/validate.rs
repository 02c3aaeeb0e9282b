//! Semantic checks Piranha never made. Errors for what would break the
//! director; warnings for what is merely suspicious.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use crate::config::*;
use crate::diag::{Severity, Span};

/// Receives one finding: severity, span, keyword, detail, hint.
pub(crate) type Sink<'a> =
    dyn FnMut(Severity, Option<Span>, Option<&str>, String, Option<String>) + 'a;

pub(crate) fn check(cfg: &Config, out: &mut Sink<'_>) {
    use Severity::Warning;
    if cfg.backup_active() && cfg.backup().is_unspecified() {
        out(
            Warning,
            cfg.backup_active.as_ref().and_then(|s| s.span),
            Some("backup_active"),
            "`backup_active = 1` but no `backup` address; pulse runs without a partner".into(),
            Some("set `backup`, or `backup_active = 0`".into()),
        );
    }
    if let (Some(k), Some(d)) = (&cfg.keepalive, &cfg.deadtime) {
        if d.value <= k.value {
            out(
                Warning,
                d.span,
                Some("deadtime"),
                format!(
                    "deadtime {} s is not longer than keepalive {} s; one late heartbeat causes a failover",
                    d.value, k.value
                ),
                Some("make deadtime at least twice keepalive".into()),
            );
        }
    }
    check_global_families(cfg, out);
    check_bgp(cfg, out);
    let mut names: HashMap<&str, Option<Span>> = HashMap::new();
    let mut vip_dev: HashMap<IpAddr, (&str, &str)> = HashMap::new();
    let mut services: HashMap<ServiceId, &str> = HashMap::new();
    for vs in &cfg.virtual_servers {
        let name = vs.name.value.as_str();
        if let Some(prev) = names.insert(name, vs.name.span) {
            out(
                Warning,
                vs.name.span,
                Some("virtual"),
                format!(
                    "a second virtual server named `{name}`{}",
                    prev.map(|s| format!(" (the first is at line {})", s.line))
                        .unwrap_or_default()
                ),
                Some("the web tool and reloads find blocks by name; rename one".into()),
            );
        }
        check_block_head(vs, out);
        if !vs.active() {
            continue;
        }
        check_address(vs, out);
        check_families(cfg, vs, out);
        check_sched_flags(cfg, vs, out);
        if let Some(a) = vs
            .address
            .as_ref()
            .filter(|a| !a.value.ip.addr.is_unspecified())
        {
            let dev = a.value.dev.as_str();
            if let Some((other, odev)) = vip_dev.insert(a.value.ip.addr, (name, dev)) {
                if odev != dev {
                    out(
                        Warning,
                        a.span,
                        Some("address"),
                        format!(
                            "VIP {} is on {dev} here but on {odev} in `{other}`",
                            a.value.ip.addr
                        ),
                        Some("one address belongs on one device".into()),
                    );
                }
            }
        }
        check_zero_port_service(vs, out);
        if !vs.in_table() {
            continue;
        }
        if let Some(other) = services.insert(vs.service_id(), name) {
            let what = match vs.service_id() {
                ServiceId::Mark(Family::Inet, m) => format!("fwmark {m}"),
                ServiceId::Mark(Family::Inet6, m) => format!("IPv6 fwmark {m}"),
                ServiceId::Addr(p, a, port) => format!(
                    "{} {}",
                    match p {
                        Protocol::Tcp => "tcp",
                        Protocol::Udp => "udp",
                    },
                    SocketAddr::new(a, port)
                ),
            };
            let span = match vs.service_id() {
                ServiceId::Mark(..) => vs.fwmark.as_ref().and_then(|f| f.span),
                ServiceId::Addr(..) => vs.address.as_ref().and_then(|a| a.span),
            };
            out(
                Warning,
                span,
                Some(if vs.fwmark() != 0 { "fwmark" } else { "address" }),
                format!("active virtual servers `{other}` and `{name}` are both {what}: `{name}` is left out, as Piranha's second `ipvsadm -A` failed"),
                Some("IPVS has one service per address, protocol and port, or per mark; deactivate or change one".into()),
            );
            continue;
        }
        check_server_addresses(vs, out);
        check_zero_ports(vs, out);
    }
}

/// Active-active over BGP (issue 22): what the mode needs, and the
/// keywords that mean nothing without it.
fn check_bgp(cfg: &Config, out: &mut Sink<'_>) {
    let span = |o: Option<Span>| o.or(cfg.director_mode.as_ref().and_then(|m| m.span));
    if !cfg.bgp() {
        for (kw, set) in [
            ("directors", cfg.directors.as_ref().and_then(|s| s.span)),
            ("bird_socket", cfg.bird_socket.as_ref().and_then(|s| s.span)),
            ("bird_routes", cfg.bird_routes.as_ref().and_then(|s| s.span)),
            (
                "withdraw_delay",
                cfg.withdraw_delay.as_ref().and_then(|s| s.span),
            ),
        ] {
            if let Some(sp) = set {
                out(
                    Severity::Warning,
                    Some(sp),
                    Some(kw),
                    format!("`{kw}` is ignored: it belongs to `director_mode = bgp`"),
                    Some("set `director_mode = bgp`, or remove the line".into()),
                );
            }
        }
        return;
    }
    if cfg.network() == Network::Nat {
        out(
            Severity::Error,
            span(cfg.network.as_ref().and_then(|n| n.span)),
            Some(if cfg.network.is_some() { "network" } else { "director_mode" }),
            "NAT cannot work active-active: a real server answers through its gateway, one director, not through the director the router chose for the flow, so that director never sees the replies it must rewrite".into(),
            Some("use `network = direct` (or `tunnel`) with `director_mode = bgp`, or keep `director_mode = pair` for NAT".into()),
        );
    }
    if cfg.directors().is_empty() {
        out(
            Severity::Error,
            span(None),
            Some("director_mode"),
            "`director_mode = bgp` needs `directors`: the address of every director, so each knows which one it is".into(),
            Some("add e.g. `directors = [ 10.0.0.11 10.0.0.12 10.0.0.13 ]`, the same line on every director".into()),
        );
    }
    for vs in cfg.table_virtual_servers() {
        if vs.vip().is_unspecified() {
            out(
                Severity::Error,
                vs.fwmark.as_ref().and_then(|f| f.span).or(vs.name.span),
                Some("address"),
                format!("virtual server `{}` has no address to announce: in bgp mode the routers send a director the traffic of the addresses it announces", vs.name.value),
                Some("give it `address = VIP DEVICE` (the address goes on lo; the device is not used)".into()),
            );
        } else if !matches!(vs.scheduler(), Scheduler::Mh | Scheduler::Sh) {
            out(
                Severity::Warning,
                vs.scheduler.as_ref().and_then(|s| s.span).or(vs.name.span),
                Some("scheduler"),
                format!("virtual server `{}` uses {}: when the routers move a flow to another director, that director may pick another real server and the connection breaks", vs.name.value, vs.scheduler().as_str()),
                Some("use `scheduler = mh` (with `sched_flags = mh-port`), which picks the same real server on every director".into()),
            );
        }
    }
}

/// `sched_flags` words that name another scheduler than the block's.
fn check_sched_flags(_cfg: &Config, vs: &VirtualServer, out: &mut Sink<'_>) {
    let Some(flags) = &vs.sched_flags else {
        return;
    };
    let sched = vs.scheduler();
    for f in &flags.value {
        if let Some(s) = f.scheduler().filter(|s| *s != sched) {
            out(
                Severity::Error,
                flags.span,
                Some("sched_flags"),
                format!(
                    "`{}` is a flag of the {} scheduler, but this virtual server uses {}",
                    f.as_str(),
                    s.as_str(),
                    sched.as_str()
                ),
                Some(format!(
                    "set `scheduler = {}`, or remove the flag",
                    s.as_str()
                )),
            );
        }
    }
}

/// The findings of one virtual server that do not depend on any other
/// block, before its address (see [`check`] for the order).
fn check_block_head(vs: &VirtualServer, out: &mut Sink<'_>) {
    use Severity::Warning;
    let name = vs.name.value.as_str();
    if vs.persistent() == 0 && vs.pmask.is_some() {
        out(
            Warning,
            vs.pmask.as_ref().and_then(|s| s.span),
            Some("pmask"),
            format!(
                "virtual server `{name}` has `pmask` but no `persistent`; the mask has no effect"
            ),
            None,
        );
    }
    if let (
        Family::Inet,
        Some(
            m @ Spanned {
                value: Mask::Prefix(n),
                ..
            },
        ),
    ) = (vs.family(), &vs.pmask)
    {
        // lvs programs no `-M` for it (see lvsd's plan).
        out(
            Warning,
            m.span,
            Some("pmask"),
            format!("`/{n}` is not a netmask and is ignored on the IPv4 service `{name}`, as Piranha did"),
            Some(match m.value.as_ipv4() {
                Some(d) => format!("write {d}; a prefix length is for an IPv6 service"),
                None => "a prefix length is for an IPv6 service".into(),
            }),
        );
    }
    if vs.send_program.is_some() && vs.send.is_some() {
        out(
            Warning,
            vs.send.as_ref().and_then(|s| s.span),
            Some("send"),
            format!(
                "virtual server `{name}` has both `send_program` and `send`; `send` is ignored"
            ),
            None,
        );
    }
    let mut seen_rs = FirstSeen::new(vs.servers.len());
    let mut seen_names = FirstSeen::new(vs.servers.len());
    for rs in &vs.servers {
        let rname = rs.name.value.as_str();
        if seen_names.insert(rname, ()).is_some() {
            out(
                Warning,
                rs.name.span,
                Some("server"),
                format!("virtual server `{name}` has two servers named `{rname}`"),
                None,
            );
        }
        if rs.address.is_some() {
            let key = (rs.addr(), rs.port_in(vs));
            if let Some(other) = seen_rs.insert(key, rname) {
                out(
                    Warning,
                    rs.address.as_ref().and_then(|a| a.span),
                    Some("address"),
                    format!(
                        "servers `{other}` and `{rname}` of `{name}` are the same real server {}",
                        SocketAddr::new(key.0, key.1)
                    ),
                    Some(
                        "IPVS holds one entry per real server; the second nanny fights the first"
                            .into(),
                    ),
                );
            }
        }
    }
    check_quorum(vs, out);
}

/// An active virtual server's missing or 0.0.0.0 address: a warning, as
/// Piranha ran such a file ([`VirtualServer::in_table`] says what lvs
/// does with it).
fn check_address(vs: &VirtualServer, out: &mut Sink<'_>) {
    use Severity::Warning;
    let name = vs.name.value.as_str();
    let (span, what) = match &vs.address {
        None => (vs.name.span, "has no `address`"),
        Some(a) if a.value.ip.addr.is_unspecified() => (a.span, "has the address 0.0.0.0"),
        Some(_) => return,
    };
    if vs.fwmark() != 0 {
        out(
            Warning,
            span,
            Some("address"),
            format!(
                "active virtual server `{name}` {what}: pulse brings no virtual IP up for it; lvs programs fwmark {} as usual",
                vs.fwmark()
            ),
            Some("the packets marked there must reach this director on addresses configured elsewhere; set `address = VIP DEVICE` to have pulse move one".into()),
        );
    } else {
        out(
            Warning,
            span,
            Some("address"),
            format!(
                "active virtual server `{name}` {what}: it is left out (no virtual IP, no service, no nannies)"
            ),
            Some("add `address = VIP DEVICE`, e.g. `address = 192.168.1.100 eth0:1`, or `active = 0`".into()),
        );
    }
}

/// The two heartbeat channels are each of one family, and the NAT
/// router's mask is of its address's family.
fn check_global_families(cfg: &Config, out: &mut Sink<'_>) {
    for (a, b, kw_a, kw_b) in [
        (&cfg.primary, &cfg.backup, "primary", "backup"),
        (
            &cfg.primary_private,
            &cfg.backup_private,
            "primary_private",
            "backup_private",
        ),
    ] {
        let (Some(a), Some(b)) = (a, b) else {
            continue;
        };
        let (fa, fb) = (Family::of(&a.value.addr), Family::of(&b.value.addr));
        if fa != fb && !a.value.addr.is_unspecified() && !b.value.addr.is_unspecified() {
            out(
                Severity::Error,
                b.span,
                Some(kw_b),
                format!("`{kw_b}` is an {fb} address but `{kw_a}` is {fa}: the heartbeats of one channel go between addresses of one family"),
                Some(format!("give `{kw_a}` and `{kw_b}` addresses of the same family")),
            );
        }
    }
    if let (Some(r), Some(m)) = (&cfg.nat_router, &cfg.nat_nmask) {
        mask_family(
            Family::of(&r.value.ip.addr),
            m,
            "nat_nmask",
            "the NAT router",
            out,
        );
    }
}

/// A mask of the wrong family for the address it goes with: an error (a
/// dotted mask on an IPv6 address, a prefix longer than 32 on IPv4).
fn mask_family(family: Family, m: &Spanned<Mask>, kw: &str, what: &str, out: &mut Sink<'_>) {
    let bad = match (family, m.value) {
        (Family::Inet6, Mask::Dotted(_)) if !m.value.is_unset() => Some(format!(
            "a dotted mask, but {what} is an IPv6 address; write a prefix length such as /64"
        )),
        (Family::Inet, Mask::Prefix(n)) if n > 32 => {
            Some(format!("longer than an IPv4 address ({what} is IPv4)"))
        }
        _ => None,
    };
    if let Some(detail) = bad {
        out(
            Severity::Error,
            m.span,
            Some(kw),
            format!("`{}` is {detail}", m.value),
            None,
        );
    }
}

/// The address-family rules of an active virtual server: masks of its
/// family; real servers and the sorry server of its family, except
/// through a tunnel, which the kernel refuses while a sync daemon runs; a
/// firewall-mark service without an address needs real servers of one
/// family.
fn check_families(cfg: &Config, vs: &VirtualServer, out: &mut Sink<'_>) {
    let name = vs.name.value.as_str();
    let family = vs.family();
    let has_vip = vs.address.is_some() && !vs.vip().is_unspecified();
    if has_vip {
        if let Some(m) = &vs.vip_nmask {
            mask_family(family, m, "vip_nmask", "the virtual IP", out);
        }
    }
    if let (Family::Inet6, Some(m)) = (family, &vs.pmask) {
        mask_family(family, m, "pmask", "the service", out);
    }
    if let (Network::Nat, Some(r)) = (cfg.network(), &cfg.nat_router) {
        let rf = Family::of(&r.value.ip.addr);
        // The family is the file's own only with a VIP, `::` or servers.
        let known = has_vip
            || vs.vip().is_ipv6()
            || vs.servers.iter().any(|rs| !rs.addr().is_unspecified())
            || !vs.sorry_server().is_unspecified();
        if known && rf != family && !r.value.ip.addr.is_unspecified() {
            out(
                Severity::Error,
                vs.address.as_ref().and_then(|a| a.span).or(vs.name.span),
                Some("address"),
                format!("virtual server `{name}` is {family} but the NAT router (`nat_router`) is {rf}: with `network = nat` the real servers answer through the NAT router, and lvs.cf has one, of one family"),
                Some("serve the other family with `network = direct` or `tunnel`, or from a director pair of its own".into()),
            );
        }
    }
    if vs.fwmark() != 0 && !has_vip && !vs.vip().is_ipv6() {
        let mut fams = vs
            .servers
            .iter()
            .filter(|rs| !rs.addr().is_unspecified())
            .map(|rs| Family::of(&rs.addr()));
        if let Some(f) = fams.next() {
            if fams.any(|g| g != f) {
                out(
                    Severity::Error,
                    vs.fwmark.as_ref().and_then(|s| s.span),
                    Some("fwmark"),
                    format!("firewall-mark service `{name}` has no `address` and real servers of both families: its family is unknown (IPVS keeps an IPv4 and an IPv6 mark apart)"),
                    Some("set `address` to a virtual IP of the service's family".into()),
                );
                return;
            }
        }
    }
    let tunnel = cfg.network() == Network::Tunnel;
    let mut other = |span: Option<Span>, kw: &str, what: String, addr: IpAddr| {
        let f = Family::of(&addr);
        if f == family || addr.is_unspecified() {
            return;
        }
        if !tunnel {
            out(
                Severity::Error,
                span,
                Some(kw),
                format!("{what} is {f} but virtual server `{name}` is {family}: the kernel forwards to another family only through a tunnel"),
                Some(format!("give it an {family} address, or use `network = tunnel`")),
            );
        } else if cfg.syncdaemon() {
            out(
                Severity::Error,
                span,
                Some(kw),
                format!("{what} is {f} but virtual server `{name}` is {family}: the kernel refuses a real server of another family while a sync daemon runs (`syncdaemon = 1`)"),
                Some("give it an address of the service's family, or set `syncdaemon = 0`".into()),
            );
        }
    };
    for rs in &vs.servers {
        if let Some(a) = &rs.address {
            other(
                a.span,
                "address",
                format!("real server `{}` ({})", rs.name.value, a.value.addr),
                a.value.addr,
            );
        }
    }
    if let Some(s) = &vs.sorry_server {
        other(
            s.span,
            "sorry_server",
            format!("sorry server {}", s.value),
            s.value,
        );
    }
}

/// An active port-0 service without `persistent` (and without a mark):
/// left out, as ipvsadm refuses it.
fn check_zero_port_service(vs: &VirtualServer, out: &mut Sink<'_>) {
    if !vs.vip().is_unspecified() && vs.fwmark() == 0 && vs.port() == 0 && vs.persistent() == 0 {
        out(
            Severity::Warning,
            vs.port.as_ref().and_then(|p| p.span),
            Some("port"),
            format!("active virtual server `{}` has port 0 and no `persistent`: it is left out (IPVS takes a port-0 service only when persistent; Piranha's `ipvsadm -A` failed)", vs.name.value),
            Some("set the port, or `persistent` for an all-ports service".into()),
        );
    }
}

/// An active virtual server's active real servers without an address: a
/// warning, and the server is left out ([`RealServer::monitored`]).
fn check_server_addresses(vs: &VirtualServer, out: &mut Sink<'_>) {
    let name = vs.name.value.as_str();
    for rs in vs.servers.iter().filter(|r| r.active()) {
        if rs.addr().is_unspecified() {
            out(
                Severity::Warning,
                rs.address.as_ref().and_then(|a| a.span).or(rs.name.span),
                Some("address"),
                format!(
                    "active server `{}` of active virtual server `{name}` has no address: it is left out (no nanny)",
                    rs.name.value
                ),
                Some("set `address`, or `active = 0`".into()),
            );
        }
    }
}

/// Servers checked on port 0 (a port-0 virtual server's, without a port of
/// their own): a TCP check there never passes, unless a program does it.
fn check_zero_ports(vs: &VirtualServer, out: &mut Sink<'_>) {
    if vs.send_program.is_some() {
        return;
    }
    for rs in vs.servers.iter().filter(|r| r.monitored()) {
        let programmed = matches!(
            rs.health_in(vs).check.as_ref().map(|c| c.value),
            Some(crate::checks::CheckKind::Misc)
        );
        if rs.port_in(vs) == 0 && !programmed {
            out(
                Severity::Warning,
                rs.port.as_ref().and_then(|p| p.span).or(rs.name.span),
                Some("port"),
                format!(
                    "server `{}` of `{}` is checked on port 0, which never answers: it never enters the table",
                    rs.name.value, vs.name.value
                ),
                Some("give the server its own `port`, or check it with `send_program`".into()),
            );
        }
    }
}

/// Whether [`check`] finds nothing in `cfg`, given that it found nothing
/// in the same configuration with another `virtual_servers[k]`: only that
/// block's own findings and its pairs with the other blocks can have
/// changed (what lets a reload of one edited block skip the whole-file
/// check; [`crate::incremental`] asserts in debug builds that both agree).
pub(crate) fn clean_after_edit(cfg: &Config, k: usize) -> bool {
    let mut clean = true;
    let mut sink =
        |_: Severity, _: Option<Span>, _: Option<&str>, _: String, _: Option<String>| clean = false;
    let vs = &cfg.virtual_servers[k];
    check_block_head(vs, &mut sink);
    if vs.active() {
        check_address(vs, &mut sink);
        check_families(cfg, vs, &mut sink);
        check_zero_port_service(vs, &mut sink);
    }
    if vs.in_table() {
        check_server_addresses(vs, &mut sink);
        check_zero_ports(vs, &mut sink);
    }
    if !clean {
        return false;
    }
    let name = vs.name.value.as_str();
    let addr = vs.address.as_ref().map(|a| &a.value);
    for (j, o) in cfg.virtual_servers.iter().enumerate() {
        if j == k {
            continue;
        }
        if o.name.value == name {
            return false;
        }
        if !vs.active() || !o.active() {
            continue;
        }
        if let (Some(a), Some(b)) = (addr, o.address.as_ref().map(|a| &a.value)) {
            if a.ip.addr == b.ip.addr && !b.ip.addr.is_unspecified() && a.dev != b.dev {
                return false;
            }
        }
        if vs.in_table() && o.in_table() && vs.service_id() == o.service_id() {
            return false;
        }
    }
    true
}

/// The quorum extension (issue 9): settings that cannot do what they say.
fn check_quorum(vs: &VirtualServer, out: &mut Sink<'_>) {
    use Severity::Warning;
    let name = vs.name.value.as_str();
    let Some(q) = &vs.quorum else {
        for (kw, set, span) in [
            (
                "hysteresis",
                vs.hysteresis.is_some(),
                vs.hysteresis.as_ref().and_then(|x| x.span),
            ),
            (
                "quorum_up",
                vs.quorum_up.is_some(),
                vs.quorum_up.as_ref().and_then(|x| x.span),
            ),
            (
                "quorum_down",
                vs.quorum_down.is_some(),
                vs.quorum_down.as_ref().and_then(|x| x.span),
            ),
        ] {
            if set {
                out(
                    Warning,
                    span,
                    Some(kw),
                    format!("virtual server `{name}` has `{kw}` but no `quorum`; it has no effect"),
                    Some("add `quorum = 1` (keepalived's default) to use it".into()),
                );
            }
        }
        return;
    };
    let h = vs.hysteresis();
    if h >= q.value {
        out(
            Warning,
            vs.hysteresis.as_ref().and_then(|x| x.span),
            Some("hysteresis"),
            format!(
                "virtual server `{name}`: hysteresis {h} is not below quorum {}; the quorum is lost only when no real server is live",
                q.value
            ),
            None,
        );
    }
    // A misc check in dynamic mode sets its server's weight (up to 253),
    // and the quorum counts the weights the nannies report: no bound here.
    let dynamic = vs.servers.iter().filter(|r| r.active()).any(|r| {
        let hc = vs.health.merged(&r.health);
        hc.check.as_ref().map(|c| c.value) == Some(crate::checks::CheckKind::Misc)
            && hc.check_dynamic.as_ref().is_some_and(|d| d.value)
    });
    if vs.active() && !dynamic {
        let total: u64 = vs
            .servers
            .iter()
            .filter(|r| r.active())
            .map(|r| u64::from(r.weight()))
            .sum();
        let need = u64::from(q.value) + u64::from(h);
        if need > total {
            out(
                Warning,
                q.span,
                Some("quorum"),
                format!(
                    "virtual server `{name}`: quorum {} + hysteresis {h} = {need} is more than the weight {total} of its active servers; the quorum is never gained",
                    q.value
                ),
                Some("quorum counts the current weight of each live server, which is its `weight` unless a dynamic misc check sets it".into()),
            );
        }
    }
}

/// `HashMap::insert` for the keys of one block: a list while the block is
/// small (the usual handful of servers; this runs for every block on every
/// reload, where hashing cost more than the rest of the check), a map when
/// it is large.
struct FirstSeen<K, V> {
    list: Vec<(K, V)>,
    map: Option<HashMap<K, V>>,
}

impl<K: Eq + std::hash::Hash, V> FirstSeen<K, V> {
    fn new(n: usize) -> Self {
        if n <= 32 {
            FirstSeen {
                list: Vec::with_capacity(n),
                map: None,
            }
        } else {
            FirstSeen {
                list: Vec::new(),
                map: Some(HashMap::with_capacity(n)),
            }
        }
    }

    /// Record `k`; the value it had before, if any.
    fn insert(&mut self, k: K, v: V) -> Option<V> {
        if let Some(m) = &mut self.map {
            return m.insert(k, v);
        }
        match self.list.iter_mut().find(|(x, _)| *x == k) {
            Some(e) => Some(std::mem::replace(&mut e.1, v)),
            None => {
                self.list.push((k, v));
                None
            }
        }
    }
}
