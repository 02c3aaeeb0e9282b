//! The keywords of each scope (global, virtual, failover, server, the health-check and quorum extensions) and the semantic checks after a clean parse.

use std::net::Ipv4Addr;

use super::reader::*;
use crate::checks::HealthCheck;
use crate::config::*;
use crate::diag::{ErrorKind, Severity, Span};
use crate::lex::Tok;
use crate::value;

impl<'o> P<'o> {
    pub(super) fn global(&mut self, kw: &'static str, a: &[Tok<'_>]) -> R<()> {
        let c = &mut Config::default();
        std::mem::swap(c, &mut self.cfg);
        let r = self.global_inner(c, kw, a);
        std::mem::swap(c, &mut self.cfg);
        r
    }

    pub(super) fn global_inner(
        &mut self,
        c: &mut Config,
        kw: &'static str,
        a: &[Tok<'_>],
    ) -> R<()> {
        match kw {
            "serial_no" => c.serial_no = Some(self.c_int(kw, &a[0])?),
            "primary" => c.primary = Some(self.host(kw, &a[0], false)?),
            "primary_private" => c.primary_private = Some(self.host(kw, &a[0], false)?),
            "primary_shared" => c.primary_shared = Some(self.string(&a[0])),
            "service" => {
                c.service = Some(self.choice(
                    kw,
                    &a[0],
                    &[("lvs", ServiceType::Lvs), ("fos", ServiceType::Fos)],
                )?)
            }
            "rsh_command" => c.rsh_command = Some(self.string(&a[0])),
            "backup_active" => c.backup_active = Some(self.boolean(kw, &a[0])?),
            "backup" => {
                let want = host_family(&c.primary);
                c.backup = Some(self.host_in(kw, &a[0], true, want)?)
            }
            "backup_private" => {
                let want = host_family(&c.primary_private);
                c.backup_private = Some(self.host_in(kw, &a[0], false, want)?)
            }
            "backup_shared" => c.backup_shared = Some(self.string(&a[0])),
            "heartbeat" => c.heartbeat = Some(self.boolean(kw, &a[0])?),
            "heartbeat_port" => {
                let t = &self.numeric(kw, &a[0]);
                c.heartbeat_port = Some(match value::parse_c_int(t.text) {
                    Ok((v, _)) if !(0..=65535).contains(&v) && v & 0xffff != 0 => {
                        // htons() kept the low 16 bits, on both directors.
                        let port = (v & 0xffff) as u16;
                        self.warn_reading(
                            ErrorKind::InvalidArgument,
                            t.span,
                            kw,
                            format!("port {v} is out of range: read as {port}, as Piranha's htons() read it"),
                            Some("write a port from 1 to 65535".into()),
                        );
                        Spanned::at(port, t.span)
                    }
                    _ => self.port(kw, t, true, false)?,
                })
            }
            "keepalive" if zero_seconds(a[0].text) => {
                // Piranha sent heartbeats in a busy loop; one a second.
                self.warn_at(
                    a[0].span,
                    Some(kw),
                    "0 seconds: read as 1 (Piranha sent heartbeats as fast as it could)".into(),
                    Some("set the interval between heartbeats, e.g. `keepalive = 2`".into()),
                );
                c.keepalive = Some(Spanned::at(Seconds::secs(1), a[0].span));
            }
            "deadtime" if zero_seconds(a[0].text) => {
                // Harmless without a partner; whether there is one is
                // known at the end of the file.
                let mut d = self.err(&a[0], ErrorKind::InvalidArgument, kw, "must be more than 0 seconds with a partner director: both would go active at once".into());
                d.hint = Some("set `deadtime`, e.g. 3 times `keepalive`".into());
                // The last `deadtime` wins, as for every keyword.
                c.deadtime = None;
                self.zero_deadtime = Some(*d);
            }
            "keepalive" => c.keepalive = Some(self.seconds(kw, &a[0])?),
            "deadtime" => {
                c.deadtime = Some(self.seconds(kw, &a[0])?);
                self.zero_deadtime = None;
            }
            "network" => {
                c.network = Some(self.choice(
                    kw,
                    &a[0],
                    &[
                        ("nat", Network::Nat),
                        ("direct", Network::Direct),
                        ("tunnel", Network::Tunnel),
                    ],
                )?)
            }
            "nat_router" => c.nat_router = Some(self.ipdev(kw, a)?),
            "nat_nmask" => c.nat_nmask = Some(self.mask(kw, &a[0])?),
            "reservation_conflict_action" => {
                c.reservation_conflict_action = Some(self.choice(
                    kw,
                    &a[0],
                    &[
                        ("nothing", ConflictAction::Nothing),
                        ("preempt", ConflictAction::Preempt),
                    ],
                )?)
            }
            "debug_level" => c.debug_level = Some(self.string(&a[0])),
            "active_cmd" => c.active_cmd = Some(self.string(&a[0])),
            "inactive_cmd" => c.inactive_cmd = Some(self.string(&a[0])),
            "heartbeat_key" => c.heartbeat_key = Some(self.string(&a[0])),
            "monitor_links" => c.monitor_links = Some(self.c_int(kw, &a[0])?),
            "syncdaemon" => c.syncdaemon = Some(self.boolean(kw, &a[0])?),
            "syncd_iface" => c.syncd_iface = Some(self.string(&a[0])),
            "hot_standby" => c.hot_standby = Some(self.boolean(kw, &a[0])?),
            "syncd_group" => c.syncd_group = Some(self.group(kw, &a[0])?),
            "syncd_port" => c.syncd_port = Some(self.port(kw, &a[0], false, false)?),
            "syncd_id" => {
                let v = self.c_int(kw, &a[0])?;
                if !(0..=255).contains(&v.value) {
                    self.warn_at(
                        a[0].span,
                        Some(kw),
                        format!(
                            "{} is outside 0-255; the sync id used is {}",
                            v.value,
                            v.value & 0xff
                        ),
                        None,
                    );
                }
                c.syncd_id = Some(v);
            }
            "tcp_timeout" => c.tcp_timeout = Some(self.timeout(kw, &a[0])?),
            "tcpfin_timeout" => c.tcpfin_timeout = Some(self.timeout(kw, &a[0])?),
            "udp_timeout" => c.udp_timeout = Some(self.timeout(kw, &a[0])?),
            "hard_shutdown" => c.hard_shutdown = Some(self.boolean(kw, &a[0])?),
            "ipvsadm" => c.ipvsadm = Some(self.string(&a[0])),
            "sync" => c.sync = Some(self.boolean(kw, &a[0])?),
            "director_mode" => {
                c.director_mode = Some(self.choice(
                    kw,
                    &a[0],
                    &[("pair", DirectorMode::Pair), ("bgp", DirectorMode::Bgp)],
                )?)
            }
            "directors" => c.directors = Some(self.directors(kw, a)?),
            "bird_socket" => c.bird_socket = Some(self.string(&a[0])),
            "bird_routes" => c.bird_routes = Some(self.string(&a[0])),
            "withdraw_delay" => c.withdraw_delay = Some(self.seconds(kw, &a[0])?),
            _ => unreachable!("global keyword {kw} in table but not parsed"),
        }
        Ok(())
    }

    pub(super) fn block_key(&mut self, kw: &'static str, a: &[Tok<'_>]) -> R<()> {
        let mut frame = self.stack.pop().expect("block scope has a frame");
        let r = match &mut frame {
            Frame::Virtual { vs, .. } => self.virtual_key(vs, kw, a),
            Frame::Failover { fs, .. } => self.failover_key(fs, kw, a),
            Frame::Server { rs, .. } => self.server_key(rs, kw, a),
        };
        self.stack.push(frame);
        r
    }

    pub(super) fn virtual_key(
        &mut self,
        v: &mut VirtualServer,
        kw: &'static str,
        a: &[Tok<'_>],
    ) -> R<()> {
        match kw {
            "active" => v.active = Some(self.boolean(kw, &a[0])?),
            "address" => v.address = Some(self.ipdev(kw, a)?),
            "sorry_server" => v.sorry_server = Some(self.sorry(kw, &a[0])?),
            "vip_nmask" => v.vip_nmask = Some(self.mask(kw, &a[0])?),
            "fwmark" => {
                let t = &self.numeric(kw, &a[0]);
                v.fwmark = Some(match value::parse_c_int(t.text) {
                    // Piranha stored -1 as 4294967295 (an unsigned mark).
                    Ok((m, _)) if m < 0 => {
                        let mark = m as i32 as u32;
                        self.warn_reading(
                            ErrorKind::InvalidArgument,
                            t.span,
                            kw,
                            format!("{m} is negative: read as {mark}, as Piranha stored it"),
                            Some("write a mark from 0 to 4294967295".into()),
                        );
                        Spanned::at(mark, t.span)
                    }
                    _ => match self.wrapped(kw, t) {
                        Some(w) => Spanned::at(w as u32, t.span),
                        None => self.uint(kw, t, 0, u32::MAX)?,
                    },
                })
            }
            // Out of range, Piranha's `ipvsadm -A` failed for this block
            // only: `leave_out` (see `P::assignment`).
            "port" => {
                let port = self.port(kw, &a[0], true, true);
                self.leave_out = self.range_error;
                v.port = Some(port?)
            }
            "persistent" => {
                let p = self.uint_or_negative(
                    kw,
                    &a[0],
                    2_678_400,
                    0,
                    "Piranha's lvsd passed `-p` only for a positive value",
                );
                self.leave_out = self.range_error;
                v.persistent = Some(p?)
            }
            "pmask" => {
                let t = &a[0];
                match value::inet_aton(t.text) {
                    // Extension: a prefix length, for an IPv6 service (an
                    // IPv4 one ignores it, as Piranha did: see validate).
                    None if matches!(
                        t.text.strip_prefix('/').map(str::parse::<u8>),
                        Some(Ok(1..=128))
                    ) =>
                    {
                        v.pmask = Some(self.mask(kw, t)?)
                    }
                    None => self.warn_at(
                        t.span,
                        Some(kw),
                        format!(
                            "`{}` is not a netmask and is ignored, as Piranha did",
                            t.text
                        ),
                        Some("write a dotted mask such as 255.255.255.0".into()),
                    ),
                    Some((m, _)) if m == Ipv4Addr::BROADCAST => {
                        self.warn_at(
                            t.span,
                            Some(kw),
                            "255.255.255.255 means \"no persistence netmask\" to Piranha; it is treated as unset".into(),
                            None,
                        );
                        v.pmask = None;
                    }
                    Some(_) => v.pmask = Some(self.mask(kw, t)?),
                }
            }
            "send" => v.send = Some(self.qstring(kw, &a[0])),
            "expect" => v.expect = Some(self.qstring(kw, &a[0])),
            "use_regex" => v.use_regex = Some(self.boolean(kw, &a[0])?),
            "send_program" => v.send_program = Some(self.qstring(kw, &a[0])),
            "load_monitor" => {
                v.load_monitor = Some(Spanned::at(LoadMonitor::from_token(a[0].text), a[0].span))
            }
            "scheduler" => {
                let t = &a[0];
                match Scheduler::from_name(t.text) {
                    Some(s) => v.scheduler = Some(Spanned::at(s, t.span)),
                    None => {
                        let mut d = self.err(
                            t,
                            ErrorKind::InvalidArgument,
                            kw,
                            format!("`{}` is not a scheduler", t.text),
                        );
                        let names: Vec<&str> = Scheduler::ALL.iter().map(|s| s.as_str()).collect();
                        d.hint = Some(format!("one of {}", names.join(", ")));
                        return Err(d);
                    }
                }
            }
            "protocol" => {
                v.protocol = Some(self.choice(
                    kw,
                    &a[0],
                    &[("tcp", Protocol::Tcp), ("udp", Protocol::Udp)],
                )?)
            }
            "timeout" => v.timeout = Some(self.check_timeout(kw, &a[0])?),
            "reentry" => {
                v.reentry = Some(self.uint_or_negative(
                    kw,
                    &a[0],
                    i32::MAX as u32,
                    1,
                    "Piranha's nanny put a server back after one good check",
                )?)
            }
            "quiesce_server" => v.quiesce_server = Some(self.boolean(kw, &a[0])?),
            "sched_flags" => v.sched_flags = Some(self.sched_flags(kw, &a[0])?),
            "client_monitor" => v.client_monitor = Some(self.string(&a[0])),
            "start_cmd" => v.start_cmd = Some(self.qstring(kw, &a[0])),
            "stop_cmd" => v.stop_cmd = Some(self.qstring(kw, &a[0])),
            "master" => v.master = Some(self.host(kw, &a[0], true)?),
            "dirs" => v.dirs = Some(self.list(kw, self.eq_span, a)?),
            "quorum" | "hysteresis" | "quorum_up" | "quorum_down" => self.quorum_key(v, kw, a)?,
            k if crate::checks::HEALTH_KEYS.contains(&k) => {
                self.health_key(&mut v.health, kw, a)?
            }
            _ => unreachable!("virtual keyword {kw} in table but not parsed"),
        }
        Ok(())
    }

    /// The quorum extension's keywords (issue 9).
    pub(super) fn quorum_key(&mut self, v: &mut VirtualServer, kw: &str, a: &[Tok<'_>]) -> R<()> {
        match kw {
            "quorum" => v.quorum = Some(self.uint(kw, &a[0], 1, i32::MAX as u32)?),
            "hysteresis" => v.hysteresis = Some(self.uint(kw, &a[0], 0, i32::MAX as u32)?),
            _ => {
                let t = &a[0];
                if t.text.trim().is_empty() {
                    let mut d = self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        "expected a command, found an empty string".into(),
                    );
                    d.hint = Some(format!(
                        "remove `{kw}`, or give a command line (run with /bin/sh -c)"
                    ));
                    return Err(d);
                }
                let cmd = Some(self.string(t));
                if kw == "quorum_up" {
                    v.quorum_up = cmd;
                } else {
                    v.quorum_down = cmd;
                }
            }
        }
        Ok(())
    }

    pub(super) fn check_timeout(&mut self, kw: &str, t: &Tok<'_>) -> R<Spanned<u32>> {
        let v = self.uint(kw, t, 0, i32::MAX as u32)?;
        if v.value == 0 {
            self.range_error = true;
            let mut d = self.err(
                t,
                ErrorKind::InvalidArgument,
                kw,
                "0 is not a usable check interval".into(),
            );
            d.hint = Some("Piranha's nanny divided by it; use 1 or more seconds".into());
            return Err(d);
        }
        Ok(v)
    }

    pub(super) fn list(
        &mut self,
        kw: &str,
        eq_span: Span,
        a: &[Tok<'_>],
    ) -> R<Spanned<Vec<String>>> {
        let bad = |p: &Self, t: &Tok<'_>| {
            let mut d = p.err(
                t,
                ErrorKind::ListExpected,
                kw,
                "expected `[ item ... ]`".into(),
            );
            d.hint = Some("a list is `[`, items and `]`, separated by blanks".into());
            d
        };
        let Some(first) = a.first() else {
            let mut d = Box::new(self.diag(
                Severity::Error,
                eq_span,
                ErrorKind::ListExpected,
                Some(kw.to_string()),
                "expected `[ item ... ]`".into(),
                None,
            ));
            d.hint = Some("a list is `[`, items and `]`, separated by blanks".into());
            return Err(d);
        };
        if first.text != "[" {
            return Err(bad(self, first));
        }
        let Some(end) = a.iter().position(|t| t.text == "]") else {
            return Err(bad(self, &a[a.len() - 1]));
        };
        if end + 1 < a.len() {
            // Piranha's list reader stopped at `]` and ignored the rest.
            let extra = &a[end + 1..];
            self.warn_reading(
                ErrorKind::UnexpectedArguments,
                span_of(extra),
                kw,
                "the text after the closing `]` is ignored, as Piranha ignored it".into(),
                Some("remove it, or move it inside the brackets".into()),
            );
        }
        Ok(Spanned::at(
            a[1..end].iter().map(|t| t.text.to_string()).collect(),
            span_of(a),
        ))
    }

    pub(super) fn failover_key(
        &mut self,
        f: &mut FailoverService,
        kw: &'static str,
        a: &[Tok<'_>],
    ) -> R<()> {
        match kw {
            "active" => f.active = Some(self.boolean(kw, &a[0])?),
            "address" => f.address = Some(self.ipdev(kw, a)?),
            "vip_nmask" => f.vip_nmask = Some(self.mask(kw, &a[0])?),
            "port" => f.port = Some(self.port(kw, &a[0], true, false)?),
            "send" => f.send = Some(self.qstring(kw, &a[0])),
            "expect" => f.expect = Some(self.qstring(kw, &a[0])),
            "send_program" => f.send_program = Some(self.qstring(kw, &a[0])),
            "timeout" => f.timeout = Some(self.check_timeout(kw, &a[0])?),
            "reentry" => f.reentry = Some(self.uint(kw, &a[0], 0, i32::MAX as u32)?),
            "start_cmd" => f.start_cmd = Some(self.qstring(kw, &a[0])),
            "stop_cmd" => f.stop_cmd = Some(self.qstring(kw, &a[0])),
            _ => {
                // Valid virtual keyword: checked, then ignored.
                let mut scratch = VirtualServer::default();
                self.virtual_key(&mut scratch, kw, a)?;
                self.warn_at(
                    a.first().map(|t| t.span).unwrap_or_default(),
                    Some(kw),
                    format!("`{kw}` has no effect in a failover block; it is ignored"),
                    None,
                );
            }
        }
        Ok(())
    }

    pub(super) fn server_key(
        &mut self,
        r: &mut RealServer,
        kw: &'static str,
        a: &[Tok<'_>],
    ) -> R<()> {
        match kw {
            "address" => {
                // A name resolves in the service's family, but through a
                // tunnel (which may carry the other one).
                let want = match (self.stack.last(), self.cfg.network()) {
                    (_, Network::Tunnel) => None,
                    (Some(Frame::Virtual { vs, .. }), _) => {
                        vs.address.as_ref().map(|a| Family::of(&a.value.ip.addr))
                    }
                    _ => None,
                };
                r.address = Some(self.host_in(kw, &a[0], true, want)?)
            }
            "active" => r.active = Some(self.boolean(kw, &a[0])?),
            "port" => r.port = Some(self.port(kw, &a[0], false, true)?),
            "weight" => {
                let t = &self.numeric(kw, &a[0]);
                r.weight = Some(match value::parse_c_int(t.text) {
                    Ok((v, _)) if v > 65535 => {
                        self.warn_reading(
                            ErrorKind::InvalidArgument,
                            t.span,
                            kw,
                            format!("{v} is above 65535: read as 65535"),
                            Some(
                                "ipvsadm refuses larger weights; Piranha's nanny died when slow start passed 65535"
                                    .into(),
                            ),
                        );
                        Spanned::at(65535, t.span)
                    }
                    _ => self.uint_or_negative(
                        kw,
                        t,
                        65535,
                        1,
                        "Piranha's nanny raised a weight below 1 to 1",
                    )?,
                })
            }
            k if crate::checks::HEALTH_KEYS.contains(&k) => {
                self.health_key(&mut r.health, kw, a)?
            }
            _ => unreachable!("server keyword {kw} in table but not parsed"),
        }
        Ok(())
    }

    // ---- semantic checks after a clean parse ----

    pub(super) fn validate(&mut self) {
        let cfg = std::mem::take(&mut self.cfg);
        crate::validate::check(&cfg, &mut |sev, span, kw, detail, hint| {
            let d = self.diag(
                sev,
                span.unwrap_or_default(),
                ErrorKind::InvalidConfiguration,
                kw.map(str::to_string),
                detail,
                hint,
            );
            self.diags.push(d);
        });
        if !cfg.virtual_servers.is_empty() && !cfg.failover_services.is_empty() {
            let span = cfg.failover_services[0].name.span.unwrap_or_default();
            let d = self.diag(
                Severity::Warning,
                span,
                ErrorKind::BothVirtualAndFailover,
                Some("failover".into()),
                format!(
                    "the file has both virtual and failover blocks; with `service = {}` only the {} blocks are used",
                    if cfg.service() == ServiceType::Fos { "fos" } else { "lvs" },
                    if cfg.service() == ServiceType::Fos { "failover" } else { "virtual" }
                ),
                Some("Piranha 0.8.6 accepted this too; remove the unused blocks".into()),
            );
            self.diags.push(d);
        }
        self.cfg = cfg;
    }

    // ---- extension (issue 9): health-check keys ----

    pub(super) fn health_key(
        &mut self,
        h: &mut HealthCheck,
        kw: &'static str,
        a: &[Tok<'_>],
    ) -> R<()> {
        use crate::checks::{
            dns_type, is_url_path, md5_hex, parse_status_list, CheckKind, DNS_TYPES,
        };
        let t = &a[0];
        let text = |p: &mut Self, what: &str| -> R<Spanned<String>> {
            if t.text.is_empty() {
                let mut d = p.err(
                    t,
                    ErrorKind::InvalidArgument,
                    kw,
                    format!("expected {what}, found an empty value"),
                );
                d.hint = Some(format!("`{kw}` takes {what}"));
                return Err(d);
            }
            Ok(p.string(t))
        };
        match kw {
            "check" => h.check = Some(self.choice(kw, t, &CheckKind::ALL)?),
            "check_path" => {
                let v = text(self, "a path starting with `/`")?;
                if !is_url_path(&v.value) {
                    let mut d = self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        format!("`{}` is not a URL path", t.text),
                    );
                    d.hint = Some(
                        "write a path such as /health, starting with `/`, without blanks".into(),
                    );
                    return Err(d);
                }
                h.check_path = Some(v);
            }
            "check_status" => {
                if let Err(bad) = parse_status_list(t.text) {
                    let mut d = self.err(t, ErrorKind::InvalidArgument, kw, bad.to_string());
                    d.hint = Some("codes and ranges separated by commas, or quoted with blanks: \"200-299 301\"".into());
                    return Err(d);
                }
                h.check_status = Some(self.string(t));
            }
            "check_digest" => {
                let Some(md5) = md5_hex(t.text) else {
                    let mut d = self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        format!("`{}` is not an MD5 digest (32 hex digits)", t.text),
                    );
                    d.hint = Some("genhash(1) prints the digest of a page".into());
                    return Err(d);
                };
                h.check_digest = Some(Spanned::at(md5, t.span));
            }
            "check_virtualhost" | "check_sni" | "check_helo" => {
                let v = text(self, "a host name")?;
                if v.value.bytes().any(|b| b <= b' ' || b == 0x7f) {
                    return Err(self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        format!("`{}` is not a host name", t.text),
                    ));
                }
                match kw {
                    "check_virtualhost" => h.check_virtualhost = Some(v),
                    "check_sni" => h.check_sni = Some(v),
                    _ => h.check_helo = Some(v),
                }
            }
            "check_verify" => h.check_verify = Some(self.boolean(kw, t)?),
            "check_ca" => h.check_ca = Some(text(self, "a file name")?),
            "check_dns_name" => {
                let v = text(self, "a domain name")?;
                if v.value.len() > 253
                    || v.value.bytes().any(|b| b <= b' ' || b == 0x7f)
                    || v.value.contains("..")
                {
                    return Err(self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        format!("`{}` is not a domain name", t.text),
                    ));
                }
                h.check_dns_name = Some(v);
            }
            "check_dns_type" => {
                let Some(up) = dns_type(t.text) else {
                    let mut d = self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        format!("`{}` is not a query type this check knows", t.text),
                    );
                    d.hint = Some(format!("one of {}", DNS_TYPES.join(", ")));
                    return Err(d);
                };
                h.check_dns_type = Some(Spanned::at(up.to_string(), t.span));
            }
            "check_program" => h.check_program = Some(self.qstring(kw, t)),
            "check_dynamic" => h.check_dynamic = Some(self.boolean(kw, t)?),
            "check_timeout" => h.check_timeout = Some(self.check_timeout(kw, t)?),
            "retry" => h.retry = Some(self.uint(kw, t, 0, 1000)?),
            "retry_delay" => h.retry_delay = Some(self.seconds(kw, t)?),
            "rise" => h.rise = Some(self.uint(kw, t, 1, 1_000_000)?),
            "warmup" => {
                h.warmup = Some(match value::parse_seconds(t.text) {
                    Ok((ms, _)) => Spanned::at(Seconds(ms), t.span),
                    Err(_) => self.seconds(kw, t)?,
                })
            }
            _ => unreachable!("health keyword {kw} not parsed"),
        }
        Ok(())
    }
}

/// A `seconds` value that is zero (`0`, `0.0`, `00`...).
fn zero_seconds(tok: &str) -> bool {
    matches!(value::parse_seconds(tok), Ok((0, _)))
}

/// The family of a host field, when set.
fn host_family(h: &Opt<Host>) -> Option<Family> {
    h.as_ref().map(|h| Family::of(&h.value.addr))
}
