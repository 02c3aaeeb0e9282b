//! The typed configuration: what an lvs.cf file says, every value with the
//! span it came from, and accessors that apply Piranha's defaults.
//!
//! A field is `None` when the file does not set the keyword; the accessor of
//! the same name returns the effective value (the Piranha default when
//! unset). Equality ignores spans, so a configuration compares equal to the
//! one parsed back from its canonical text.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use crate::checks::HealthCheck;
pub use crate::value::{Family, Mask, Opt, QString, Quote, Seconds, Spanned};

fn get<T: Clone>(o: &Opt<T>, default: T) -> T {
    o.as_ref().map(|s| s.value.clone()).unwrap_or(default)
}

/// lvs.cf's "unset" address, 0.0.0.0 (an IPv6 field unset is `::`, which
/// [`IpAddr::is_unspecified`] reads the same way).
fn unset() -> IpAddr {
    IpAddr::V4(Ipv4Addr::UNSPECIFIED)
}

fn host_or_unset(h: &Opt<Host>) -> IpAddr {
    h.as_ref().map(|h| h.value.addr).unwrap_or_else(unset)
}

fn mask_or_unset(m: &Opt<Mask>) -> Option<Mask> {
    m.as_ref().map(|m| m.value).filter(|m| !m.is_unset())
}

/// The largest IPVS timeout in seconds (31 days, ipvsadm's limit).
pub const MAX_IPVS_TIMEOUT: u32 = 2_678_400;
/// A host field: the text as written (address or host name) and the
/// address it resolved to when parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    /// As written in the file.
    pub name: String,
    /// The address.
    pub addr: IpAddr,
}

impl Host {
    /// A host given by address.
    pub fn from_addr(addr: impl Into<IpAddr>) -> Self {
        let addr = addr.into();
        Host {
            name: addr.to_string(),
            addr,
        }
    }
}

/// `IP DEV`, e.g. `192.168.1.100 eth0:1` (virtual `address`, `nat_router`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpDev {
    /// The address.
    pub ip: Host,
    /// The device, usually an alias label such as `eth0:1`.
    pub dev: String,
}

impl IpDev {
    /// The device with any `:alias` suffix removed (`eth0:1` → `eth0`).
    pub fn base_device(&self) -> &str {
        self.dev.split(':').next().unwrap_or(&self.dev)
    }
}

/// `service =`
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ServiceType {
    /// Linux Virtual Server (the default).
    #[default]
    Lvs,
    /// Failover services (legacy).
    Fos,
}

/// `network =`: the forwarding method of every real server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Network {
    /// Masquerading (`-m`), the default.
    #[default]
    Nat,
    /// Direct routing / gatewaying (`-g`).
    Direct,
    /// IP-IP tunnelling (`-i`).
    Tunnel,
}

impl Network {
    /// The ipvsadm / nanny `-M` letter: `m`, `g` or `i`.
    pub fn method_letter(self) -> char {
        match self {
            Network::Nat => 'm',
            Network::Direct => 'g',
            Network::Tunnel => 'i',
        }
    }
}

/// `director_mode =` (extension, issue 22): how the directors share the
/// virtual addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DirectorMode {
    /// Piranha's pair: one active director, one passive, a heartbeat.
    #[default]
    Pair,
    /// Active-active: every director of `directors` announces the virtual
    /// addresses to the routers over BGP (through BIRD), the routers
    /// spread flows over them (ECMP), and every director programs the same
    /// table.
    Bgp,
}

impl DirectorMode {
    /// The word lvs.cf uses.
    pub fn as_str(self) -> &'static str {
        match self {
            DirectorMode::Pair => "pair",
            DirectorMode::Bgp => "bgp",
        }
    }
}

/// One scheduler flag of `sched_flags =` (extension, issue 22): ipvsadm's
/// `-b` words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SchedFlag {
    /// `flag-1`, `flag-2`, `flag-3`: the raw bits, for any scheduler.
    Raw(u8),
    /// `sh-fallback`: sh skips an unavailable server.
    ShFallback,
    /// `sh-port`: sh hashes the source port too.
    ShPort,
    /// `mh-fallback`: mh skips an unavailable server.
    MhFallback,
    /// `mh-port`: mh hashes the source port too.
    MhPort,
}

