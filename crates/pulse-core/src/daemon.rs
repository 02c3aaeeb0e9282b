//! The pulse process: startup checks, heartbeat sockets, the main loop, and
//! carrying out the state machine's actions (commands, lvs, floating
//! addresses, gratuitous ARPs, sync daemon).
//!
//! One thread runs the loop (poll on the heartbeat sockets and the signal
//! pipe, with a timeout to the machine's next deadline); lvs and the
//! `active_cmd`/`inactive_cmd` children are spawned from it, so lvs's
//! `PR_SET_PDEATHSIG` fires when pulse dies.  Gratuitous ARPs are sent by
//! short-lived threads (five `send_arp` runs per address, one second apart)
//! so they never delay a heartbeat.

use std::collections::HashSet;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use log::{debug, info, warn};
use lvs_config::{Config, Network, ServiceType};
use nix::poll::{poll, PollFd, PollFlags};
use piranha_runtime::daemon::{detach, Detached, Starter};
use piranha_runtime::error::chain;
use piranha_runtime::pidfile::{Pidfile, PidfileError};
use piranha_runtime::quote::argv_line;
use piranha_runtime::signals::{poll_timeout, SignalWaiter};
use piranha_runtime::spawn::prepare_child;

use crate::heartbeat::{self, Authenticator, DecodeError, Magic};
use crate::lease::{Event, Lease};
use crate::machine::{Action, Machine, Nic, Settings};
use crate::net::{broadcast, prefix_of, Addr, Kernel, NetError, Netlink};

/// Default pidfile.
pub const DEFAULT_PIDFILE: &str = "/var/run/pulse.pid";
/// Default lvs daemon.
pub const DEFAULT_LVSD: &str = "/usr/sbin/lvs";
/// Default send_arp.
pub const DEFAULT_SEND_ARP: &str = "/usr/sbin/send_arp";
/// Gratuitous ARPs per address, as Piranha.
pub const ARP_COUNT: u32 = 5;
/// How long lvs gets to exit after SIGTERM before SIGKILL.
pub const LVS_STOP_GRACE: Duration = Duration::from_secs(5);
/// What a takeover allows lvs for starting and programming its table, on
/// top of the time its first checks may take (`Config::first_verdict`).
pub const LVS_START_MS: u64 = 2000;
/// The lvs pidfile (lvs's default; pulse passes none).
pub const LVS_PIDFILE: &str = "/var/run/lvs.pid";
/// First delay before a standby lvs that died is started again; doubles
/// per quick death up to [`LVS_RESTART_MAX`].
const LVS_RESTART_FIRST: Duration = Duration::from_secs(1);
const LVS_RESTART_MAX: Duration = Duration::from_secs(30);

/// The switch-over request: `pulse --switchover` sends it to the running
/// daemon (a real-time signal, so that no signal an administrator sends
/// for another reason moves the active role).
pub fn switchover_signal() -> i32 {
    libc::SIGRTMIN() + 1
}

/// Exit code: normal exit (signal, or a backup marked inactive).
pub const EXIT_OK: u8 = 0;
/// Exit code: bad configuration or startup failure.
pub const EXIT_FAILURE: u8 = 1;

/// Command-line options.
#[derive(Debug, Clone)]
pub struct Options {
    /// lvs.cf.
    pub configfile: PathBuf,
    /// `-n`: stay in the foreground.
    pub nodaemon: bool,
    /// `--test-start`/`--norun`: do not start lvs.
    pub test_start: bool,
    /// `-v`.
    pub verbose: bool,
    /// `--forceactive`.
    pub forceactive: bool,
    /// `--lvsd`.
    pub lvsd: PathBuf,
    /// `--fos` (fos mode is not supported; kept for the command line).
    pub fos: PathBuf,
    /// Pidfile.
    pub pidfile: PathBuf,
    /// send_arp program.
    pub send_arp: PathBuf,
}

