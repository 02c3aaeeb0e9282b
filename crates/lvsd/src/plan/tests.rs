//! Unit tests of `plan`.

use super::*;
use lvs_config::{parse_str, ParseOptions, Resolver};

/// The words a foreign ipvsadm is given for `op` (Piranha's lvsd's).
fn words(op: &Op) -> String {
    crate::kernel::foreign::op_words(op).join(" ")
}

fn all_words(ops: &[Op]) -> Vec<String> {
    ops.iter().map(words).collect()
}

/// `t` parsed (no name resolution); shared with the kernel tests.
pub(crate) fn cfg(t: &str) -> Config {
    parse_str(
        t,
        &ParseOptions {
            file: "t.cf".into(),
            resolver: Resolver::None,
        },
    )
    .unwrap()
    .config
}

const BASE: &str = "primary = 192.168.1.10\nnetwork = nat\nvirtual www {\n active = 1\n address = 192.168.1.100 eth0:1\n port = 80\n send = \"GET / HTTP/1.0\\r\\n\\r\\n\"\n expect = \"HTTP\"\n scheduler = wlc\n timeout = 6\n reentry = 15\n server web1 {\n  address = 10.0.0.1\n  active = 1\n  weight = 1\n }\n server web2 {\n  address = 10.0.0.2\n  active = 1\n  port = 8080\n  weight = 2\n }\n}\n";

#[test]
fn an_active_block_without_a_vip_is_programmed_only_with_a_mark() {
    // Piranha ran both: `ipvsadm -A -f 5` worked (the marked addresses
    // live elsewhere); `-A -t 0.0.0.0:80` served no one.
    let c = cfg("primary = 1.1.1.1\nvirtual marked {\n active = 1\n fwmark = 5\n server a {\n  address = 10.0.0.1\n  active = 1\n }\n}\nvirtual nowhere {\n active = 1\n address = 0.0.0.0 eth0:1\n server b {\n  address = 10.0.0.2\n  active = 1\n }\n}\n");
    let d = desired(
        &c,
        RunMode {
            daemon: true,
            verbose: false,
        },
    );
    let names: Vec<&str> = d.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["marked"]);
    assert_eq!(d[0].key, ServiceKey::Fwmark(5));
}

#[test]
fn nanny_argv_is_piranhas() {
    let c = cfg(BASE);
    let vs = &c.virtual_servers[0];
    let a = nanny_argv(
        &c,
        vs,
        &vs.servers[1],
        RunMode {
            daemon: true,
            verbose: false,
        },
    );
    assert_eq!(
        a.join(" "),
        "/usr/sbin/nanny -c -h 10.0.0.2 -p 80 -r 8080 -s GET / HTTP/1.0\\r\\n\\r\\n -x HTTP -a 15 -I /sbin/ipvsadm -t 6 -w 2 -V 192.168.1.100 -M m --lvs"
    );
    assert_eq!(a[9], "GET / HTTP/1.0\\r\\n\\r\\n");
}

#[test]
fn nanny_argv_every_option() {
    let c = cfg("primary = 1.1.1.1\nnetwork = direct\nrsh_command = ssh\nipvsadm = /usr/sbin/ipvsadm\nvirtual d {\n active = 1\n address = 1.1.1.100 eth0:1\n fwmark = 7\n protocol = udp\n port = 53\n send_program = \"/bin/check %h %p\"\n expect = 'OK'\n quiesce_server = 1\n use_regex = 1\n load_monitor = uptime\n sorry_server = 10.0.0.9\n client_monitor = /opt/nanny\n server a {\n  address = 10.0.0.1\n  active = 1\n }\n}\n");
    let vs = &c.virtual_servers[0];
    let a = nanny_argv(
        &c,
        vs,
        &vs.servers[0],
        RunMode {
            daemon: true,
            verbose: true,
        },
    );
    assert_eq!(
        a,
        [
            "/opt/nanny",
            "-c",
            "-h",
            "10.0.0.1",
            "-p",
            "53",
            "-r",
            "53",
            "-f",
            "7",
            "-u",
            "-e",
            "/bin/check %h %p",
            "-x",
            "'OK'",
            "-q",
            "--regex",
            "-v",
            "-a",
            "180",
            "-I",
            "/usr/sbin/ipvsadm",
            "-t",
            "10",
            "-w",
            "1",
            "-V",
            "1.1.1.100",
            "-M",
            "g",
            "-U",
            "ssh",
            "--nodaemon",
            "--lvs"
        ]
    );
}

