//! The keyword table: every lvs.cf keyword, where it may appear, its value
//! type and default. The parser, the writer, error hints and the man page
//! test all read this one table.

/// Where a keyword may appear.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Top level.
    Global,
    /// Inside `virtual NAME { }` (and, mostly ignored, `failover NAME { }`).
    Virtual,
    /// Inside `server NAME { }`.
    Server,
    /// Inside `failover NAME { }`.
    Failover,
}

impl Scope {
    /// How an error message names the scope.
    pub fn describe(self) -> &'static str {
        match self {
            Scope::Global => "the top level",
            Scope::Virtual => "a virtual block",
            Scope::Server => "a server block",
            Scope::Failover => "a failover block",
        }
    }
}

/// One keyword.
#[derive(Clone, Copy, Debug)]
pub struct Keyword {
    /// The word.
    pub name: &'static str,
    /// Where it is valid.
    pub scope: Scope,
    /// The value it takes, in the words of the man page.
    pub value: &'static str,
    /// The default when the keyword is absent.
    pub default: &'static str,
}

const fn kw(
    name: &'static str,
    scope: Scope,
    value: &'static str,
    default: &'static str,
) -> Keyword {
    Keyword {
        name,
        scope,
        value,
        default,
    }
}

use Scope::{Failover as F, Global as G, Server as S, Virtual as V};

/// Every keyword, in the order the canonical writer emits them within each
/// scope (the Piranha GUI's order, then the keywords the GUI did not know).
pub const KEYWORDS: &[Keyword] = &[
    kw("serial_no", G, "integer", "0"),
    kw("primary", G, "host", "none"),
    kw("primary_private", G, "host", "primary"),
    kw("primary_shared", G, "string", "none"),
    kw("service", G, "lvs | fos", "lvs"),
    kw("rsh_command", G, "string", "rsh"),
    kw("backup_active", G, "boolean", "0"),
    kw("backup", G, "host", "none"),
    kw("backup_private", G, "host", "backup"),
    kw("backup_shared", G, "string", "none"),
    kw("heartbeat", G, "boolean", "0"),
    kw("heartbeat_port", G, "port", "539"),
    kw("keepalive", G, "seconds", "2"),
    kw("deadtime", G, "seconds", "5"),
    kw("network", G, "nat | direct | tunnel", "nat"),
    kw("nat_router", G, "IP DEVICE", "none"),
    kw("nat_nmask", G, "netmask", "none"),
    kw(
        "reservation_conflict_action",
        G,
        "nothing | preempt",
        "none",
    ),
    kw("debug_level", G, "string", "NONE"),
    kw("active_cmd", G, "command", "none"),
    kw("inactive_cmd", G, "command", "none"),
    kw("heartbeat_key", G, "path", "none"),
    kw("monitor_links", G, "integer", "0"),
    kw("syncdaemon", G, "boolean", "0"),
    kw("syncd_iface", G, "interface", "eth0"),
    kw("syncd_id", G, "integer", "0"),
    kw("hot_standby", G, "boolean", "0"),
    kw("syncd_group", G, "multicast address", "224.0.0.81"),
    kw("syncd_port", G, "port", "8848"),
    kw("tcp_timeout", G, "seconds", "0"),
    kw("tcpfin_timeout", G, "seconds", "0"),
    kw("udp_timeout", G, "seconds", "0"),
    kw("hard_shutdown", G, "boolean", "1"),
    kw("ipvsadm", G, "path", "/sbin/ipvsadm"),
    kw("sync", G, "boolean", "0"),
    // Extension (issue 22): active-active directors over BGP.
    kw("director_mode", G, "pair | bgp", "pair"),
    kw("directors", G, "[ address ... ]", "none"),
    kw("bird_socket", G, "path", "/run/bird/bird.ctl"),
    kw("bird_routes", G, "path", "/run/piranha/bird/routes.conf"),
    kw("withdraw_delay", G, "seconds", "2"),
    kw("active", V, "boolean", "0"),
    kw("address", V, "IP DEVICE", "none"),
    kw("sorry_server", V, "IP address", "none"),
    kw("vip_nmask", V, "netmask", "none"),
    kw("fwmark", V, "integer", "0"),
    kw("port", V, "port", "80"),
    kw("persistent", V, "seconds", "0"),
    kw("pmask", V, "netmask", "none"),
    kw("send", V, "string", "none"),
    kw("expect", V, "string", "none"),
    kw("use_regex", V, "boolean", "0"),
    kw("send_program", V, "command", "none"),
    kw(
        "load_monitor",
        V,
        "none | uptime | rup | ruptime | command",
        "none",
    ),
    kw(
        "scheduler",
        V,
        "rr | wrr | lc | wlc | lblc | lblcr | dh | sh",
        "wlc",
    ),
    kw("sched_flags", V, "flag[,flag...]", "none"),
    kw("protocol", V, "tcp | udp", "tcp"),
    kw("timeout", V, "seconds", "10"),
    kw("reentry", V, "seconds", "180"),
    kw("quiesce_server", V, "boolean", "0"),
    kw("client_monitor", V, "path", "/usr/sbin/nanny"),
    kw("start_cmd", V, "command", "none"),
    kw("stop_cmd", V, "command", "none"),
    kw("master", V, "host", "none"),
    kw("dirs", V, "[ list ]", "none"),
    // Extension (issue 9): quorum and hysteresis, keepalived's algorithm.
    kw("quorum", V, "integer", "none"),
    kw("hysteresis", V, "integer", "0"),
    kw("quorum_up", V, "command", "none"),
    kw("quorum_down", V, "command", "none"),
    // Extension (issue 9): health checks, in virtual and server blocks.
    kw(
        "check",
        V,
        "send_expect | tcp | http | https | smtp | dns | misc",
        "send_expect",
    ),
    kw("check_path", V, "path", "/"),
    kw("check_status", V, "status codes", "200-299"),
    kw("check_digest", V, "md5 hex digest", "none"),
    kw("check_virtualhost", V, "host", "none"),
    kw("check_sni", V, "host", "check_virtualhost"),
    kw("check_verify", V, "boolean", "0"),
    kw("check_ca", V, "path", "the system's"),
    kw("check_helo", V, "host", "localhost"),
    kw("check_dns_name", V, "domain name", "."),
    kw(
        "check_dns_type",
        V,
        "A | NS | CNAME | SOA | MX | TXT | AAAA",
        "SOA",
    ),
    kw("check_program", V, "command", "none"),
    kw("check_dynamic", V, "boolean", "0"),
    kw("check_timeout", V, "seconds", "timeout"),
    kw("retry", V, "integer", "0"),
    kw("retry_delay", V, "seconds", "1"),
    kw("rise", V, "integer", "reentry / timeout"),
    kw("warmup", V, "seconds", "0"),
    kw("address", S, "host", "none"),
    kw("active", S, "boolean", "0"),
    kw("port", S, "integer", "the virtual server's port"),
    kw("weight", S, "integer", "1"),
    // Extension (issue 9): health checks, server-block overrides.
    kw(
        "check",
        S,
        "send_expect | tcp | http | https | smtp | dns | misc",
        "send_expect",
    ),
    kw("check_path", S, "path", "/"),
    kw("check_status", S, "status codes", "200-299"),
    kw("check_digest", S, "md5 hex digest", "none"),
    kw("check_virtualhost", S, "host", "none"),
    kw("check_sni", S, "host", "check_virtualhost"),
    kw("check_verify", S, "boolean", "0"),
    kw("check_ca", S, "path", "the system's"),
    kw("check_helo", S, "host", "localhost"),
    kw("check_dns_name", S, "domain name", "."),
    kw(
        "check_dns_type",
        S,
        "A | NS | CNAME | SOA | MX | TXT | AAAA",
        "SOA",
    ),
    kw("check_program", S, "command", "none"),
    kw("check_dynamic", S, "boolean", "0"),
    kw("check_timeout", S, "seconds", "timeout"),
    kw("retry", S, "integer", "0"),
    kw("retry_delay", S, "seconds", "1"),
    kw("rise", S, "integer", "reentry / timeout"),
    kw("warmup", S, "seconds", "0"),
    kw("active", F, "boolean", "0"),
    kw("address", F, "IP DEVICE", "none"),
    kw("vip_nmask", F, "netmask", "none"),
    kw("port", F, "port", "80"),
    kw("send", F, "string", "none"),
    kw("expect", F, "string", "none"),
    kw("send_program", F, "command", "none"),
    kw("timeout", F, "seconds", "10"),
    kw("reentry", F, "seconds", "180"),
    kw("start_cmd", F, "command", "none"),
    kw("stop_cmd", F, "command", "none"),
];

