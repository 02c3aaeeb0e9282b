//! The canonical writer: a configuration printed in the key order the
//! Piranha GUI used (then the keys it did not know), four-space indents,
//! every set keyword and no unset one. `parse(write(c)) == c`.

use std::fmt::Write as _;

use crate::config::*;

/// A string as one lvs.cf token: bare when it can be, else quoted with `"`
/// (or `'` when it contains `"`). Returns `None` when no quoting can carry
/// it (it holds both quotes, or a line break).
pub fn token(s: &str) -> Option<String> {
    if s.contains(['\n', '\r']) {
        return None;
    }
    let bare = !s.is_empty() && !s.contains([' ', '\t']) && !s.starts_with(['"', '\'']);
    if bare {
        return Some(s.to_string());
    }
    if !s.contains('"') {
        Some(format!("\"{s}\""))
    } else if !s.contains('\'') {
        Some(format!("'{s}'"))
    } else {
        None
    }
}

/// A [`QString`] as written: its own quote if it has one. A value that
/// holds its own quote and no blank is written the way Piranha read it
/// (`"{"a":1}"`: the first and last character are the quotes).
pub fn qtoken(q: &QString) -> Option<String> {
    match q.quote {
        Some(_) if q.text.contains(['\n', '\r']) => None,
        Some(qu) if !q.text.contains(qu.char()) => Some(format!("{c}{}{c}", q.text, c = qu.char())),
        Some(qu) if !q.text.contains([' ', '\t']) => {
            Some(format!("{c}{}{c}", q.text, c = qu.char()))
        }
        _ => token(&q.text),
    }
}

fn host(h: &Host) -> String {
    h.name.clone()
}

fn ipdev(a: &IpDev) -> String {
    format!("{} {}", a.ip.name, a.dev)
}

fn b(v: bool) -> &'static str {
    if v {
        "1"
    } else {
        "0"
    }
}

fn s(v: &str) -> String {
    token(v).unwrap_or_else(|| format!("\"{}\"", v.replace(['"', '\n', '\r'], "")))
}

fn q(v: &QString) -> String {
    qtoken(v).unwrap_or_else(|| s(&v.text))
}

struct W {
    out: String,
    indent: &'static str,
}

impl W {
    fn kv(&mut self, key: &str, v: Option<String>) {
        if let Some(v) = v {
            let _ = writeln!(self.out, "{}{key} = {v}", self.indent);
        }
    }
}

fn o<T>(x: &Opt<T>, f: impl Fn(&T) -> String) -> Option<String> {
    x.as_ref().map(|s| f(&s.value))
}

/// Print `cfg` as canonical lvs.cf text.
pub fn write_config(cfg: &Config) -> String {
    let mut w = W {
        out: String::new(),
        indent: "",
    };
    write_globals(&mut w, cfg);
    for f in &cfg.failover_services {
        write_failover(&mut w, f);
    }
    for v in &cfg.virtual_servers {
        write_virtual(&mut w, v);
    }
    w.out
}

