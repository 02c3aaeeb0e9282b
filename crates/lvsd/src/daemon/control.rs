//! Extension (issue 20): seeing and steering the running lvs.
//!
//! - The control socket (`/run/lvs.ctl`, root only): `status [json]`, and
//!   the administrator's overrides (`drain`, `undrain`, `weight`,
//!   `disable`, `enable`, `disable-service`, `enable-service`;
//!   [`piranha_status::protocol`]).  Each change is logged with the
//!   caller's uid and kept in the overrides file (written atomically) so
//!   that a reload, a restart and a takeover keep it.
//! - The report socket: each nanny lvs starts sends the result of every
//!   check ([`piranha_status::report`]), so the status shows every real
//!   server's check state, last result and latency.
//! - Drains: a drained server has weight 0, its connections kept; a drain
//!   with a deadline ends (the server leaves the table) when its active
//!   connections are gone, or at the deadline.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use piranha_status::model::{self, CheckResult, Histogram};
use piranha_status::overrides::{self, Effect, Kind, Override, Overrides};
use piranha_status::protocol::{Answer, Request, Target};
use piranha_status::report::{CheckState, Inbox, Report};
use piranha_status::socket::Listener;

use super::state::{CheckInfo, Control, Lvsd, MonKey};
use crate::plan::{DesiredService, ServiceKey};

/// The nannies' reports are read at most this often: 4,000 nannies send
/// hundreds a second, and each pass of the main loop walks every monitor.
pub(super) const REPORT_BATCH: Duration = Duration::from_millis(250);

/// Reports read in one go at most (the rest wait for the next pass).
const REPORTS_AT_ONCE: usize = 20_000;

/// How often lvs looks at the connections of a server drained with a
/// deadline.
pub(super) const DRAIN_TICK: Duration = Duration::from_secs(1);

impl Control {
    /// No sockets; the overrides at `path`.
    pub(super) fn new(path: PathBuf) -> Self {
        let overrides = Overrides::load(&path);
        Control {
            listener: None,
            inbox: None,
            path,
            overrides,
            checks: BTreeMap::new(),
            by_pid: std::collections::HashMap::new(),
            drain_at: None,
            reports_read: None,
        }
    }

    /// May the reports be read now ([`REPORT_BATCH`])?
    pub(super) fn reports_due(&self, now: Instant) -> bool {
        self.reports_read.is_none_or(|t| now >= t + REPORT_BATCH)
    }

    /// When the loop must wake to read the reports it left waiting.
    pub(super) fn reports_at(&self) -> Option<Instant> {
        self.inbox.as_ref()?;
        self.reports_read
            .map(|t| t + REPORT_BATCH)
            .filter(|t| *t > Instant::now())
    }
}

/// The service word of the overrides file for `key`.
pub(super) fn service_word(key: &ServiceKey) -> String {
    match key {
        ServiceKey::Tcp(a, p) => overrides::service_word("tcp", &a.to_string(), *p, 0),
        ServiceKey::Udp(a, p) => overrides::service_word("udp", &a.to_string(), *p, 0),
        ServiceKey::Fwmark(m) => overrides::service_word("tcp", "", 0, *m),
        ServiceKey::Fwmark6(m) => overrides::service_word("tcp", "::", 0, *m),
    }
}

/// The status's name of `key`: `tcp VIP:PORT`, `udp VIP:PORT`, `fwmark N`
/// (`tcp [VIP]:PORT` and `fwmark6 N` for IPv6).
fn key_text(key: &ServiceKey) -> String {
    match key {
        ServiceKey::Tcp(a, p) => format!("tcp {}", SocketAddr::new(*a, *p)),
        ServiceKey::Udp(a, p) => format!("udp {}", SocketAddr::new(*a, *p)),
        ServiceKey::Fwmark(m) => format!("fwmark {m}"),
        ServiceKey::Fwmark6(m) => format!("fwmark6 {m}"),
    }
}

