//! The daemon's state: [`Lvsd`] and the records it keeps (one per nanny,
//! per quorum service, the source of the running configuration), how lvs
//! was started ([`Options`]) and why it ended ([`Exit`]).  The methods of
//! [`Lvsd`] live with their topic: the loop, the nannies, the sorry
//! server, the reload, the quorum extension and pulse's side.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::net::IpAddr;
use std::path::PathBuf;

use piranha_status::model::{CheckResult, Histogram};
use piranha_status::overrides::Overrides;
use piranha_status::report::{CheckState, Inbox};
use piranha_status::socket::Listener;
use std::time::{Duration, Instant};

use lvs_config::{Config, Diagnostic, Layout};
use nix::unistd::Pid;
use piranha_runtime::ready::Notifier;
use piranha_runtime::signals::SignalWaiter;

use super::forks::Forks;
use crate::kernel::Table;
use crate::plan::{self, DesiredService, Monitor, RunMode, ServiceKey};
use crate::quorum::Entries;
use crate::scripts::Scripts;
use crate::sorry::Live;

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
    /// The control socket (`status`, drain, ...); `None`: none.  The
    /// nannies' report socket is beside it (`.nanny` for `.ctl`).
    pub control: Option<PathBuf>,
    /// The overrides file (drain, weight, disable).
    pub overrides: PathBuf,
}

pub(super) type MonKey = (ServiceKey, IpAddr, u16);

pub(super) struct Running {
    pub(super) key: ServiceKey,
    pub(super) mon: Monitor,
    pub(super) pid: Option<Pid>,
    pub(super) pipe: Option<File>,
    pub(super) buf: Vec<u8>,
    pub(super) started: Instant,
    pub(super) quick_deaths: u32,
    pub(super) backoff: Duration,
    pub(super) restart_at: Option<Instant>,
    pub(super) stopping: bool,
    pub(super) live: bool,
    /// Quorum extension: the entry its nanny (`--lvs-table`) wants.
    pub(super) entry: Option<u32>,
}

/// What lvs knows of one real server's checks (kept across nanny restarts).
#[derive(Clone, Debug, Default)]
pub(super) struct CheckInfo {
    /// The last report's state.
    pub(super) state: Option<CheckState>,
    /// The last report.
    pub(super) last: Option<CheckResult>,
    /// Check durations.
    pub(super) latency: Histogram,
}

/// The sockets and the overrides.
pub(super) struct Control {
    pub(super) listener: Option<Listener>,
    pub(super) inbox: Option<Inbox>,
    /// The overrides file.
    pub(super) path: PathBuf,
    pub(super) overrides: Overrides,
    /// Check state per real server.
    pub(super) checks: BTreeMap<MonKey, CheckInfo>,
    /// Nanny pid → its real server (rebuilt when a pid is not found).
    pub(super) by_pid: std::collections::HashMap<i32, MonKey>,
    /// When to look at the drains again.
    pub(super) drain_at: Option<Instant>,
    /// When the reports were last read.
    pub(super) reports_read: Option<Instant>,
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
pub(super) struct Source {
    pub(super) text: String,
    pub(super) layout: Layout,
    pub(super) warnings: Vec<Diagnostic>,
}

/// The running daemon's state.
pub struct Lvsd {
    pub(super) opts: Options,
    pub(super) cfg: Config,
    /// The text `cfg` was parsed from, its layout and warnings: a reload
    /// re-parses only the block an edit touched
    /// (`lvs_config::reparse_file_in_place`).
    pub(super) source: Option<Source>,
    pub(super) mode: RunMode,
    pub(super) services: Vec<DesiredService>,
    /// Position of each service in `services`.
    pub(super) by_key: HashMap<ServiceKey, usize>,
    pub(super) monitors: BTreeMap<MonKey, Running>,
    pub(super) live: BTreeMap<ServiceKey, Live>,
    pub(super) sorry_on: BTreeMap<ServiceKey, bool>,
    /// Services whose nannies have not all had time for a first check:
    /// until then no live server does not mean an empty service, and the
    /// sorry server stays out (without this it answered for a moment at
    /// every start and takeover).
    pub(super) sorry_hold: HashMap<ServiceKey, Instant>,
    /// Quorum extension: state of each service with `quorum`.
    pub(super) quorums: BTreeMap<ServiceKey, QState>,
    /// Quorum extension: `quorum_up` / `quorum_down` scripts.
    pub(super) scripts: Scripts,
    pub(super) table: Table,
    pub(super) signals: SignalWaiter,
    pub(super) forks: Forks,
    /// The readiness byte owed to pulse ([`piranha_runtime::ready`]),
    /// until the table is ready.
    pub(super) ready: Option<Notifier>,
    /// When to look at the kernel's table again for readiness.
    pub(super) ready_check_at: Option<Instant>,
    /// Until then a service without a real server in the kernel's table
    /// keeps lvs from saying ready (its first checks' time, from start).
    pub(super) ready_by: Option<Instant>,
    /// The standby role (`hot_standby`): the table without the VIPs.
    pub(super) standby: bool,
    /// The parent (pulse) when lvs was started by one: a SIGTERM that comes
    /// once it is gone (PR_SET_PDEATHSIG) finds the VIPs perhaps still here.
    pub(super) parent: Option<Pid>,
    /// The control and report sockets, the checks' state, the overrides.
    pub(super) control: Control,
    /// bgp mode (issue 22): what BIRD announces for this director.
    pub(super) announcer: Option<crate::bird::Announcer>,
}

/// Quorum extension: what lvs knows of one service with `quorum`.
#[derive(Debug, Default)]
pub(super) struct QState {
    /// The quorum is up.
    pub(super) up: bool,
    /// The entries lvs put in the table (real servers and sorry server).
    pub(super) have: Entries,
    /// A table change failed: evaluate again at this time.
    pub(super) retry_at: Option<Instant>,
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
        let table = Table::open(cfg.ipvsadm(), opts.test_start);
        let services = plan::desired(&cfg, mode);
        let control = Control::new(opts.overrides.clone());
        let announcer = crate::bird::Announcer::of(&cfg);
        let mut d = Lvsd {
            announcer,
            control,
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
    pub(super) fn set_services(&mut self, services: Vec<DesiredService>) {
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
}