/// The global keywords, in the canonical order.
fn write_globals(w: &mut W, c: &Config) {
    w.kv("serial_no", o(&c.serial_no, |v| v.to_string()));
    w.kv("primary", o(&c.primary, host));
    w.kv("primary_private", o(&c.primary_private, host));
    w.kv("primary_shared", o(&c.primary_shared, |v| s(v)));
    w.kv(
        "service",
        o(&c.service, |v| match v {
            ServiceType::Lvs => "lvs".into(),
            ServiceType::Fos => "fos".into(),
        }),
    );
    w.kv("rsh_command", o(&c.rsh_command, |v| s(v)));
    w.kv("backup_active", o(&c.backup_active, |v| b(*v).into()));
    w.kv("backup", o(&c.backup, host));
    w.kv("backup_private", o(&c.backup_private, host));
    w.kv("backup_shared", o(&c.backup_shared, |v| s(v)));
    w.kv("heartbeat", o(&c.heartbeat, |v| b(*v).into()));
    w.kv("heartbeat_port", o(&c.heartbeat_port, |v| v.to_string()));
    w.kv("keepalive", o(&c.keepalive, |v| v.to_string()));
    w.kv("deadtime", o(&c.deadtime, |v| v.to_string()));
    w.kv(
        "network",
        o(&c.network, |v| match v {
            Network::Nat => "nat".into(),
            Network::Direct => "direct".into(),
            Network::Tunnel => "tunnel".into(),
        }),
    );
    w.kv("nat_router", o(&c.nat_router, ipdev));
    w.kv("nat_nmask", o(&c.nat_nmask, |v| v.to_string()));
    w.kv(
        "reservation_conflict_action",
        o(&c.reservation_conflict_action, |v| match v {
            ConflictAction::Nothing => "nothing".into(),
            ConflictAction::Preempt => "preempt".into(),
        }),
    );
    w.kv("debug_level", o(&c.debug_level, |v| s(v)));
    w.kv("active_cmd", o(&c.active_cmd, |v| s(v)));
    w.kv("inactive_cmd", o(&c.inactive_cmd, |v| s(v)));
    w.kv("heartbeat_key", o(&c.heartbeat_key, |v| s(v)));
    w.kv("monitor_links", o(&c.monitor_links, |v| v.to_string()));
    w.kv("syncdaemon", o(&c.syncdaemon, |v| b(*v).into()));
    w.kv("syncd_iface", o(&c.syncd_iface, |v| s(v)));
    w.kv("syncd_id", o(&c.syncd_id, |v| v.to_string()));
    w.kv("hot_standby", o(&c.hot_standby, |v| b(*v).into()));
    w.kv("syncd_group", o(&c.syncd_group, |v| v.to_string()));
    w.kv("syncd_port", o(&c.syncd_port, |v| v.to_string()));
    w.kv("tcp_timeout", o(&c.tcp_timeout, |v| v.to_string()));
    w.kv("tcpfin_timeout", o(&c.tcpfin_timeout, |v| v.to_string()));
    w.kv("udp_timeout", o(&c.udp_timeout, |v| v.to_string()));
    w.kv("hard_shutdown", o(&c.hard_shutdown, |v| b(*v).into()));
    w.kv("ipvsadm", o(&c.ipvsadm, |v| s(v)));
    w.kv("sync", o(&c.sync, |v| b(*v).into()));
    w.kv("director_mode", o(&c.director_mode, |v| v.as_str().into()));
    w.kv(
        "directors",
        o(&c.directors, |v| {
            let words: Vec<String> = v.iter().map(|a| a.to_string()).collect();
            format!("[ {} ]", words.join(" "))
        }),
    );
    w.kv("bird_socket", o(&c.bird_socket, |v| s(v)));
    w.kv("bird_routes", o(&c.bird_routes, |v| s(v)));
    w.kv("withdraw_delay", o(&c.withdraw_delay, |v| v.to_string()));
}

/// [`write_config`] with the blocks in the order of `blocks` (a parse's
/// [`Layout::blocks`](crate::Layout), i.e. the file's order), for
/// `--config-test --print`; blocks the layout does not name follow in the
/// canonical order.
pub fn write_config_in_order(cfg: &Config, blocks: &[crate::parse::BlockLayout]) -> String {
    let mut w = W {
        out: String::new(),
        indent: "",
    };
    write_globals(&mut w, cfg);
    let (mut vi, mut fi) = (0, 0);
    for b in blocks {
        match b.kind {
            crate::parse::BlockKind::Virtual => {
                if let Some(v) = cfg.virtual_servers.get(vi) {
                    write_virtual(&mut w, v);
                }
                vi += 1;
            }
            crate::parse::BlockKind::Failover => {
                if let Some(f) = cfg.failover_services.get(fi) {
                    write_failover(&mut w, f);
                }
                fi += 1;
            }
            crate::parse::BlockKind::Server => {}
        }
    }
    for f in cfg.failover_services.iter().skip(fi) {
        write_failover(&mut w, f);
    }
    for v in cfg.virtual_servers.iter().skip(vi) {
        write_virtual(&mut w, v);
    }
    w.out
}

fn write_failover(w: &mut W, f: &FailoverService) {
    let _ = writeln!(w.out, "failover {} {{", f.name.value);
    w.indent = "    ";
    w.kv("active", o(&f.active, |v| b(*v).into()));
    w.kv("address", o(&f.address, ipdev));
    w.kv("vip_nmask", o(&f.vip_nmask, |v| v.to_string()));
    w.kv("port", o(&f.port, |v| v.to_string()));
    w.kv("send", o(&f.send, q));
    w.kv("expect", o(&f.expect, q));
    w.kv("send_program", o(&f.send_program, q));
    w.kv("timeout", o(&f.timeout, |v| v.to_string()));
    w.kv("reentry", o(&f.reentry, |v| v.to_string()));
    w.kv("start_cmd", o(&f.start_cmd, q));
    w.kv("stop_cmd", o(&f.stop_cmd, q));
    w.indent = "";
    w.out.push_str("}\n");
}