fn stats_of(s: &ipvs::Stats) -> model::Stats {
    model::Stats {
        connections: s.conns,
        packets_in: s.inpkts,
        packets_out: s.outpkts,
        bytes_in: s.inbytes,
        bytes_out: s.outbytes,
        cps: s.cps,
        pps_in: s.inpps,
        pps_out: s.outpps,
        bps_in: s.inbps,
        bps_out: s.outbps,
    }
}

fn unix_secs() -> u64 {
    model::unix_now() as u64
}

impl Lvsd {
    /// Open the control and report sockets and point the nannies at them
    /// and at the overrides file (through their environment: their argv
    /// stays Piranha's).  A socket that cannot be opened is logged; lvs
    /// runs on without it.
    pub(super) fn open_control(&mut self) {
        if self.opts.test_start {
            return;
        }
        let Some(path) = self.opts.control.clone() else {
            return;
        };
        match Listener::bind(&path) {
            Ok(l) => self.control.listener = Some(l),
            Err(e) => log::warn!(
                "no control socket: cannot listen at {}: {e}",
                path.display()
            ),
        }
        let report = path.with_extension("nanny");
        match Inbox::bind(&report) {
            Ok(i) => {
                // lvs has one thread, and no nanny is started yet
                std::env::set_var(piranha_status::report::ENV, &report);
                self.control.inbox = Some(i);
            }
            Err(e) => log::warn!(
                "no check reports: cannot listen at {}: {e}",
                report.display()
            ),
        }
        std::env::set_var(overrides::ENV, &self.control.path);
    }

    /// Serve the waiting control connections.
    pub(super) fn serve_control(&mut self) {
        loop {
            let Some(inc) = self.control.listener.as_ref().and_then(|l| l.accept()) else {
                return;
            };
            let answer = match &inc.line {
                Err(e) => Answer::error(e.clone()),
                Ok(line) => match Request::parse(line) {
                    Err(e) => Answer::error(e.to_string()),
                    Ok(req) => {
                        let a = self.request(&req);
                        if req.changes() {
                            log::info!(
                                "control: uid {} (pid {}) asked \"{}\": {}",
                                inc.uid,
                                inc.pid,
                                req.line(),
                                a.summary()
                            );
                        }
                        a
                    }
                },
            };
            inc.answer(&answer);
        }
    }

    /// Read the waiting check reports.
    pub(super) fn read_reports(&mut self) {
        self.control.reports_read = Some(Instant::now());
        for _ in 0..REPORTS_AT_ONCE {
            let Some((pid, r)) = self.control.inbox.as_ref().and_then(|i| i.recv()) else {
                return;
            };
            let k = match self.control.by_pid.get(&pid) {
                Some(k)
                    if self.monitors.get(k).and_then(|m| m.pid)
                        == Some(nix::unistd::Pid::from_raw(pid)) =>
                {
                    *k
                }
                _ => {
                    self.control.by_pid = self
                        .monitors
                        .iter()
                        .filter_map(|(k, r)| r.pid.map(|p| (p.as_raw(), *k)))
                        .collect();
                    match self.control.by_pid.get(&pid) {
                        Some(k) => *k,
                        None => continue,
                    }
                }
            };
            self.note_report(k, &r);
        }
    }

    /// Keep `r`, the report of `k`'s nanny; a server that came up while
    /// drained or set to a weight is held to it.
    fn note_report(&mut self, k: MonKey, r: &Report) {
        let c = self.control.checks.entry(k).or_default();
        let was = c.state;
        c.state = Some(r.state);
        c.latency.observe(r.took.as_secs_f64());
        c.last = Some(CheckResult {
            ok: r.pass,
            reason: r.reason.clone(),
            at: model::unix_now(),
            took: r.took.as_secs_f64(),
        });
        if was != Some(r.state) && self.overridden(&k) {
            // the nanny keeps to the file; check the kernel agrees
            self.enforce(&[k]);
        }
    }