#[test]
fn quorum_gives_nanny_lvs_table_and_a_pipe() {
    let daemon = RunMode {
        daemon: true,
        verbose: false,
    };
    // A Piranha file: argv unchanged (no pipe without a sorry server).
    let c = cfg(BASE);
    let d = desired(&c, daemon);
    assert!(d[0].quorum.is_none());
    assert!(!d[0].monitors.values().any(|m| m.piped));
    let c = cfg(&BASE.replace(
        " reentry = 15\n",
        " reentry = 15\n quorum = 2\n hysteresis = 1\n quorum_up = /bin/up\n",
    ));
    let d = desired(&c, daemon);
    let q = d[0].quorum.as_ref().unwrap();
    assert_eq!((q.params.quorum, q.params.hysteresis), (2, 1));
    assert_eq!(
        (q.up.as_deref(), q.down.as_deref()),
        (Some("/bin/up"), None)
    );
    let m = &d[0].monitors[&("10.0.0.2".parse().unwrap(), 8080)];
    assert!(m.piped);
    assert_eq!(m.weight, 2);
    assert!(m
        .argv
        .join(" ")
        .ends_with(" -M m --nodaemon --lvs-table --lvs"));
    // Turning quorum on restarts the nannies (their argv changed).
    let r = reload(&cfg(BASE), &desired(&cfg(BASE), daemon), &c, &d);
    assert_eq!((r.stop.len(), r.start.len()), (2, 2));
}

#[test]
fn nanny_argv_health_extension_appended_only_when_set() {
    let text = BASE.replace(
        " timeout = 6\n",
        " timeout = 6\n check = http\n check_path = /health\n check_status = \"200-299 301\"\n retry = 2\n retry_delay = 0.5\n rise = 1\n check_timeout = 3\n",
    ).replace(
        "  port = 8080\n",
        "  port = 8080\n  check = misc\n  check_program = \"/bin/chk %h %p\"\n  check_dynamic = 1\n  retry = 0\n",
    );
    let c = cfg(&text);
    let vs = &c.virtual_servers[0];
    let mode = RunMode {
        daemon: true,
        verbose: false,
    };
    let piranha = "/usr/sbin/nanny -c -h 10.0.0.1 -p 80 -r 80 -s GET / HTTP/1.0\\r\\n\\r\\n -x HTTP -a 15 -I /sbin/ipvsadm -t 6 -w 1 -V 192.168.1.100 -M m --lvs";
    let a = nanny_argv(&c, vs, &vs.servers[0], mode);
    assert_eq!(
        a.join(" "),
        format!("{piranha} --check http --http-path /health --http-status 200-299,301 --io-timeout 3 --retry 2 --retry-delay 0.5 --rise 1")
    );
    let b = nanny_argv(&c, vs, &vs.servers[1], mode);
    assert_eq!(
        b[b.iter().position(|x| x == "--lvs").unwrap() + 1..],
        [
            "--check",
            "misc",
            "--http-path",
            "/health",
            "--http-status",
            "200-299,301",
            "--misc-program",
            "/bin/chk %h %p",
            "--io-timeout",
            "3",
            "--retry",
            "0",
            "--retry-delay",
            "0.5",
            "--rise",
            "1",
            "--misc-dynamic"
        ]
    );
    // The Piranha file itself: nothing appended.
    let p = cfg(BASE);
    let a = nanny_argv(
        &p,
        &p.virtual_servers[0],
        &p.virtual_servers[0].servers[0],
        mode,
    );
    assert_eq!(a.join(" "), piranha);
}