impl SchedFlag {
    /// Every word, as ipvsadm spells it.
    pub const WORDS: [&'static str; 7] = [
        "flag-1",
        "flag-2",
        "flag-3",
        "sh-fallback",
        "sh-port",
        "mh-fallback",
        "mh-port",
    ];

    /// The flag ipvsadm's word names.
    pub fn from_word(w: &str) -> Option<Self> {
        Some(match w {
            "flag-1" => SchedFlag::Raw(1),
            "flag-2" => SchedFlag::Raw(2),
            "flag-3" => SchedFlag::Raw(3),
            "sh-fallback" => SchedFlag::ShFallback,
            "sh-port" => SchedFlag::ShPort,
            "mh-fallback" => SchedFlag::MhFallback,
            "mh-port" => SchedFlag::MhPort,
            _ => return None,
        })
    }

    /// ipvsadm's word.
    pub fn as_str(self) -> &'static str {
        match self {
            SchedFlag::Raw(1) => "flag-1",
            SchedFlag::Raw(2) => "flag-2",
            SchedFlag::Raw(_) => "flag-3",
            SchedFlag::ShFallback => "sh-fallback",
            SchedFlag::ShPort => "sh-port",
            SchedFlag::MhFallback => "mh-fallback",
            SchedFlag::MhPort => "mh-port",
        }
    }

    /// The scheduler the flag belongs to, `None` for the raw bits.
    pub fn scheduler(self) -> Option<Scheduler> {
        match self {
            SchedFlag::Raw(_) => None,
            SchedFlag::ShFallback | SchedFlag::ShPort => Some(Scheduler::Sh),
            SchedFlag::MhFallback | SchedFlag::MhPort => Some(Scheduler::Mh),
        }
    }

    /// The kernel's bit (IP_VS_SVC_F_SCHED1, 2, 3: 0x08, 0x10, 0x20).
    pub fn bit(self) -> u32 {
        match self {
            SchedFlag::Raw(1) | SchedFlag::ShFallback | SchedFlag::MhFallback => 0x08,
            SchedFlag::Raw(2) | SchedFlag::ShPort | SchedFlag::MhPort => 0x10,
            SchedFlag::Raw(_) => 0x20,
        }
    }
}

/// `protocol =`
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Protocol {
    /// TCP (the default).
    #[default]
    Tcp,
    /// UDP.
    Udp,
}

/// `scheduler =`: Piranha's eight, plus the kernel's later schedulers
/// (an extension: Piranha rejected them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub enum Scheduler {
    Rr,
    Wrr,
    Lc,
    #[default]
    Wlc,
    Lblc,
    Lblcr,
    Dh,
    Sh,
    Sed,
    Nq,
    Fo,
    Ovf,
    Mh,
    Twos,
}

impl Scheduler {
    /// Every scheduler, Piranha's first.
    pub const ALL: [Scheduler; 14] = [
        Scheduler::Rr,
        Scheduler::Wrr,
        Scheduler::Lc,
        Scheduler::Wlc,
        Scheduler::Lblc,
        Scheduler::Lblcr,
        Scheduler::Dh,
        Scheduler::Sh,
        Scheduler::Sed,
        Scheduler::Nq,
        Scheduler::Fo,
        Scheduler::Ovf,
        Scheduler::Mh,
        Scheduler::Twos,
    ];

    /// The ipvsadm name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheduler::Rr => "rr",
            Scheduler::Wrr => "wrr",
            Scheduler::Lc => "lc",
            Scheduler::Wlc => "wlc",
            Scheduler::Lblc => "lblc",
            Scheduler::Lblcr => "lblcr",
            Scheduler::Dh => "dh",
            Scheduler::Sh => "sh",
            Scheduler::Sed => "sed",
            Scheduler::Nq => "nq",
            Scheduler::Fo => "fo",
            Scheduler::Ovf => "ovf",
            Scheduler::Mh => "mh",
            Scheduler::Twos => "twos",
        }
    }

    /// Parse an ipvsadm scheduler name.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|x| x.as_str() == s)
    }

    /// True for the schedulers Piranha 0.8.6 knew.
    pub fn is_piranha(self) -> bool {
        matches!(
            self,
            Scheduler::Rr
                | Scheduler::Wrr
                | Scheduler::Lc
                | Scheduler::Wlc
                | Scheduler::Lblc
                | Scheduler::Lblcr
                | Scheduler::Dh
                | Scheduler::Sh
        )
    }
}

