//! The lvs daemon: program the services, run one nanny per real server,
//! keep them alive, apply reloads, and tear everything down on SIGTERM.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::File;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::OwnedFd;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lvs_config::{Config, Diagnostic, Diagnostics, Layout, Parsed, Reparsed};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use piranha_runtime::error::Chain;
use piranha_runtime::forkserver::{ForkServer, ForkServerError};
use piranha_runtime::ready::Notifier;
use piranha_runtime::signals::{poll_timeout, SignalWaiter};

use crate::plan::{self, DesiredService, Monitor, RunMode, ServiceKey};
use crate::quorum::{self, Entries, Transition};
use crate::scripts::{Job, Scripts};
use crate::sorry::{self, Live};
use crate::table::{argv_line, Ipvsadm};

/// How lvs was started.
#[derive(Clone, Debug)]
pub struct Options {
    /// lvs.cf.
    pub config: PathBuf,
    /// `-v`
    pub verbose: bool,
    /// `-n`: foreground, log to stdout too.
    pub nodaemon: bool,
    /// `-t`: log every command, run none.
    pub test_start: bool,
    /// `--nofork`
    pub nofork: bool,
    /// Pidfile (default /var/run/lvs.pid).
    pub pidfile: PathBuf,
    /// Time a stopping nanny gets before SIGKILL.
    pub grace: Duration,
    /// Start our own nanny through a fork server
    /// ([`piranha_runtime::forkserver`]; `--no-fork-server` clears it).
    pub fork_server: bool,
    /// `--standby`: start in the standby role (pulse, `hot_standby = 1`,
    /// on the passive director); SIGUSR1 makes lvs active, SIGUSR2 standby.
    pub standby: bool,
}

/// First delay before restarting a dead nanny; doubles per quick death.
const RESTART_FIRST: Duration = Duration::from_secs(1);
/// Longest delay between restarts.
const RESTART_MAX: Duration = Duration::from_secs(30);
/// A nanny that lived this long before dying is not "dying quickly".
const HEALTHY_LIFE: Duration = Duration::from_secs(60);
/// With `hard_shutdown = 1`, this many quick deaths in a row of one nanny
/// shut the director down.
pub const HARD_SHUTDOWN_DEATHS: u32 = 5;

type MonKey = (ServiceKey, Ipv4Addr, u16);

struct Running {
    key: ServiceKey,
    mon: Monitor,
    pid: Option<Pid>,
    pipe: Option<File>,
    buf: Vec<u8>,
    started: Instant,
    quick_deaths: u32,
    backoff: Duration,
    restart_at: Option<Instant>,
    stopping: bool,
    live: bool,
    /// Quorum extension: the entry its nanny (`--lvs-table`) wants.
    entry: Option<u32>,
}

/// Why the daemon ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Exit {
    /// SIGTERM/SIGINT: everything was torn down.
    Stopped,
    /// A nanny kept dying with `hard_shutdown = 1`.
    HardShutdown,
}

/// What [`Lvsd::reread`] found.
enum Reread {
    /// A new configuration (parsed whole); `self.cfg` is still the old one.
    /// With the new text and how the read went, when the text was known.
    New(
        Box<Parsed>,
        Option<String>,
        Option<lvs_config::ReparseTrace>,
    ),
    /// `self.cfg` is now the new configuration, re-parsed in place; at most
    /// the virtual server of this index changed.
    InPlace(Option<usize>, lvs_config::ReparseTrace),
}

/// What the running configuration was parsed from.
struct Source {
    text: String,
    layout: Layout,
    warnings: Vec<Diagnostic>,
}

/// The running daemon's state.
pub struct Lvsd {
    opts: Options,
    cfg: Config,
    /// The text `cfg` was parsed from, its layout and warnings: a reload
    /// re-parses only the block an edit touched
    /// (`lvs_config::reparse_file_in_place`).
    source: Option<Source>,
    mode: RunMode,
    services: Vec<DesiredService>,
    /// Position of each service in `services`.
    by_key: HashMap<ServiceKey, usize>,
    monitors: BTreeMap<MonKey, Running>,
    live: BTreeMap<ServiceKey, Live>,
    sorry_on: BTreeMap<ServiceKey, bool>,
    /// Services whose nannies have not all had time for a first check:
    /// until then no live server does not mean an empty service, and the
    /// sorry server stays out (without this it answered for a moment at
    /// every start and takeover).
    sorry_hold: HashMap<ServiceKey, Instant>,
    /// Quorum extension: state of each service with `quorum`.
    quorums: BTreeMap<ServiceKey, QState>,
    /// Quorum extension: `quorum_up` / `quorum_down` scripts.
    scripts: Scripts,
    table: Ipvsadm,
    signals: SignalWaiter,
    forks: Forks,
    /// The readiness byte owed to pulse ([`piranha_runtime::ready`]),
    /// until the table is ready.
    ready: Option<Notifier>,
    /// When to look at the kernel's table again for readiness.
    ready_check_at: Option<Instant>,
    /// Until then a service without a real server in the kernel's table
    /// keeps lvs from saying ready (its first checks' time, from start).
    ready_by: Option<Instant>,
    /// The standby role (`hot_standby`): the table without the VIPs.
    standby: bool,
    /// The parent (pulse) when lvs was started by one: a SIGTERM that comes
    /// once it is gone (PR_SET_PDEATHSIG) finds the VIPs perhaps still here.
    parent: Option<Pid>,
}

/// How often lvs looks at the kernel's table while pulse waits for it.
const READY_POLL: Duration = Duration::from_millis(100);

/// Requests lvs keeps in flight to the fork server while starting many
/// nannies.
const FORK_WINDOW: usize = 16;

/// How many times a fork server that died is started again before lvs
/// falls back to fork+exec for good.
const FORK_SERVER_STARTS: u32 = 3;

/// The nanny fork servers ([`piranha_runtime::forkserver`]): used for a
/// `client_monitor` that is the nanny installed next to this lvs (the same
/// file once symlinks are resolved), so that starting thousands of nannies
/// costs a fork each instead of an exec.  One server per CPU (at most 4),
/// used in turn, so that several forks proceed at once.  Any other monitor
/// program, and every nanny after a server fails, is started with
/// fork+exec.
struct Forks {
    /// Our nanny, canonical; None disables the servers.
    program: Option<PathBuf>,
    /// The last `client_monitor` path asked about and whether it is our
    /// nanny (every real server of a typical lvs.cf names the same one).
    last: Option<(String, bool)>,
    /// The running servers, each with an id that is never reused, so that
    /// a request in flight names the server that owes its answer even when
    /// others fail or are replaced meanwhile.
    servers: Vec<(u64, ForkServer)>,
    next_id: u64,
    /// How many servers to run.
    want: usize,
    /// The server the next request goes to.
    next: usize,
    starts: u32,
}

