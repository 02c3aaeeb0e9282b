//! The state of a running director, as `lvs --status` and `pulse --status`
//! show it and as the metrics expose it.
//!
//! The JSON form is this model serialized with serde: field names are the
//! schema, [`VERSION`] numbers it (a field is only ever added within a
//! version; renaming or removing one makes a new version).  The schema is
//! documented in `docs/STATUS.md` and pinned by the golden file
//! `crates/piranha-status/tests/golden/status-v1.json`.

use serde::{Deserialize, Serialize};

/// The version of the JSON form.
pub const VERSION: u32 = 1;

/// The whole director: what pulse knows and what lvs knows.  Asked of
/// lvs alone, `pulse` is absent; on a backup director without a standby
/// lvs, `lvs` is absent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Director {
    /// [`VERSION`].
    pub version: u32,
    /// Seconds since the Unix epoch when this was taken.
    pub taken_at: f64,
    /// The heartbeat daemon's side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pulse: Option<Pulse>,
    /// The table daemon's side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lvs: Option<Lvs>,
    /// Why a part is missing (pulse could not ask lvs, say).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// pulse: the role and the partner.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pulse {
    /// pulse's pid.
    pub pid: u32,
    /// `active`, `backup`, `hot-standby` (backup with a standby lvs),
    /// `taking-over`, `handing-over` or `stopping`.
    pub role: String,
    /// What pulse's state machine is doing, in its words.
    pub phase: String,
    /// Seconds in the current role.
    pub role_for: f64,
    /// Times this director took the active role since pulse started.
    pub takeovers: u64,
    /// Times it gave the active role up since pulse started.
    pub handovers: u64,
    /// The partner director, when there is one (`backup_active = 1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<Partner>,
    /// The virtual addresses this director holds now.
    pub addresses: Vec<Address>,
}

/// The partner director as the heartbeats show it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Partner {
    /// Its address (lvs.cf's `backup` or `primary`).
    pub address: String,
    /// Heard from within `deadtime`.
    pub alive: bool,
    /// Each heartbeat channel.
    pub channels: Vec<Channel>,
}

/// One heartbeat channel.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    /// `udp ADDRESS:PORT` or the channel's name.
    pub name: String,
    /// Seconds since the partner was last heard on it; absent if never.
    pub last_heard: Option<f64>,
}

/// A virtual address held.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Address {
    /// The address with its prefix, `192.168.1.10/24`.
    pub address: String,
    /// The interface (with its alias), `eth0:1`.
    pub device: String,
}

/// lvs: the services and their real servers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Lvs {
    /// lvs's pid.
    pub pid: u32,
    /// `active`, or `standby` (the table without the virtual addresses).
    pub role: String,
    /// The lvs.cf it runs.
    pub config: String,
    /// The overrides file (drain, weight, disable), see `lvs(8)`.
    pub overrides: String,
    /// The kernel's counters were read (our ipvsadm talks netlink; a
    /// foreign ipvsadm gives none).
    pub counters: bool,
    /// Seconds lvs took to take this status (the kernel's table read
    /// included).
    #[serde(default)]
    pub took: f64,
    /// Every virtual service of lvs.cf that lvs runs.
    pub services: Vec<Service>,
}

/// One virtual service.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Service {
    /// lvs.cf's name.
    pub name: String,
    /// `tcp VIP:PORT`, `udp VIP:PORT` or `fwmark N`.
    pub key: String,
    /// Scheduler (`wlc`, `rr`, ...).
    pub scheduler: String,
    /// Persistence timeout in seconds, when persistent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent: Option<u32>,
    /// The service is in the kernel's table.
    pub in_kernel: bool,
    /// Disabled by the administrator (`lvs --disable-service`).
    pub disabled: bool,
    /// The sorry server, when lvs.cf names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sorry_server: Option<SorryServer>,
    /// The quorum, when lvs.cf sets one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum: Option<Quorum>,
    /// bgp mode (`director_mode = bgp`): the announcement of its address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announcement: Option<Announcement>,
    /// The kernel's counters for the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<Stats>,
    /// How long the checks of its real servers took (all of them).
    #[serde(default)]
    pub check_latency: Histogram,
    /// Its real servers.
    pub servers: Vec<Server>,
}

/// A sorry server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SorryServer {
    /// `ADDRESS:PORT`.
    pub address: String,
    /// It is in the table (no real server is up, or the quorum is lost).
    pub serving: bool,
}

/// bgp mode: a virtual address and whether this director announces it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Announcement {
    /// The virtual address.
    pub address: String,
    /// BIRD was told to announce it (and took it).
    pub announced: bool,
    /// Why not, when it is not: `no quorum`, `not on lo yet`, `BIRD
    /// unreachable`, `stopping`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why_not: Option<String>,
}