impl fmt::Display for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `load_monitor =`
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum LoadMonitor {
    /// No load monitoring (the default when unset).
    #[default]
    None,
    /// `uptime` through `rsh_command`.
    Uptime,
    /// `rup`.
    Rup,
    /// `ruptime`.
    Ruptime,
    /// Any other command.
    Command(String),
}

impl LoadMonitor {
    /// Parse the keyword value.
    pub fn from_token(s: &str) -> Self {
        match s {
            "none" => LoadMonitor::None,
            "uptime" => LoadMonitor::Uptime,
            "rup" => LoadMonitor::Rup,
            "ruptime" => LoadMonitor::Ruptime,
            other => LoadMonitor::Command(other.to_string()),
        }
    }

    /// The keyword value as written.
    pub fn as_str(&self) -> &str {
        match self {
            LoadMonitor::None => "none",
            LoadMonitor::Uptime => "uptime",
            LoadMonitor::Rup => "rup",
            LoadMonitor::Ruptime => "ruptime",
            LoadMonitor::Command(c) => c,
        }
    }
}

/// `reservation_conflict_action =` (fos shared SCSI).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConflictAction {
    /// `nothing`
    Nothing,
    /// `preempt`
    Preempt,
}

/// How IPVS names a virtual service (see [`VirtualServer::service_id`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServiceId {
    /// `-f MARK` (`-f MARK -6` for an IPv6 mark: the kernel keys a mark
    /// service by family and mark).
    Mark(Family, u32),
    /// `-t|-u VIP:PORT`.
    Addr(Protocol, IpAddr, u16),
}

/// The whole file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Config {
    pub serial_no: Opt<i64>,
    pub primary: Opt<Host>,
    pub primary_private: Opt<Host>,
    pub primary_shared: Opt<String>,
    pub service: Opt<ServiceType>,
    pub rsh_command: Opt<String>,
    pub backup_active: Opt<bool>,
    pub backup: Opt<Host>,
    pub backup_private: Opt<Host>,
    pub backup_shared: Opt<String>,
    pub heartbeat: Opt<bool>,
    pub heartbeat_port: Opt<u16>,
    pub keepalive: Opt<Seconds>,
    pub deadtime: Opt<Seconds>,
    pub network: Opt<Network>,
    pub nat_router: Opt<IpDev>,
    pub nat_nmask: Opt<Mask>,
    pub reservation_conflict_action: Opt<ConflictAction>,
    pub debug_level: Opt<String>,
    pub active_cmd: Opt<String>,
    pub inactive_cmd: Opt<String>,
    /// Extension: key file of the authenticated heartbeat.
    pub heartbeat_key: Opt<String>,
    pub monitor_links: Opt<i64>,
    pub syncdaemon: Opt<bool>,
    pub syncd_iface: Opt<String>,
    pub syncd_id: Opt<i64>,
    /// Extension: the sync daemons' multicast group (IPv4 or IPv6;
    /// default the kernel's 224.0.0.81).
    pub syncd_group: Opt<IpAddr>,
    /// Extension: the sync daemons' UDP port (default the kernel's 8848).
    pub syncd_port: Opt<u16>,
    /// Extension: lvs runs on the passive director too, table programmed
    /// without the VIPs, so that a takeover only moves addresses.
    pub hot_standby: Opt<bool>,
    pub tcp_timeout: Opt<u32>,
    pub tcpfin_timeout: Opt<u32>,
    pub udp_timeout: Opt<u32>,
    pub hard_shutdown: Opt<bool>,
    pub ipvsadm: Opt<String>,
    pub sync: Opt<bool>,
    /// Extension (issue 22): pair (Piranha's) or bgp (active-active).
    pub director_mode: Opt<DirectorMode>,
    /// Extension (issue 22): every director's address, in bgp mode; this
    /// director is the one whose address is local.
    pub directors: Opt<Vec<IpAddr>>,
    /// Extension (issue 22): BIRD's control socket.
    pub bird_socket: Opt<String>,
    /// Extension (issue 22): the file of routes lvs writes for BIRD.
    pub bird_routes: Opt<String>,
    /// Extension (issue 22): how long a stopping director waits, after
    /// withdrawing its routes, before it stops forwarding.
    pub withdraw_delay: Opt<Seconds>,
    /// `failover NAME { }` blocks, in file order.
    pub failover_services: Vec<FailoverService>,
    /// `virtual NAME { }` blocks, in file order.
    pub virtual_servers: Vec<VirtualServer>,
}

