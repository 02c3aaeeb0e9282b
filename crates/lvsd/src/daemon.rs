//! The lvs daemon: program the services, run one nanny per real server,
//! keep them alive, apply reloads, and tear everything down on SIGTERM.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::File;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::OwnedFd;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lvs_config::{Config, Diagnostic, Diagnostics, Layout, Parsed};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use piranha_runtime::forkserver::{ForkServer, ForkServerError};
use piranha_runtime::signals::{poll_timeout, SignalWaiter};

use crate::plan::{self, DesiredService, Monitor, RunMode, ServiceKey};
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
}

/// Why the daemon ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Exit {
    /// SIGTERM/SIGINT: everything was torn down.
    Stopped,
    /// A nanny kept dying with `hard_shutdown = 1`.
    HardShutdown,
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
    /// re-parses only the block an edit touched (`lvs_config::reparse`).
    source: Option<Source>,
    mode: RunMode,
    services: Vec<DesiredService>,
    /// Position of each service in `services`.
    by_key: HashMap<ServiceKey, usize>,
    monitors: BTreeMap<MonKey, Running>,
    live: BTreeMap<ServiceKey, Live>,
    sorry_on: BTreeMap<ServiceKey, bool>,
    table: Ipvsadm,
    signals: SignalWaiter,
    forks: Forks,
}

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
                match ForkServer::start(ours, nanny_pre_exec) {
                    Ok(s) => {
                        log::debug!("nanny fork server running as pid {}", s.pid());
                        self.next_id += 1;
                        self.servers.push((self.next_id, s));
                    }
                    Err(e) => {
                        log::warn!("{e}: {}; starting nannies with exec", cause(&e));
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
        log::warn!("{e}: {}; starting this nanny with exec", cause(e));
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

fn cause(e: &dyn std::error::Error) -> String {
    e.source().map(|s| s.to_string()).unwrap_or_default()
}

/// `pre_exec` hook of every nanny: die with lvs, default signals.
fn nanny_pre_exec() -> std::io::Result<()> {
    // SAFETY (runs between fork and exec): prctl is async-signal-safe and
    // only changes this process.
    if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM, 0, 0, 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    piranha_runtime::spawn::reset_signals()
}

impl Lvsd {
    /// Set up from a parsed configuration (after daemonizing).
    pub fn new(opts: Options, cfg: Config, signals: SignalWaiter) -> Self {
        let opts_fork_server = opts.fork_server && !opts.test_start;
        let mode = RunMode {
            daemon: !opts.nodaemon,
            verbose: opts.verbose,
        };
        let table = Ipvsadm {
            program: cfg.ipvsadm(),
            test_start: opts.test_start,
        };
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
            table,
            signals,
            forks: Forks::new(opts_fork_server),
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
    /// text is known (same result as a full parse).
    fn reread(&mut self) -> Result<(Parsed, Option<String>), Diagnostics> {
        let Some(src) = self.source.as_mut() else {
            return lvs_config::parse_file(&self.opts.config).map(|p| (p, None));
        };
        let prev = Parsed {
            config: std::mem::take(&mut self.cfg),
            layout: std::mem::take(&mut src.layout),
            warnings: std::mem::take(&mut src.warnings),
        };
        let r = lvs_config::reparse_file(&self.opts.config, &src.text, &prev);
        self.cfg = prev.config;
        src.layout = prev.layout;
        src.warnings = prev.warnings;
        r.map(|(text, p)| (p, Some(text)))
    }

    /// Program the table and start every nanny.
    pub fn start(&mut self) {
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
            self.check_sorry(k);
        }
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
        // SAFETY: the closure only calls async-signal-safe functions.
        unsafe {
            cmd.pre_exec(nanny_pre_exec);
        }
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
        }
        verdict
    }

    fn check_sorry(&mut self, key: ServiceKey) {
        let Some(d) = self.by_key.get(&key).map(|&i| &self.services[i]) else {
            return;
        };
        let Some(sorry) = d.sorry else {
            return;
        };
        let count = self.live.get(&key).map(Live::count).unwrap_or(0);
        let on = self.sorry_on.get(&key).copied().unwrap_or(false);
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
                let Some(e) = sorry::parse_line(&line) else {
                    continue;
                };
                r.live = matches!(e, sorry::Event::Up(_));
                changed.push((r.key, e));
            }
            if r.buf.len() > 64 * 1024 {
                r.buf.clear();
            }
        }
        for (key, e) in changed {
            self.live.entry(key).or_default().apply(e);
            self.check_sorry(key);
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
                    if let Some(r) = self.monitors.get(k) {
                        if let Some(pid) = r.pid {
                            log::warn!(
                                "nanny for {} did not stop within {} s; killing it",
                                r.mon.label(),
                                self.opts.grace.as_secs()
                            );
                            let _ = kill(pid, Signal::SIGKILL);
                        }
                    }
                }
                let _ = waitpid(Pid::from_raw(-1), None);
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
        let new_cfg = match self.reread() {
            Ok((p, text)) => {
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
                p.config
            }
            Err(d) => {
                for e in d.errors() {
                    log::error!("{e}");
                }
                log::error!("keeping the running configuration");
                return;
            }
        };
        let t_parsed = t0.elapsed();
        let new = plan::desired_after(&new_cfg, self.mode, &self.cfg, &self.services);
        let r = plan::reload(&self.cfg, &self.services, &new_cfg, &new);
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
        self.table = Ipvsadm {
            program: new_cfg.ipvsadm(),
            test_start: self.opts.test_start,
        };
        for d in &new {
            if !old_by_key.contains_key(&d.key) {
                log::info!("starting virtual service {} active: {}", d.name, d.port);
            }
        }
        // Services whose sorry settings changed, with the line that takes
        // the old sorry entry out (found while the old plan is at hand).
        let resorry: Vec<(ServiceKey, Option<Vec<String>>)> = new
            .iter()
            .filter_map(|d| {
                let o = old_by_key.get(&d.key)?;
                let changed = o.sorry != d.sorry || o.method != d.method || o.port != d.port;
                changed.then(|| (d.key, o.sorry_line(false)))
            })
            .collect();
        self.restore(&lines);
        for key in &r.delete {
            self.live.remove(key);
            self.sorry_on.remove(key);
        }
        // A sorry entry that is in the table under the old settings goes;
        // check_sorry below decides afresh with the new ones.
        for (key, line) in resorry {
            if self.sorry_on.insert(key, false) == Some(true) {
                if let Some(l) = line {
                    if let Err(e) = self.table.run(&l) {
                        log::error!("{e}");
                    }
                }
            }
        }
        self.cfg = new_cfg;
        self.set_services(new);
        self.spawn_many(r.start);
        let keys: Vec<ServiceKey> = self.services.iter().map(|d| d.key).collect();
        for k in keys {
            self.live.entry(k).or_default();
            self.check_sorry(k);
        }
        log::info!(
            "reload took {} ms: file read and checked {} ms, planned {} ms, nannies stopped {} ms, table and nannies {} ms",
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
            let next = self.monitors.values().filter_map(|r| r.restart_at).min();
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
            for sig in self.signals.take() {
                match sig {
                    libc::SIGCHLD => {}
                    libc::SIGHUP => self.reload(),
                    s => {
                        log::info!("shutting down due to signal {s}");
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

/// Write the pidfile, refusing when it names a running process.
pub fn write_pidfile(path: &Path) -> Result<(), String> {
    if let Ok(old) = std::fs::read_to_string(path) {
        if let Ok(pid) = old.trim().parse::<i32>() {
            if pid > 0 && pid != std::process::id() as i32 && kill(Pid::from_raw(pid), None).is_ok()
            {
                return Err(format!(
                    "lvs is already running (pid {pid} in {})",
                    path.display()
                ));
            }
        }
    }
    lvs_config::editor::write_atomic(path, format!("{}\n", std::process::id()).as_bytes(), false)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}
