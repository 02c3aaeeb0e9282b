//! Pure plans derived from lvs.cf: the floating addresses, the lvs and
//! sync daemon argvs, the state machine's settings and the waits of a role
//! change, and what decides the heartbeat sockets.  Nothing here has a
//! side effect (but reading lvs.cf itself, [`load_config`]).

use std::net::IpAddr;
use std::path::Path;

use lvs_config::{Config, Mask, Network};

use super::options::{StartError, LVS_START_MS};
use crate::machine::Settings;
use crate::net::{broadcast, prefix_of};

/// A floating address from lvs.cf: a VIP or the NAT router address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Floating {
    /// The address.
    pub ip: IpAddr,
    /// Prefix length (32 for IPv4, 128 for IPv6 when lvs.cf gives no
    /// netmask).
    pub prefix: u8,
    /// Label as written (`eth0:1`; pulse's name for an IPv6 address too,
    /// which the kernel does not label).
    pub label: String,
    /// The device (`eth0`).
    pub dev: String,
}

/// The prefix length a floating address gets from its lvs.cf mask: the
/// mask's (a dotted IPv4 mask's leading ones, as Piranha counted them; a
/// `/N` up to the family's length), or the whole address (32, 128) when
/// there is none.  A dotted mask on an IPv6 address (lvs.cf refuses it)
/// counts as none.
pub fn floating_prefix(ip: &IpAddr, mask: Option<Mask>) -> u8 {
    let full = if ip.is_ipv4() { 32 } else { 128 };
    match (mask, ip) {
        (Some(Mask::Dotted(m)), IpAddr::V4(_)) => prefix_of(m),
        (Some(Mask::Prefix(n)), _) => n.min(full),
        _ => full,
    }
}