impl Forks {
    fn new(enabled: bool) -> Self {
        let program = enabled
            .then(|| std::env::current_exe().ok())
            .flatten()
            .and_then(|exe| std::fs::canonicalize(exe.with_file_name("nanny")).ok());
        let want = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        Forks {
            program,
            last: None,
            servers: Vec::new(),
            next_id: 0,
            want,
            next: 0,
            starts: 0,
        }
    }

    /// A server (id and handle) for the next request, when `argv0` is
    /// our nanny; servers are started on first use.
    fn for_program(&mut self, argv0: &str) -> Option<(u64, &ForkServer)> {
        let ours = self.program.as_ref()?;
        let is_ours = match &self.last {
            Some((path, is)) if path == argv0 => *is,
            _ => {
                let is = std::fs::canonicalize(argv0).ok().as_ref() == Some(ours);
                self.last = Some((argv0.to_string(), is));
                is
            }
        };
        if !is_ours {
            return None;
        }
        if self.servers.is_empty() {
            if self.starts >= FORK_SERVER_STARTS {
                return None;
            }
            self.starts += 1;
            for _ in 0..self.want {
                match ForkServer::start(ours, piranha_runtime::spawn::child_of_daemon) {
                    Ok(s) => {
                        log::debug!("nanny fork server running as pid {}", s.pid());
                        self.next_id += 1;
                        self.servers.push((self.next_id, s));
                    }
                    Err(e) => {
                        log::warn!("{}; starting nannies with exec", Chain(&e));
                        break;
                    }
                }
            }
            if self.servers.is_empty() {
                self.starts = FORK_SERVER_STARTS;
                return None;
            }
        }
        self.next = (self.next + 1) % self.servers.len();
        let (id, server) = &self.servers[self.next];
        Some((*id, server))
    }

    /// Server `id`, unless it failed or exited.
    fn get(&self, id: u64) -> Option<&ForkServer> {
        self.servers.iter().find(|(i, _)| *i == id).map(|(_, s)| s)
    }

    /// Server `i` failed a request: stop using it.  Requests other servers
    /// still owe answers to are collected as usual, so no nanny they
    /// already started is started twice.
    fn failed(&mut self, id: u64, e: &ForkServerError) {
        log::warn!("{}; starting this nanny with exec", Chain(e));
        if let Some(i) = self.servers.iter().position(|(i, _)| *i == id) {
            let (_, s) = self.servers.remove(i);
            let _ = kill(s.pid(), Signal::SIGKILL);
        }
    }

    /// `pid` was reaped: true if it was a server.
    fn reaped(&mut self, pid: Pid) -> bool {
        if let Some(i) = self.servers.iter().position(|(_, s)| s.pid() == pid) {
            self.servers.remove(i);
            log::warn!("nanny fork server (pid {pid}) exited");
            return true;
        }
        false
    }
}

impl Lvsd {
    /// Set up from a parsed configuration (after daemonizing).
    pub fn new(opts: Options, cfg: Config, signals: SignalWaiter) -> Self {
        let opts_fork_server = opts.fork_server && !opts.test_start;
        let standby = opts.standby;
        let mode = RunMode {
            daemon: !opts.nodaemon,
            verbose: opts.verbose,
        };
        let table = Ipvsadm::new(cfg.ipvsadm(), opts.test_start);
        let services = plan::desired(&cfg, mode);
        let mut d = Lvsd {
            services: Vec::new(),
            by_key: HashMap::new(),
            opts,
            cfg,
            source: None,
            mode,
            monitors: BTreeMap::new(),
            live: BTreeMap::new(),
            sorry_on: BTreeMap::new(),
            sorry_hold: HashMap::new(),
            quorums: BTreeMap::new(),
            scripts: Scripts::default(),
            table,
            signals,
            forks: Forks::new(opts_fork_server),
            ready: None,
            ready_check_at: None,
            ready_by: None,
            standby,
            // lvs holds its table after its parent died only when that
            // parent is pulse (which puts up the VIPs)
            parent: Some(nix::unistd::getppid()).filter(|p| {
                p.as_raw() > 1
                    && std::fs::read_to_string(format!("/proc/{p}/comm"))
                        .is_ok_and(|c| c.trim() == "pulse")
            }),
        };
        d.set_services(services);
        d
    }

    /// Replace the running plan (and its index).
    fn set_services(&mut self, services: Vec<DesiredService>) {
        self.by_key = services
            .iter()
            .enumerate()
            .map(|(i, d)| (d.key, i))
            .collect();
        self.services = services;
    }

    /// Owe pulse the readiness byte: written once the table is ready
    /// (when every service can serve a client).
    pub fn with_ready(mut self, ready: Option<Notifier>) -> Self {
        self.ready = ready;
        self
    }

    /// Remember the text the configuration came from, so that a reload
    /// after a small edit re-parses only what changed.
    pub fn with_source(mut self, text: String, layout: Layout, warnings: Vec<Diagnostic>) -> Self {
        self.source = Some(Source {
            text,
            layout,
            warnings,
        });
        self
    }

    /// Read lvs.cf again: only the edited block is parsed when the previous
    /// text is known (same result as a full parse). After an edit inside
    /// one block, `self.cfg` becomes the new configuration in place.
    fn reread(&mut self) -> Result<Reread, Diagnostics> {
        let Some(src) = self.source.as_mut() else {
            return lvs_config::parse_file(&self.opts.config)
                .map(|p| Reread::New(Box::new(p), None, None));
        };
        let mut cur = Parsed {
            config: std::mem::take(&mut self.cfg),
            layout: std::mem::take(&mut src.layout),
            warnings: std::mem::take(&mut src.warnings),
        };
        let r = lvs_config::reparse_file_in_place(&self.opts.config, &src.text, &mut cur);
        let (old, out) = match r {
            Err(d) => (cur, Err(d)),
            Ok((text, Reparsed::Full(old), trace)) => (
                *old,
                Ok(Reread::New(Box::new(cur), Some(text), Some(trace))),
            ),
            Ok((text, r, trace)) => {
                let changed = match r {
                    Reparsed::Virtual(k, _) => Some(k),
                    _ => None,
                };
                src.text = text;
                (cur, Ok(Reread::InPlace(changed, trace)))
            }
        };
        self.cfg = old.config;
        src.layout = old.layout;
        src.warnings = old.warnings;
        out
    }

