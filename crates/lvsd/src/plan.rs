//! What the kernel table and the nannies should be, computed from lvs.cf
//! without touching anything: the typed kernel changes ([`ipvs::Op`]) of a
//! start-up or a reload,
//! and the argv of every nanny (Piranha's order, reference §3.2).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use lvs_config::{
    Config, Family, LoadMonitor, Mask, Protocol, RealServer, Scheduler, VirtualServer,
};

use ipvs::Op;

pub use crate::key::ServiceKey;

/// The scheduling attributes lvs sets on a service (`-s`, `-p`, `-M`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAttrs {
    /// Scheduler.
    pub scheduler: Scheduler,
    /// Persistence timeout, 0 = off.
    pub persistent: u32,
    /// Persistence netmask (`-M`), `None` = not given.
    pub pmask: Option<Mask>,
    /// The service's family: what the mask means to the kernel.
    pub family: Family,
    /// `sched_flags` (extension): the kernel's scheduler flag bits.
    pub sched_flags: u32,
}

impl ServiceAttrs {
    /// The attributes lvs.cf gives `vs`.
    pub fn of(vs: &VirtualServer) -> Self {
        ServiceAttrs {
            scheduler: vs.scheduler(),
            persistent: vs.persistent(),
            pmask: if vs.persistent() > 0 {
                vs.pmask()
            } else {
                None
            },
            family: vs.family(),
            sched_flags: vs.sched_flag_bits(),
        }
    }

    /// The kernel's persistence netmask: a dotted mask as a number for
    /// IPv4, a prefix length for IPv6 (as `ipvsadm -M` sets them);
    /// `None` when lvs.cf gives none the family can use.
    fn netmask(&self) -> Option<u32> {
        let m = self.pmask?;
        match self.family {
            // A prefix on an IPv4 service is ignored, as Piranha ignored a
            // pmask inet_aton could not read (lvs.cf warns).
            Family::Inet => match m {
                Mask::Dotted(d) => Some(u32::from(d)),
                Mask::Prefix(_) => None,
            },
            Family::Inet6 => match m {
                Mask::Prefix(n) => Some(u32::from(n)),
                Mask::Dotted(_) => None,
            },
        }
    }

    /// `service` with these attributes, as `-s SCHED [-p N [-M MASK]]`
    /// (Piranha's lvsd's words) would set them.
    pub fn apply_to(&self, mut service: ipvs::Service) -> ipvs::Service {
        service.sched_name = self.scheduler.as_str().to_string();
        service.flags = (service.flags & !ipvs::SVC_F_SCHED_MASK) | self.sched_flags;
        if self.persistent > 0 {
            service.flags |= ipvs::SVC_F_PERSISTENT;
            service.timeout = self.persistent;
            if let Some(m) = self.netmask() {
                service.netmask = m;
            }
        }
        service
    }

    /// Do a kernel service's attributes already match?
    pub fn matches(&self, s: &ipvs::Service) -> bool {
        let persistent = s.is_persistent();
        let want_mask = self
            .netmask()
            .unwrap_or(crate::key::default_netmask(self.family));
        s.sched_name == self.scheduler.as_str()
            && s.flags & ipvs::SVC_F_SCHED_MASK == self.sched_flags
            && persistent == (self.persistent > 0)
            && (!persistent || (s.timeout == self.persistent && s.netmask == want_mask))
    }
}

/// One real server lvs runs a nanny for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Monitor {
    /// Virtual server name (for log lines).
    pub vs: String,
    /// Real server name.
    pub rs: String,
    /// Real server address and port.
    pub rip: IpAddr,
    /// The checked and forwarded port.
    pub rport: u16,
    /// The nanny argv, program first.
    pub argv: Vec<String>,
    /// Does lvs read this nanny's stdout (`--nodaemon`)?
    pub piped: bool,
    /// The lvs.cf weight (what the server adds to a quorum's live weight).
    pub weight: u32,
}

impl Monitor {
    /// `VS/RS`, as Piranha's log lines name a monitor.
    pub fn label(&self) -> String {
        format!("{}/{}", self.vs, self.rs)
    }
}

