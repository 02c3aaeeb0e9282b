//! The daemon's outside: its command-line options, startup errors, exit
//! codes, default paths, and the fixed timings of the lvs child.

use std::path::PathBuf;
use std::time::Duration;

use piranha_runtime::pidfile::PidfileError;

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
pub(super) const LVS_RESTART_FIRST: Duration = Duration::from_secs(1);
pub(super) const LVS_RESTART_MAX: Duration = Duration::from_secs(30);

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
    /// pulse's control socket (`None`: none).
    pub control: Option<PathBuf>,
    /// Group that may use pulse's control socket too (mode 0660).
    pub control_group: Option<String>,
    /// lvs's control socket (where pulse asks lvs for its status).
    pub lvs_control: PathBuf,
    /// The Prometheus endpoint, when asked for.
    pub metrics: Option<std::net::SocketAddr>,
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

    /// bgp mode: none of `directors` is an address of this host.
    #[error("director_mode = bgp, but none of the directors listed in {config} ({list}) is an address of this host; add this director's address to `directors`")]
    NotADirector {
        /// lvs.cf.
        config: String,
        /// `directors`, as words.
        list: String,
    },
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