/// Default path of ipvsadm (Piranha's `IPVSADM`).
pub const DEFAULT_IPVSADM: &str = "/sbin/ipvsadm";
/// Default path of the client monitor.
pub const DEFAULT_NANNY: &str = "/usr/sbin/nanny";
/// Default configuration file.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/sysconfig/ha/lvs.cf";
/// Default `bird_socket`: Debian's bird2.
pub const DEFAULT_BIRD_SOCKET: &str = "/run/bird/bird.ctl";
/// Default `bird_routes`.
pub const DEFAULT_BIRD_ROUTES: &str = "/run/piranha/bird/routes.conf";

impl Config {
    /// `serial_no` (default 0).
    pub fn serial_no(&self) -> i64 {
        get(&self.serial_no, 0)
    }
    /// `service` (default lvs).
    pub fn service(&self) -> ServiceType {
        get(&self.service, ServiceType::Lvs)
    }
    /// `primary` address (default 0.0.0.0: unset).
    pub fn primary(&self) -> IpAddr {
        host_or_unset(&self.primary)
    }
    /// `backup` address (default 0.0.0.0: unset).
    pub fn backup(&self) -> IpAddr {
        host_or_unset(&self.backup)
    }
    /// `primary_private`; when the file has no `primary_private`, Piranha
    /// uses `primary`.
    pub fn primary_private(&self) -> IpAddr {
        match &self.primary_private {
            Some(h) => h.value.addr,
            None => self.primary(),
        }
    }
    /// `backup_private`; when the file has no `primary_private`, Piranha
    /// uses `backup` (whatever `backup_private` says).
    pub fn backup_private(&self) -> IpAddr {
        match (&self.primary_private, &self.backup_private) {
            (None, _) => self.backup(),
            (Some(_), Some(h)) => h.value.addr,
            (Some(_), None) => unset(),
        }
    }
    /// `backup_active` (default 0).
    pub fn backup_active(&self) -> bool {
        get(&self.backup_active, false)
    }
    /// `heartbeat` (default 0; Piranha never consulted it).
    pub fn heartbeat(&self) -> bool {
        get(&self.heartbeat, false)
    }
    /// `heartbeat_port` (default 539).
    pub fn heartbeat_port(&self) -> u16 {
        get(&self.heartbeat_port, 539)
    }
    /// `keepalive` (default 2 s).
    pub fn keepalive(&self) -> Seconds {
        get(&self.keepalive, Seconds::secs(2))
    }
    /// `deadtime` (default 5 s).
    pub fn deadtime(&self) -> Seconds {
        get(&self.deadtime, Seconds::secs(5))
    }
    /// `network` (default nat).
    pub fn network(&self) -> Network {
        get(&self.network, Network::Nat)
    }
    /// `nat_nmask` (`None`: unset, or 0.0.0.0).
    pub fn nat_nmask(&self) -> Option<Mask> {
        mask_or_unset(&self.nat_nmask)
    }
    /// `debug_level` (default NONE).
    pub fn debug_level(&self) -> String {
        get(&self.debug_level, "NONE".to_string())
    }
    /// `rsh_command` (default rsh).
    pub fn rsh_command(&self) -> String {
        get(&self.rsh_command, "rsh".to_string())
    }
    /// `ipvsadm` path (default /sbin/ipvsadm).
    pub fn ipvsadm(&self) -> String {
        get(&self.ipvsadm, DEFAULT_IPVSADM.to_string())
    }
    /// `sync` (default 0, unused).
    pub fn sync(&self) -> bool {
        get(&self.sync, false)
    }
    /// `monitor_links` (default 0).
    pub fn monitor_links(&self) -> i64 {
        get(&self.monitor_links, 0)
    }
    /// `syncdaemon` (default 0).
    pub fn syncdaemon(&self) -> bool {
        // bgp mode: every director is active; a flow that moves is
        // forwarded by the next director's `mh` (sloppy_tcp), not synced
        get(&self.syncdaemon, false) && !self.bgp()
    }
    /// `syncd_iface` (default eth0).
    pub fn syncd_iface(&self) -> String {
        get(&self.syncd_iface, "eth0".to_string())
    }
    /// `syncd_id`, masked to 0..255 as Piranha did (default 0).
    pub fn syncd_id(&self) -> u8 {
        (get(&self.syncd_id, 0) & 0xff) as u8
    }
    /// `syncd_group` (extension): the multicast group, `None` for the
    /// kernel's default (224.0.0.81).
    pub fn syncd_group(&self) -> Option<IpAddr> {
        self.syncd_group.as_ref().map(|g| g.value)
    }
    /// `syncd_port` (extension): `None` for the kernel's default (8848).
    pub fn syncd_port(&self) -> Option<u16> {
        self.syncd_port.as_ref().map(|p| p.value)
    }
    /// `hot_standby` (extension; default 0: lvs starts at takeover, as in
    /// Piranha). Never in bgp mode, where every director is active.
    pub fn hot_standby(&self) -> bool {
        get(&self.hot_standby, false) && !self.bgp()
    }
    /// `director_mode` (extension; default pair).
    pub fn director_mode(&self) -> DirectorMode {
        get(&self.director_mode, DirectorMode::Pair)
    }
    /// Active-active over BGP (`director_mode = bgp`)?
    pub fn bgp(&self) -> bool {
        self.director_mode() == DirectorMode::Bgp
    }
    /// `directors` (extension): the directors of a bgp cluster.
    pub fn directors(&self) -> &[IpAddr] {
        self.directors
            .as_ref()
            .map(|d| d.value.as_slice())
            .unwrap_or_default()
    }
    /// `bird_socket` (extension; default BIRD's, /run/bird/bird.ctl).
    pub fn bird_socket(&self) -> String {
        self.bird_socket
            .as_ref()
            .map(|s| s.value.clone())
            .unwrap_or_else(|| DEFAULT_BIRD_SOCKET.to_string())
    }
    /// `bird_routes` (extension; default /run/piranha/bird/routes.conf).
    pub fn bird_routes(&self) -> String {
        self.bird_routes
            .as_ref()
            .map(|s| s.value.clone())
            .unwrap_or_else(|| DEFAULT_BIRD_ROUTES.to_string())
    }
    /// `withdraw_delay` (extension; default 2 s).
    pub fn withdraw_delay(&self) -> Seconds {
        get(&self.withdraw_delay, Seconds::secs(2))
    }
    /// The three protocol timeouts lvs sets with `ipvsadm --set`, or `None`
    /// when lvs.cf sets none (B6 fixed) or one is out of the kernel's range
    /// (0 to [`MAX_IPVS_TIMEOUT`]: Piranha's `--set` failed as a whole).
    pub fn ipvs_timeouts(&self) -> Option<(u32, u32, u32)> {
        let t = (
            self.tcp_timeout(),
            self.tcpfin_timeout(),
            self.udp_timeout(),
        );
        let ok = [t.0, t.1, t.2].iter().all(|v| *v <= MAX_IPVS_TIMEOUT);
        (t != (0, 0, 0) && ok).then_some(t)
    }
    /// `tcp_timeout` (default 0: leave the kernel's).
    pub fn tcp_timeout(&self) -> u32 {
        get(&self.tcp_timeout, 0)
    }
    /// `tcpfin_timeout` (default 0).
    pub fn tcpfin_timeout(&self) -> u32 {
        get(&self.tcpfin_timeout, 0)
    }
    /// `udp_timeout` (default 0).
    pub fn udp_timeout(&self) -> u32 {
        get(&self.udp_timeout, 0)
    }
    /// `hard_shutdown` (default 1).
    pub fn hard_shutdown(&self) -> bool {
        get(&self.hard_shutdown, true)
    }