    /// Program the table and start every nanny.
    pub fn start(&mut self) {
        // Start the nanny fork servers first: their exec and start-up run
        // while lvs reads and programs the table (a takeover waits for
        // both before the first nanny can check anything).
        if !self.opts.test_start {
            let first = self
                .services
                .iter()
                .flat_map(|d| d.monitors.values())
                .map(|m| m.argv[0].clone())
                .next();
            if let Some(argv0) = first {
                let _ = self.forks.for_program(&argv0);
            }
        }
        let current = match self.table.save() {
            Ok(c) => c,
            Err(e) => {
                log::error!("cannot read the IPVS table: {e}");
                Vec::new()
            }
        };
        let mut lines = Vec::new();
        if let Some(t) = plan::timeouts_line(&self.cfg) {
            lines.push(t);
        }
        for d in &self.services {
            log::info!("starting virtual service {} active: {}", d.name, d.port);
        }
        lines.extend(plan::startup_lines(&current, &self.services));
        self.restore(&lines);
        let list: Vec<(ServiceKey, Monitor)> = self
            .services
            .iter()
            .flat_map(|d| d.monitors.values().map(|m| (d.key, m.clone())))
            .collect();
        self.spawn_many(list);
        let keys: Vec<ServiceKey> = self.services.iter().map(|d| d.key).collect();
        for k in keys {
            self.live.insert(k, Live::default());
            self.hold_sorry(k);
            self.check_sorry(k);
            self.quorum_eval(k, true);
        }
        if self.standby {
            log::info!(
                "standby: the table is programmed without the virtual addresses (hot_standby)"
            );
        }
        self.ready_by = self
            .services
            .iter()
            .map(|d| d.first_verdict)
            .max()
            .map(|v| Instant::now() + v);
        self.check_ready();
    }

    /// Pulse is owed the readiness byte: write it once every service can
    /// serve a client, that is, has a real server (or its sorry server) in
    /// the kernel's table with a weight, or had the time its first checks
    /// may take (then its state is what it will be).  Until then, look at
    /// the table again every 100 ms.
    fn check_ready(&mut self) {
        if self.ready.is_none() {
            return;
        }
        // The kernel's table is the judge: a nanny logs "making ...
        // available" just before its server is in, and the VIP must not
        // come up in between (the fault suite saw an ICMP port unreachable
        // there).  A service still has its chance until its first checks
        // had their time (`ready_by`).
        if self.ready_by.is_some_and(|t| Instant::now() >= t) {
            self.ready_by = None;
        }
        let waiting: Vec<ServiceKey> = if self.ready_by.is_none() {
            Vec::new()
        } else {
            self.services.iter().map(|d| d.key).collect()
        };
        let ready = waiting.is_empty() || {
            let served: Vec<ServiceKey> = self
                .table
                .save()
                .unwrap_or_default()
                .iter()
                .filter(|e| e.dests.iter().any(|d| d.weight > 0))
                .filter_map(|e| ServiceKey::of_kernel(&e.service))
                .collect();
            waiting.iter().all(|k| served.contains(k))
        };
        if ready {
            log::info!(
                "table ready: {} virtual service{}",
                self.services.len(),
                if self.services.len() == 1 { "" } else { "s" }
            );
            if let Some(n) = self.ready.take() {
                n.ready();
            }
            self.ready_check_at = None;
        } else {
            self.ready_check_at = Some(Instant::now() + READY_POLL);
        }
    }

    /// With `syncdaemon = 1`: send the partner's sync daemon every
    /// connection of this director now ([`ipvs::sync`]).
    fn push_connections(&self) {
        if !self.cfg.syncdaemon() || self.opts.test_start {
            return;
        }
        match ipvs::sync::push_table(
            &self.cfg.syncd_iface(),
            self.cfg.syncd_id(),
            ipvs::sync::Forward::from_letter(self.cfg.network().method_letter()),
        ) {
            Ok(n) => log::info!("sent {n} connection(s) to the partner's sync daemon"),
            Err(e) => log::warn!("failed to send the connections to the partner: {e}"),
        }
    }

    /// SIGUSR1 / SIGUSR2 from pulse: the director took the active role, or
    /// went back to standby (`hot_standby`).  The table is the same in both
    /// roles; the role is what lvs reports.
    fn set_role(&mut self, standby: bool) {
        if self.standby == standby {
            return;
        }
        self.standby = standby;
        if standby {
            log::info!("standby: the partner director is active");
        } else {
            log::info!("active: this director took over");
        }
    }

    /// SIGTERM after pulse died (`kill -9`): the floating addresses pulse
    /// put up live on until their lifetime runs out (about `deadtime`), and
    /// a client that reaches them meanwhile must find the table, not a
    /// refusal.  Keep the table and the nannies until none of this
    /// director's virtual addresses is local any more (or a bound passes),
    /// then tear down as usual.
    fn hold_while_addresses_remain(&mut self) {
        let mut ips: Vec<Ipv4Addr> = self
            .cfg
            .active_virtual_servers()
            .filter_map(|v| v.address.as_ref().map(|a| a.value.ip.addr))
            .filter(|ip| !ip.is_unspecified())
            .collect();
        if self.cfg.network() == lvs_config::Network::Nat {
            ips.extend(self.cfg.nat_router.as_ref().map(|r| r.value.ip.addr));
        }
        if piranha_runtime::net::count_local(&ips) == 0 {
            return;
        }
        let bound = self.cfg.deadtime().as_duration() * 2 + Duration::from_secs(5);
        log::info!(
            "pulse is gone: keeping the table while this director still holds its virtual addresses (at most {} s)",
            bound.as_secs()
        );
        // The partner learns every connection now, and again once the
        // addresses are gone (the table is then final: no client reaches it).
        self.push_connections();
        let waited = piranha_runtime::net::wait_while_local(&ips, bound, || {
            let _ = self.reap();
        });
        self.push_connections();
        log::info!(
            "the virtual addresses are gone after {} ms",
            waited.as_millis()
        );
    }