/// A quorum.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Quorum {
    /// Real servers needed.
    pub need: u32,
    /// Real servers up now.
    pub have: u32,
    /// The quorum holds.
    pub up: bool,
}

/// One real server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Server {
    /// lvs.cf's name.
    pub name: String,
    /// `RIP:PORT`.
    pub address: String,
    /// lvs.cf's weight.
    pub weight: u32,
    /// The weight in the kernel's table; absent when not in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_weight: Option<u32>,
    /// `up`, `down`, `rising` (passing, held out until reentry time),
    /// `drained`, `disabled` or `unknown` (no check has reported yet):
    /// the checks' verdict, then the administrator's override.
    pub state: String,
    /// What the checks say, apart from any override.
    pub check: Check,
    /// The administrator's override, when one is in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<Admin>,
    /// Its active connections (the kernel's), when it is in the table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_connections: Option<u32>,
    /// Its inactive connections (the kernel's), when it is in the table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_connections: Option<u32>,
    /// The kernel's traffic counters for the real server: only in a full
    /// status (`--full`), which reads them with one dump per service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<Stats>,
}

/// What the checks say of a real server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// `up`, `down`, `rising` or `unknown`.
    pub state: String,
    /// The nanny's pid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nanny: Option<u32>,
    /// The last check, when one has reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<CheckResult>,
}

/// One check's result.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// It passed.
    pub ok: bool,
    /// Why, in the nanny's words (`connect: connection refused`).
    pub reason: String,
    /// Seconds since the Unix epoch.
    pub at: f64,
    /// How long it took, in seconds.
    pub took: f64,
}

/// A cumulative histogram of durations in seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Upper bounds, ascending (the last bucket, +Inf, is `count`); left
    /// out of the JSON when they are [`LATENCY_BOUNDS`].
    #[serde(default = "latency_bounds", skip_serializing_if = "is_latency_bounds")]
    pub bounds: Vec<f64>,
    /// Observations at most each bound (cumulative).
    pub counts: Vec<u64>,
    /// Sum of every observation.
    pub sum: f64,
    /// Observations.
    pub count: u64,
}

/// The buckets of check durations, in seconds.
pub const LATENCY_BOUNDS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 5.0];

fn latency_bounds() -> Vec<f64> {
    LATENCY_BOUNDS.to_vec()
}

fn is_latency_bounds(b: &[f64]) -> bool {
    b == LATENCY_BOUNDS
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            bounds: LATENCY_BOUNDS.to_vec(),
            counts: vec![0; LATENCY_BOUNDS.len()],
            sum: 0.0,
            count: 0,
        }
    }
}

impl Histogram {
    /// Add `other`'s observations (when its bounds are the same).
    pub fn merge(&mut self, other: &Histogram) {
        if self.bounds != other.bounds {
            return;
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a = a.saturating_add(*b);
        }
        self.sum += other.sum;
        self.count = self.count.saturating_add(other.count);
    }

    /// Count one observation of `secs`.
    pub fn observe(&mut self, secs: f64) {
        for (b, c) in self.bounds.iter().zip(self.counts.iter_mut()) {
            if secs <= *b {
                *c += 1;
            }
        }
        self.sum += secs;
        self.count += 1;
    }
}

/// An administrator's override of a real server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Admin {
    /// `drain`, `drained` (drain finished: out of the table), `weight` or
    /// `disabled`.
    pub kind: String,
    /// The weight set by `lvs --weight`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    /// A drain's deadline, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<f64>,
    /// When it was set, seconds since the Unix epoch.
    pub since: f64,
}

/// The kernel's counters (`ipvsadm -L -n --stats --rate`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Connections scheduled.
    pub connections: u64,
    /// Packets in.
    pub packets_in: u64,
    /// Packets out.
    pub packets_out: u64,
    /// Bytes in.
    pub bytes_in: u64,
    /// Bytes out.
    pub bytes_out: u64,
    /// Connections per second.
    pub cps: u64,
    /// Packets in per second.
    pub pps_in: u64,
    /// Packets out per second.
    pub pps_out: u64,
    /// Bytes in per second.
    pub bps_in: u64,
    /// Bytes out per second.
    pub bps_out: u64,
}

impl Director {
    /// An empty director taken now.
    pub fn now() -> Self {
        Director {
            version: VERSION,
            taken_at: unix_now(),
            ..Director::default()
        }
    }

