//! Every keyword of the language parses, keeps its span, and has Piranha's
//! default when absent.

use std::net::Ipv4Addr;

use lvs_config::keywords::{Scope, KEYWORDS};
use lvs_config::*;

fn opts() -> ParseOptions {
    ParseOptions {
        file: "all.cf".into(),
        resolver: Resolver::None,
    }
}

/// A value for each keyword that differs from its default.
fn sample(scope: Scope, key: &str) -> &'static str {
    match (scope, key) {
        (_, "serial_no") => "42",
        (_, "primary" | "primary_private" | "backup" | "backup_private" | "master") => "192.0.2.7",
        (_, "primary_shared" | "backup_shared") => "/dev/sdb",
        (_, "service") => "lvs",
        (_, "rsh_command") => "ssh",
        (
            _,
            "backup_active" | "heartbeat" | "sync" | "syncdaemon" | "hot_standby" | "use_regex",
        ) => "1",
        (_, "quiesce_server") => "1",
        (_, "hard_shutdown") => "0",
        (_, "heartbeat_port") => "540",
        (_, "keepalive") => "3",
        (_, "deadtime") => "9",
        (_, "network") => "direct",
        (_, "nat_router") => "10.0.0.254 eth1:1",
        (_, "nat_nmask" | "vip_nmask" | "pmask") => "255.255.255.0",
        (_, "reservation_conflict_action") => "preempt",
        (_, "debug_level") => "ALL",
        (_, "active_cmd" | "inactive_cmd") => "/usr/local/bin/hook",
        (_, "heartbeat_key") => "/etc/sysconfig/ha/heartbeat.key",
        (_, "monitor_links") => "1",
        (_, "syncd_iface") => "eth1",
        (_, "syncd_id") => "7",
        (_, "syncd_group") => "ff02::8:81",
        (_, "syncd_port") => "8849",
        (_, "tcp_timeout" | "tcpfin_timeout" | "udp_timeout") => "120",
        (_, "ipvsadm") => "/usr/sbin/ipvsadm",
        (_, "director_mode") => "bgp",
        (_, "directors") => "[ 192.0.2.7 192.0.2.8 ]",
        (_, "bird_socket") => "/run/bird/bird.ctl",
        (_, "bird_routes") => "/run/piranha/bird/routes.conf",
        (_, "withdraw_delay") => "1.5",
        (_, "sched_flags") => "flag-1,flag-2",
        (Scope::Server, "active") => "1",
        (_, "active") => "0",
        (Scope::Server, "address") => "10.0.0.5",
        (_, "address") => "192.0.2.100 eth0:1",
        (_, "sorry_server") => "10.0.0.9",
        (_, "fwmark") => "5",
        (Scope::Server, "port") => "8080",
        (_, "port") => "443",
        (_, "persistent") => "300",
        (_, "send") => "\"GET / HTTP/1.0\\r\\n\\r\\n\"",
        (_, "expect") => "\"HTTP\"",
        (_, "send_program") => "\"/bin/check %h %p\"",
        (_, "load_monitor") => "uptime",
        (_, "scheduler") => "rr",
        (_, "protocol") => "udp",
        (_, "timeout") => "6",
        (_, "reentry") => "15",
        (_, "client_monitor") => "/usr/local/sbin/nanny",
        (_, "start_cmd" | "stop_cmd") => "\"/etc/init.d/httpd start\"",
        (_, "dirs") => "[ /var/www /etc/httpd ]",
        (_, "weight") => "3",
        (_, "quorum") => "2",
        (_, "hysteresis") => "1",
        (_, "quorum_up" | "quorum_down") => "/usr/local/bin/notify",
        // Extension (issue 9): health checks.
        (Scope::Server, "check") => "https",
        (_, "check") => "http",
        (_, "check_path") => "/health",
        (_, "check_status") => "\"200-299 301\"",
        (_, "check_digest") => "9b3a0c85a887a256d6939da88aabd8cd",
        (_, "check_virtualhost" | "check_sni") => "www.example.com",
        (_, "check_verify" | "check_dynamic") => "1",
        (_, "check_ca") => "/etc/ssl/certs/ca-certificates.crt",
        (_, "check_helo") => "director.example.com",
        (_, "check_dns_name") => "example.com.",
        (_, "check_dns_type") => "MX",
        (_, "check_program") => "\"/bin/check %h %p\"",
        (_, "check_timeout") => "4",
        (_, "retry") => "2",
        (_, "retry_delay") => "0.5",
        (_, "rise") => "3",
        (_, "warmup") => "7",
        other => panic!("no sample for {other:?}"),
    }
}