/// One virtual service lvs owns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesiredService {
    /// Virtual server name.
    pub name: String,
    /// Kernel identity.
    pub key: ServiceKey,
    /// Scheduling attributes.
    pub attrs: ServiceAttrs,
    /// The virtual port (logged by "starting virtual service").
    pub port: u16,
    /// Sorry server, if any.
    pub sorry: Option<IpAddr>,
    /// The forwarding method letter (`m`, `g`, `i`) of the whole director.
    pub method: char,
    /// One monitor per active real server, keyed by (address, port);
    /// shared with the previous plan when a reload leaves the block alone.
    pub monitors: Rc<BTreeMap<(IpAddr, u16), Monitor>>,
    /// The quorum extension, when lvs.cf sets `quorum` (and in bgp mode,
    /// where lvs owns every table entry: a quorum of 1 without `quorum`).
    pub quorum: Option<QuorumSpec>,
    /// bgp mode (issue 22): the address lvs announces while the service
    /// has its quorum; its real servers stay in the table in one order on
    /// every director, a server that is down at weight 0, so that `mh`
    /// builds the same lookup table everywhere.
    pub announce: Option<IpAddr>,
    /// How long its nannies' first checks may take (the largest warm-up
    /// plus I/O timeout, plus a second): lvs does not call the service empty
    /// (and bring in the sorry server) before that.
    pub first_verdict: Duration,
}

/// `quorum`, `hysteresis`, `quorum_up`, `quorum_down` of a virtual server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuorumSpec {
    /// Thresholds.
    pub params: crate::quorum::Params,
    /// `quorum_up`.
    pub up: Option<String>,
    /// `quorum_down`.
    pub down: Option<String>,
}

impl QuorumSpec {
    /// The quorum settings of `vs`, if it has `quorum`; in bgp mode
    /// always (at least one live real server without `quorum`).
    pub fn of(vs: &VirtualServer, bgp: bool) -> Option<Self> {
        let quorum = match vs.quorum() {
            Some(q) => q,
            None if bgp => 1,
            None => return None,
        };
        Some(QuorumSpec {
            params: crate::quorum::Params {
                quorum,
                hysteresis: vs.hysteresis(),
            },
            up: vs.quorum_up.as_ref().map(|c| c.value.clone()),
            down: vs.quorum_down.as_ref().map(|c| c.value.clone()),
        })
    }
}

impl DesiredService {
    /// The service as lvs.cf defines it (ipvsadm's `-A <key> -s ...`).
    pub fn kernel_service(&self) -> ipvs::Service {
        self.attrs.apply_to(self.key.service())
    }

    /// Add the service.
    pub fn add_op(&self) -> Op {
        Op::AddService(self.kernel_service())
    }

    /// Replace its scheduler and persistence (a full replace, like `-E`).
    pub fn edit_op(&self) -> Op {
        Op::EditService(self.kernel_service())
    }

    /// Delete it with its real servers.
    pub fn del_op(&self) -> Op {
        del_op(&self.key)
    }

    /// Put the sorry server in (weight 1, the director's method) or take it
    /// out; `None` without a sorry server.
    pub fn sorry_op(&self, add: bool) -> Option<Op> {
        let sorry = SocketAddr::new(self.sorry?, self.port);
        let id = self.key.service();
        Some(if add {
            Op::AddDest(id, self.key.destination(sorry, self.method, Some(1)))
        } else {
            Op::DelDest(id, self.key.destination(sorry, self.method, None))
        })
    }
}

/// Delete the service `key` with its real servers.
pub fn del_op(key: &ServiceKey) -> Op {
    Op::DelService(key.service())
}

/// How lvs itself runs, which changes the nanny argv.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunMode {
    /// lvs is a daemon (`--nofork` or default), not `-n`.
    pub daemon: bool,
    /// `-v`: nannies get `-v`.
    pub verbose: bool,
}

/// The nanny argv Piranha's lvsd built (reference §3.2), in that order:
///
/// `<client_monitor> -c -h RIP -p VPORT -r RPORT [-f FWMARK] [-u]
/// [-e send_program] [-s send] [-x expect] [-q] [--regex] [-v] -a REENTRY
/// -I IPVSADM -t TIMEOUT -w WEIGHT -V VIP -M m|g|i [-U LOADCMD]
/// [--nodaemon] --lvs`
///
/// With the quorum extension (`quorum` set), `--lvs-table` follows
/// `--nodaemon`: lvs, not nanny, changes the real server's entry.
pub fn nanny_argv(cfg: &Config, vs: &VirtualServer, rs: &RealServer, mode: RunMode) -> Vec<String> {
    nanny_options(cfg, vs, rs, mode).to_argv(&vs.client_monitor())
}