    /// The virtual server called `name`.
    pub fn virtual_server(&self, name: &str) -> Option<&VirtualServer> {
        self.virtual_servers.iter().find(|v| v.name.value == name)
    }

    /// Active virtual servers, in file order.
    pub fn active_virtual_servers(&self) -> impl Iterator<Item = &VirtualServer> {
        self.virtual_servers.iter().filter(|v| v.active())
    }

    /// The virtual servers lvs programs into the kernel, in file order:
    /// those [`VirtualServer::in_table`], and of two that name the same IPVS
    /// service only the first (Piranha's second `ipvsadm -A` failed with
    /// "Service already exists" and only that block was lost).
    pub fn table_virtual_servers(&self) -> impl Iterator<Item = &VirtualServer> {
        self.virtual_servers
            .iter()
            .zip(self.table_mask())
            .filter_map(|(v, keep)| keep.then_some(v))
    }

    /// For each of `virtual_servers`, whether it is one of
    /// [`Config::table_virtual_servers`].
    pub fn table_mask(&self) -> Vec<bool> {
        let mut seen = std::collections::HashSet::new();
        self.virtual_servers
            .iter()
            .map(|v| v.in_table() && seen.insert(v.service_id()))
            .collect()
    }

    /// The longest [`VirtualServer::first_verdict`] of the active virtual
    /// servers: how long a starting lvs may need before every service has
    /// its first verdict (pulse's bound on a takeover's wait for lvs).
    pub fn first_verdict(&self) -> std::time::Duration {
        self.active_virtual_servers()
            .map(VirtualServer::first_verdict)
            .max()
            .unwrap_or_default()
    }
}

