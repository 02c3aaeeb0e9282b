//! Pure plans derived from lvs.cf: the floating addresses, the lvs and
//! sync daemon argvs, the state machine's settings and the waits of a role
//! change, and what decides the heartbeat sockets.  Nothing here has a
//! side effect (but reading lvs.cf itself, [`load_config`]).

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use lvs_config::{Config, Mask, Network};

use super::options::{StartError, LVS_START_MS};
use crate::machine::Settings;
use crate::net::prefix_of;

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
    let mut push = |ip: IpAddr, mask: Option<Mask>, label: &str, dev: &str| {
        // IPv6 floating addresses come with issue 21's pulse step; the
        // parser refuses an IPv6 VIP until then.
        let IpAddr::V4(ip) = ip else {
            return;
        };
        if ip.is_unspecified() || label.is_empty() {
            return;
        }
        let prefix = match mask {
            None => 32,
            Some(Mask::Dotted(m)) => prefix_of(m),
            Some(Mask::Prefix(n)) => n.min(32),
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
pub(super) fn settings_of(cfg: &Config, master: bool) -> Settings {
    Settings {
        master,
        backup_active: effective_backup_active(cfg),
        keepalive_ms: cfg.keepalive().0.max(1),
        deadtime_ms: cfg.deadtime().0.max(1),
        ready_ms: ready_bound_ms(cfg),
        handover_ms: handover_bound_ms(cfg),
    }
}

pub(super) fn effective_backup_active(cfg: &Config) -> bool {
    cfg.backup_active() && !cfg.backup().is_unspecified()
}

/// What decides the heartbeat sockets; a SIGHUP that changes it rebinds.
pub(super) fn heartbeat_identity(cfg: &Config) -> (u16, [IpAddr; 4], Option<String>) {
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