/// The flags of the nanny of `rs` in `vs`: the one lvs→nanny contract
/// ([`nanny_core::args`]), turned into argv by [`nanny_argv`].
pub fn nanny_options(
    cfg: &Config,
    vs: &VirtualServer,
    rs: &RealServer,
    mode: RunMode,
) -> nanny_core::config::Options {
    let h = rs.health_in(vs);
    nanny_core::config::Options {
        nofork: true,
        server: Some(rs.addr().to_string()),
        port: vs.port().into(),
        rport: Some(rs.port_in(vs).into()),
        fwmark: vs.fwmark().into(),
        udp: vs.protocol() == Protocol::Udp,
        send_program: vs
            .send_program
            .as_ref()
            .map(|p| p.value.as_passed_to_nanny()),
        send: vs.send.as_ref().map(|s| s.value.as_passed_to_nanny()),
        expect: vs.expect.as_ref().map(|x| x.value.as_passed_to_nanny()),
        quiesce: vs.quiesce_server(),
        regex: vs.use_regex(),
        verbose: mode.verbose,
        reentry: vs.reentry().into(),
        ipvsadm: cfg.ipvsadm(),
        interval: vs.timeout().into(),
        weight: rs.weight().into(),
        // `-V 0.0.0.0` for an IPv4 mark without an address, as Piranha
        // passed it; `-V ::` for an IPv6 one, so nanny knows the family.
        vip: Some(match vs.vip() {
            v if v.is_unspecified() => vs.family().unspecified().to_string(),
            v => v.to_string(),
        }),
        method: cfg.network().method_letter().to_string(),
        // `-U` only when lvs.cf sets load_monitor (lvsd.c).
        loadcmd: vs.load_monitor.as_ref().map(|lm| match &lm.value {
            LoadMonitor::Uptime => cfg.rsh_command(),
            other => other.as_str().to_string(),
        }),
        nodaemon: piped(cfg, vs, mode),
        lvs_table: owns_entries(cfg, vs),
        lvs: true,
        io_timeout: g(&h.check_timeout).map(i64::from),
        ext: health_options(&h),
        ..nanny_core::config::Options::default()
    }
}

fn g<T: Clone>(o: &lvs_config::Opt<T>) -> Option<T> {
    o.as_ref().map(|s| s.value.clone())
}

/// Extension (issue 9): the nanny long options for lvs.cf's health-check
/// keys, only for the keys that are set (a Piranha file gets none, so its
/// argv stays Piranha's).
fn health_options(h: &lvs_config::HealthCheck) -> nanny_core::config::ExtOptions {
    nanny_core::config::ExtOptions {
        check: g(&h.check)
            .filter(|k| *k != lvs_config::CheckKind::SendExpect)
            .map(|k| k.as_str().to_string()),
        http_path: g(&h.check_path),
        http_status: g(&h.check_status).map(|s| {
            s.split([' ', '\t', ','])
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(",")
        }),
        http_digest: g(&h.check_digest),
        http_vhost: g(&h.check_virtualhost),
        tls_sni: g(&h.check_sni),
        tls_verify: g(&h.check_verify) == Some(true),
        tls_ca: g(&h.check_ca),
        smtp_helo: g(&h.check_helo),
        dns_name: g(&h.check_dns_name),
        dns_type: g(&h.check_dns_type),
        misc_program: g(&h.check_program).map(|q| q.text),
        misc_dynamic: g(&h.check_dynamic) == Some(true),
        retry: g(&h.retry).map(i64::from),
        retry_delay: g(&h.retry_delay).map(|t| t.to_string()),
        rise: g(&h.rise).map(i64::from),
        warmup: g(&h.warmup).map(|t| t.to_string()),
    }
}

/// Piranha gave a nanny `--nodaemon` (and read its stdout) when lvs was
/// not a daemon or the virtual server has a sorry server; so do we, and
/// when lvs owns the entries (the extensions).
fn piped(cfg: &Config, vs: &VirtualServer, mode: RunMode) -> bool {
    !mode.daemon || !vs.sorry_server().is_unspecified() || owns_entries(cfg, vs)
}

/// lvs, not nanny, changes the real servers' entries of `vs`: with a
/// quorum, and in bgp mode (issue 22).
fn owns_entries(cfg: &Config, vs: &VirtualServer) -> bool {
    vs.quorum().is_some() || cfg.bgp()
}