/// A `virtual NAME { }` block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct VirtualServer {
    /// The block name.
    pub name: Spanned<String>,
    pub active: Opt<bool>,
    pub address: Opt<IpDev>,
    pub sorry_server: Opt<IpAddr>,
    pub vip_nmask: Opt<Mask>,
    pub fwmark: Opt<u32>,
    pub port: Opt<u16>,
    pub persistent: Opt<u32>,
    pub pmask: Opt<Mask>,
    pub send: Opt<QString>,
    pub expect: Opt<QString>,
    pub use_regex: Opt<bool>,
    pub send_program: Opt<QString>,
    pub load_monitor: Opt<LoadMonitor>,
    pub scheduler: Opt<Scheduler>,
    /// Extension (issue 22): `sched_flags`, ipvsadm's `-b` words.
    pub sched_flags: Opt<Vec<SchedFlag>>,
    pub protocol: Opt<Protocol>,
    pub timeout: Opt<u32>,
    pub reentry: Opt<u32>,
    pub quiesce_server: Opt<bool>,
    pub client_monitor: Opt<String>,
    pub start_cmd: Opt<QString>,
    pub stop_cmd: Opt<QString>,
    pub master: Opt<Host>,
    pub dirs: Opt<Vec<String>>,
    /// Extension: `quorum`, the live weight the service needs (see
    /// [`VirtualServer::quorum`]).
    pub quorum: Opt<u32>,
    /// Extension: `hysteresis` around the quorum.
    pub hysteresis: Opt<u32>,
    /// Extension: `quorum_up`, run when the quorum is gained.
    pub quorum_up: Opt<String>,
    /// Extension: `quorum_down`, run when the quorum is lost.
    pub quorum_down: Opt<String>,
    /// Extension (issue 9): health-check keys, for all its servers.
    pub health: HealthCheck,
    /// `server NAME { }` blocks, in file order.
    pub servers: Vec<RealServer>,
    /// An active block with a value Piranha's `ipvsadm -A` refused (a
    /// `port` or `persistent` out of range): parsed with a warning and
    /// left out of the table ([`VirtualServer::in_table`]). Not a keyword.
    pub left_out: bool,
}

impl VirtualServer {
    /// A virtual server with every keyword unset.
    pub fn named(name: impl Into<String>) -> Self {
        VirtualServer {
            name: Spanned::new(name.into()),
            ..Default::default()
        }
    }
    /// `active` (default 0: the block is ignored).
    pub fn active(&self) -> bool {
        get(&self.active, false)
    }
    /// Whether lvs programs this virtual server: it is active and has a
    /// firewall mark or a virtual IP. An active block without an address
    /// (or with 0.0.0.0) is accepted, as Piranha accepted it: with a mark
    /// it is a whole service whose VIPs live elsewhere; without one
    /// Piranha's `ipvsadm -A` named 0.0.0.0, which no client reaches, so
    /// it is left out.
    ///
    /// A service on port 0 is the whole address (`ipvsadm` takes it only
    /// when persistent): without `persistent` Piranha's `ipvsadm -A` failed
    /// and the block was lost, so it is left out too.
    pub fn in_table(&self) -> bool {
        self.active()
            && !self.left_out
            && (self.fwmark() != 0
                || (!self.vip().is_unspecified() && (self.port() != 0 || self.persistent() > 0)))
    }