    fn overridden(&self, k: &MonKey) -> bool {
        let svc = service_word(&k.0);
        self.control.overrides.services.contains_key(&svc)
            || self
                .control
                .overrides
                .servers
                .contains_key(&(svc, SocketAddr::new(k.1, k.2).to_string()))
    }

    /// The next time the loop must wake for the control side.
    pub(super) fn control_deadline(&self) -> Option<Instant> {
        self.control.drain_at
    }

    /// Answer one request.
    fn request(&mut self, req: &Request) -> Answer {
        match req {
            Request::Status { json, full } => {
                let d = model::Director {
                    lvs: Some(self.snapshot(*full)),
                    ..model::Director::now()
                };
                Answer::ok(if *json {
                    d.to_json_compact()
                } else {
                    piranha_status::text::render(&d)
                })
            }
            Request::Drain { target, deadline } => self.set_servers(
                target,
                Some(Kind::Drain {
                    deadline: deadline.map(|d| unix_secs() + d),
                }),
                "draining",
            ),
            Request::Undrain(t) | Request::Enable(t) => self.set_servers(t, None, "back to lvs.cf"),
            Request::Weight(t, w) => self.set_servers(t, Some(Kind::Weight(*w)), "weight set"),
            Request::Disable(t) => self.set_servers(t, Some(Kind::Disabled), "disabled"),
            Request::DisableService(s) => self.set_service(s, true),
            Request::EnableService(s) => self.set_service(s, false),
        }
    }

    /// The services `name` matches: lvs.cf's name, `VIP:PORT`, `fwmark:N`,
    /// or the file's word.
    fn services_named(&self, name: &str) -> Vec<&DesiredService> {
        // An address is compared as an address: `[2001:DB8::100]:80` and
        // `[2001:db8:0::100]:80` name the same service.
        let (proto, rest) = match name.split_once(':') {
            Some((p @ ("tcp" | "udp"), rest)) => (Some(p), rest),
            _ => (None, name),
        };
        let at = rest.parse::<SocketAddr>().ok();
        self.services
            .iter()
            .filter(|d| {
                d.name == name
                    || service_word(&d.key) == name
                    || match d.key {
                        ServiceKey::Tcp(a, p) | ServiceKey::Udp(a, p) => {
                            let word = if matches!(d.key, ServiceKey::Tcp(..)) {
                                "tcp"
                            } else {
                                "udp"
                            };
                            at == Some(SocketAddr::new(a, p)) && proto.is_none_or(|x| x == word)
                        }
                        ServiceKey::Fwmark(m) => {
                            format!("fwmark:{m}") == name || m.to_string() == name
                        }
                        ServiceKey::Fwmark6(m) => format!("fwmark6:{m}") == name,
                    }
            })
            .collect()
    }

    /// The real servers `t` names.
    fn resolve(&self, t: &Target) -> Result<Vec<MonKey>, String> {
        let services: Vec<&DesiredService> = match &t.service {
            Some(s) => {
                let v = self.services_named(s);
                if v.is_empty() {
                    let names: Vec<&str> = self.services.iter().map(|d| d.name.as_str()).collect();
                    return Err(format!(
                        "no virtual service {s:?} (lvs runs: {})",
                        names.join(", ")
                    ));
                }
                v
            }
            None => self.services.iter().collect(),
        };
        let mut out = Vec::new();
        for d in services {
            let ip = t.server.parse::<IpAddr>().ok();
            let at = t.server.parse::<SocketAddr>().ok();
            for m in d.monitors.values() {
                if m.rs == t.server
                    || ip == Some(m.rip)
                    || at == Some(SocketAddr::new(m.rip, m.rport))
                {
                    out.push((d.key, m.rip, m.rport));
                }
            }
        }
        if out.is_empty() {
            return Err(format!(
                "no real server {:?}{} (a real server is named by lvs.cf's name, RIP or RIP:PORT)",
                t.server,
                t.service
                    .as_ref()
                    .map(|s| format!(" in {s}"))
                    .unwrap_or_default()
            ));
        }
        Ok(out)
    }

