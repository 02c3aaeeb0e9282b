//! What the running daemon owns: [`Director`], with its lvs child, its
//! heartbeat channels and its control side ([`Control`], [`View`]).  Its methods live with their topic: the main loop
//! and the actions, the heartbeat sockets, the child processes, the role
//! change and the floating addresses.

use piranha_runtime::notify::ServiceManager;
use std::collections::HashMap;
use std::net::{IpAddr, UdpSocket};
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use lvs_config::Config;
use piranha_runtime::pidfile::Pidfile;

use super::options::Options;
use crate::heartbeat::Authenticator;
use crate::lease::Lease;
use crate::machine::{Machine, Nic};
use crate::net::{Addr, Netlink};

/// A heartbeat channel: our socket and the partner's address on it.
#[derive(Debug)]
pub(super) struct Channel {
    pub(super) name: &'static str,
    pub(super) sock: UdpSocket,
    pub(super) partner: IpAddr,
}

/// The lvs child and what pulse knows of it.
pub(super) struct Lvs {
    pub(super) child: Child,
    /// pulse's end of the readiness pipe, until lvs writes or closes it.
    pub(super) ready_pipe: Option<std::fs::File>,
    /// lvs said its table is ready.
    pub(super) ready: bool,
    /// lvs runs in the standby role (`hot_standby`, passive director).
    pub(super) standby: bool,
    pub(super) started: Instant,
}

/// Everything the running daemon owns.
pub(super) struct Director {
    pub(super) opts: Options,
    /// Removed when pulse exits.
    pub(super) pidfile: Option<Pidfile>,
    pub(super) cfg: Config,
    pub(super) master: bool,
    pub(super) daemon: bool,
    pub(super) me_public: IpAddr,
    pub(super) me_private: Option<IpAddr>,
    pub(super) partner_ips: Vec<IpAddr>,
    pub(super) channels: Vec<Channel>,
    pub(super) kernel: Netlink,
    pub(super) machine: Machine,
    pub(super) lvs: Option<Lvs>,
    /// When to start a standby lvs (again).
    pub(super) lvs_restart_at: Option<Instant>,
    pub(super) lvs_backoff: Duration,
    /// The sync daemons pulse started: backup, master.
    pub(super) sync_running: (bool, bool),
    /// An [`Action::Exit`](crate::machine::Action::Exit) was carried out.
    pub(super) exiting: bool,
    /// The sync master starts at the end of the actions being carried out
    /// (after an announcement's RUNNING heartbeat).
    pub(super) sync_master_due: bool,
    /// The takeover guard ([`crate::guard`]) is in place.
    pub(super) guard_armed: bool,
    /// The guard goes then (GUARD_MS after a takeover).
    pub(super) guard_until: Option<Instant>,
    /// A failure of the guard was logged (once).
    pub(super) guard_warned: bool,
    /// `--lvsd` is our own lvs (installed beside pulse): it reports its
    /// table ready and knows the standby role.  Any other lvs gets
    /// Piranha's takeover (addresses up at once) and no hot standby.
    pub(super) lvs_ours: bool,
    pub(super) helpers: Vec<Child>,
    pub(super) added: Vec<Addr>,
    /// The lifetime of `added` and when to renew it.
    pub(super) lease: Lease,
    pub(super) arp_gen: Arc<AtomicU64>,
    /// A round of gratuitous ARPs is under way.
    pub(super) arps_busy: Arc<AtomicBool>,
    pub(super) auth: Option<Authenticator>,
    pub(super) start: Instant,
    pub(super) monitor_links: bool,
    /// The heartbeat NICs: our address on each and the index of the
    /// device it was last seen on (`monitor_links` follows the device, not
    /// the address: see `Director::remember_nics`).
    pub(super) nics: Vec<(Nic, IpAddr, Option<u32>)>,
    /// systemd's `Type=notify` socket (does nothing without one).
    pub(super) service_manager: ServiceManager,
    /// The control socket, the metrics, and what they report.
    pub(super) control: Control,
}

/// The partner as the loop saw it: its address, whether it is alive, and
/// each channel with when it was last heard.
type PartnerView = (String, bool, Vec<(String, Option<Instant>)>);

/// What the heartbeat loop publishes for the control thread.
#[derive(Clone, Debug, Default)]
pub(super) struct View {
    pub(super) role: String,
    pub(super) phase: String,
    pub(super) role_since: Option<Instant>,
    pub(super) takeovers: u64,
    pub(super) handovers: u64,
    pub(super) partner: Option<PartnerView>,
    pub(super) addresses: Vec<piranha_status::model::Address>,
    pub(super) lvs_running: bool,
}

/// The control side of pulse, as the heartbeat loop holds it.
#[derive(Default)]
pub(super) struct Control {
    /// What the control thread answers from.
    pub(super) view: Arc<Mutex<View>>,
    pub(super) stop: Arc<AtomicBool>,
    pub(super) thread: Option<JoinHandle<()>>,
    /// When the partner was last heard, per channel name.
    pub(super) heard: HashMap<&'static str, Instant>,
    /// The role shown, and since when.
    pub(super) role: (String, Option<Instant>),
    /// Times this director took the active role.
    pub(super) takeovers: u64,
    /// Times it gave the active role up.
    pub(super) handovers: u64,
}