#[test]
fn service_lines() {
    let c = cfg("virtual a {\n active = 1\n address = 1.2.3.4 eth0:1\n scheduler = rr\n persistent = 300\n pmask = 255.255.255.0\n}\nvirtual b {\n active = 1\n address = 1.2.3.4 eth0:1\n fwmark = 80\n pmask = 255.255.0.0\n}\nvirtual c {\n address = 1.2.3.5 eth0:1\n}\n");
    let d = desired(&c, RunMode::default());
    assert_eq!(d.len(), 2, "inactive services are ignored");
    assert_eq!(
        words(&d[0].add_op()),
        "-A -t 1.2.3.4:80 -s rr -p 300 -M 255.255.255.0"
    );
    assert_eq!(words(&d[1].add_op()), "-A -f 80 -s wlc");
    assert_eq!(words(&d[0].del_op()), "-D -t 1.2.3.4:80");
    assert!(timeouts_op(&c).is_none());
    let c = cfg("tcp_timeout = 900\n");
    assert_eq!(words(&timeouts_op(&c).unwrap()), "--set 900 0 0");
}

#[test]
fn startup_leaves_foreign_services_alone() {
    let c = cfg(BASE);
    let want = desired(&c, RunMode::default());
    let foreign = ipvs::ServiceEntry {
        service: ipvs::Service {
            protocol: libc::IPPROTO_TCP as u16,
            addr: "9.9.9.9".parse().unwrap(),
            port: 80,
            sched_name: "rr".into(),
            ..Default::default()
        },
        dests: vec![],
    };
    let ops = startup_ops(&[foreign], &want);
    assert_eq!(all_words(&ops), ["-A -t 192.168.1.100:80 -s wlc"]);
}

#[test]
fn startup_adopts_an_existing_service() {
    let c = cfg(BASE);
    let want = desired(&c, RunMode::default());
    let mine = ipvs::ServiceEntry {
        service: ipvs::Service {
            protocol: libc::IPPROTO_TCP as u16,
            addr: "192.168.1.100".parse().unwrap(),
            port: 80,
            sched_name: "rr".into(),
            ..Default::default()
        },
        dests: vec![ipvs::Destination {
            af: ipvs::AF_INET,
            addr: "10.0.0.1".parse().unwrap(),
            port: 80,
            fwd: ipvs::Forward::Masq,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            ..ipvs::Destination::default()
        }],
    };
    let ops = startup_ops(&[mine], &want);
    assert_eq!(
        all_words(&ops),
        [
            "-E -t 192.168.1.100:80 -s wlc",
            "-d -t 192.168.1.100:80 -r 10.0.0.1:80"
        ]
    );
}