/// Every service and monitor lvs.cf asks for, in file order.
pub fn desired(cfg: &Config, mode: RunMode) -> Vec<DesiredService> {
    cfg.table_virtual_servers()
        .map(|vs| desired_one(cfg, vs, mode))
        .collect()
}

/// The globals [`desired`] reads (besides each virtual block): when they
/// are unchanged, an unchanged block plans to the same service.
fn inputs(cfg: &Config) -> (String, char, String, bool) {
    (
        cfg.ipvsadm(),
        cfg.network().method_letter(),
        cfg.rsh_command(),
        cfg.bgp(),
    )
}

/// [`desired`] for `cfg`, reusing the plan of every block that is the same
/// in `old_cfg` (whose plan is `old`): a reload among thousands of
/// services rebuilds only what an edit touched.
pub fn desired_after(
    cfg: &Config,
    mode: RunMode,
    old_cfg: &Config,
    old: &[DesiredService],
) -> Vec<DesiredService> {
    let old_vs: Vec<&VirtualServer> = old_cfg.table_virtual_servers().collect();
    if inputs(cfg) != inputs(old_cfg) || old_vs.len() != old.len() {
        return desired(cfg, mode);
    }
    let by_name: HashMap<&str, (&VirtualServer, &DesiredService)> = old_vs
        .iter()
        .zip(old)
        .map(|(vs, d)| (vs.name.value.as_str(), (*vs, d)))
        .collect();
    replan(cfg, mode, |_, vs| {
        match by_name.get(vs.name.value.as_str()) {
            Some((o, d)) if *o == vs => Some(*d),
            _ => None,
        }
    })
}

/// The plan after a reload that changed at most `virtual_servers[changed]`
/// of `cfg` (the configuration was re-parsed in place, so the old one is
/// gone): every other active block keeps its plan from `old`, found by
/// name. Same result as [`desired`].
pub fn desired_after_edit(
    cfg: &Config,
    mode: RunMode,
    changed: Option<usize>,
    old: &[DesiredService],
) -> Vec<DesiredService> {
    let by_name: HashMap<&str, &DesiredService> =
        old.iter().map(|d| (d.name.as_str(), d)).collect();
    replan(cfg, mode, |i, vs| {
        if changed == Some(i) {
            return None;
        }
        by_name.get(vs.name.value.as_str()).copied()
    })
}

/// [`desired`], taking the plan `reuse(index, block)` gives for a block
/// instead of building it (checked against a fresh plan in debug builds).
fn replan<'a>(
    cfg: &Config,
    mode: RunMode,
    reuse: impl Fn(usize, &VirtualServer) -> Option<&'a DesiredService>,
) -> Vec<DesiredService> {
    let mask = cfg.table_mask();
    let new: Vec<DesiredService> = cfg
        .virtual_servers
        .iter()
        .enumerate()
        .filter(|(i, _)| mask[*i])
        .map(|(i, vs)| match reuse(i, vs) {
            Some(d) => d.clone(),
            None => desired_one(cfg, vs, mode),
        })
        .collect();
    debug_assert_eq!(
        new,
        desired(cfg, mode),
        "a reused plan differs from a fresh one"
    );
    new
}

fn desired_one(cfg: &Config, vs: &VirtualServer, mode: RunMode) -> DesiredService {
    let method = cfg.network().method_letter();
    {
        {
            let monitors = vs
                .servers
                .iter()
                .filter(|rs| rs.monitored())
                .map(|rs| {
                    let m = Monitor {
                        vs: vs.name.value.clone(),
                        rs: rs.name.value.clone(),
                        rip: rs.addr(),
                        rport: rs.port_in(vs),
                        argv: nanny_argv(cfg, vs, rs, mode),
                        piped: piped(cfg, vs, mode),
                        weight: rs.weight(),
                    };
                    ((m.rip, m.rport), m)
                })
                .collect();
            DesiredService {
                name: vs.name.value.clone(),
                key: ServiceKey::of(vs),
                attrs: ServiceAttrs::of(vs),
                port: vs.port(),
                sorry: (!vs.sorry_server().is_unspecified()).then(|| vs.sorry_server()),
                method,
                monitors: Rc::new(monitors),
                quorum: QuorumSpec::of(vs, cfg.bgp()),
                announce: (cfg.bgp() && !vs.vip().is_unspecified()).then(|| vs.vip()),
                first_verdict: vs.first_verdict(),
            }
        }
    }
}