    /// The JSON form (pretty, one key per line: stable to diff).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into());
        s.push('\n');
        s
    }

    /// The JSON form on one line: what the daemons send (a third of the
    /// pretty form's bytes; the same document).
    pub fn to_json_compact(&self) -> String {
        let mut s = serde_json::to_string(self).unwrap_or_else(|_| "{}".into());
        s.push('\n');
        s
    }

    /// Read the JSON form.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// An example director: two services, one with a sorry server and a
/// drained real server, one with a quorum; counters set.  The golden file
/// of the JSON form, the documentation and the tests of the renderers
/// (text, metrics, the GUI's panel) use it.
pub fn example() -> Director {
    let stats = |c: u64| Stats {
        connections: c,
        packets_in: c * 10,
        packets_out: c * 9,
        bytes_in: c * 1000,
        bytes_out: c * 9000,
        cps: 2,
        pps_in: 20,
        pps_out: 18,
        bps_in: 2000,
        bps_out: 18000,
    };
    let mut lat = Histogram::default();
    let mut twice = Histogram::default();
    for t in [0.0008, 0.002, 0.002, 0.03] {
        lat.observe(t);
        twice.observe(t);
        twice.observe(t);
    }
    let check = |state: &str, ok: bool, reason: &str| Check {
        state: state.into(),
        nanny: Some(4242),
        last: Some(CheckResult {
            ok,
            reason: reason.into(),
            at: 1_796_558_400.5,
            took: 0.002,
        }),
    };
    Director {
        version: VERSION,
        taken_at: 1_796_558_401.0,
        pulse: Some(Pulse {
            pid: 100,
            role: "active".into(),
            phase: "active, partner alive".into(),
            role_for: 3600.0,
            takeovers: 1,
            handovers: 0,
            partner: Some(Partner {
                address: "10.0.0.2".into(),
                alive: true,
                channels: vec![Channel {
                    name: "udp 10.0.0.2:539".into(),
                    last_heard: Some(0.4),
                }],
            }),
            addresses: vec![Address {
                address: "192.168.1.10/24".into(),
                device: "eth0:1".into(),
            }],
        }),
        lvs: Some(Lvs {
            pid: 200,
            role: "active".into(),
            config: "/etc/sysconfig/ha/lvs.cf".into(),
            overrides: "/var/lib/piranha/overrides".into(),
            counters: true,
            took: 0.004,
            services: vec![
                Service {
                    name: "web".into(),
                    key: "tcp 192.168.1.10:80".into(),
                    scheduler: "wlc".into(),
                    persistent: None,
                    in_kernel: true,
                    disabled: false,
                    sorry_server: Some(SorryServer {
                        address: "10.0.1.99:80".into(),
                        serving: false,
                    }),
                    quorum: None,
                    announcement: None,
                    stats: Some(stats(300)),
                    check_latency: twice.clone(),
                    servers: vec![
                        Server {
                            name: "web1".into(),
                            address: "10.0.1.1:80".into(),
                            weight: 1,
                            kernel_weight: Some(1),
                            state: "up".into(),
                            check: check("up", true, "HTTP 200"),
                            admin: None,
                            active_connections: Some(3),
                            inactive_connections: Some(12),
                            stats: Some(stats(200)),
                        },
                        Server {
                            name: "web2".into(),
                            address: "10.0.1.2:80".into(),
                            weight: 2,
                            kernel_weight: Some(0),
                            state: "drained".into(),
                            check: check("up", true, "HTTP 200"),
                            admin: Some(Admin {
                                kind: "drain".into(),
                                weight: None,
                                deadline: Some(1_796_559_000.0),
                                since: 1_796_558_300.0,
                            }),
                            active_connections: Some(1),
                            inactive_connections: Some(4),
                            stats: Some(stats(100)),
                        },
                    ],
                },
                Service {
                    name: "dns".into(),
                    key: "udp 192.168.1.10:53".into(),
                    scheduler: "rr".into(),
                    persistent: Some(300),
                    in_kernel: true,
                    disabled: false,
                    sorry_server: None,
                    quorum: Some(Quorum {
                        need: 2,
                        have: 1,
                        up: false,
                    }),
                    announcement: Some(Announcement {
                        address: "192.168.1.11".into(),
                        announced: false,
                        why_not: Some("no quorum".into()),
                    }),
                    stats: Some(stats(0)),
                    check_latency: lat.clone(),
                    servers: vec![Server {
                        name: "dns1".into(),
                        address: "10.0.1.3:53".into(),
                        weight: 1,
                        kernel_weight: None,
                        state: "down".into(),
                        check: check("down", false, "no answer in 5 s"),
                        admin: None,
                        active_connections: None,
                        inactive_connections: None,
                        stats: None,
                    }],
                },
            ],
        }),
        notes: Vec::new(),
    }
}