    /// The IPVS service this block names: its firewall mark, or protocol,
    /// address and port.
    pub fn service_id(&self) -> ServiceId {
        match self.fwmark() {
            0 => ServiceId::Addr(self.protocol(), self.vip(), self.port()),
            m => ServiceId::Mark(self.family(), m),
        }
    }
    /// The address family of the service: its VIP's (`address = :: DEV`
    /// says IPv6 without a VIP; 0.0.0.0 is Piranha's "unset"); for a
    /// firewall-mark service without a VIP, its real servers' when they
    /// agree, else its sorry server's, else IPv4 (Piranha's only family).
    pub fn family(&self) -> Family {
        if let Some(a) = &self.address {
            let ip = a.value.ip.addr;
            if ip.is_ipv6() || !ip.is_unspecified() {
                return Family::of(&ip);
            }
        }
        let mut families = self
            .servers
            .iter()
            .filter(|rs| !rs.addr().is_unspecified())
            .map(|rs| Family::of(&rs.addr()));
        match families.next() {
            Some(f) if families.all(|g| g == f) => f,
            Some(_) => Family::Inet,
            None => match self.sorry_server() {
                s if !s.is_unspecified() => Family::of(&s),
                _ => Family::Inet,
            },
        }
    }
    /// The VIP (0.0.0.0 when unset).
    pub fn vip(&self) -> IpAddr {
        self.address
            .as_ref()
            .map(|a| a.value.ip.addr)
            .unwrap_or_else(unset)
    }
    /// `vip_nmask` (`None`: unset, or 0.0.0.0).
    pub fn vip_nmask(&self) -> Option<Mask> {
        mask_or_unset(&self.vip_nmask)
    }
    /// `fwmark` (0 = not a firewall-mark service).
    pub fn fwmark(&self) -> u32 {
        get(&self.fwmark, 0)
    }
    /// `port` (default 80).
    pub fn port(&self) -> u16 {
        get(&self.port, 80)
    }
    /// `persistent` seconds (0 = off).
    pub fn persistent(&self) -> u32 {
        get(&self.persistent, 0)
    }
    /// `pmask` (`None`: unset, or 0.0.0.0).
    pub fn pmask(&self) -> Option<Mask> {
        mask_or_unset(&self.pmask)
    }
    /// `use_regex` (default 0).
    pub fn use_regex(&self) -> bool {
        get(&self.use_regex, false)
    }
    /// `load_monitor` (default none).
    pub fn load_monitor(&self) -> LoadMonitor {
        get(&self.load_monitor, LoadMonitor::None)
    }
    /// `scheduler` (default wlc).
    pub fn scheduler(&self) -> Scheduler {
        get(&self.scheduler, Scheduler::Wlc)
    }
    /// Extension: `sched_flags` as the kernel's bits (0 when unset).
    pub fn sched_flag_bits(&self) -> u32 {
        self.sched_flags
            .as_ref()
            .map(|f| f.value.iter().fold(0, |b, f| b | f.bit()))
            .unwrap_or(0)
    }
    /// `protocol` (default tcp).
    pub fn protocol(&self) -> Protocol {
        get(&self.protocol, Protocol::Tcp)
    }
    /// `timeout` seconds (default 10).
    pub fn timeout(&self) -> u32 {
        get(&self.timeout, 10)
    }
    /// The time the first checks of the active real servers may take:
    /// each nanny checks at once (after its random warm-up, when `warmup`
    /// is set) and gives up after the check's I/O timeout (`check_timeout`,
    /// else `timeout`); plus a second.
    pub fn first_verdict(&self) -> std::time::Duration {
        let longest = self
            .servers
            .iter()
            .filter(|rs| rs.active())
            .map(|rs| {
                let h = self.health.merged(&rs.health);
                let io = h.check_timeout.map_or(self.timeout(), |t| t.value);
                let warmup = h.warmup.map(|w| w.value.as_duration()).unwrap_or_default();
                std::time::Duration::from_secs(u64::from(io)) + warmup
            })
            .max()
            .unwrap_or_default();
        longest + std::time::Duration::from_secs(1)
    }
    /// `reentry` seconds (default 180).
    pub fn reentry(&self) -> u32 {
        get(&self.reentry, 180)
    }
    /// `quiesce_server` (default 0).
    pub fn quiesce_server(&self) -> bool {
        get(&self.quiesce_server, false)
    }
    /// `client_monitor` (default /usr/sbin/nanny).
    pub fn client_monitor(&self) -> String {
        get(&self.client_monitor, DEFAULT_NANNY.to_string())
    }
    /// `sorry_server` (0.0.0.0 = none).
    pub fn sorry_server(&self) -> IpAddr {
        get(&self.sorry_server, unset())
    }
    /// Extension: `quorum`, the sum of the lvs.cf weights of the live real
    /// servers the service needs. `None` (unset): Piranha's rule, the sorry
    /// server serves while no real server is live.
    pub fn quorum(&self) -> Option<u32> {
        self.quorum.as_ref().map(|q| q.value)
    }
    /// Extension: `hysteresis` (default 0).
    pub fn hysteresis(&self) -> u32 {
        get(&self.hysteresis, 0)
    }
    /// The real server called `name`.
    pub fn server(&self, name: &str) -> Option<&RealServer> {
        self.servers.iter().find(|s| s.name.value == name)
    }
}