#[test]
fn reload_touches_only_what_changed() {
    let old_c = cfg(BASE);
    let mode = RunMode {
        daemon: true,
        verbose: false,
    };
    let old = desired(&old_c, mode);
    // Nothing changed.
    assert!(reload(&old_c, &old, &old_c, &old).is_empty());
    // Weight of web2 changed: restart that nanny only.
    let new_c = cfg(&BASE.replace("weight = 2", "weight = 5"));
    let new = desired(&new_c, mode);
    let r = reload(&old_c, &old, &new_c, &new);
    assert!(r.ops.is_empty() && r.delete.is_empty());
    assert_eq!(r.stop.len(), 1);
    assert_eq!(r.stop[0].1.to_string(), "10.0.0.2");
    assert_eq!(r.start.len(), 1);
    assert_eq!(r.start[0].1.rs, "web2");
    // Scheduler changed: -E, no nanny restarts.
    let new_c = cfg(&BASE.replace("scheduler = wlc", "scheduler = rr"));
    let r = reload(&old_c, &old, &new_c, &desired(&new_c, mode));
    assert_eq!(all_words(&r.ops), ["-E -t 192.168.1.100:80 -s rr"]);
    assert!(r.stop.is_empty() && r.start.is_empty());
    // Port changed: a different service: delete and add.
    let new_c = cfg(&BASE.replace("port = 80", "port = 81"));
    let r = reload(&old_c, &old, &new_c, &desired(&new_c, mode));
    assert_eq!(
        r.delete,
        vec![ServiceKey::Tcp("192.168.1.100".parse().unwrap(), 80)]
    );
    assert_eq!(words(&r.ops[0]), "-A -t 192.168.1.100:81 -s wlc");
    assert_eq!((r.stop.len(), r.start.len()), (2, 2));
    // A server removed and one deactivated virtual server.
    let new_c = cfg(&BASE.replace(
        " server web1 {\n  address = 10.0.0.1\n  active = 1\n  weight = 1\n }\n",
        "",
    ));
    let r = reload(&old_c, &old, &new_c, &desired(&new_c, mode));
    assert_eq!(r.stop.len(), 1);
    assert!(r.start.is_empty() && r.ops.is_empty() && r.delete.is_empty());
    let new_c = cfg(&BASE.replace(" active = 1\n address", " active = 0\n address"));
    let r = reload(&old_c, &old, &new_c, &desired(&new_c, mode));
    assert_eq!(r.delete.len(), 1);
    assert_eq!(r.stop.len(), 2);
}

#[test]
fn a_block_edited_in_place_replans_that_block_only() {
    let mode = RunMode {
        daemon: true,
        verbose: false,
    };
    let opts = ParseOptions {
        file: "t.cf".into(),
        resolver: Resolver::None,
    };
    let other = BASE
        .replace("virtual www", "virtual other")
        .replace("192.168.1.100", "192.168.1.101")
        .replace("primary = 192.168.1.10\nnetwork = nat\n", "");
    let old_t = format!("{BASE}{other}");
    let mut p = parse_str(&old_t, &opts).unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let old = desired(&p.config, mode);
    let old_timeouts = timeouts_op(&p.config);
    // web2 of `other` re-weighted (the last `weight = 2`).
    let at = old_t.rfind("weight = 2").unwrap();
    let new_t = format!("{}weight = 5{}", &old_t[..at], &old_t[at + 10..]);
    let changed = match lvs_config::reparse_in_place(&old_t, &mut p, &new_t, &opts).unwrap() {
        lvs_config::Reparsed::Virtual(k, _) => Some(k),
        r => panic!("{r:?}"),
    };
    assert_eq!(changed, Some(1));
    let new = desired_after_edit(&p.config, mode, changed, &old);
    assert_eq!(new, desired(&p.config, mode));
    assert!(
        Rc::ptr_eq(&new[0].monitors, &old[0].monitors),
        "www's plan reused"
    );
    assert!(!Rc::ptr_eq(&new[1].monitors, &old[1].monitors));
    let r = reload_from(old_timeouts, &old, &p.config, &new);
    assert!(r.ops.is_empty() && r.delete.is_empty());
    assert_eq!(
        r.stop,
        vec![(new[1].key, "10.0.0.2".parse().unwrap(), 8080)]
    );
    assert_eq!(r.start.len(), 1);
    assert_eq!(
        (r.start[0].1.vs.as_str(), r.start[0].1.rs.as_str()),
        ("other", "web2")
    );
}