/// The keyword `name` in `scope`, if it exists there. A failover block
/// accepts every virtual-block keyword (Piranha parsed both with one
/// routine), so `Virtual` keywords are found for `Failover` too.
pub fn lookup(scope: Scope, name: &str) -> Option<&'static Keyword> {
    KEYWORDS
        .iter()
        .find(|k| k.name == name && k.scope == scope)
        .or_else(|| {
            if scope == Scope::Failover {
                KEYWORDS
                    .iter()
                    .find(|k| k.name == name && k.scope == Scope::Virtual)
            } else {
                None
            }
        })
}

/// The scopes (other than `scope`) where `name` is a keyword.
pub fn other_scopes(scope: Scope, name: &str) -> Vec<Scope> {
    let mut v: Vec<Scope> = KEYWORDS
        .iter()
        .filter(|k| k.name == name && k.scope != scope)
        .map(|k| k.scope)
        .collect();
    v.dedup();
    v
}

/// The keyword of `scope` closest to `name`, if one is close enough to be
/// a likely typo.
pub fn suggest(scope: Scope, name: &str) -> Option<&'static str> {
    let mut words: Vec<&'static str> = KEYWORDS
        .iter()
        .filter(|k| k.scope == scope || (scope == Scope::Failover && k.scope == Scope::Virtual))
        .map(|k| k.name)
        .collect();
    match scope {
        Scope::Global => words.extend(["virtual", "failover"]),
        Scope::Virtual | Scope::Failover => words.push("server"),
        Scope::Server => {}
    }
    let lower = name.to_ascii_lowercase();
    words
        .into_iter()
        .map(|w| (strsim::damerau_levenshtein(&lower, w), w))
        .filter(|(d, w)| *d <= 2.max(w.len() / 4) && *d < w.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, w)| w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggest(Scope::Virtual, "schedular"), Some("scheduler"));
        assert_eq!(suggest(Scope::Global, "keepalives"), Some("keepalive"));
        assert_eq!(suggest(Scope::Global, "Primary"), Some("primary"));
        assert_eq!(suggest(Scope::Server, "wieght"), Some("weight"));
        assert_eq!(suggest(Scope::Global, "zzzzzzzz"), None);
        assert_eq!(suggest(Scope::Global, "virtaul"), Some("virtual"));
    }

    #[test]
    fn scopes() {
        assert!(lookup(Scope::Failover, "scheduler").is_some());
        assert!(lookup(Scope::Global, "weight").is_none());
        assert_eq!(other_scopes(Scope::Global, "weight"), vec![Scope::Server]);
    }
}