/// A `server NAME { }` block inside a virtual server.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct RealServer {
    /// The block name.
    pub name: Spanned<String>,
    pub address: Opt<Host>,
    pub active: Opt<bool>,
    /// `port`; when unset the parser fills in the virtual server's port as
    /// parsed *so far* (Piranha's meaning), so this is `None` only for
    /// configurations built in code.
    pub port: Opt<u16>,
    pub weight: Opt<u32>,
    /// Extension (issue 9): health-check keys overriding the virtual
    /// server's.
    pub health: HealthCheck,
}

impl RealServer {
    /// A real server with every keyword unset.
    pub fn named(name: impl Into<String>) -> Self {
        RealServer {
            name: Spanned::new(name.into()),
            ..Default::default()
        }
    }
    /// Address (0.0.0.0 when unset).
    pub fn addr(&self) -> IpAddr {
        host_or_unset(&self.address)
    }
    /// `active` (default 0).
    pub fn active(&self) -> bool {
        get(&self.active, false)
    }
    /// `weight` (default 1).
    pub fn weight(&self) -> u32 {
        get(&self.weight, 1)
    }
    /// The checked and forwarded port: `port`, else the virtual server's.
    pub fn port_in(&self, vs: &VirtualServer) -> u16 {
        self.port.as_ref().map(|p| p.value).unwrap_or(vs.port())
    }

    /// Whether lvs runs a nanny for this server: it is active and has an
    /// address (Piranha's nanny of an address-less server checked the
    /// director itself, and its `ipvsadm -a ... -r 0.0.0.0` failed).
    pub fn monitored(&self) -> bool {
        self.active() && !self.addr().is_unspecified()
    }

    /// The health check this server gets: its own keys over its virtual
    /// server's.
    pub fn health_in(&self, vs: &VirtualServer) -> HealthCheck {
        vs.health.merged(&self.health)
    }
}

/// A `failover NAME { }` block (the legacy fos mode).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct FailoverService {
    /// The block name.
    pub name: Spanned<String>,
    pub active: Opt<bool>,
    pub address: Opt<IpDev>,
    pub vip_nmask: Opt<Mask>,
    pub port: Opt<u16>,
    pub send: Opt<QString>,
    pub expect: Opt<QString>,
    pub send_program: Opt<QString>,
    pub timeout: Opt<u32>,
    pub reentry: Opt<u32>,
    pub start_cmd: Opt<QString>,
    pub stop_cmd: Opt<QString>,
}

impl FailoverService {
    /// `active` (default 0).
    pub fn active(&self) -> bool {
        get(&self.active, false)
    }
    /// `port` (default 80).
    pub fn port(&self) -> u16 {
        get(&self.port, 80)
    }
    /// `timeout` (default 10).
    pub fn timeout(&self) -> u32 {
        get(&self.timeout, 10)
    }
    /// `reentry` (default 180).
    pub fn reentry(&self) -> u32 {
        get(&self.reentry, 180)
    }
}