    fn label(&self, k: &MonKey) -> String {
        let name = self
            .service(k.0)
            .and_then(|d| d.monitors.get(&(k.1, k.2)).map(|m| m.label()))
            .unwrap_or_default();
        format!("{name} ({})", SocketAddr::new(k.1, k.2))
    }

    /// Set (or clear, with `None`) the override of the servers `t` names.
    fn set_servers(&mut self, t: &Target, kind: Option<Kind>, done: &str) -> Answer {
        let keys = match self.resolve(t) {
            Ok(k) => k,
            Err(e) => return Answer::error(e),
        };
        let before = self.control.overrides.clone();
        for k in &keys {
            let id = (service_word(&k.0), SocketAddr::new(k.1, k.2).to_string());
            match kind {
                Some(kind) => {
                    self.control.overrides.servers.insert(
                        id,
                        Override {
                            kind,
                            since: unix_secs(),
                        },
                    );
                }
                None => {
                    self.control.overrides.servers.remove(&id);
                }
            }
        }
        if let Err(e) = self.save_overrides() {
            self.control.overrides = before;
            return Answer::error(format!(
                "cannot write {}: {e}; nothing changed",
                self.control.path.display()
            ));
        }
        self.enforce(&keys);
        if matches!(kind, Some(Kind::Drain { deadline: Some(_) })) {
            self.control.drain_at = Some(Instant::now());
        }
        let mut text = String::new();
        for k in &keys {
            text.push_str(&format!("{done}: {}\n", self.label(k)));
        }
        Answer::ok(text)
    }

    /// Disable or enable the service `name`.
    fn set_service(&mut self, name: &str, disable: bool) -> Answer {
        let keys: Vec<ServiceKey> = self.services_named(name).iter().map(|d| d.key).collect();
        if keys.is_empty() {
            return Answer::error(format!("no virtual service {name:?}"));
        }
        let before = self.control.overrides.clone();
        for k in &keys {
            if disable {
                self.control
                    .overrides
                    .services
                    .insert(service_word(k), unix_secs());
            } else {
                self.control.overrides.services.remove(&service_word(k));
            }
        }
        if let Err(e) = self.save_overrides() {
            self.control.overrides = before;
            return Answer::error(format!(
                "cannot write {}: {e}; nothing changed",
                self.control.path.display()
            ));
        }
        let mut text = String::new();
        for k in keys {
            self.enforce_service(k);
            let name = self.service(k).map(|d| d.name.clone()).unwrap_or_default();
            text.push_str(&format!(
                "{} virtual service {name} ({})\n",
                if disable { "disabled" } else { "enabled" },
                key_text(&k)
            ));
        }
        Answer::ok(text)
    }

    fn save_overrides(&self) -> std::io::Result<()> {
        if let Some(dir) = self.control.path.parent() {
            if !dir.as_os_str().is_empty() && !dir.exists() {
                std::fs::create_dir_all(dir)?;
            }
        }
        lvs_config::editor::write_atomic(
            &self.control.path,
            self.control.overrides.encode().as_bytes(),
            false,
        )
    }

    /// Put a disabled service out of the table, or an enabled one back
    /// with the real servers its checks say are up.
    fn enforce_service(&mut self, k: ServiceKey) {
        let Some(d) = self.service(k).cloned() else {
            return;
        };
        let disabled = self
            .control
            .overrides
            .services
            .contains_key(&service_word(&k));
        let present = self
            .table
            .read()
            .map(|all| {
                all.iter()
                    .any(|e| ServiceKey::of_kernel(&e.service) == Some(k))
            })
            .unwrap_or(true);
        if disabled && present {
            let op = d.del_op();
            self.table.apply_one(&op);
            self.sorry_on.remove(&k);
            if let Some(q) = self.quorums.get_mut(&k) {
                q.have = crate::quorum::Entries::default();
            }
        } else if !disabled && !present {
            let op = d.add_op();
            self.table.apply_one(&op);
            let mons: Vec<MonKey> = d.monitors.keys().map(|(a, p)| (k, *a, *p)).collect();
            self.enforce(&mons);
            self.check_sorry(k);
            self.quorum_eval(k, false);
        }
    }