    fn restore(&self, lines: &[Vec<String>]) {
        match self.table.restore(lines) {
            Ok(errs) => {
                for e in errs {
                    log::error!("ipvsadm failed: {e}");
                }
            }
            Err(e) => log::error!("{e}"),
        }
    }

    fn running(key: ServiceKey, mon: Monitor) -> Running {
        Running {
            key,
            mon,
            pid: None,
            pipe: None,
            buf: Vec::new(),
            started: Instant::now(),
            quick_deaths: 0,
            backoff: RESTART_FIRST,
            restart_at: None,
            stopping: false,
            live: false,
            entry: None,
        }
    }

    /// Start a nanny for each monitor.  Through the fork server, up to
    /// [`FORK_WINDOW`] requests are in flight at once.
    fn spawn_many(&mut self, list: Vec<(ServiceKey, Monitor)>) {
        let mut pending: VecDeque<(MonKey, u64, Option<File>)> = VecDeque::new();
        for (key, mon) in list {
            let k = (key, mon.rip, mon.rport);
            let mut r = Self::running(key, mon);
            let sent = match (self.opts.test_start, self.forks.for_program(&r.mon.argv[0])) {
                (false, Some((i, server))) => match Self::fork_request(server, &r) {
                    Ok(read) => Some((i, read)),
                    Err(e) => {
                        self.forks.failed(i, &e);
                        None
                    }
                },
                _ => None,
            };
            match sent {
                Some((i, read)) => {
                    self.monitors.insert(k, r);
                    pending.push_back((k, i, read));
                    if pending.len() >= FORK_WINDOW * self.forks.servers.len().max(1) {
                        self.fork_reply(&mut pending);
                    }
                }
                None => {
                    Self::spawn(&mut r, self.opts.test_start, &mut self.forks);
                    self.monitors.insert(k, r);
                }
            }
        }
        while !pending.is_empty() {
            self.fork_reply(&mut pending);
        }
    }

    /// Collect the answer to the oldest request in flight.  A request to a
    /// server that failed is started with exec instead.
    fn fork_reply(&mut self, pending: &mut VecDeque<(MonKey, u64, Option<File>)>) {
        let Some((k, i, read)) = pending.pop_front() else {
            return;
        };
        let result = match self.forks.get(i) {
            Some(s) => s.reply().map_err(Some),
            None => Err(None),
        };
        let Some(r) = self.monitors.get_mut(&k) else {
            return;
        };
        match result {
            Ok(pid) => Self::started(r, pid, read),
            Err(e) => {
                if let Some(e) = e {
                    self.forks.failed(i, &e);
                }
                Self::exec(r);
            }
        }
    }

    fn spawn(r: &mut Running, test_start: bool, forks: &mut Forks) {
        r.restart_at = None;
        r.started = Instant::now();
        if test_start {
            log::info!(
                "[test-start] create_monitor for {}: {}",
                r.mon.label(),
                argv_line(&r.mon.argv)
            );
            return;
        }
        if let Some((i, server)) = forks.for_program(&r.mon.argv[0]) {
            match Self::fork_one(server, r) {
                Ok(()) => return,
                Err(e) => forks.failed(i, &e),
            }
        }
        Self::exec(r);
    }

    /// Start `r`'s nanny with fork+exec.
    fn exec(r: &mut Running) {
        let mut cmd = Command::new(&r.mon.argv[0]);
        cmd.args(&r.mon.argv[1..])
            .stdin(Stdio::null())
            .stdout(if r.mon.piped {
                Stdio::piped()
            } else {
                Stdio::inherit()
            });
        piranha_runtime::spawn::prepare_child(&mut cmd, true);
        match cmd.spawn() {
            Ok(mut child) => {
                let pid = Pid::from_raw(child.id() as i32);
                // The child is reaped by pid in `reap`; dropping the handle
                // does not wait for it.
                let pipe = child.stdout.take().map(|p| File::from(OwnedFd::from(p)));
                Self::started(r, pid, pipe);
            }
            Err(e) => {
                log::error!("failed to start nanny for {}: {e}", r.mon.label());
                r.restart_at = Some(Instant::now() + r.backoff);
            }
        }
    }

    /// Start `r`'s nanny through the fork server.
    fn fork_one(server: &ForkServer, r: &mut Running) -> Result<(), ForkServerError> {
        let read = Self::fork_request(server, r)?;
        let pid = server.reply()?;
        Self::started(r, pid, read);
        Ok(())
    }

    /// Ask the fork server for `r`'s nanny; returns the read end of its
    /// stdout pipe when lvs reads it.
    fn fork_request(server: &ForkServer, r: &Running) -> Result<Option<File>, ForkServerError> {
        let (read, write) = if r.mon.piped {
            let (rd, wr) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
                .map_err(|e| ForkServerError::Io(e.into()))?;
            (Some(File::from(rd)), wr)
        } else {
            let out = std::io::stdout()
                .as_fd()
                .try_clone_to_owned()
                .map_err(ForkServerError::Io)?;
            (None, out)
        };
        server.request(&r.mon.argv, write.as_fd())?;
        Ok(read)
    }

    fn started(r: &mut Running, pid: Pid, pipe: Option<File>) {
        log::info!(
            "create_monitor for {} running as pid {}",
            r.mon.label(),
            pid
        );
        if let Some(p) = &pipe {
            let _ = nix::fcntl::fcntl(
                p.as_raw_fd(),
                nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
            );
        }
        r.pipe = pipe;
        r.pid = Some(pid);
    }