/// The text of a file setting every keyword, and the line of each.
fn everything() -> (String, Vec<(Scope, &'static str, u32)>) {
    let mut text = String::new();
    let mut at = Vec::new();
    let mut line = 0u32;
    let mut push = |text: &mut String, s: String| {
        text.push_str(&s);
        text.push('\n');
        line += 1;
        line
    };
    for k in KEYWORDS.iter().filter(|k| k.scope == Scope::Global) {
        let l = push(
            &mut text,
            format!("{} = {}", k.name, sample(k.scope, k.name)),
        );
        at.push((k.scope, k.name, l));
    }
    push(&mut text, "virtual vs1 {".into());
    for k in KEYWORDS.iter().filter(|k| k.scope == Scope::Virtual) {
        let l = push(
            &mut text,
            format!("    {} = {}", k.name, sample(k.scope, k.name)),
        );
        at.push((k.scope, k.name, l));
    }
    push(&mut text, "    server rs1 {".into());
    for k in KEYWORDS.iter().filter(|k| k.scope == Scope::Server) {
        let l = push(
            &mut text,
            format!("        {} = {}", k.name, sample(k.scope, k.name)),
        );
        at.push((k.scope, k.name, l));
    }
    push(&mut text, "    }".into());
    push(&mut text, "}".into());
    push(&mut text, "failover fs1 {".into());
    for k in KEYWORDS.iter().filter(|k| k.scope == Scope::Failover) {
        let l = push(
            &mut text,
            format!("    {} = {}", k.name, sample(k.scope, k.name)),
        );
        at.push((k.scope, k.name, l));
    }
    push(&mut text, "}".into());
    (text, at)
}

fn span_of(c: &Config, scope: Scope, key: &str) -> Option<Span> {
    fn s<T>(o: &Opt<T>) -> Option<Span> {
        o.as_ref().and_then(|x| x.span)
    }
    let v = &c.virtual_servers[0];
    let r = &v.servers[0];
    let f = &c.failover_services[0];
    match (scope, key) {
        (Scope::Global, k) => match k {
            "serial_no" => s(&c.serial_no),
            "primary" => s(&c.primary),
            "primary_private" => s(&c.primary_private),
            "primary_shared" => s(&c.primary_shared),
            "service" => s(&c.service),
            "rsh_command" => s(&c.rsh_command),
            "backup_active" => s(&c.backup_active),
            "backup" => s(&c.backup),
            "backup_private" => s(&c.backup_private),
            "backup_shared" => s(&c.backup_shared),
            "heartbeat" => s(&c.heartbeat),
            "heartbeat_port" => s(&c.heartbeat_port),
            "keepalive" => s(&c.keepalive),
            "deadtime" => s(&c.deadtime),
            "network" => s(&c.network),
            "nat_router" => s(&c.nat_router),
            "nat_nmask" => s(&c.nat_nmask),
            "reservation_conflict_action" => s(&c.reservation_conflict_action),
            "debug_level" => s(&c.debug_level),
            "active_cmd" => s(&c.active_cmd),
            "inactive_cmd" => s(&c.inactive_cmd),
            "heartbeat_key" => s(&c.heartbeat_key),
            "monitor_links" => s(&c.monitor_links),
            "syncdaemon" => s(&c.syncdaemon),
            "syncd_iface" => s(&c.syncd_iface),
            "syncd_id" => s(&c.syncd_id),
            "hot_standby" => s(&c.hot_standby),
            "syncd_group" => s(&c.syncd_group),
            "syncd_port" => s(&c.syncd_port),
            "tcp_timeout" => s(&c.tcp_timeout),
            "tcpfin_timeout" => s(&c.tcpfin_timeout),
            "udp_timeout" => s(&c.udp_timeout),
            "hard_shutdown" => s(&c.hard_shutdown),
            "ipvsadm" => s(&c.ipvsadm),
            "sync" => s(&c.sync),
            "director_mode" => s(&c.director_mode),
            "directors" => s(&c.directors),
            "bird_socket" => s(&c.bird_socket),
            "bird_routes" => s(&c.bird_routes),
            "withdraw_delay" => s(&c.withdraw_delay),
            _ => panic!("global {k} not mapped"),
        },
        (Scope::Virtual, k) => match k {
            "active" => s(&v.active),
            "address" => s(&v.address),
            "sorry_server" => s(&v.sorry_server),
            "vip_nmask" => s(&v.vip_nmask),
            "fwmark" => s(&v.fwmark),
            "port" => s(&v.port),
            "persistent" => s(&v.persistent),
            "pmask" => s(&v.pmask),
            "send" => s(&v.send),
            "expect" => s(&v.expect),
            "use_regex" => s(&v.use_regex),
            "send_program" => s(&v.send_program),
            "load_monitor" => s(&v.load_monitor),
            "scheduler" => s(&v.scheduler),
            "sched_flags" => s(&v.sched_flags),
            "protocol" => s(&v.protocol),
            "timeout" => s(&v.timeout),
            "reentry" => s(&v.reentry),
            "quiesce_server" => s(&v.quiesce_server),
            "client_monitor" => s(&v.client_monitor),
            "start_cmd" => s(&v.start_cmd),
            "stop_cmd" => s(&v.stop_cmd),
            "master" => s(&v.master),
            "dirs" => s(&v.dirs),
            "quorum" => s(&v.quorum),
            "hysteresis" => s(&v.hysteresis),
            "quorum_up" => s(&v.quorum_up),
            "quorum_down" => s(&v.quorum_down),
            "check" => s(&v.health.check),
            "check_path" => s(&v.health.check_path),
            "check_status" => s(&v.health.check_status),
            "check_digest" => s(&v.health.check_digest),
            "check_virtualhost" => s(&v.health.check_virtualhost),
            "check_sni" => s(&v.health.check_sni),
            "check_verify" => s(&v.health.check_verify),
            "check_ca" => s(&v.health.check_ca),
            "check_helo" => s(&v.health.check_helo),
            "check_dns_name" => s(&v.health.check_dns_name),
            "check_dns_type" => s(&v.health.check_dns_type),
            "check_program" => s(&v.health.check_program),
            "check_dynamic" => s(&v.health.check_dynamic),
            "check_timeout" => s(&v.health.check_timeout),
            "retry" => s(&v.health.retry),
            "retry_delay" => s(&v.health.retry_delay),
            "rise" => s(&v.health.rise),
            "warmup" => s(&v.health.warmup),
            _ => panic!("virtual {k} not mapped"),
        },
        (Scope::Server, k) => match k {
            "address" => s(&r.address),
            "active" => s(&r.active),
            "port" => s(&r.port),
            "weight" => s(&r.weight),
            "check" => s(&r.health.check),
            "check_path" => s(&r.health.check_path),
            "check_status" => s(&r.health.check_status),
            "check_digest" => s(&r.health.check_digest),
            "check_virtualhost" => s(&r.health.check_virtualhost),
            "check_sni" => s(&r.health.check_sni),
            "check_verify" => s(&r.health.check_verify),
            "check_ca" => s(&r.health.check_ca),
            "check_helo" => s(&r.health.check_helo),
            "check_dns_name" => s(&r.health.check_dns_name),
            "check_dns_type" => s(&r.health.check_dns_type),
            "check_program" => s(&r.health.check_program),
            "check_dynamic" => s(&r.health.check_dynamic),
            "check_timeout" => s(&r.health.check_timeout),
            "retry" => s(&r.health.retry),
            "retry_delay" => s(&r.health.retry_delay),
            "rise" => s(&r.health.rise),
            "warmup" => s(&r.health.warmup),
            _ => panic!("server {k} not mapped"),
        },
        (Scope::Failover, k) => match k {
            "active" => s(&f.active),
            "address" => s(&f.address),
            "vip_nmask" => s(&f.vip_nmask),
            "port" => s(&f.port),
            "send" => s(&f.send),
            "expect" => s(&f.expect),
            "send_program" => s(&f.send_program),
            "timeout" => s(&f.timeout),
            "reentry" => s(&f.reentry),
            "start_cmd" => s(&f.start_cmd),
            "stop_cmd" => s(&f.stop_cmd),
            _ => panic!("failover {k} not mapped"),
        },
    }
}

#[test]
fn every_keyword_parses_with_its_span() {
    let (text, at) = everything();
    let p = parse_str(&text, &opts()).unwrap_or_else(|e| panic!("{e}\n{text}"));
    for (scope, key, line) in at {
        let sp =
            span_of(&p.config, scope, key).unwrap_or_else(|| panic!("{scope:?} {key}: not stored"));
        assert_eq!(sp.line, line, "{scope:?} {key}");
        let src = &text[sp.start..sp.end];
        assert_eq!(src, sample(scope, key), "{scope:?} {key}");
    }
    // And the canonical writer keeps every one of them.
    let again = parse_str(&write_config(&p.config), &opts()).unwrap().config;
    assert_eq!(again, p.config);
}

#[test]
fn defaults_are_piranhas() {
    let c = parse_str(
        "virtual v {\n server s {\n }\n}\nfailover f {\n}\n",
        &opts(),
    )
    .unwrap()
    .config;
    assert_eq!(c.serial_no(), 0);
    assert_eq!(c.service(), ServiceType::Lvs);
    assert_eq!(c.primary(), Ipv4Addr::UNSPECIFIED);
    assert!(!c.backup_active());
    assert!(!c.heartbeat());
    assert_eq!(c.heartbeat_port(), 539);
    assert_eq!(c.keepalive(), Seconds::secs(2));
    assert_eq!(c.deadtime(), Seconds::secs(5));
    assert_eq!(c.network(), Network::Nat);
    assert_eq!(c.nat_nmask(), None);
    assert_eq!(c.debug_level(), "NONE");
    assert_eq!(c.rsh_command(), "rsh");
    assert_eq!(c.ipvsadm(), "/sbin/ipvsadm");
    assert!(!c.sync());
    assert_eq!(c.monitor_links(), 0);
    assert!(!c.syncdaemon());
    assert_eq!(c.syncd_iface(), "eth0");
    assert_eq!(c.syncd_id(), 0);
    assert!(!c.hot_standby());
    assert_eq!(
        (c.tcp_timeout(), c.tcpfin_timeout(), c.udp_timeout()),
        (0, 0, 0)
    );
    assert!(c.hard_shutdown());
    let v = &c.virtual_servers[0];
    assert!(!v.active());
    assert_eq!(v.port(), 80);
    assert_eq!(v.fwmark(), 0);
    assert_eq!(v.scheduler(), Scheduler::Wlc);
    assert_eq!(v.protocol(), Protocol::Tcp);
    assert_eq!(v.persistent(), 0);
    assert_eq!(v.pmask(), None);
    assert_eq!(v.timeout(), 10);
    assert_eq!(v.reentry(), 180);
    assert_eq!(v.load_monitor(), LoadMonitor::None);
    assert!(!v.quiesce_server());
    assert!(!v.use_regex());
    assert_eq!(v.client_monitor(), "/usr/sbin/nanny");
    assert_eq!(v.sorry_server(), Ipv4Addr::UNSPECIFIED);
    assert_eq!((v.quorum(), v.hysteresis()), (None, 0));
    let r = &v.servers[0];
    assert!(!r.active());
    assert_eq!(r.weight(), 1);
    assert_eq!(r.port_in(v), 80);
    let f = &c.failover_services[0];
    assert!(!f.active());
    assert_eq!((f.port(), f.timeout(), f.reentry()), (80, 10, 180));
}

#[test]
fn private_addresses_follow_piranha() {
    let c = parse_str("primary = 1.1.1.1\nbackup = 2.2.2.2\n", &opts())
        .unwrap()
        .config;
    assert_eq!(c.primary_private().to_string(), "1.1.1.1");
    assert_eq!(c.backup_private().to_string(), "2.2.2.2");
    let c = parse_str(
        "primary = 1.1.1.1\nprimary_private = 10.1.1.1\nbackup = 2.2.2.2\nbackup_private = 10.2.2.2\n",
        &opts(),
    )
    .unwrap()
    .config;
    assert_eq!(c.primary_private().to_string(), "10.1.1.1");
    assert_eq!(c.backup_private().to_string(), "10.2.2.2");
}

#[test]
fn quotes_reach_nanny_as_piranha_passed_them() {
    let c = parse_str(
        "virtual v {\n send = \"GET /\\r\\n\"\n expect = 'OK'\n}\n",
        &opts(),
    )
    .unwrap()
    .config;
    let v = &c.virtual_servers[0];
    assert_eq!(
        v.send.as_ref().unwrap().value.as_passed_to_nanny(),
        "GET /\\r\\n"
    );
    assert_eq!(
        v.expect.as_ref().unwrap().value.as_passed_to_nanny(),
        "'OK'"
    );
}

#[test]
fn real_server_port_follows_the_virtual_port_parsed_so_far() {
    let c = parse_str(
        "virtual v {\n port = 8080\n server a {\n }\n}\nvirtual w {\n server b {\n }\n port = 81\n}\n",
        &opts(),
    )
    .unwrap()
    .config;
    assert_eq!(
        c.virtual_servers[0].servers[0].port_in(&c.virtual_servers[0]),
        8080
    );
    assert_eq!(
        c.virtual_servers[1].servers[0].port_in(&c.virtual_servers[1]),
        80
    );
}

#[test]
fn man_page_documents_every_keyword() {
    let man = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/lvs.cf.5"))
        .expect("docs/lvs.cf.5");
    for k in KEYWORDS {
        let needle = format!(".B {}", k.name);
        assert!(
            man.contains(&needle) || man.contains(&format!("\\fB{}\\fR", k.name)),
            "docs/lvs.cf.5 does not document `{}`",
            k.name
        );
    }
}