/// Startup failures (each printed as `pulse: ...` on stderr, exit 1).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// lvs.cf did not parse.
    #[error("{0}")]
    Config(String),
    /// `service = fos`.
    #[error("fos mode is not supported by this pulse; use service = lvs")]
    Fos,
    /// No active virtual server.
    #[error("no active lvs services defined in {0}")]
    NoServices(String),
    /// Binding the heartbeat socket failed.
    #[error("cannot create heartbeat socket. running as root?")]
    Socket(#[source] std::io::Error),
    /// rtnetlink failed.
    #[error("failed to read this host's addresses")]
    Net(#[source] crate::net::NetError),
    /// `heartbeat_key` unreadable.
    #[error("failed to read heartbeat key {path}")]
    Key {
        /// The key file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Daemonizing failed.
    #[error("failed to become a daemon")]
    Daemon(#[source] piranha_runtime::daemon::DaemonError),
    /// Another pulse runs.
    #[error(transparent)]
    Pidfile(PidfileError),
    /// Signal handlers.
    #[error("failed to install signal handlers")]
    Signals(#[source] piranha_runtime::signals::SignalError),
}

/// A floating address from lvs.cf: a VIP or the NAT router address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Floating {
    /// The address.
    pub ip: Ipv4Addr,
    /// Prefix length (32 when lvs.cf gives no netmask).
    pub prefix: u8,
    /// Label as written (`eth0:1`).
    pub label: String,
    /// The device (`eth0`).
    pub dev: String,
}

/// The floating addresses of `cfg`: every active virtual server's VIP and,
/// with `network = nat`, the NAT router address; unique by address and
/// device, in file order.
pub fn floating_addresses(cfg: &Config) -> Vec<Floating> {
    let mut out: Vec<Floating> = Vec::new();
    let mut push = |ip: Ipv4Addr, mask: Ipv4Addr, label: &str, dev: &str| {
        if ip.is_unspecified() || label.is_empty() {
            return;
        }
        let prefix = if mask.is_unspecified() {
            32
        } else {
            prefix_of(mask)
        };
        if out.iter().any(|f| f.ip == ip && f.dev == dev) {
            return;
        }
        out.push(Floating {
            ip,
            prefix,
            label: label.to_string(),
            dev: dev.to_string(),
        });
    };
    for vs in cfg.active_virtual_servers() {
        if let Some(a) = &vs.address {
            push(
                a.value.ip.addr,
                vs.vip_nmask(),
                &a.value.dev,
                a.value.base_device(),
            );
        }
    }
    if cfg.network() == Network::Nat {
        if let Some(r) = &cfg.nat_router {
            push(
                r.value.ip.addr,
                cfg.nat_nmask(),
                &r.value.dev,
                r.value.base_device(),
            );
        }
    }
    out
}

/// The argv pulse gives lvs (Piranha §2.5).
pub fn lvs_argv(lvsd: &Path, daemon: bool, cfg: &Path, verbose: bool) -> Vec<String> {
    let mut v = vec![
        lvsd.display().to_string(),
        if daemon { "--nofork" } else { "--nodaemon" }.to_string(),
        "-c".to_string(),
        cfg.display().to_string(),
    ];
    if verbose {
        v.push("-v".to_string());
    }
    v
}

/// The `ipvsadm` argv lists for the sync daemons (Piranha's syncDaemon:
/// `--stop-daemon`, `--start-daemon ROLE --mcast-interface IF --syncid ID`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncCommands {
    /// `--stop-daemon backup`.
    pub stop_backup: Vec<String>,
    /// `--stop-daemon master`.
    pub stop_master: Vec<String>,
    /// `--start-daemon backup ...`.
    pub start_backup: Vec<String>,
    /// `--start-daemon master ...`.
    pub start_master: Vec<String>,
}

/// The sync daemon commands of `cfg` (its `ipvsadm`, `syncd_iface`,
/// `syncd_id`).
pub fn sync_daemon_argvs(cfg: &Config) -> SyncCommands {
    let ipvsadm = cfg.ipvsadm();
    let s = |v: &[&str]| -> Vec<String> {
        std::iter::once(ipvsadm.clone())
            .chain(v.iter().map(|x| x.to_string()))
            .collect()
    };
    let start = |role: &str| {
        s(&[
            "--start-daemon",
            role,
            "--mcast-interface",
            &cfg.syncd_iface(),
            "--syncid",
            &cfg.syncd_id().to_string(),
        ])
    };
    SyncCommands {
        stop_backup: s(&["--stop-daemon", "backup"]),
        stop_master: s(&["--stop-daemon", "master"]),
        start_backup: start("backup"),
        start_master: start("master"),
    }
}

/// Run one sync daemon command and wait for it; whether it worked.  Our
/// own ipvsadm (the `ipvsadm` beside pulse) runs in-process, without a fork
/// and exec; `quiet`: failures are expected (stopping what may not run).
fn run_sync(argv: Vec<String>, quiet: bool) -> bool {
    if ipvs::ipvsadm::is_ours(&argv[0]) {
        let c = ipvs::ipvsadm::run_captured(&argv, b"");
        if c.code != 0 && !quiet {
            warn!(
                "{} failed: {}",
                argv.join(" "),
                String::from_utf8_lossy(&c.err).trim()
            );
        }
        return c.code == 0;
    }
    let mut c = Command::new(&argv[0]);
    c.args(&argv[1..]).stdin(Stdio::null());
    if quiet {
        c.stderr(Stdio::null());
    }
    prepare_child(&mut c, false);
    match c.status() {
        Ok(s) if s.success() => true,
        Ok(s) => {
            if !quiet {
                warn!("{} {}", argv_line(&argv), describe(s));
            }
            false
        }
        Err(e) => {
            warn!("failed to run {}: {e}", argv[0]);
            false
        }
    }
}

/// Send `sig` to lvs; a failure is logged (ESRCH: it is being reaped).
fn signal_lvs(child: &Child, sig: nix::sys::signal::Signal) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    if let Err(e) = nix::sys::signal::kill(pid, sig) {
        warn!("failed to send {sig} to lvs {pid}: {e}");
    }
}

/// Read lvs.cf, with every diagnostic in the error text.
pub fn load_config(path: &Path) -> Result<Config, StartError> {
    lvs_config::parse_file(path).map(|p| p.config).map_err(|d| {
        StartError::Config(
            d.0.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })
}

/// How long a takeover waits for lvs to report its table ready (ms): the
/// time its first checks may take plus [`LVS_START_MS`].
pub fn ready_bound_ms(cfg: &Config) -> u64 {
    cfg.first_verdict().as_millis() as u64 + LVS_START_MS
}

/// How long a leaving director waits for its partner to take over (ms):
/// about `deadtime`, plus [`ready_bound_ms`] when the partner has no hot
/// standby (it starts lvs first, and announces once lvs is ready).
pub fn handover_bound_ms(cfg: &Config) -> u64 {
    cfg.deadtime().0.max(1)
        + if cfg.hot_standby() {
            0
        } else {
            ready_bound_ms(cfg)
        }
}

/// The machine's settings: Piranha's timers, and the two waits of a role
/// change.
fn settings_of(cfg: &Config, master: bool) -> Settings {
    Settings {
        master,
        backup_active: effective_backup_active(cfg),
        keepalive_ms: cfg.keepalive().0.max(1),
        deadtime_ms: cfg.deadtime().0.max(1),
        ready_ms: ready_bound_ms(cfg),
        handover_ms: handover_bound_ms(cfg),
    }
}

fn effective_backup_active(cfg: &Config) -> bool {
    cfg.backup_active() && !cfg.backup().is_unspecified()
}

fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A heartbeat channel: our socket and the partner's address on it.
#[derive(Debug)]
struct Channel {
    name: &'static str,
    sock: UdpSocket,
    partner: Ipv4Addr,
}

/// The lvs child and what pulse knows of it.
struct Lvs {
    child: Child,
    /// pulse's end of the readiness pipe, until lvs writes or closes it.
    ready_pipe: Option<std::fs::File>,
    /// lvs said its table is ready.
    ready: bool,
    /// lvs runs in the standby role (`hot_standby`, passive director).
    standby: bool,
    started: Instant,
}

/// Everything the running daemon owns.
struct Director {
    opts: Options,
    /// Removed when pulse exits.
    pidfile: Option<Pidfile>,
    cfg: Config,
    master: bool,
    daemon: bool,
    me_public: Ipv4Addr,
    me_private: Option<Ipv4Addr>,
    partner_ips: Vec<Ipv4Addr>,
    channels: Vec<Channel>,
    kernel: Netlink,
    machine: Machine,
    lvs: Option<Lvs>,
    /// When to start a standby lvs (again).
    lvs_restart_at: Option<Instant>,
    lvs_backoff: Duration,
    /// The sync daemons pulse started: backup, master.
    sync_running: (bool, bool),
    /// An [`Action::Exit`] was carried out.
    exiting: bool,
    /// The sync master starts at the end of the actions being carried out
    /// (after an announcement's RUNNING heartbeat).
    sync_master_due: bool,
    /// The takeover guard ([`crate::guard`]) is in place.
    guard_armed: bool,
    /// The guard goes then (GUARD_MS after a takeover).
    guard_until: Option<Instant>,
    /// A failure of the guard was logged (once).
    guard_warned: bool,
    /// `--lvsd` is our own lvs (installed beside pulse): it reports its
    /// table ready and knows the standby role.  Any other lvs gets
    /// Piranha's takeover (addresses up at once) and no hot standby.
    lvs_ours: bool,
    helpers: Vec<Child>,
    added: Vec<Addr>,
    /// The lifetime of `added` and when to renew it.
    lease: Lease,
    arp_gen: Arc<AtomicU64>,
    /// A round of gratuitous ARPs is under way.
    arps_busy: Arc<AtomicBool>,
    auth: Option<Authenticator>,
    start: Instant,
    monitor_links: bool,
}

/// The heartbeat side of a configuration: our addresses, the partner's,
/// the bound sockets and the authenticator.
struct Heartbeat {
    me_public: Ipv4Addr,
    me_private: Option<Ipv4Addr>,
    partner_ips: Vec<Ipv4Addr>,
    channels: Vec<Channel>,
    auth: Option<Authenticator>,
}

/// What decides the heartbeat sockets; a SIGHUP that changes it rebinds.
fn heartbeat_identity(cfg: &Config) -> (u16, [Ipv4Addr; 4], Option<String>) {
    (
        cfg.heartbeat_port(),
        [
            cfg.primary(),
            cfg.primary_private(),
            cfg.backup(),
            cfg.backup_private(),
        ],
        cfg.heartbeat_key.as_ref().map(|k| k.value.to_string()),
    )
}

/// Bind the heartbeat sockets (public, and private when the configuration
/// has a separate private channel) and load the heartbeat key.
fn heartbeat_setup(cfg: &Config, master: bool) -> Result<Heartbeat, StartError> {
    let (me_public, me_private, partner_public, partner_private) = if master {
        (
            cfg.primary(),
            cfg.primary_private(),
            cfg.backup(),
            cfg.backup_private(),
        )
    } else {
        (
            cfg.backup(),
            cfg.backup_private(),
            cfg.primary(),
            cfg.primary_private(),
        )
    };
    let private_channel = cfg.primary() != cfg.primary_private();
    let mut channels = Vec::new();
    let port = cfg.heartbeat_port();
    let bind = |ip: Ipv4Addr| -> Result<UdpSocket, StartError> {
        let s = UdpSocket::bind(SocketAddrV4::new(ip, port)).map_err(StartError::Socket)?;
        s.set_nonblocking(true).map_err(StartError::Socket)?;
        Ok(s)
    };
    channels.push(Channel {
        name: "public",
        sock: bind(me_public)?,
        partner: partner_public,
    });
    let mut me_private_opt = None;
    if private_channel && !me_private.is_unspecified() {
        channels.push(Channel {
            name: "private",
            sock: bind(me_private)?,
            partner: partner_private,
        });
        me_private_opt = Some(me_private);
    }
    let auth = match &cfg.heartbeat_key {
        Some(k) => {
            let key = std::fs::read(&k.value).map_err(|source| StartError::Key {
                path: k.value.clone(),
                source,
            })?;
            let seq = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_micros() as u64)
                .unwrap_or(1);
            Some(Authenticator::new(&key, seq))
        }
        None => None,
    };

    let mut partner_ips = vec![partner_public];
    if private_channel && !partner_private.is_unspecified() {
        partner_ips.push(partner_private);
    }
    Ok(Heartbeat {
        me_public,
        me_private: me_private_opt,
        partner_ips,
        channels,
        auth,
    })
}

/// Run pulse; returns the exit code.  Call while single-threaded.
pub fn run(opts: Options) -> Result<u8, StartError> {
    let cfg = load_config(&opts.configfile)?;
    if cfg.service() == ServiceType::Fos {
        return Err(StartError::Fos);
    }
    if cfg.active_virtual_servers().next().is_none() {
        return Err(StartError::NoServices(
            opts.configfile.display().to_string(),
        ));
    }
    let mut kernel = Netlink::open().map_err(StartError::Net)?;
    let local: HashSet<Ipv4Addr> = kernel
        .addresses()
        .map_err(StartError::Net)?
        .into_iter()
        .map(|a| a.ip)
        .collect();
    let master = local.contains(&cfg.primary());
    let hb = heartbeat_setup(&cfg, master)?;
    let daemon = !opts.nodaemon;
    Pidfile::check(&opts.pidfile, &["pulse"]).map_err(StartError::Pidfile)?;
    // Readiness handshake: the starting process returns only once the
    // daemon has written its pidfile, so an init system that reads the
    // pidfile after it returns finds it.
    let mut starter = Starter::none();
    if daemon {
        match detach(false).map_err(StartError::Daemon)? {
            Detached::Parent { ready } => return Ok(if ready { EXIT_OK } else { EXIT_FAILURE }),
            Detached::Daemon(s) => starter = s,
        }
    }
    piranha_runtime::daemon::cloexec_inherited_fds();
    let pidfile = match Pidfile::create(&opts.pidfile, &["pulse"]) {
        Ok(p) => Some(p),
        Err(e @ PidfileError::Running { .. }) => return Err(StartError::Pidfile(e)),
        // As Piranha: a pidfile that cannot be written is only logged.
        Err(e) => {
            log::warn!("{}", chain(&e));
            None
        }
    };
    starter.ready();
    let signals = SignalWaiter::new(&[
        libc::SIGTERM,
        libc::SIGINT,
        libc::SIGHUP,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGCHLD,
        switchover_signal(),
    ])
    .map_err(StartError::Signals)?;

    if cfg.backup_active() && cfg.backup().is_unspecified() {
        info!("Undefined backup node marked as active? -- clearing that!");
    }
    let monitor_links = cfg.monitor_links() != 0 && effective_backup_active(&cfg);
    let settings = settings_of(&cfg, master);
    let start = Instant::now();
    let (machine, actions) = Machine::start(settings, 0, opts.forceactive);
    let opts_lvsd = opts.lvsd.clone();
    let mut d = Director {
        opts,
        pidfile,
        cfg,
        master,
        daemon,
        me_public: hb.me_public,
        me_private: hb.me_private,
        partner_ips: hb.partner_ips,
        channels: hb.channels,
        kernel,
        machine,
        lvs: None,
        lvs_restart_at: None,
        lvs_backoff: LVS_RESTART_FIRST,
        sync_running: (false, false),
        lvs_ours: piranha_runtime::is_beside_me(&opts_lvsd, "lvs"),
        exiting: false,
        sync_master_due: false,
        guard_armed: false,
        guard_until: None,
        guard_warned: false,
        helpers: Vec::new(),
        added: Vec::new(),
        lease: Lease::new(settings.keepalive_ms, settings.deadtime_ms, 0),
        arp_gen: Arc::new(AtomicU64::new(0)),
        arps_busy: Arc::new(AtomicBool::new(false)),
        auth: hb.auth,
        start,
        monitor_links,
    };
    if d.cfg.hot_standby() && !d.lvs_ours && !d.opts.test_start {
        warn!(
            "hot_standby = 1 needs this suite's lvs; {} is another program: lvs starts at takeover",
            d.opts.lvsd.display()
        );
    }
    d.remove_stale_addresses();
    d.stop_stale_lvs();
    if d.cfg.syncdaemon() {
        // a guard left by a killed pulse
        let _ = crate::guard::nft(&crate::guard::removal());
    }
    if d.execute(actions) {
        d.cleanup_exit();
        return Ok(EXIT_OK);
    }
    if !d.machine.active() {
        d.want_standby_lvs();
        d.arm_guard();
    }
    let code = d.main_loop(&signals);
    d.cleanup_exit();
    Ok(code)
}

impl Director {
    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn cleanup_exit(&mut self) {
        self.arp_gen.fetch_add(1, Ordering::SeqCst);
        self.remove_guard();
        self.stop_lvs();
        if let Some(p) = self.pidfile.take() {
            p.remove();
        }
    }

    /// Carry out actions; true when pulse must exit.
    fn execute(&mut self, actions: Vec<Action>) -> bool {
        let mut exit = false;
        for a in actions {
            match a {
                Action::Log(s) => info!("{s}"),
                Action::Send(m) => self.send(m),
                Action::Activate => self.activate(),
                Action::Announce => self.announce(),
                Action::Deactivate { was_active } => self.deactivate(was_active),
                Action::ResendArps => {
                    // An active director that hears an active partner: it
                    // may have been stopped long enough for its addresses
                    // to expire; they are back before the ARPs announce them.
                    self.renew_addresses(true);
                    self.run_command("active_cmd", self.cfg.active_cmd.clone().map(|s| s.value));
                    // An active partner is heard every keepalive until it
                    // yields; one round at a time, not one per heartbeat.
                    if self.arps_busy.load(Ordering::SeqCst) {
                        debug!("gratuitous ARPs under way; no new round");
                    } else {
                        self.send_arps(floating_addresses(&self.cfg));
                    }
                }
                Action::PushConnections => self.push_connections(),
                Action::Exit => exit = true,
            }
        }
        if std::mem::take(&mut self.sync_master_due) && self.machine.serving() {
            self.sync_daemons(true);
        }
        self.exiting |= exit;
        exit
    }

    fn main_loop(&mut self, signals: &SignalWaiter) -> u8 {
        loop {
            // A handover that ended in a heartbeat's actions (read below).
            if self.exiting {
                return EXIT_OK;
            }
            for sig in signals.take() {
                match sig {
                    libc::SIGTERM | libc::SIGINT => {
                        info!("Terminating due to signal {sig}");
                        let now = self.now();
                        let a = self.machine.terminate(now);
                        if self.execute(a) {
                            return EXIT_OK;
                        }
                    }
                    libc::SIGHUP => self.reload(),
                    libc::SIGUSR1 | libc::SIGUSR2 => self.dump(),
                    s if s == switchover_signal() => {
                        let now = self.now();
                        let a = self.machine.switchover(now);
                        if self.execute(a) {
                            return EXIT_OK;
                        }
                    }
                    _ => {}
                }
            }
            self.reap();
            if self.guard_until.is_some_and(|t| t <= Instant::now()) {
                self.remove_guard();
            }
            if self.lvs_restart_at.is_some_and(|t| t <= Instant::now()) {
                self.lvs_restart_at = None;
                self.want_standby_lvs();
            }
            self.lvs_said_ready();
            // Heartbeats that arrived while the loop was busy (an lvs slow
            // to stop blocks it for up to LVS_STOP_GRACE) or not scheduled
            // are read before the dead timer is looked at: otherwise a
            // director that just yielded declares its live partner dead.
            // Bounded, so that a flood cannot keep us from sending.
            for _ in 0..4 {
                if self.exiting || !self.receive() {
                    break;
                }
            }
            if self.exiting {
                // lvs died while handing over, or a handover ended
                return EXIT_OK;
            }
            let now = self.now();
            let a = self.machine.tick(now);
            if self.execute(a) {
                return EXIT_OK;
            }
            if self.monitor_links {
                let down = self.down_nics();
                let a = self.machine.links(&down);
                self.execute(a);
            }
            // After the heartbeats and the timers: a pulse resumed after a
            // stop that finds its partner active yields before it would
            // renew (re-add) addresses that expired meanwhile.
            self.renew_addresses(false);
            let now = self.now();
            let mut wait = self.machine.next_deadline().saturating_sub(now);
            if self.machine.serving() && !self.added.is_empty() {
                wait = wait.min(self.lease.next_at().saturating_sub(now));
            }
            if self.monitor_links || self.lvs.is_some() || !self.helpers.is_empty() {
                wait = wait.min(200);
            }
            if let Some(t) = self.guard_until {
                let ms = t.saturating_duration_since(Instant::now()).as_millis() as u64;
                wait = wait.min(ms);
            }
            if let Some(t) = self.lvs_restart_at {
                let ms = t.saturating_duration_since(Instant::now()).as_millis() as u64;
                wait = wait.min(ms);
            }
            let mut fds: Vec<PollFd> = self
                .channels
                .iter()
                .map(|c| PollFd::new(c.sock.as_fd(), PollFlags::POLLIN))
                .collect();
            fds.push(PollFd::new(signals.as_fd(), PollFlags::POLLIN));
            if let Some(p) = self.lvs.as_ref().and_then(|l| l.ready_pipe.as_ref()) {
                fds.push(PollFd::new(p.as_fd(), PollFlags::POLLIN));
            }
            if let Err(e) = poll(&mut fds, poll_timeout(Duration::from_millis(wait))) {
                if e != nix::errno::Errno::EINTR {
                    warn!("select() failed: {e}");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            drop(fds);
            let _ = self.receive();
        }
    }

    fn send(&mut self, m: Magic) {
        debug!("DEBUG -- Sending heartbeat...");
        let payload: Vec<u8> = match &mut self.auth {
            Some(a) => a.encode(m, now_unix_ms()).to_vec(),
            None => heartbeat::encode(m).to_vec(),
        };
        let port = self.cfg.heartbeat_port();
        for c in &self.channels {
            if c.partner.is_unspecified() {
                continue;
            }
            if let Err(e) = c.sock.send_to(&payload, SocketAddrV4::new(c.partner, port)) {
                warn!("Warning -- failed to send heartbeat ({} if): {e}", c.name);
            }
        }
    }

    /// Read and act on every datagram waiting on the heartbeat sockets;
    /// whether there was any.
    fn receive(&mut self) -> bool {
        let mut buf = [0u8; 128];
        let mut got = Vec::new();
        for c in &self.channels {
            loop {
                match c.sock.recv_from(&mut buf) {
                    Ok((n, from)) => got.push((buf[..n].to_vec(), from)),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => {
                        warn!("recvfrom() failed: {e}");
                        break;
                    }
                }
            }
        }
        let any = !got.is_empty();
        for (data, from) in got {
            let src = match from.ip() {
                std::net::IpAddr::V4(a) => a,
                std::net::IpAddr::V6(_) => continue,
            };
            if !self.partner_ips.contains(&src) {
                debug!("Unexpected heartbeat from {src}");
                continue;
            }
            let decoded = match &mut self.auth {
                Some(a) => a.decode(&data, now_unix_ms()),
                None => heartbeat::decode(&data),
            };
            match decoded {
                Ok((magic, _order)) => {
                    debug!("DEBUG -- Received Heartbeat from partner");
                    let now = self.now();
                    let a = self.machine.heartbeat(magic, now);
                    self.execute(a);
                }
                Err(e @ (DecodeError::BadLength(_) | DecodeError::Incompatible(_))) => {
                    info!("{e}")
                }
                Err(e) => warn!("{e} from {src}"),
            }
        }
        any
    }

    fn run_command(&mut self, what: &str, cmd: Option<String>) {
        let Some(cmd) = cmd else { return };
        let argv: Vec<&str> = cmd.split(' ').filter(|s| !s.is_empty()).collect();
        let Some((prog, args)) = argv.split_first() else {
            return;
        };
        let mut c = Command::new(prog);
        c.args(args).stdin(Stdio::null());
        prepare_child(&mut c, false);
        match c.spawn() {
            Ok(child) => self.helpers.push(child),
            Err(e) => warn!("failed to run {what} {cmd}: {e}"),
        }
    }

    /// The sync daemons (`syncdaemon = 1`): the backup daemon runs on both
    /// directors from start-up, the master daemon on the active one only
    /// (the kernel runs both at once), so connections opened through either
    /// director are known to the other.  Run as `ipvsadm` commands, waited
    /// for (they are quick), in-process when lvs.cf's ipvsadm is ours.
    fn sync_daemons(&mut self, master: bool) {
        if !self.cfg.syncdaemon() {
            return;
        }
        let run = run_sync;
        let cmds = sync_daemon_argvs(&self.cfg);
        if !self.sync_running.0 {
            // Whatever an earlier pulse left running goes first, as
            // Piranha's syncDaemon did.
            run(cmds.stop_backup.clone(), true);
            run(cmds.stop_master.clone(), true);
            self.sync_running = (run(cmds.start_backup, false), false);
        }
        if master && !self.sync_running.1 {
            self.sync_running.1 = run(cmds.start_master, false);
        } else if !master && self.sync_running.1 {
            run(cmds.stop_master, false);
            self.sync_running.1 = false;
        }
    }

    /// Take the role: `active_cmd`, and lvs active (told so when it stands
    /// by, started otherwise).  The addresses come up on
    /// [`Action::Announce`], once lvs has said its table is ready; the sync
    /// master starts after them.
    fn activate(&mut self) {
        self.run_command("active_cmd", self.cfg.active_cmd.clone().map(|s| s.value));
        self.lvs_restart_at = None;
        if self.opts.test_start {
            let a = self.machine.lvs_ready();
            self.execute(a);
            return;
        }
        match &mut self.lvs {
            Some(l) => {
                if l.standby {
                    l.standby = false;
                    signal_lvs(&l.child, nix::sys::signal::Signal::SIGUSR1);
                }
                if l.ready {
                    let a = self.machine.lvs_ready();
                    self.execute(a);
                }
            }
            None => self.spawn_lvs(false),
        }
    }

    /// lvs is ready (or the wait ended): the floating addresses up, the
    /// first gratuitous ARP sent by pulse itself before the RUNNING
    /// heartbeat that follows (a leaving partner drops its addresses when
    /// it hears it), then send_arp's five runs.
    fn announce(&mut self) {
        // Nothing is exec'd on this path: the guard is in place since the
        // director went passive (it matches only packets to a local VIP);
        // it stays GUARD_MS from now.
        if !self.guard_armed {
            self.arm_guard();
        }
        if self.guard_armed {
            self.guard_until = Some(Instant::now() + Duration::from_millis(crate::guard::GUARD_MS));
        }
        let floating = floating_addresses(&self.cfg);
        self.bring_up(&floating);
        self.send_arps(floating);
        // after the RUNNING heartbeat that follows (execute's end): a
        // foreign ipvsadm is a fork and exec
        self.sync_master_due = true;
    }

    /// Put the takeover guard ([`crate::guard`]) in place, with
    /// `syncdaemon = 1`: on a passive director, where it matches nothing
    /// (no VIP is local), so that a takeover needs no `nft` run; it goes
    /// [`crate::guard::GUARD_MS`] after the takeover.
    fn arm_guard(&mut self) {
        if !self.cfg.syncdaemon() || self.guard_armed {
            return;
        }
        let services: Vec<(Ipv4Addr, u16)> = self
            .cfg
            .table_virtual_servers()
            .filter(|v| v.fwmark() == 0 && v.protocol() == lvs_config::Protocol::Tcp)
            .filter_map(|v| v.address.as_ref().map(|a| (a.value.ip.addr, v.port())))
            .collect();
        if services.is_empty() {
            return;
        }
        match crate::guard::nft(&crate::guard::script(&services)) {
            Ok(()) => {
                debug!("takeover guard armed");
                self.guard_armed = true;
            }
            Err(e) if !self.guard_warned => {
                self.guard_warned = true;
                warn!(
                    "no takeover guard (segments of connections not synced yet may be reset): {}",
                    chain(&e)
                );
            }
            Err(_) => {}
        }
    }

    fn remove_guard(&mut self) {
        self.guard_until = None;
        if std::mem::take(&mut self.guard_armed) {
            if let Err(e) = crate::guard::nft(&crate::guard::removal()) {
                warn!("failed to remove the takeover guard: {}", chain(&e));
            }
        }
    }

    /// Send the partner our connections now ([`ipvs::sync`]), with
    /// `syncdaemon = 1`.
    fn push_connections(&mut self) {
        if !self.cfg.syncdaemon() {
            return;
        }
        match ipvs::sync::push_table(
            &self.cfg.syncd_iface(),
            self.cfg.syncd_id(),
            ipvs::sync::Forward::from_letter(self.cfg.network().method_letter()),
        ) {
            Ok(n) => info!("sent {n} connection(s) to the partner's sync daemon"),
            Err(e) => warn!("failed to send the connections to the partner: {e}"),
        }
    }

    /// Start lvs (`--standby` on a passive director with `hot_standby`),
    /// with the readiness pipe ([`piranha_runtime::ready`]).
    fn spawn_lvs(&mut self, standby: bool) {
        let mut argv = lvs_argv(
            &self.opts.lvsd,
            self.daemon,
            &self.opts.configfile,
            self.opts.verbose,
        );
        if standby {
            argv.push("--standby".to_string());
        }
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..]).stdin(Stdio::null());
        prepare_child(&mut c, true);
        // Another lvs (Piranha's lvsd) knows no handshake: the addresses
        // come up at once, as in Piranha.
        let pipe = match self.lvs_ours.then(piranha_runtime::ready::pipe) {
            None => None,
            Some(Ok((r, w))) => {
                let fd = w.as_raw_fd();
                c.env(piranha_runtime::ready::READY_FD_ENV, fd.to_string());
                // SAFETY: only fcntl between fork and exec.
                unsafe {
                    c.pre_exec(move || piranha_runtime::ready::inherit_in_child(fd));
                }
                Some((r, w))
            }
            Some(Err(e)) => {
                warn!("failed to create lvs's readiness pipe: {e}");
                None
            }
        };
        match c.spawn() {
            Ok(child) => {
                debug!(
                    "started lvs{} as process {}",
                    if standby { " (standby)" } else { "" },
                    child.id()
                );
                let ready = pipe.is_none();
                self.lvs = Some(Lvs {
                    child,
                    ready_pipe: pipe.map(|(r, _w)| r),
                    ready,
                    standby,
                    started: Instant::now(),
                });
                if ready && self.machine.active() {
                    let a = self.machine.lvs_ready();
                    self.execute(a);
                }
            }
            Err(e) => warn!("failed to start lvs {}: {e}", argv[0]),
        }
    }

    /// A passive director with `hot_standby` runs lvs as the standby.
    fn want_standby_lvs(&mut self) {
        if self.hot_standby() && self.lvs.is_none() && !self.machine.active() {
            self.spawn_lvs(true);
        }
    }

    /// `hot_standby = 1` with our own lvs (not with `--norun`).
    fn hot_standby(&self) -> bool {
        self.cfg.hot_standby() && self.lvs_ours && !self.opts.test_start
    }

    /// Read lvs's readiness pipe; a director waiting for lvs announces.
    fn lvs_said_ready(&mut self) {
        let Some(l) = &mut self.lvs else {
            return;
        };
        let Some(p) = &mut l.ready_pipe else {
            return;
        };
        match piranha_runtime::ready::read(p) {
            piranha_runtime::ready::Heard::Nothing => return,
            piranha_runtime::ready::Heard::Closed => {
                l.ready_pipe = None;
                return;
            }
            piranha_runtime::ready::Heard::Ready => {
                l.ready_pipe = None;
                l.ready = true;
                debug!("lvs {} reports its table ready", l.child.id());
            }
        }
        let a = self.machine.lvs_ready();
        self.execute(a);
    }

    /// Crash safety: an lvs that a killed pulse left behind (it keeps its
    /// table until the addresses are gone, which the sweep before did) is
    /// stopped before this pulse starts its own.
    fn stop_stale_lvs(&mut self) {
        let Some(pid) = std::fs::read_to_string(LVS_PIDFILE)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
            .filter(|&p| p > 1)
        else {
            return;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if !matches!(comm.trim(), "lvs" | "lvsd") {
            return;
        }
        let pid = nix::unistd::Pid::from_raw(pid);
        info!("stopping lvs {pid}, left running by a previous pulse");
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + LVS_STOP_GRACE;
        while nix::sys::signal::kill(pid, None).is_ok() {
            if Instant::now() >= deadline {
                warn!("lvs {pid} did not exit after SIGTERM; sending SIGKILL");
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Renew the lifetime of the floating addresses we hold (create or
    /// replace: one that expired while pulse did not run is added again)
    /// when a keepalive has passed since the last renewal, or now.
    fn renew_addresses(&mut self, now_anyway: bool) {
        let now = self.now();
        if !now_anyway && !self.lease.due(now) {
            return;
        }
        if !self.machine.serving() || self.added.is_empty() {
            self.lease.restart(now);
            return;
        }
        for e in self.lease.renew(&mut self.kernel, &self.added, now) {
            match e {
                Event::Failed(s) => warn!("{s}"),
                Event::Recovered(s) => info!("{s}"),
            }
        }
    }

    fn bring_up(&mut self, floating: &[Floating]) {
        let links = match self.kernel.links() {
            Ok(l) => l,
            Err(e) => {
                warn!("failed to list links: {e}");
                return;
            }
        };
        let present = self.kernel.addresses().unwrap_or_default();
        for f in floating {
            let Some(link) = links.iter().find(|l| l.name == f.dev) else {
                warn!("failed to add {}: no such device {}", f.ip, f.dev);
                continue;
            };
            if present
                .iter()
                .any(|a| a.ip == f.ip && a.index == link.index)
            {
                debug!("{} already on {}, not ours to manage", f.ip, f.dev);
                continue;
            }
            let a = Addr {
                ip: f.ip,
                prefix: f.prefix,
                index: link.index,
                label: f.label.clone(),
                lifetime: Some(self.lease.lifetime()),
            };
            match self.kernel.add_address(&a) {
                Ok(()) => {
                    info!("added {}/{} on {}", f.ip, f.prefix, f.label);
                    self.added.push(a);
                }
                Err(e) => warn!("{}", chain(&e)),
            }
        }
    }

    fn take_down(&mut self, keep: &[Floating]) {
        let mut failed = Vec::new();
        let added = std::mem::take(&mut self.added);
        for a in added {
            if keep.iter().any(|f| f.ip == a.ip && f.label == a.label) {
                self.added.push(a);
                continue;
            }
            match self.kernel.del_address(&a) {
                Ok(()) => info!("removed {}/{} from {}", a.ip, a.prefix, a.label),
                // its lifetime ran out while pulse did not renew it (stopped)
                Err(NetError::Refused { source, .. })
                    if source.raw_os_error() == Some(libc::EADDRNOTAVAIL) =>
                {
                    info!("{}/{} on {} had expired", a.ip, a.prefix, a.label)
                }
                Err(e) => failed.push(chain(&e)),
            }
        }
        for f in failed {
            warn!("{f}");
        }
    }

    fn deactivate(&mut self, was_active: bool) {
        self.run_command(
            "inactive_cmd",
            self.cfg.inactive_cmd.clone().map(|s| s.value),
        );
        if was_active {
            // The addresses go first, before anything is run: lvs may take
            // up to LVS_STOP_GRACE to stop (its nannies remove their
            // servers), and until they are gone both directors would hold
            // the VIPs (Piranha waited for lvsd first).
            self.arp_gen.fetch_add(1, Ordering::SeqCst);
            self.take_down(&[]);
        }
        self.sync_daemons(false);
        if !was_active {
            return;
        }
        self.guard_until = None;
        self.arm_guard();
        if self.hot_standby() {
            // lvs stays, its table and nannies with it, as the standby.
            match &mut self.lvs {
                Some(l) if !l.standby => {
                    l.standby = true;
                    signal_lvs(&l.child, nix::sys::signal::Signal::SIGUSR2);
                }
                Some(_) => {}
                None => self.lvs_restart_at = Some(Instant::now() + self.lvs_backoff),
            }
            return;
        }
        self.stop_lvs();
    }

    fn stop_lvs(&mut self) {
        let Some(Lvs { mut child, .. }) = self.lvs.take() else {
            return;
        };
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + LVS_STOP_GRACE;
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) if Instant::now() >= deadline => {
                    warn!("lvs {pid} did not exit after SIGTERM; sending SIGKILL");
                    let _ = child.kill();
                    let _ = child.wait();
                    return;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    /// Reap helpers and lvs (lvs dying while a stopping pulse hands over
    /// ends pulse: [`Director::exiting`]).
    fn reap(&mut self) {
        self.helpers
            .retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_)) | Err(_)));
        let Some(l) = &mut self.lvs else {
            return;
        };
        let status = match l.child.try_wait() {
            Ok(Some(s)) => s,
            Ok(None) | Err(_) => return,
        };
        let pid = l.child.id();
        let lived = l.started.elapsed();
        self.lvs = None;
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(c), _) => info!("Child process {pid} exited with status {c}"),
            (None, Some(s)) => info!("Child process {pid} terminated with signal {s}"),
            _ => info!("Child process {pid} exited"),
        }
        if self.machine.active() {
            let a = self.machine.child_failed();
            self.execute(a);
            return;
        }
        // The standby lvs: started again, with back-off.
        if lived >= Duration::from_secs(60) {
            self.lvs_backoff = LVS_RESTART_FIRST;
        }
        if self.hot_standby() {
            warn!(
                "standby lvs {pid} ended; starting it again in {} s",
                self.lvs_backoff.as_secs()
            );
            self.lvs_restart_at = Some(Instant::now() + self.lvs_backoff);
            self.lvs_backoff = (self.lvs_backoff * 2).min(LVS_RESTART_MAX);
        }
    }

    fn send_arps(&mut self, floating: Vec<Floating>) {
        if floating.is_empty() {
            return;
        }
        let links = self.kernel.links().unwrap_or_default();
        let gen = self.arp_gen.load(Ordering::SeqCst);
        let flag = Arc::clone(&self.arp_gen);
        let busy = Arc::clone(&self.arps_busy);
        busy.store(true, Ordering::SeqCst);
        let send_arp = self.opts.send_arp.clone();
        let mut jobs = Vec::new();
        for f in floating {
            let mac = links
                .iter()
                .find(|l| l.name == f.dev)
                .and_then(|l| l.mac)
                .unwrap_or([0; 6]);
            let mac: String = mac.iter().map(|b| format!("{b:02X}")).collect();
            let bcast = broadcast(f.ip, f.prefix.min(24));
            jobs.push(vec![
                "-i".to_string(),
                f.dev.clone(),
                f.ip.to_string(),
                mac,
                bcast.to_string(),
                "ffffffffffff".to_string(),
            ]);
        }
        // The first of the five frames of each address from pulse itself,
        // now: the RUNNING heartbeat that follows an announcement must not
        // overtake it.  send_arp sends the four others, one second apart.
        for args in &jobs {
            if let Err(e) = crate::arp::parse_args(args).and_then(|r| crate::arp::send(&r)) {
                warn!(
                    "failed to send a gratuitous ARP for {}: {}",
                    args[2],
                    chain(&e)
                );
            }
        }
        std::thread::spawn(move || {
            let handles: Vec<_> = jobs
                .into_iter()
                .map(|args| {
                    let flag = Arc::clone(&flag);
                    let send_arp = send_arp.clone();
                    std::thread::spawn(move || {
                        // On a one-second grid, so slow execs do not stretch
                        // the spacing.
                        let t0 = Instant::now();
                        for i in 1..ARP_COUNT {
                            let at = t0 + Duration::from_secs(u64::from(i));
                            std::thread::sleep(at.saturating_duration_since(Instant::now()));
                            if flag.load(Ordering::SeqCst) != gen {
                                return false;
                            }
                            match Command::new(&send_arp)
                                .args(&args)
                                .stdin(Stdio::null())
                                .status()
                            {
                                Ok(s) if s.success() => {}
                                Ok(s) => warn!("send_arp {} {}", args.join(" "), describe(s)),
                                Err(e) => warn!("failed to run {}: {e}", send_arp.display()),
                            }
                        }
                        true
                    })
                })
                .collect();
            let mut all = true;
            for h in handles {
                all &= h.join().unwrap_or(false);
            }
            busy.store(false, Ordering::SeqCst);
            if all {
                info!("gratuitous lvs arps finished");
            }
        });
    }

    /// Crash safety: a pulse killed with -9 leaves its floating addresses;
    /// remove every lvs.cf floating address found here before taking a role.
    fn remove_stale_addresses(&mut self) {
        let floating = floating_addresses(&self.cfg);
        let present = match self.kernel.addresses() {
            Ok(a) => a,
            Err(e) => {
                warn!("failed to list addresses: {e}");
                return;
            }
        };
        for a in present {
            if Some(a.ip) == self.me_private || a.ip == self.me_public {
                continue;
            }
            if floating.iter().any(|f| f.ip == a.ip) {
                match self.kernel.del_address(&a) {
                    Ok(()) => info!(
                        "removed stale floating address {}/{} from {}",
                        a.ip, a.prefix, a.label
                    ),
                    Err(e) => warn!("{}", chain(&e)),
                }
            }
        }
    }

    fn down_nics(&mut self) -> Vec<Nic> {
        let (Ok(addrs), Ok(links)) = (self.kernel.addresses(), self.kernel.links()) else {
            return Vec::new();
        };
        let mut down = Vec::new();
        let mut check = |ip: Ipv4Addr, nic: Nic| {
            // An address not found counts as up, as in Piranha.
            if let Some(a) = addrs.iter().find(|a| a.ip == ip) {
                if let Some(l) = links.iter().find(|l| l.index == a.index) {
                    if !l.running() {
                        down.push(nic);
                    }
                }
            }
        };
        check(self.me_public, Nic::Primary);
        if let Some(p) = self.me_private {
            check(p, Nic::Private);
        }
        down
    }

    fn reload(&mut self) {
        match load_config(&self.opts.configfile) {
            Err(e) => warn!(
                "failed to re-read {}, keeping the old configuration: {e}",
                self.opts.configfile.display()
            ),
            Ok(cfg) => {
                info!("re-read {}", self.opts.configfile.display());
                let old = floating_addresses(&self.cfg);
                let sync_of =
                    |c: &Config| (c.syncdaemon(), c.syncd_iface(), c.syncd_id(), c.ipvsadm());
                let sync_changed = sync_of(&cfg) != sync_of(&self.cfg);
                let cfg = self.rebind_if_changed(cfg);
                let old_cfg = std::mem::replace(&mut self.cfg, cfg);
                let now = self.now();
                let settings = settings_of(&self.cfg, self.master);
                self.machine.reconfigure(settings, now);
                self.lease
                    .reconfigure(settings.keepalive_ms, settings.deadtime_ms, now);
                self.monitor_links =
                    self.cfg.monitor_links() != 0 && effective_backup_active(&self.cfg);
                // the guard of a passive director follows the services
                // (and syncdaemon)
                if self.guard_until.is_none() && self.guard_armed {
                    self.remove_guard();
                }
                if !self.machine.serving() {
                    self.arm_guard();
                }
                if !self.machine.active() {
                    // hot_standby turned on or off on the passive director.
                    match &self.lvs {
                        None => self.want_standby_lvs(),
                        Some(_) if !self.hot_standby() => {
                            info!("hot_standby is off: stopping the standby lvs");
                            self.stop_lvs();
                        }
                        Some(_) => {}
                    }
                }
                if sync_changed && self.sync_running != (false, false) {
                    // stopped with the old settings, started with the new
                    let cmds = sync_daemon_argvs(&old_cfg);
                    run_sync(cmds.stop_master, true);
                    run_sync(cmds.stop_backup, true);
                    self.sync_running = (false, false);
                }
                if sync_changed {
                    self.sync_daemons(self.machine.serving());
                }
                if self.machine.serving() {
                    let new = floating_addresses(&self.cfg);
                    self.take_down(&new);
                    let fresh: Vec<Floating> =
                        new.into_iter().filter(|f| !old.contains(f)).collect();
                    self.bring_up(&fresh);
                    self.send_arps(fresh);
                }
            }
        }
        if let Some(l) = &self.lvs {
            signal_lvs(&l.child, nix::sys::signal::Signal::SIGHUP);
        }
    }

    /// Apply changed heartbeat settings (port, addresses, key) by binding
    /// new sockets. A change of role (this host is no longer the one named
    /// by `primary`, or now is) needs a restart: the old heartbeat settings
    /// are kept and the reason logged. If the new sockets cannot be bound
    /// the old ones are bound again.
    fn rebind_if_changed(&mut self, mut cfg: Config) -> Config {
        if heartbeat_identity(&cfg) == heartbeat_identity(&self.cfg) {
            return cfg;
        }
        let master = match self.kernel.addresses() {
            Ok(a) => a.iter().any(|a| a.ip == cfg.primary()),
            Err(_) => self.master,
        };
        let keep_old = |cfg: &mut Config, old: &Config| {
            cfg.heartbeat_port = old.heartbeat_port.clone();
            cfg.primary = old.primary.clone();
            cfg.primary_private = old.primary_private.clone();
            cfg.backup = old.backup.clone();
            cfg.backup_private = old.backup_private.clone();
            cfg.heartbeat_key = old.heartbeat_key.clone();
        };
        if master != self.master {
            warn!("the new configuration makes this director the {}; restart pulse for a role change (heartbeat settings unchanged)",
                if master { "master" } else { "backup" });
            keep_old(&mut cfg, &self.cfg);
            return cfg;
        }
        // The old sockets may hold the address and port the new ones need.
        self.channels.clear();
        match heartbeat_setup(&cfg, master) {
            Ok(hb) => {
                info!(
                    "heartbeat now on port {} ({} channel{})",
                    cfg.heartbeat_port(),
                    hb.channels.len(),
                    if hb.channels.len() == 1 { "" } else { "s" }
                );
                self.me_public = hb.me_public;
                self.me_private = hb.me_private;
                self.partner_ips = hb.partner_ips;
                self.channels = hb.channels;
                self.auth = hb.auth;
            }
            Err(e) => {
                warn!(
                    "failed to apply the new heartbeat settings, keeping the old ones: {}",
                    chain(&e)
                );
                keep_old(&mut cfg, &self.cfg);
                match heartbeat_setup(&self.cfg, self.master) {
                    Ok(hb) => self.channels = hb.channels,
                    Err(e) => warn!(
                        "failed to bind the old heartbeat sockets again: {}",
                        chain(&e)
                    ),
                }
            }
        }
        cfg
    }

    fn dump(&mut self) {
        let now = self.now();
        info!("{}", self.machine.dump(now));
        info!(
            "lvs: {}; floating addresses held: {}",
            self.lvs
                .as_ref()
                .map(|l| format!(
                    "process {}{}{}",
                    l.child.id(),
                    if l.standby { ", standby" } else { "" },
                    if l.ready { ", table ready" } else { "" }
                ))
                .unwrap_or_else(|| "not running".to_string()),
            if self.added.is_empty() {
                "none".to_string()
            } else {
                self.added
                    .iter()
                    .map(|a| format!("{}/{} on {}", a.ip, a.prefix, a.label))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
    }
}

fn describe(s: std::process::ExitStatus) -> String {
    piranha_runtime::spawn::completion(s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> Config {
        lvs_config::parse_str(text, &lvs_config::ParseOptions::for_file("t.cf"))
            .unwrap()
            .config
    }

    #[test]
    fn lvs_argv_is_piranhas() {
        assert_eq!(
            lvs_argv(
                Path::new("/usr/sbin/lvs"),
                true,
                Path::new("/etc/lvs.cf"),
                false
            ),
            vec!["/usr/sbin/lvs", "--nofork", "-c", "/etc/lvs.cf"]
        );
        assert_eq!(
            lvs_argv(Path::new("lvs"), false, Path::new("c"), true),
            vec!["lvs", "--nodaemon", "-c", "c", "-v"]
        );
    }

    #[test]
    fn floating_addresses_are_active_vips_and_nat_router() {
        let c = cfg("primary = 10.0.0.1\nbackup = 10.0.0.2\nbackup_active = 1\nnetwork = nat\nnat_router = 192.168.1.254 eth1:1\nnat_nmask = 255.255.255.0\n\
virtual a {\n active = 1\n address = 10.0.0.100 eth0:1\n vip_nmask = 255.255.255.0\n port = 80\n}\n\
virtual b {\n active = 1\n address = 10.0.0.100 eth0:1\n port = 443\n}\n\
virtual c {\n active = 0\n address = 10.0.0.101 eth0:2\n port = 80\n}\n\
virtual d {\n active = 1\n address = 10.0.0.102 eth0:1\n port = 80\n}\n");
        let f = floating_addresses(&c);
        let got: Vec<(String, u8, &str)> = f
            .iter()
            .map(|f| (f.ip.to_string(), f.prefix, f.label.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("10.0.0.100".to_string(), 24, "eth0:1"),
                ("10.0.0.102".to_string(), 32, "eth0:1"),
                ("192.168.1.254".to_string(), 24, "eth1:1"),
            ]
        );
    }

    #[test]
    fn sync_daemon_commands() {
        let c = cfg("primary = 10.0.0.1\nsyncdaemon = 1\nsyncd_iface = eth1\nsyncd_id = 7\n");
        let v = sync_daemon_argvs(&c);
        assert_eq!(v.stop_backup, ["/sbin/ipvsadm", "--stop-daemon", "backup"]);
        assert_eq!(v.stop_master[1..], ["--stop-daemon", "master"]);
        for (argv, role) in [(&v.start_master, "master"), (&v.start_backup, "backup")] {
            assert_eq!(
                argv[1..],
                [
                    "--start-daemon",
                    role,
                    "--mcast-interface",
                    "eth1",
                    "--syncid",
                    "7"
                ]
            );
        }
    }
}