/// The floating addresses of `cfg`: every active virtual server's VIP and,
/// with `network = nat`, the NAT router address, of either family; unique
/// by address and device, in file order.
pub fn floating_addresses(cfg: &Config) -> Vec<Floating> {
    let mut out: Vec<Floating> = Vec::new();
    let mut push = |ip: IpAddr, mask: Option<Mask>, label: &str, dev: &str| {
        if ip.is_unspecified() || label.is_empty() {
            return;
        }
        let prefix = floating_prefix(&ip, mask);
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
    if cfg.bgp() {
        // bgp mode (issue 22): each VIP on lo, a host address; the routers
        // route it to this director, nobody ARPs for it
        for vs in cfg.active_virtual_servers() {
            let ip = vs.vip();
            if ip.is_unspecified() || out.iter().any(|f| f.ip == ip) {
                continue;
            }
            out.push(Floating {
                ip,
                prefix: if ip.is_ipv4() { 32 } else { 128 },
                label: "lo".to_string(),
                dev: "lo".to_string(),
            });
        }
        return out;
    }
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

/// The send_arp arguments that announce `f` from the device's `mac`.
/// IPv4: Piranha's gratuitous ARP, `-i DEV IP MAC BCAST ffffffffffff`
/// (the broadcast of the address's network, or of its /24 when the prefix
/// is longer).  IPv6: an unsolicited neighbour advertisement to all nodes,
/// `-i DEV IP MAC ff02::1 333300000001`.  The MAC is 12 upper-case hex
/// digits.
pub fn announcement_args(f: &Floating, mac: [u8; 6]) -> Vec<String> {
    let mac: String = mac.iter().map(|b| format!("{b:02X}")).collect();
    let (to_ip, to_hw) = match f.ip {
        IpAddr::V4(ip) => (
            broadcast(ip, f.prefix.min(24)).to_string(),
            "ffffffffffff".to_string(),
        ),
        IpAddr::V6(_) => (
            crate::arp::ALL_NODES.to_string(),
            crate::arp::ALL_NODES_MAC
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        ),
    };
    vec![
        "-i".to_string(),
        f.dev.clone(),
        f.ip.to_string(),
        mac,
        to_ip,
        to_hw,
    ]
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
/// `syncd_id`; and the extensions `syncd_group`, `syncd_port`, passed as
/// `--mcast-group G` and `--mcast-port P` after Piranha's words only when
/// lvs.cf sets them).
pub fn sync_daemon_argvs(cfg: &Config) -> SyncCommands {
    let ipvsadm = cfg.ipvsadm();
    let s = |v: &[&str]| -> Vec<String> {
        std::iter::once(ipvsadm.clone())
            .chain(v.iter().map(|x| x.to_string()))
            .collect()
    };
    let start = |role: &str| {
        let mut v = s(&[
            "--start-daemon",
            role,
            "--mcast-interface",
            &cfg.syncd_iface(),
            "--syncid",
            &cfg.syncd_id().to_string(),
        ]);
        if let Some(g) = cfg.syncd_group() {
            v.extend(["--mcast-group".to_string(), g.to_string()]);
        }
        if let Some(p) = cfg.syncd_port() {
            v.extend(["--mcast-port".to_string(), p.to_string()]);
        }
        v
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
    cfg.backup_active() && !cfg.backup().is_unspecified() && !cfg.bgp()
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
    fn ipv6_floating_addresses_default_to_128_and_take_their_prefix() {
        let c = cfg("primary = 2001:db8:1::1\nbackup = 2001:db8:1::2\nbackup_active = 1\nnetwork = nat\nnat_router = 2001:db8:2::1 eth1\nnat_nmask = /64\n\
virtual a {\n active = 1\n address = 2001:db8::100 eth0\n vip_nmask = /64\n port = 80\n server r {\n  address = 2001:db8:2::21\n  active = 1\n }\n}\n\
virtual b {\n active = 1\n address = 2001:db8::101 eth0:1\n port = 80\n server r {\n  address = 2001:db8:2::21\n  active = 1\n }\n}\n\
virtual c {\n active = 1\n address = 2001:db8::100 eth0\n port = 443\n server r {\n  address = 2001:db8:2::21\n  active = 1\n }\n}\n");
        let f = floating_addresses(&c);
        let got: Vec<(String, u8, &str, &str)> = f
            .iter()
            .map(|f| (f.ip.to_string(), f.prefix, f.label.as_str(), f.dev.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("2001:db8::100".to_string(), 64, "eth0", "eth0"),
                ("2001:db8::101".to_string(), 128, "eth0:1", "eth0"),
                ("2001:db8:2::1".to_string(), 64, "eth1", "eth1"),
            ]
        );
    }

    #[test]
    fn floating_prefix_by_family() {
        let v4: IpAddr = "10.0.0.100".parse().unwrap();
        let v6: IpAddr = "2001:db8::100".parse().unwrap();
        let dotted = |s: &str| Some(Mask::Dotted(s.parse().unwrap()));
        assert_eq!(floating_prefix(&v4, None), 32);
        assert_eq!(floating_prefix(&v6, None), 128);
        assert_eq!(floating_prefix(&v4, dotted("255.255.255.0")), 24);
        // Piranha counted the leading ones of a mask with holes
        assert_eq!(floating_prefix(&v4, dotted("255.0.255.0")), 8);
        assert_eq!(floating_prefix(&v4, Some(Mask::Prefix(24))), 24);
        assert_eq!(floating_prefix(&v4, Some(Mask::Prefix(64))), 32);
        assert_eq!(floating_prefix(&v6, Some(Mask::Prefix(64))), 64);
        assert_eq!(floating_prefix(&v6, Some(Mask::Prefix(200))), 128);
        // lvs.cf refuses a dotted mask on an IPv6 address: as none here
        assert_eq!(floating_prefix(&v6, dotted("255.255.255.0")), 128);
    }

    #[test]
    fn announcements_are_arps_for_ipv4_and_neighbour_advertisements_for_ipv6() {
        let mac = [0x02, 0xab, 0, 0x10, 0x20, 0xff];
        let f = |ip: &str, prefix: u8, label: &str| Floating {
            ip: ip.parse().unwrap(),
            prefix,
            label: label.to_string(),
            dev: "eth0".to_string(),
        };
        // the send_arp argv as before: the broadcast of the address's
        // network, or of its /24 when the prefix is longer
        assert_eq!(
            announcement_args(&f("10.0.0.100", 16, "eth0:1"), mac),
            [
                "-i",
                "eth0",
                "10.0.0.100",
                "02AB001020FF",
                "10.0.255.255",
                "ffffffffffff"
            ]
        );
        assert_eq!(
            announcement_args(&f("10.0.0.100", 32, "eth0:1"), mac),
            [
                "-i",
                "eth0",
                "10.0.0.100",
                "02AB001020FF",
                "10.0.0.255",
                "ffffffffffff"
            ]
        );
        assert_eq!(
            announcement_args(&f("2001:db8::100", 64, "eth0"), mac),
            [
                "-i",
                "eth0",
                "2001:db8::100",
                "02AB001020FF",
                "ff02::1",
                "333300000001"
            ]
        );
        // what send_arp (and pulse's own first frame) make of them
        let v6 = announcement_args(&f("2001:db8::100", 64, "eth0:1"), mac);
        match crate::arp::parse_command(&v6).unwrap() {
            crate::arp::Announcement::Na(r) => {
                assert_eq!(r.dev, "eth0");
                assert_eq!(r.src_ip.to_string(), "2001:db8::100");
                assert_eq!(r.src_hw, mac);
                assert_eq!(r.targ_ip, crate::arp::ALL_NODES);
                assert_eq!(r.tar_hw, crate::arp::ALL_NODES_MAC);
            }
            other => panic!("{other:?}"),
        }
        let v4 = announcement_args(&f("10.0.0.100", 24, "eth0:1"), mac);
        assert!(matches!(
            crate::arp::parse_command(&v4).unwrap(),
            crate::arp::Announcement::Arp(_)
        ));
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

    #[test]
    fn sync_daemon_commands_with_a_group_and_port() {
        let base = "primary = 2001:db8:1::1\nbackup = 2001:db8:1::2\nsyncdaemon = 1\nsyncd_iface = eth1\nsyncd_id = 7\n";
        let piranha = |role: &str| {
            vec![
                "/sbin/ipvsadm".to_string(),
                "--start-daemon".to_string(),
                role.to_string(),
                "--mcast-interface".to_string(),
                "eth1".to_string(),
                "--syncid".to_string(),
                "7".to_string(),
            ]
        };
        let words = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // without the extensions: Piranha's argv, nothing added
        let v = sync_daemon_argvs(&cfg(base));
        assert_eq!(v.start_master, piranha("master"));
        assert_eq!(v.start_backup, piranha("backup"));
        let v = sync_daemon_argvs(&cfg(&format!(
            "{base}syncd_group = ff02::8:81\nsyncd_port = 8849\n"
        )));
        for (argv, role) in [(&v.start_master, "master"), (&v.start_backup, "backup")] {
            let mut want = piranha(role);
            want.extend(words(&[
                "--mcast-group",
                "ff02::8:81",
                "--mcast-port",
                "8849",
            ]));
            assert_eq!(*argv, want);
        }
        assert_eq!(
            v.stop_backup,
            words(&["/sbin/ipvsadm", "--stop-daemon", "backup"])
        );
        let v = sync_daemon_argvs(&cfg(&format!("{base}syncd_group = ff02::8:81\n")));
        let mut want = piranha("master");
        want.extend(words(&["--mcast-group", "ff02::8:81"]));
        assert_eq!(v.start_master, want);
        let v = sync_daemon_argvs(&cfg(&format!("{base}syncd_port = 8849\n")));
        let mut want = piranha("master");
        want.extend(words(&["--mcast-port", "8849"]));
        assert_eq!(v.start_master, want);
        // our ipvsadm reads them as a daemon with that group and port
        let v = sync_daemon_argvs(&cfg(&format!(
            "{base}syncd_group = ff02::8:81\nsyncd_port = 8849\n"
        )));
        match ipvsadm_cli::parse(&v.start_master, false) {
            Ok(ipvsadm_cli::Action::Apply(ipvs::Op::StartDaemon(d))) => {
                assert_eq!(d.mcast_group, Some("ff02::8:81".parse().unwrap()));
                assert_eq!(d.mcast_port, 8849);
                assert_eq!(d.mcast_ifn, "eth1");
                assert_eq!(d.syncid, 7);
            }
            other => panic!("{other:?}"),
        }
    }
}