/// The protocol timeouts (`ipvsadm --set T F U`), only when lvs.cf sets
/// one (B6 fixed) and all are in range ([`Config::ipvs_timeouts`]).
pub fn timeouts_op(cfg: &Config) -> Option<Op> {
    let (tcp, tcp_fin, udp) = cfg.ipvs_timeouts()?;
    Some(Op::SetTimeouts(ipvs::Timeouts { tcp, tcp_fin, udp }))
}

/// The changes that make the kernel's services match `want` at start-up.
/// Services lvs.cf does not define are left alone (B6 fixed); a defined
/// service that exists is edited when its attributes differ, and its
/// destinations are removed so that the nannies add them after their
/// first good check, as with Piranha.
pub fn startup_ops(current: &[ipvs::ServiceEntry], want: &[DesiredService]) -> Vec<Op> {
    let mut ops = Vec::new();
    for d in want {
        match current
            .iter()
            .find(|e| ServiceKey::of_kernel(&e.service) == Some(d.key))
        {
            None => ops.push(d.add_op()),
            Some(e) => {
                if !d.attrs.matches(&e.service) {
                    ops.push(d.edit_op());
                }
                for dest in &e.dests {
                    let gone = ipvs::Destination {
                        af: dest.af,
                        addr: dest.addr,
                        port: dest.port,
                        ..ipvs::Destination::default()
                    };
                    ops.push(Op::DelDest(d.key.service(), gone));
                }
            }
        }
    }
    ops
}

/// What a reload changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reload {
    /// Changes to make before monitors start (timeouts, new and edited
    /// services), after the `stop` monitors are gone.
    pub ops: Vec<Op>,
    /// Services to delete after their monitors stopped.
    pub delete: Vec<ServiceKey>,
    /// Monitors to stop: (service, rip, rport).
    pub stop: Vec<(ServiceKey, IpAddr, u16)>,
    /// Monitors to start.
    pub start: Vec<(ServiceKey, Monitor)>,
}

impl Reload {
    /// True when nothing changes.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
            && self.delete.is_empty()
            && self.stop.is_empty()
            && self.start.is_empty()
    }
}

/// Compare two plans (old running, new wanted) and list the changes.
/// Services are matched by their kernel key, so a renamed block with the
/// same address is the same service; a changed key is a delete plus an
/// add. A monitor whose argv changed (weight, checks, timeouts, method...)
/// is restarted; others are not touched, and neither are their connections.
pub fn reload(
    old_cfg: &Config,
    old: &[DesiredService],
    new_cfg: &Config,
    new: &[DesiredService],
) -> Reload {
    reload_from(timeouts_op(old_cfg), old, new_cfg, new)
}

/// [`reload`] when only the old configuration's timeouts are at hand
/// (`old_timeouts`, from [`timeouts_op`]).
pub fn reload_from(
    old_timeouts: Option<Op>,
    old: &[DesiredService],
    new_cfg: &Config,
    new: &[DesiredService],
) -> Reload {
    let mut r = Reload::default();
    let timeouts = timeouts_op(new_cfg);
    if timeouts != old_timeouts {
        r.ops.extend(timeouts);
    }
    let new_keys: HashSet<ServiceKey> = new.iter().map(|n| n.key).collect();
    let old_by_key: HashMap<ServiceKey, &DesiredService> = old.iter().map(|o| (o.key, o)).collect();
    for o in old {
        if !new_keys.contains(&o.key) {
            for m in o.monitors.values() {
                r.stop.push((o.key, m.rip, m.rport));
            }
            r.delete.push(o.key);
        }
    }
    for n in new {
        let Some(o) = old_by_key.get(&n.key) else {
            r.ops.push(n.add_op());
            for m in n.monitors.values() {
                r.start.push((n.key, m.clone()));
            }
            continue;
        };
        if o.attrs != n.attrs {
            r.ops.push(n.edit_op());
        }
        if Rc::ptr_eq(&o.monitors, &n.monitors) {
            continue;
        }
        for (k, m) in o.monitors.iter() {
            match n.monitors.get(k) {
                Some(nm) if nm.argv == m.argv => {}
                Some(_) | None => r.stop.push((o.key, m.rip, m.rport)),
            }
        }
        for (k, m) in n.monitors.iter() {
            match o.monitors.get(k) {
                Some(om) if om.argv == m.argv => {}
                _ => r.start.push((n.key, m.clone())),
            }
        }
    }
    r
}

#[cfg(test)]
pub(crate) mod tests;