#[test]
fn what_piranha_lost_is_left_out_and_the_rest_runs() {
    // Two blocks name one service: the first runs (Piranha's second
    // `ipvsadm -A` failed). A server without an address gets no nanny. An
    // all-ports persistent service (port 0) runs.
    let c = cfg("primary = 1.1.1.1\nvirtual first {\n active = 1\n address = 1.1.1.100 eth0:1\n server a {\n  address = 10.0.0.1\n  active = 1\n }\n server nowhere {\n  active = 1\n }\n}\nvirtual second {\n active = 1\n address = 1.1.1.100 eth0:1\n server b {\n  address = 10.0.0.2\n  active = 1\n }\n}\nvirtual all {\n active = 1\n address = 1.1.1.101 eth0:1\n port = 0\n persistent = 300\n server c {\n  address = 10.0.0.3\n  port = 80\n  active = 1\n }\n}\n");
    let d = desired(
        &c,
        RunMode {
            daemon: true,
            verbose: false,
        },
    );
    let names: Vec<&str> = d.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["first", "all"]);
    let rs: Vec<&str> = d[0].monitors.values().map(|m| m.rs.as_str()).collect();
    assert_eq!(rs, ["a"]);
    assert_eq!(d[1].key, ServiceKey::Tcp("1.1.1.101".parse().unwrap(), 0));
    let rports: Vec<u16> = d[1].monitors.values().map(|m| m.rport).collect();
    assert_eq!(rports, [80]);
}

/// `c` with its first virtual server on `vip` and its real servers on
/// `rips` (the parser does not take IPv6 yet: issue 21 builds the rest
/// first, so these configurations are made in code).
fn moved(mut c: Config, vip: Option<&str>, rips: &[&str]) -> Config {
    let vs = &mut c.virtual_servers[0];
    match vip {
        Some(v) => {
            let a = vs.address.as_mut().unwrap();
            a.value.ip = lvs_config::Host::from_addr(v.parse::<std::net::IpAddr>().unwrap());
        }
        None => vs.address = None,
    }
    for (rs, ip) in vs.servers.iter_mut().zip(rips) {
        rs.address = Some(lvs_config::Spanned::new(lvs_config::Host::from_addr(
            ip.parse::<std::net::IpAddr>().unwrap(),
        )));
    }
    c
}

#[test]
fn an_ipv6_service_has_ipvsadm_s_ipv6_words_and_bare_nanny_addresses() {
    let mut c = moved(
        cfg(BASE),
        Some("2001:db8::100"),
        &["2001:db8::1", "2001:db8::2"],
    );
    let vs = &mut c.virtual_servers[0];
    vs.persistent = Some(lvs_config::Spanned::new(300));
    vs.pmask = Some(lvs_config::Spanned::new(lvs_config::Mask::Prefix(64)));
    vs.sorry_server = Some(lvs_config::Spanned::new("2001:db8::99".parse().unwrap()));
    let d = desired(&c, RunMode::default());
    assert_eq!(
        d[0].key,
        ServiceKey::Tcp("2001:db8::100".parse().unwrap(), 80)
    );
    assert_eq!(
        words(&d[0].add_op()),
        "-A -t [2001:db8::100]:80 -s wlc -p 300 -M 64"
    );
    let svc = d[0].add_op();
    let Op::AddService(s) = &svc else {
        panic!("{svc:?}")
    };
    assert_eq!((s.af, s.netmask), (ipvs::AF_INET6, 64));
    assert_eq!(
        words(&d[0].sorry_op(true).unwrap()),
        "-a -t [2001:db8::100]:80 -r [2001:db8::99]:80 -m -w 1"
    );
    let vs = &c.virtual_servers[0];
    let a = nanny_argv(&c, vs, &vs.servers[1], RunMode::default());
    let at = |flag: &str| a[a.iter().position(|x| x == flag).unwrap() + 1].clone();
    assert_eq!(at("-h"), "2001:db8::2");
    assert_eq!(at("-V"), "2001:db8::100");
    assert_eq!(at("-r"), "8080");
    // IPv4 stays as it was, to the byte.
    let v4 = cfg(BASE);
    assert_eq!(
        words(&desired(&v4, RunMode::default())[0].add_op()),
        "-A -t 192.168.1.100:80 -s wlc"
    );
}