fn write_virtual(w: &mut W, v: &VirtualServer) {
    let _ = writeln!(w.out, "virtual {} {{", v.name.value);
    w.indent = "    ";
    w.kv("active", o(&v.active, |x| b(*x).into()));
    w.kv("address", o(&v.address, ipdev));
    w.kv("sorry_server", o(&v.sorry_server, |x| x.to_string()));
    w.kv("vip_nmask", o(&v.vip_nmask, |x| x.to_string()));
    w.kv("fwmark", o(&v.fwmark, |x| x.to_string()));
    w.kv("port", o(&v.port, |x| x.to_string()));
    w.kv("persistent", o(&v.persistent, |x| x.to_string()));
    w.kv("pmask", o(&v.pmask, |x| x.to_string()));
    w.kv("send", o(&v.send, q));
    w.kv("expect", o(&v.expect, q));
    w.kv("use_regex", o(&v.use_regex, |x| b(*x).into()));
    w.kv("send_program", o(&v.send_program, q));
    w.kv("load_monitor", o(&v.load_monitor, |x| s(x.as_str())));
    w.kv("scheduler", o(&v.scheduler, |x| x.as_str().into()));
    w.kv(
        "sched_flags",
        o(&v.sched_flags, |x| {
            x.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(",")
        }),
    );
    w.kv(
        "protocol",
        o(&v.protocol, |x| match x {
            Protocol::Tcp => "tcp".into(),
            Protocol::Udp => "udp".into(),
        }),
    );
    w.kv("timeout", o(&v.timeout, |x| x.to_string()));
    w.kv("reentry", o(&v.reentry, |x| x.to_string()));
    w.kv("quiesce_server", o(&v.quiesce_server, |x| b(*x).into()));
    w.kv("client_monitor", o(&v.client_monitor, |x| s(x)));
    w.kv("start_cmd", o(&v.start_cmd, q));
    w.kv("stop_cmd", o(&v.stop_cmd, q));
    w.kv("master", o(&v.master, host));
    w.kv(
        "dirs",
        o(&v.dirs, |x| {
            if x.is_empty() {
                "[ ]".into()
            } else {
                format!("[ {} ]", x.join(" "))
            }
        }),
    );
    write_quorum(w, v);
    write_health(w, &v.health);
    for r in &v.servers {
        let _ = writeln!(w.out, "    server {} {{", r.name.value);
        w.indent = "        ";
        w.kv("address", o(&r.address, host));
        w.kv("active", o(&r.active, |x| b(*x).into()));
        w.kv("port", o(&r.port, |x| x.to_string()));
        w.kv("weight", o(&r.weight, |x| x.to_string()));
        write_health(w, &r.health);
        w.indent = "    ";
        w.out.push_str("    }\n");
    }
    w.indent = "";
    w.out.push_str("}\n");
}

/// The quorum extension (issue 9), under a comment that marks it as ours.
fn write_quorum(w: &mut W, v: &VirtualServer) {
    if v.quorum.is_none()
        && v.hysteresis.is_none()
        && v.quorum_up.is_none()
        && v.quorum_down.is_none()
    {
        return;
    }
    let _ = writeln!(
        w.out,
        "{}# extension (piranha-rs): quorum; Piranha does not know these keywords",
        w.indent
    );
    w.kv("quorum", o(&v.quorum, |x| x.to_string()));
    w.kv("hysteresis", o(&v.hysteresis, |x| x.to_string()));
    w.kv("quorum_up", o(&v.quorum_up, |x| s(x)));
    w.kv("quorum_down", o(&v.quorum_down, |x| s(x)));
}

/// The comment line that marks extension keys in canonical output
/// (`lvs --config-test --print`): Piranha does not know them.
pub const EXTENSION_MARK: &str =
    "# piranha-rs extension: health checks (not understood by Piranha)";

/// Extension (issue 9): the health-check keys of a block, after one
/// marking comment.
fn write_health(w: &mut W, h: &crate::checks::HealthCheck) {
    let entries = h.entries();
    if entries.is_empty() {
        return;
    }
    let _ = writeln!(w.out, "{}{EXTENSION_MARK}", w.indent);
    for (k, v) in entries {
        let text = match (k, &h.check_program) {
            ("check_program", Some(p)) => q(&p.value),
            _ => s(&v),
        };
        w.kv(k, Some(text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(token("abc").as_deref(), Some("abc"));
        assert_eq!(token("a b").as_deref(), Some("\"a b\""));
        assert_eq!(token("").as_deref(), Some("\"\""));
        assert_eq!(token("say \"hi\" now").as_deref(), Some("'say \"hi\" now'"));
        assert_eq!(token("both ' and \""), None);
        assert_eq!(token("a\nb"), None);
    }
}