    /// Reap every exited child; returns `Some(Exit::HardShutdown)` when a
    /// nanny keeps dying and `hard_shutdown = 1`.
    fn reap(&mut self) -> Option<Exit> {
        let mut verdict = None;
        loop {
            let st = match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(st) => st,
            };
            let (pid, how) = match st {
                WaitStatus::Exited(p, c) => (p, format!("exited with status {c}")),
                WaitStatus::Signaled(p, s, _) => (p, format!("was killed by signal {}", s as i32)),
                _ => continue,
            };
            let ok = matches!(st, WaitStatus::Exited(_, 0));
            if self.scripts.reaped(pid, &how, ok) {
                continue;
            }
            let Some(k) = self
                .monitors
                .iter()
                .find(|(_, r)| r.pid == Some(pid))
                .map(|(k, _)| *k)
            else {
                if !self.forks.reaped(pid) {
                    log::debug!("reaped unknown child {pid} ({how})");
                }
                continue;
            };
            let hard = self.cfg.hard_shutdown();
            let r = self.monitors.get_mut(&k).expect("monitor");
            r.pid = None;
            r.pipe = None;
            let was_live = std::mem::take(&mut r.live);
            let had_entry = r.entry.take().is_some();
            if r.stopping {
                continue;
            }
            let life = r.started.elapsed();
            if life >= HEALTHY_LIFE {
                r.quick_deaths = 0;
                r.backoff = RESTART_FIRST;
            }
            r.quick_deaths += 1;
            let label = r.mon.label();
            if hard && r.quick_deaths >= HARD_SHUTDOWN_DEATHS {
                log::error!(
                    "nanny for child {label} died! ({how}; {} times in a row) shutting down lvs",
                    r.quick_deaths
                );
                verdict = Some(Exit::HardShutdown);
                continue;
            }
            let delay = r.backoff;
            r.restart_at = Some(Instant::now() + delay);
            r.backoff = (r.backoff * 2).min(RESTART_MAX);
            if r.quick_deaths >= HARD_SHUTDOWN_DEATHS {
                log::error!(
                    "nanny for child {label} died! ({how}; {} times in a row) manual action needed! restarting it in {} s",
                    r.quick_deaths,
                    delay.as_secs()
                );
            } else {
                log::warn!(
                    "nanny for child {label} died! ({how}) restarting it in {} s",
                    delay.as_secs()
                );
            }
            let key = r.key;
            let addr = SocketAddrV4::new(r.mon.rip, r.mon.rport);
            if was_live {
                if let Some(l) = self.live.get_mut(&key) {
                    l.forget(addr);
                }
                self.check_sorry(key);
            }
            if was_live || had_entry {
                // Quorum extension: the dead nanny's server leaves the live
                // weight (and, while the quorum holds, the table) until its
                // restarted nanny reports it again.
                self.quorum_eval(key, false);
            }
        }
        verdict
    }

    /// Keep `key`'s sorry server (or quorum verdict) back for the time its
    /// nannies' first checks may take (`DesiredService::first_verdict`).
    fn hold_sorry(&mut self, key: ServiceKey) {
        if let Some(d) = self.service(key) {
            let until = Instant::now() + d.first_verdict;
            self.sorry_hold.insert(key, until);
        }
    }

    /// Is `key` still waiting for its nannies' first checks?
    fn held(&self, key: ServiceKey) -> bool {
        self.sorry_hold
            .get(&key)
            .is_some_and(|&t| Instant::now() < t)
    }

    fn check_sorry(&mut self, key: ServiceKey) {
        let Some(d) = self.by_key.get(&key).map(|&i| &self.services[i]) else {
            return;
        };
        let Some(sorry) = d.sorry else {
            return;
        };
        if d.quorum.is_some() {
            // The quorum extension decides instead (quorum_eval).
            return;
        }
        let count = self.live.get(&key).map(Live::count).unwrap_or(0);
        let on = self.sorry_on.get(&key).copied().unwrap_or(false);
        if count > 0 {
            self.sorry_hold.remove(&key);
        } else if self.held(key) {
            return;
        }
        if count == 0 && !on {
            log::info!(
                "Virtual Server {}: No real servers; activate sorry_server {sorry}",
                d.name
            );
            if let Some(l) = d.sorry_line(true) {
                if let Err(e) = self.table.run(&l) {
                    log::error!("{e}");
                }
            }
            self.sorry_on.insert(key, true);
        } else if count > 0 && on {
            log::info!(
                "Virtual Server {}: {count} real servers; deactivate sorry_server {sorry}",
                d.name
            );
            if let Some(l) = d.sorry_line(false) {
                if let Err(e) = self.table.run(&l) {
                    log::error!("{e}");
                }
            }
            self.sorry_on.insert(key, false);
        }
    }

    fn read_pipes(&mut self, ready: &[MonKey]) {
        let mut changed = Vec::new();
        let mut qchanged: Vec<(ServiceKey, Option<sorry::Event>)> = Vec::new();
        let mut came_up: Vec<(ServiceKey, SocketAddrV4)> = Vec::new();
        for k in ready {
            let Some(r) = self.monitors.get_mut(k) else {
                continue;
            };
            let Some(p) = r.pipe.as_mut() else {
                continue;
            };
            let mut chunk = [0u8; 4096];
            loop {
                match p.read(&mut chunk) {
                    Ok(0) => {
                        r.pipe = None;
                        break;
                    }
                    Ok(n) => r.buf.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(_) => {
                        r.pipe = None;
                        break;
                    }
                }
            }
            while let Some(nl) = r.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = r.buf.drain(..=nl).collect();
                let line = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
                if self.opts.nodaemon {
                    println!("{line}");
                }
                if let Some((addr, want)) = quorum::parse_line(&line) {
                    if addr == SocketAddrV4::new(r.mon.rip, r.mon.rport) {
                        let prev = r.entry;
                        r.entry = match want {
                            quorum::Wanted::Weight(w) => Some(w),
                            quorum::Wanted::Absent => None,
                        };
                        qchanged.push((r.key, None));
                        // The first weight a live server reports (nanny
                        // prints `[ active ]` first): now it counts in W.
                        if r.live && prev.is_none() && r.entry.is_some() {
                            came_up.push((r.key, addr));
                        }
                    }
                    continue;
                }
                let Some(e) = sorry::parse_line(&line) else {
                    continue;
                };
                r.live = matches!(e, sorry::Event::Up(_));
                if let (sorry::Event::Up(a), Some(_)) = (e, r.entry) {
                    came_up.push((r.key, a));
                }
                changed.push((r.key, e));
                qchanged.push((r.key, Some(e)));
            }
            if r.buf.len() > 64 * 1024 {
                r.buf.clear();
            }
        }
        for (key, e) in changed {
            self.live.entry(key).or_default().apply(e);
            self.check_sorry(key);
        }
        let mut done: Vec<ServiceKey> = Vec::new();
        for (key, _) in &qchanged {
            if self.quorums.contains_key(key) && !done.contains(key) {
                done.push(*key);
                self.quorum_eval(*key, false);
            }
        }
        for (key, a) in came_up {
            self.note_kept_out(key, a);
        }
    }

    fn stop_monitors(&mut self, keys: &[MonKey]) {
        for k in keys {
            if let Some(r) = self.monitors.get_mut(k) {
                r.stopping = true;
                r.restart_at = None;
                if let Some(pid) = r.pid {
                    let _ = kill(pid, Signal::SIGTERM);
                }
            }
        }
        let deadline = Instant::now() + self.opts.grace;
        while keys
            .iter()
            .any(|k| self.monitors.get(k).is_some_and(|r| r.pid.is_some()))
        {
            if Instant::now() >= deadline {
                for k in keys {
                    if let Some(r) = self.monitors.get_mut(k) {
                        if let Some(pid) = r.pid {
                            log::warn!(
                                "nanny for {} did not stop within {} s; killing it",
                                r.mon.label(),
                                self.opts.grace.as_secs()
                            );
                            let _ = kill(pid, Signal::SIGKILL);
                            // Only that nanny: any other child (a quorum
                            // script) is reaped by the loop.
                            let _ = waitpid(pid, None);
                            r.pid = None;
                        }
                    }
                }
            }
            let _ = self
                .signals
                .wait(Some(Instant::now() + Duration::from_millis(50)));
            self.reap();
            if Instant::now() >= deadline + Duration::from_secs(2) {
                break;
            }
        }
        for k in keys {
            if let Some(r) = self.monitors.remove(k) {
                if r.live {
                    if let Some(l) = self.live.get_mut(&r.key) {
                        l.forget(SocketAddrV4::new(r.mon.rip, r.mon.rport));
                    }
                }
            }
        }
    }

    /// Re-read lvs.cf and apply the differences; a file that does not parse
    /// leaves everything as it is.
    pub fn reload(&mut self) {
        log::info!("rereading configuration file");
        let t0 = Instant::now();
        let old_timeouts = plan::timeouts_line(&self.cfg);
        let how = |t: lvs_config::ReparseTrace| {
            format!(
                " (read {} ms, {})",
                t.read.as_millis(),
                if t.one_block {
                    "one block re-parsed"
                } else {
                    "whole file parsed"
                }
            )
        };
        // After a whole-file parse the new configuration is `new_cfg`;
        // otherwise `self.cfg` was re-parsed in place and at most block
        // `changed` differs.
        let (new_cfg, changed, how) = match self.reread() {
            Ok(Reread::New(p, text, trace)) => {
                let p = *p;
                for w in &p.warnings {
                    log::warn!("{w}");
                }
                if let Some(text) = text {
                    self.source = Some(Source {
                        text,
                        layout: p.layout,
                        warnings: p.warnings,
                    });
                }
                (Some(p.config), None, trace.map(how).unwrap_or_default())
            }
            Ok(Reread::InPlace(changed, trace)) => (None, changed, how(trace)),
            Err(d) => {
                for e in d.errors() {
                    log::error!("{e}");
                }
                log::error!("keeping the running configuration");
                return;
            }
        };
        let t_parsed = t0.elapsed();
        let new = match &new_cfg {
            Some(c) => plan::desired_after(c, self.mode, &self.cfg, &self.services),
            None => plan::desired_after_edit(&self.cfg, self.mode, changed, &self.services),
        };
        let cfg_now = new_cfg.as_ref().unwrap_or(&self.cfg);
        let r = plan::reload_from(old_timeouts, &self.services, cfg_now, &new);
        let program = cfg_now.ipvsadm();
        if r.is_empty() {
            log::info!("configuration unchanged");
        }
        let t_planned = t0.elapsed();
        let stop: Vec<MonKey> = r.stop.clone();
        self.stop_monitors(&stop);
        let t_stopped = t0.elapsed();
        let old_by_key: HashMap<ServiceKey, &DesiredService> =
            self.services.iter().map(|d| (d.key, d)).collect();
        for key in &r.delete {
            if let Some(d) = old_by_key.get(key) {
                log::info!("shutting down virtual service {}", d.name);
            }
        }
        let mut lines: Vec<Vec<String>> = r.delete.iter().map(plan::del_line).collect();
        lines.extend(r.lines.iter().cloned());
        if program != self.table.program {
            self.table = Ipvsadm::new(program, self.opts.test_start);
        }
        let mut fresh = Vec::new();
        for d in &new {
            if !old_by_key.contains_key(&d.key) {
                log::info!("starting virtual service {} active: {}", d.name, d.port);
                fresh.push(d.key);
            }
        }
        // Services whose sorry settings changed, with the line that takes
        // the old sorry entry out (found while the old plan is at hand).
        // (Quorum extension: turning `quorum` on or off counts as a change,
        // and the old method is kept to take out the entry lvs held.)
        let resorry: Vec<(ServiceKey, Option<Vec<String>>, char)> = new
            .iter()
            .filter_map(|d| {
                let o = old_by_key.get(&d.key)?;
                let changed = o.sorry != d.sorry
                    || o.method != d.method
                    || o.port != d.port
                    || o.quorum.is_some() != d.quorum.is_some();
                changed.then(|| (d.key, o.sorry_line(false), o.method))
            })
            .collect();
        // Quorum extension: a service that drops `quorum` gets back the
        // entries lvs held for it (its new nannies add their own); one that
        // is deleted loses its quorum state with it.
        for key in &r.delete {
            self.quorums.remove(key);
            self.scripts.drop_queued(key);
        }
        for d in &new {
            if d.quorum.is_none() {
                if let Some(st) = self.quorums.remove(&d.key) {
                    self.scripts.drop_queued(&d.key);
                    let gone = quorum::changes(&st.have, &Entries::default());
                    lines.extend(
                        gone.into_iter()
                            .map(|c| quorum::change_line(&d.key, d.method, c)),
                    );
                }
            }
        }
        self.restore(&lines);
        for key in &r.delete {
            self.live.remove(key);
            self.sorry_on.remove(key);
            self.sorry_hold.remove(key);
        }
        // A sorry entry that is in the table under the old settings goes;
        // check_sorry below decides afresh with the new ones.
        for (key, line, method) in resorry {
            // Quorum extension: the sorry entry lvs holds goes; the
            // evaluation below puts the new one in if needed.
            if let Some(st) = self.quorums.get_mut(&key) {
                if let Some(s) = st.have.sorry.take() {
                    let l = quorum::change_line(&key, method, quorum::Change::Delete(s));
                    if let Err(e) = self.table.run(&l) {
                        log::error!("{e}");
                    }
                }
            }
            if self.sorry_on.insert(key, false) == Some(true) {
                if let Some(l) = line {
                    if let Err(e) = self.table.run(&l) {
                        log::error!("{e}");
                    }
                }
            }
        }
        if let Some(c) = new_cfg {
            self.cfg = c;
        }
        self.set_services(new);
        for k in fresh {
            self.hold_sorry(k);
        }
        self.spawn_many(r.start);
        let keys: Vec<ServiceKey> = self.services.iter().map(|d| d.key).collect();
        for k in keys {
            self.live.entry(k).or_default();
            self.check_sorry(k);
            self.quorum_eval(k, true);
        }
        log::info!(
            "reload took {} ms: file read and checked {} ms{how}, planned {} ms, nannies stopped {} ms, table and nannies {} ms",
            t0.elapsed().as_millis(),
            t_parsed.as_millis(),
            (t_planned - t_parsed).as_millis(),
            (t_stopped - t_planned).as_millis(),
            (t0.elapsed() - t_stopped).as_millis()
        );
    }

    /// Stop every nanny and delete every service lvs runs.
    pub fn shutdown(&mut self) {
        for d in &self.services {
            log::info!("shutting down virtual service {}", d.name);
        }
        let keys: Vec<MonKey> = self.monitors.keys().copied().collect();
        self.stop_monitors(&keys);
        self.scripts.terminate_all();
        let lines: Vec<Vec<String>> = self.services.iter().map(|d| d.del_line()).collect();
        self.restore(&lines);
        // Closing the request sockets ends the fork servers.
        let pids: Vec<Pid> = self.forks.servers.iter().map(|(_, s)| s.pid()).collect();
        self.forks.servers.clear();
        let deadline = Instant::now() + Duration::from_secs(2);
        for pid in pids {
            while matches!(
                waitpid(pid, Some(WaitPidFlag::WNOHANG)),
                Ok(WaitStatus::StillAlive)
            ) {
                if Instant::now() >= deadline {
                    let _ = kill(pid, Signal::SIGKILL);
                    let _ = waitpid(pid, None);
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    /// The main loop, until SIGTERM/SIGINT or a hard shutdown.
    pub fn run(&mut self) -> Exit {
        loop {
            let now = Instant::now();
            let due: Vec<MonKey> = self
                .monitors
                .iter()
                .filter(|(_, r)| r.restart_at.is_some_and(|t| t <= now))
                .map(|(k, _)| *k)
                .collect();
            for k in due {
                if let Some(r) = self.monitors.get_mut(&k) {
                    Self::spawn(r, self.opts.test_start, &mut self.forks);
                }
            }
            self.scripts.expire(now);
            let retries: Vec<ServiceKey> = self
                .quorums
                .iter()
                .filter(|(_, q)| q.retry_at.is_some_and(|t| t <= now))
                .map(|(k, _)| *k)
                .collect();
            for k in retries {
                self.quorum_eval(k, false);
            }
            let verdicts: Vec<ServiceKey> = self
                .sorry_hold
                .iter()
                .filter(|(_, &t)| t <= now)
                .map(|(k, _)| *k)
                .collect();
            for k in verdicts {
                self.sorry_hold.remove(&k);
                self.check_sorry(k);
                self.quorum_eval(k, true);
            }
            if self.ready_check_at.is_some_and(|t| t <= now) {
                self.check_ready();
            }
            let next = self
                .monitors
                .values()
                .filter_map(|r| r.restart_at)
                .chain(self.scripts.next_deadline())
                .chain(self.quorums.values().filter_map(|q| q.retry_at))
                .chain(self.sorry_hold.values().copied())
                .chain(self.ready_check_at)
                .min();
            let timeout = match next {
                Some(t) => poll_timeout(t.saturating_duration_since(Instant::now())),
                None => PollTimeout::NONE,
            };
            let piped: Vec<(MonKey, i32)> = self
                .monitors
                .iter()
                .filter_map(|(k, r)| r.pipe.as_ref().map(|p| (*k, p.as_raw_fd())))
                .collect();
            let ready = {
                let sig_fd = self.signals.as_fd();
                let mut fds = vec![PollFd::new(sig_fd, PollFlags::POLLIN)];
                for (_, fd) in &piped {
                    // SAFETY: the pipe is owned by `self.monitors` and stays
                    // open for the duration of this poll.
                    fds.push(PollFd::new(
                        unsafe { BorrowedFd::borrow_raw(*fd) },
                        PollFlags::POLLIN,
                    ));
                }
                let _ = poll(&mut fds, timeout);
                fds[1..]
                    .iter()
                    .zip(&piped)
                    .filter(|(f, _)| {
                        f.revents().is_some_and(|r| {
                            r.intersects(
                                PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR,
                            )
                        })
                    })
                    .map(|(_, (k, _))| *k)
                    .collect::<Vec<_>>()
            };
            self.read_pipes(&ready);
            if self.ready.is_some() && !ready.is_empty() {
                self.check_ready();
            }
            for sig in self.signals.take() {
                match sig {
                    libc::SIGCHLD => {}
                    libc::SIGHUP => self.reload(),
                    libc::SIGUSR1 => self.set_role(false),
                    libc::SIGUSR2 => self.set_role(true),
                    s => {
                        log::info!("shutting down due to signal {s}");
                        if self.parent.is_some_and(|p| p != nix::unistd::getppid()) {
                            self.hold_while_addresses_remain();
                        }
                        self.shutdown();
                        return Exit::Stopped;
                    }
                }
            }
            if let Some(exit) = self.reap() {
                self.shutdown();
                return exit;
            }
        }
    }
}

/// Quorum extension: what lvs knows of one service with `quorum`.
#[derive(Debug, Default)]
struct QState {
    /// The quorum is up.
    up: bool,
    /// The entries lvs put in the table (real servers and sorry server).
    have: Entries,
    /// A table change failed: evaluate again at this time.
    retry_at: Option<Instant>,
}

/// How long lvs waits before retrying a table change that failed.
const QUORUM_RETRY: Duration = Duration::from_secs(5);

/// The quorum extension (issue 9): lvs decides from the nannies' state
/// lines and owns the real servers' entries ([`crate::quorum`]).
impl Lvsd {
    /// The running plan of service `key`.
    fn service(&self, key: ServiceKey) -> Option<&DesiredService> {
        self.by_key.get(&key).map(|&i| &self.services[i])
    }

    /// The monitors of service `key` (a range of the ordered map).
    fn monitors_of(&self, key: ServiceKey) -> impl Iterator<Item = &Running> {
        self.monitors
            .range((key, Ipv4Addr::UNSPECIFIED, 0)..=(key, Ipv4Addr::BROADCAST, u16::MAX))
            .map(|(_, r)| r)
    }

    /// Live weight of `key`: the weights its nannies report for their live
    /// real servers ([`quorum::live_weight`]).
    fn live_weight(&self, key: ServiceKey) -> u64 {
        quorum::live_weight(self.monitors_of(key).map(|r| (r.live, r.entry)))
    }

    /// Re-evaluate the quorum of `key` and bring the table in line. `init`:
    /// at start-up or after a reload (keepalived's "starting with quorum
    /// down", which adds the sorry server and runs quorum_down).
    fn quorum_eval(&mut self, key: ServiceKey, init: bool) {
        let Some(d) = self.service(key) else {
            return;
        };
        let Some(spec) = d.quorum.clone() else {
            return;
        };
        let name = d.name.clone();
        let sorry = d.sorry;
        let p = spec.params;
        let w = self.live_weight(key);
        let held = self.held(key);
        let fresh = !self.quorums.contains_key(&key);
        let st = self.quorums.entry(key).or_insert_with(|| QState {
            up: quorum::initial(w, p),
            ..QState::default()
        });
        let sorry_word = |on: bool| match sorry {
            Some(s) => format!(
                "; {} sorry_server {s}",
                if on { "activate" } else { "deactivate" }
            ),
            None => String::new(),
        };
        let mut run: Option<bool> = None;
        match quorum::step(st.up, w, p) {
            Some(Transition::Gained) => {
                st.up = true;
                log::info!(
                    "Virtual Server {name}: gained quorum: live weight {w} >= {}+{}{}",
                    p.quorum,
                    p.hysteresis,
                    if st.have.sorry.is_some() {
                        sorry_word(false)
                    } else {
                        String::new()
                    }
                );
                run = Some(true);
            }
            Some(Transition::Lost) => {
                st.up = false;
                let why = if w == 0 {
                    "no live real server".to_string()
                } else {
                    format!("live weight {w} < {}-{}", p.quorum, p.hysteresis)
                };
                log::info!(
                    "Virtual Server {name}: lost quorum: {why}{}",
                    sorry_word(true)
                );
                run = Some(false);
            }
            None if (init || fresh)
                && !held
                && !st.up
                && sorry.is_some()
                && st.have.sorry.is_none() =>
            {
                log::info!(
                    "Virtual Server {name}: starting with quorum down: live weight {w} < {}+{}{}",
                    p.quorum,
                    p.hysteresis,
                    sorry_word(true)
                );
                run = Some(false);
            }
            None => log::debug!(
                "Virtual Server {name}: live weight {w}, quorum {}",
                if st.up { "up" } else { "down" }
            ),
        }
        if let Some(up) = run {
            let command = if up { &spec.up } else { &spec.down };
            if let (Some(command), true) = (command, self.opts.test_start) {
                log::info!(
                    "[test-start] Virtual Server {name}: {} script: {command}",
                    if up { "quorum_up" } else { "quorum_down" }
                );
            } else if let Some(command) = command {
                self.scripts.submit(Job {
                    key,
                    vs: name.clone(),
                    what: if up { "quorum_up" } else { "quorum_down" },
                    command: command.clone(),
                    env: vec![
                        ("LVS_VIRTUAL".into(), name.clone()),
                        ("LVS_SERVICE".into(), key.to_string()),
                        ("LVS_QUORUM".into(), if up { "up" } else { "down" }.into()),
                        ("LVS_WEIGHT".into(), w.to_string()),
                    ],
                });
            }
        }
        self.quorum_reconcile(key);
    }

    /// Make the table hold what the quorum state says ([`quorum::target`]).
    fn quorum_reconcile(&mut self, key: ServiceKey) {
        let held = self.held(key);
        let Some(d) = self.service(key) else {
            return;
        };
        // Until the first checks had their time the sorry server stays out
        // (see `sorry_hold`).
        let sorry = d
            .sorry
            .filter(|_| !held)
            .map(|s| SocketAddrV4::new(s, d.port));
        let method = d.method;
        let wanted: BTreeMap<SocketAddrV4, u32> = self
            .monitors_of(key)
            .filter_map(|r| {
                r.entry
                    .map(|w| (SocketAddrV4::new(r.mon.rip, r.mon.rport), w))
            })
            .collect();
        let Some(st) = self.quorums.get_mut(&key) else {
            return;
        };
        st.retry_at = None;
        let want = quorum::target(st.up, sorry, &wanted);
        let changes = quorum::changes(&st.have, &want);
        if changes.is_empty() {
            return;
        }
        let lines: Vec<Vec<String>> = changes
            .iter()
            .map(|c| quorum::change_line(&key, method, *c))
            .collect();
        let failed = match self.table.restore(&lines) {
            Ok(errs) => {
                for e in &errs {
                    log::error!("ipvsadm failed: {e}");
                }
                !errs.is_empty()
            }
            Err(e) => {
                log::error!("{e}");
                true
            }
        };
        if !failed {
            st.have = want;
            return;
        }
        // Learn what the kernel holds, and try again later.
        st.retry_at = Some(Instant::now() + QUORUM_RETRY);
        match self.table.save() {
            Ok(all) => {
                let dests = all
                    .iter()
                    .find(|e| ServiceKey::of_kernel(&e.service) == Some(key))
                    .map(|e| e.dests.as_slice())
                    .unwrap_or_default();
                let have = quorum::kernel_entries(dests, method, sorry, &wanted);
                st.have = have;
            }
            Err(e) => log::error!("cannot read the IPVS table: {e}"),
        }
    }

    /// A real server of `key` came up: say so when the quorum keeps it out.
    fn note_kept_out(&self, key: ServiceKey, a: SocketAddrV4) {
        let (Some(st), Some(d)) = (self.quorums.get(&key), self.service(key)) else {
            return;
        };
        if let (false, Some(_), Some(spec)) = (st.up, st.have.sorry, &d.quorum) {
            log::info!(
                "Virtual Server {}: quorum down (live weight {} < {}): {a} stays out of the table",
                d.name,
                self.live_weight(key),
                spec.params.gain_at()
            );
        }
    }
}