    /// Bring the kernel's entries of `keys` in line with their checks and
    /// overrides.  lvs owns the entries of a quorum service (its nannies
    /// only report); for the others it changes what the nanny, keeping to
    /// the same file, would have.
    pub(super) fn enforce(&mut self, keys: &[MonKey]) {
        let mut quorum_services: Vec<ServiceKey> = Vec::new();
        let table = match self.table.read() {
            Ok(t) => t,
            Err(e) => {
                log::error!("cannot read the IPVS table: {e}");
                return;
            }
        };
        let mut ops = Vec::new();
        for k in keys {
            let Some(d) = self.service(k.0) else {
                continue;
            };
            if d.quorum.is_some() {
                quorum_services.push(k.0);
                continue;
            }
            let Some(m) = d.monitors.get(&(k.1, k.2)) else {
                continue;
            };
            let addr = SocketAddr::new(k.1, k.2);
            let dest = k.0.destination(addr, d.method, None);
            let Some(entry) = table
                .iter()
                .find(|e| ServiceKey::of_kernel(&e.service) == Some(k.0))
            else {
                continue;
            };
            let have = entry
                .dests
                .iter()
                .find(|x| x.addr == dest.addr && x.port == dest.port)
                .map(|x| x.weight.max(0) as u32);
            let up = self
                .control
                .checks
                .get(k)
                .and_then(|c| c.state)
                .map(|s| s == CheckState::Up)
                // no report (yet): believe the kernel
                .unwrap_or(have.is_some());
            let effect = self.control.overrides.effect(
                &service_word(&k.0),
                &SocketAddr::new(k.1, k.2).to_string(),
                m.weight,
            );
            let want = match effect {
                Effect::Absent => None,
                Effect::Weight(w) if up => Some(w),
                // down: the nanny's business
                Effect::Weight(_) => None,
            };
            let id = k.0.service();
            match (have, want) {
                (Some(h), Some(w)) if h != w => ops.push(ipvs::Op::EditDest(
                    id,
                    k.0.destination(addr, d.method, Some(w)),
                )),
                (None, Some(w)) => ops.push(ipvs::Op::AddDest(
                    id,
                    k.0.destination(addr, d.method, Some(w)),
                )),
                (Some(_), None) if up || effect == Effect::Absent => {
                    ops.push(ipvs::Op::DelDest(id, dest))
                }
                _ => {}
            }
        }
        for op in &ops {
            self.table.apply_one(op);
        }
        quorum_services.sort();
        quorum_services.dedup();
        for k in quorum_services {
            self.quorum_eval(k, false);
        }
    }

    /// The weight lvs wants for a quorum service's real server `a` whose
    /// nanny wants `w` (the overrides applied); `None`: out.
    pub(super) fn quorum_weight(&self, key: ServiceKey, a: SocketAddr, w: u32) -> Option<u32> {
        match self
            .control
            .overrides
            .effect(&service_word(&key), &a.to_string(), w)
        {
            Effect::Weight(w) => Some(w),
            Effect::Absent => None,
        }
    }

    /// Is service `key` disabled by the administrator?
    pub(super) fn service_disabled(&self, key: ServiceKey) -> bool {
        self.control
            .overrides
            .services
            .contains_key(&service_word(&key))
    }