#[test]
fn an_ipv6_mark_is_its_own_service_and_nanny_is_told_the_family() {
    let mut c = moved(cfg(BASE), None, &["2001:db8::1", "2001:db8::2"]);
    c.virtual_servers[0].fwmark = Some(lvs_config::Spanned::new(5));
    let d = desired(&c, RunMode::default());
    assert_eq!(d[0].key, ServiceKey::Fwmark6(5));
    assert_eq!(words(&d[0].add_op()), "-A -f 5 -6 -s wlc");
    let vs = &c.virtual_servers[0];
    let a = nanny_argv(&c, vs, &vs.servers[0], RunMode::default());
    let at = |flag: &str| a[a.iter().position(|x| x == flag).unwrap() + 1].clone();
    assert_eq!(at("-V"), "::");
    assert_eq!(at("-f"), "5");
    // The same mark over IPv4 real servers is the IPv4 service, `-V
    // 0.0.0.0` as Piranha passed it.
    let mut c4 = moved(cfg(BASE), None, &["10.0.0.1", "10.0.0.2"]);
    c4.virtual_servers[0].fwmark = Some(lvs_config::Spanned::new(5));
    let d4 = desired(&c4, RunMode::default());
    assert_eq!(d4[0].key, ServiceKey::Fwmark(5));
    assert_ne!(d4[0].key, d[0].key);
    let vs = &c4.virtual_servers[0];
    let a = nanny_argv(&c4, vs, &vs.servers[0], RunMode::default());
    assert_eq!(a[a.iter().position(|x| x == "-V").unwrap() + 1], "0.0.0.0");
}

#[test]
fn an_ipv6_table_on_the_fake_kernel_is_adopted_not_made_again() {
    use ipvs::IpvsBackend;
    let mut c = moved(
        cfg(BASE),
        Some("2001:db8::100"),
        &["2001:db8::1", "2001:db8::2"],
    );
    c.virtual_servers[0].persistent = Some(lvs_config::Spanned::new(60));
    let want = desired(&c, RunMode::default());
    let mut fake = ipvs::fake::FakeIpvs::new();
    // A foreign IPv6 service lvs.cf does not name.
    let foreign = ServiceKey::Tcp("2001:db8::9".parse().unwrap(), 80);
    fake.apply_one(&Op::AddService(
        ServiceAttrs::of(&c.virtual_servers[0]).apply_to(foreign.service()),
    ))
    .unwrap();
    let read = |fake: &mut ipvs::fake::FakeIpvs| -> Vec<ipvs::ServiceEntry> {
        fake.services()
            .unwrap()
            .into_iter()
            .map(|s| ipvs::ServiceEntry {
                dests: fake.dests(&s).unwrap(),
                service: s,
            })
            .collect()
    };
    let ops = startup_ops(&read(&mut fake), &want);
    assert_eq!(all_words(&ops), ["-A -t [2001:db8::100]:80 -s wlc -p 60"]);
    for op in &ops {
        fake.apply_one(op).unwrap();
    }
    let rip = want[0].monitors.keys().next().copied().unwrap();
    let dest = want[0]
        .key
        .destination(SocketAddr::new(rip.0, rip.1), 'm', Some(1));
    fake.apply_one(&Op::AddDest(want[0].key.service(), dest))
        .unwrap();
    // A second start finds its own IPv6 service (not a foreign one): only
    // the real server lvs does not program itself is taken out.
    assert_eq!(
        all_words(&startup_ops(&read(&mut fake), &want)),
        ["-d -t [2001:db8::100]:80 -r [2001:db8::1]:80"]
    );
    let mut keys: Vec<Option<ServiceKey>> = fake
        .services()
        .unwrap()
        .iter()
        .map(ServiceKey::of_kernel)
        .collect();
    keys.sort();
    assert_eq!(keys, [Some(foreign), Some(want[0].key)]);
}

#[test]
fn a_prefix_pmask_on_an_ipv4_service_is_ignored_as_piranha_did() {
    let c = cfg("virtual www {\n active = 1\n address = 192.168.1.100 eth0:1\n persistent = 60\n pmask = /24\n}\n");
    let d = desired(&c, RunMode::default());
    assert_eq!(words(&d[0].add_op()), "-A -t 192.168.1.100:80 -s wlc -p 60");
}