    /// Look at the drains with a deadline: a server whose active
    /// connections are gone, or whose deadline passed, leaves the table.
    pub(super) fn drain_tick(&mut self) {
        self.control.drain_at = None;
        let draining: Vec<((String, String), u64)> = self
            .control
            .overrides
            .servers
            .iter()
            .filter_map(|(id, o)| match o.kind {
                Kind::Drain { deadline: Some(t) } => Some((id.clone(), t)),
                _ => None,
            })
            .collect();
        if draining.is_empty() {
            return;
        }
        let table = match self.table.read() {
            Ok(t) => t,
            Err(e) => {
                log::error!("cannot read the IPVS table: {e}");
                self.control.drain_at = Some(Instant::now() + DRAIN_TICK);
                return;
            }
        };
        let now = unix_secs();
        let mut done = Vec::new();
        for ((svc, rs), deadline) in draining {
            let Some(d) = self.services.iter().find(|d| service_word(&d.key) == svc) else {
                continue;
            };
            let Ok(addr) = rs.parse::<SocketAddr>() else {
                continue;
            };
            let dest = d.key.destination(addr, d.method, None);
            let conns = table
                .iter()
                .find(|e| ServiceKey::of_kernel(&e.service) == Some(d.key))
                .and_then(|e| {
                    e.dests
                        .iter()
                        .find(|x| x.addr == dest.addr && x.port == dest.port)
                })
                .map(|x| x.active_conns);
            let why = match conns {
                None => Some("not in the table".to_string()),
                Some(0) => Some("no active connection left".to_string()),
                Some(n) if now >= deadline => {
                    Some(format!("deadline passed with {n} active connection(s)"))
                }
                _ => None,
            };
            if let Some(why) = why {
                log::info!(
                    "drain of {} ({rs}) finished: {why}; out of the table until undrained",
                    d.name
                );
                done.push(((svc, rs), (d.key, addr.ip(), addr.port())));
            }
        }
        for (id, _) in &done {
            if let Some(o) = self.control.overrides.servers.get_mut(id) {
                o.kind = Kind::Drained;
            }
        }
        if !done.is_empty() {
            if let Err(e) = self.save_overrides() {
                log::error!("cannot write {}: {e}", self.control.path.display());
            }
            let keys: Vec<MonKey> = done.into_iter().map(|(_, k)| k).collect();
            self.enforce(&keys);
        }
        if self.control.overrides.timed_drain() {
            self.control.drain_at = Some(Instant::now() + DRAIN_TICK);
        }
    }

    /// Put every override in force (at start and after a reload).
    pub(super) fn enforce_all(&mut self) {
        let keys: Vec<ServiceKey> = self.services.iter().map(|d| d.key).collect();
        for k in &keys {
            if self.service_disabled(*k) {
                self.enforce_service(*k);
            }
        }
        let mons: Vec<MonKey> = self
            .services
            .iter()
            .flat_map(|d| d.monitors.keys().map(move |(a, p)| (d.key, *a, *p)))
            .filter(|k| self.overridden(k))
            .collect();
        if !mons.is_empty() {
            self.enforce(&mons);
        }
        if self.control.overrides.timed_drain() {
            self.control.drain_at = Some(Instant::now());
        }
    }

    /// The status of lvs; `full`: with the real servers' traffic
    /// counters (one kernel dump per service).
    pub(super) fn snapshot(&mut self, full: bool) -> model::Lvs {
        let t0 = Instant::now();
        let read = if full {
            self.table.read()
        } else {
            self.table.read_brief()
        };
        let table = read.unwrap_or_else(|e| {
            log::error!("cannot read the IPVS table: {e}");
            Vec::new()
        });
        let counters = self.table.in_process();
        let by_key: std::collections::HashMap<ServiceKey, &ipvs::ServiceEntry> = table
            .iter()
            .filter_map(|e| ServiceKey::of_kernel(&e.service).map(|k| (k, e)))
            .collect();
        let mut services = Vec::with_capacity(self.services.len());
        let wishes = self.announcement_wishes();
        for d in &self.services {
            let entry = by_key.get(&d.key).copied();
            let svc_word = service_word(&d.key);
            let mut servers = Vec::with_capacity(d.monitors.len());
            let mut latency = Histogram::default();
            for m in d.monitors.values() {
                let k = (d.key, m.rip, m.rport);
                let addr = SocketAddr::new(m.rip, m.rport);
                let dest = d.key.destination(addr, d.method, None);
                let kd = entry.and_then(|e| {
                    e.dests
                        .iter()
                        .find(|x| x.addr == dest.addr && x.port == dest.port)
                });
                let none = CheckInfo::default();
                let info = self.control.checks.get(&k).unwrap_or(&none);
                latency.merge(&info.latency);
                let check_state = info.state.map(|s| s.word()).unwrap_or("unknown");
                let admin = self
                    .control
                    .overrides
                    .servers
                    .get(&(svc_word.clone(), addr.to_string()))
                    .map(|o| model::Admin {
                        kind: match o.kind {
                            Kind::Drain { .. } => "drain",
                            Kind::Drained => "drained",
                            Kind::Weight(_) => "weight",
                            Kind::Disabled => "disabled",
                        }
                        .into(),
                        weight: match o.kind {
                            Kind::Weight(w) => Some(w),
                            _ => None,
                        },
                        deadline: match o.kind {
                            Kind::Drain { deadline } => deadline.map(|d| d as f64),
                            _ => None,
                        },
                        since: o.since as f64,
                    });
                let state = match admin.as_ref().map(|a| a.kind.as_str()) {
                    Some("drain") | Some("drained") => "drained",
                    Some("disabled") => "disabled",
                    _ => check_state,
                };
                servers.push(model::Server {
                    name: m.rs.clone(),
                    address: addr.to_string(),
                    weight: m.weight,
                    kernel_weight: kd.map(|x| x.weight.max(0) as u32),
                    state: state.into(),
                    check: model::Check {
                        state: check_state.into(),
                        nanny: self
                            .monitors
                            .get(&k)
                            .and_then(|r| r.pid)
                            .map(|p| p.as_raw() as u32),
                        last: info.last.clone(),
                    },
                    admin,
                    active_connections: kd.map(|x| x.active_conns),
                    inactive_connections: kd.map(|x| x.inact_conns),
                    stats: kd.filter(|_| counters && full).map(|x| stats_of(&x.stats)),
                });
            }
            services.push(model::Service {
                name: d.name.clone(),
                key: key_text(&d.key),
                scheduler: d.attrs.scheduler.as_str().to_string(),
                persistent: (d.attrs.persistent > 0).then_some(d.attrs.persistent),
                in_kernel: entry.is_some(),
                disabled: self.control.overrides.services.contains_key(&svc_word),
                sorry_server: d.sorry.map(|s| model::SorryServer {
                    address: SocketAddr::new(s, d.port).to_string(),
                    serving: match self.quorums.get(&d.key) {
                        Some(q) => q.have.sorry.is_some(),
                        None => self.sorry_on.get(&d.key).copied().unwrap_or(false),
                    },
                }),
                announcement: d.announce.map(|vip| model::Announcement {
                    address: vip.to_string(),
                    announced: self.announcer.as_ref().is_some_and(|a| a.announced(vip)),
                    why_not: wishes
                        .get(&vip)
                        .copied()
                        .flatten()
                        .map(str::to_string)
                        .or_else(|| {
                            self.announcer
                                .as_ref()
                                .filter(|a| a.down && !a.announced(vip))
                                .map(|_| "BIRD unreachable".to_string())
                        }),
                }),
                quorum: d.quorum.as_ref().map(|q| model::Quorum {
                    need: q.params.quorum,
                    have: self.live_weight(d.key) as u32,
                    up: self.quorums.get(&d.key).is_some_and(|s| s.up),
                }),
                stats: entry
                    .filter(|_| counters)
                    .map(|e| stats_of(&e.service.stats)),
                check_latency: latency,
                servers,
            });
        }
        model::Lvs {
            pid: std::process::id(),
            role: if self.standby { "standby" } else { "active" }.into(),
            config: self.opts.config.display().to_string(),
            overrides: self.control.path.display().to_string(),
            counters,
            services,
            took: t0.elapsed().as_secs_f64(),
        }
    }
}
