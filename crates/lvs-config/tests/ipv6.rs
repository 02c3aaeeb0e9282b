//! IPv6 in lvs.cf (issue 21): the forms accepted and refused, with the
//! exact place and rule of every refusal, and IPv4 files unchanged.

use std::net::IpAddr;

use lvs_config::*;

fn opts() -> ParseOptions {
    ParseOptions {
        file: "t.cf".into(),
        resolver: Resolver::Custom(|name, want| match (name, want) {
            ("dual.example", None | Some(Family::Inet)) => Some("192.0.2.10".parse().unwrap()),
            ("dual.example", Some(Family::Inet6)) => Some("2001:db8::10".parse().unwrap()),
            ("v6only.example", None | Some(Family::Inet6)) => Some("2001:db8::21".parse().unwrap()),
            _ => None,
        }),
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// An IPv6 director: `VIP`, `RS1`, `RS2`, `NET` and `EXTRA` (global lines)
/// are filled in by each case.
fn farm(vip: &str, rs1: &str, rs2: &str, net: &str, extra: &str) -> String {
    format!(
        "primary = 2001:db8:1::1\nbackup = 2001:db8:1::2\nbackup_active = 1\nnetwork = {net}\n{extra}\
virtual www {{\n active = 1\n address = {vip} eth0\n port = 80\n scheduler = rr\n\
 server a {{\n  address = {rs1}\n  active = 1\n }}\n server b {{\n  address = {rs2}\n  active = 1\n }}\n}}\n"
    )
}

#[test]
fn ipv6_addresses_are_taken_wherever_an_address_goes() {
    let text = "primary = 2001:db8:1::1\nprimary_private = fd00::1\nbackup = 2001:db8:1::2\nbackup_private = fd00::2\nbackup_active = 1\nnetwork = nat\nnat_router = 2001:db8:2::1 eth1\nnat_nmask = /64\nsyncdaemon = 1\nsyncd_group = ff02::8:81\nsyncd_port = 8849\n\
virtual www {\n active = 1\n address = 2001:db8::100 eth0\n vip_nmask = /64\n port = 80\n persistent = 300\n pmask = /48\n sorry_server = 2001:db8:2::99\n\
 server a {\n  address = 2001:db8:2::21\n  active = 1\n }\n server b {\n  address = v6only.example\n  active = 1\n }\n}\n";
    let p = parse_str(text, &opts()).unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let c = &p.config;
    assert_eq!(c.primary(), ip("2001:db8:1::1"));
    assert_eq!(c.backup_private(), ip("fd00::2"));
    assert_eq!(c.nat_nmask(), Some(Mask::Prefix(64)));
    assert_eq!(c.syncd_group(), Some(ip("ff02::8:81")));
    assert_eq!(c.syncd_port(), Some(8849));
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.vip(), ip("2001:db8::100"));
    assert_eq!(vs.family(), Family::Inet6);
    assert_eq!(vs.vip_nmask(), Some(Mask::Prefix(64)));
    assert_eq!(vs.pmask(), Some(Mask::Prefix(48)));
    assert_eq!(vs.sorry_server(), ip("2001:db8:2::99"));
    assert_eq!(vs.servers[1].addr(), ip("2001:db8::21"));
    assert_eq!(
        vs.service_id(),
        ServiceId::Addr(Protocol::Tcp, ip("2001:db8::100"), 80)
    );
    // Written back and read again, the same configuration, and the
    // written text has the forms as written.
    let out = write_config(c);
    assert!(out.contains("address = 2001:db8::100 eth0\n"), "{out}");
    assert!(out.contains("vip_nmask = /64\n"), "{out}");
    assert!(out.contains("syncd_group = ff02::8:81\n"), "{out}");
    assert_eq!(&parse_str(&out, &opts()).unwrap().config, c);
}

#[test]
fn a_name_resolves_in_the_family_the_file_fixes() {
    // A real server of an IPv6 service: the name's IPv6 address.
    let c = parse_str(
        &farm(
            "2001:db8::100",
            "dual.example",
            "2001:db8::22",
            "direct",
            "",
        ),
        &opts(),
    )
    .unwrap()
    .config;
    assert_eq!(c.virtual_servers[0].servers[0].addr(), ip("2001:db8::10"));
    // `backup` follows `primary`.
    let c = parse_str("primary = 2001:db8:1::1\nbackup = dual.example\n", &opts())
        .unwrap()
        .config;
    assert_eq!(c.backup(), ip("2001:db8::10"));
    // Without a context, IPv4 first (Piranha's gethostbyname).
    let c = parse_str("primary = dual.example\n", &opts())
        .unwrap()
        .config;
    assert_eq!(c.primary(), ip("192.0.2.10"));
}

#[test]
fn ipv4_files_mean_what_they_meant() {
    let text = "primary = 10.1\nnetwork = direct\nvirtual www {\n active = 1\n address = 192.168.1.100 eth0:1\n vip_nmask = 255.255.255.0\n persistent = 60\n pmask = 255.255.0.0\n server a {\n  address = 10.0.0.1\n  active = 1\n }\n}\n";
    let p = parse_str(text, &opts()).unwrap();
    let c = &p.config;
    assert_eq!(c.primary(), ip("10.0.0.1"));
    assert_eq!(
        p.warnings
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count(),
        1,
        "the shorthand warning only: {:?}",
        p.warnings
    );
    let vs = &c.virtual_servers[0];
    assert_eq!(
        vs.vip_nmask(),
        Some(Mask::Dotted("255.255.255.0".parse().unwrap()))
    );
    assert_eq!(vs.family(), Family::Inet);
    assert_eq!(
        write_config(c)
            .lines()
            .filter(|l| l.contains("nmask") || l.contains("pmask"))
            .collect::<Vec<_>>(),
        ["    vip_nmask = 255.255.255.0", "    pmask = 255.255.0.0"]
    );
    // A prefix on an IPv4 service's pmask was ignored by Piranha (inet_aton
    // could not read it): still so, active or not, and any `/...` word.
    for (pmask, active) in [("/16", 1), ("/16", 0), ("/40", 1), ("/0", 1), ("/abc", 1)] {
        let p = parse_str(
            &format!("virtual www {{\n active = {active}\n address = 192.168.1.100 eth0:1\n persistent = 60\n pmask = {pmask}\n}}\n"),
            &opts(),
        )
        .unwrap_or_else(|e| panic!("pmask = {pmask}: {e}"));
        assert!(
            p.warnings
                .iter()
                .any(|d| d.severity == Severity::Warning && d.to_string().contains("is ignored")),
            "pmask = {pmask}: {:?}",
            p.warnings
        );
    }
    // The duplicate-service warning keeps its IPv4 words.
    let p = parse_str(
        "virtual a {\n active = 1\n address = 10.0.0.1 eth0:1\n}\nvirtual b {\n active = 1\n address = 10.0.0.1 eth0:1\n}\n",
        &opts(),
    )
    .unwrap();
    assert!(
        p.warnings
            .iter()
            .any(|d| d.to_string().contains("are both tcp 10.0.0.1:80:")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn a_mark_service_s_family_without_a_vip() {
    let mark = |body: &str| {
        parse_str(
            &format!("network = direct\nvirtual m {{\n active = 1\n fwmark = 5\n{body}}}\n"),
            &opts(),
        )
        .map(|p| p.config.virtual_servers[0].family())
    };
    assert_eq!(mark("").unwrap(), Family::Inet, "Piranha's");
    assert_eq!(
        mark(" sorry_server = 2001:db8::99\n").unwrap(),
        Family::Inet6
    );
    assert_eq!(mark(" address = :: eth0\n").unwrap(), Family::Inet6);
    assert_eq!(mark(" address = 0.0.0.0 eth0\n").unwrap(), Family::Inet);
    assert_eq!(
        mark(" server a {\n  address = 2001:db8::1\n  active = 1\n }\n").unwrap(),
        Family::Inet6
    );
    // `::` fixes the family: an IPv4 real server is then a mix.
    assert!(
        mark(" address = :: eth0\n server a {\n  address = 10.0.0.1\n  active = 1\n }\n").is_err()
    );
}

#[test]
fn the_tunnel_takes_the_other_family_unless_a_sync_daemon_runs() {
    // An IPv6 service with IPv4 real servers, tunnelled: accepted.
    let p = parse_str(
        &farm("2001:db8::100", "10.0.0.1", "10.0.0.2", "tunnel", ""),
        &opts(),
    )
    .unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let vs = &p.config.virtual_servers[0];
    assert_eq!(vs.family(), Family::Inet6);
    // And the reverse.
    assert!(parse_str(
        &farm("192.168.1.100", "2001:db8::1", "2001:db8::2", "tunnel", ""),
        &opts()
    )
    .is_ok());
}

/// (input, line, col, keyword, words the message must hold)
fn rejected() -> Vec<(String, u32, u32, &'static str, &'static str)> {
    vec![
        // Brackets: the port is a keyword of its own.
        (
            "primary = [2001:db8::1]\n".into(),
            1,
            11,
            "primary",
            "without brackets",
        ),
        (
            "virtual a {\n active = 1\n address = [2001:db8::100]:80 eth0\n}\n".into(),
            3,
            12,
            "address",
            "without brackets",
        ),
        ("primary = fe80::1\n".into(), 1, 11, "primary", "link-local"),
        (
            "primary = fe80::1%eth0\n".into(),
            1,
            11,
            "primary",
            "zone",
        ),
        (
            "primary = ::ffff:192.0.2.1\n".into(),
            1,
            11,
            "primary",
            "IPv4-mapped",
        ),
        (
            "virtual a {\n server b {\n  address = ff02::1\n }\n}\n".into(),
            3,
            13,
            "address",
            "multicast",
        ),
        ("primary = ::\n".into(), 1, 11, "primary", "not a usable address"),
        (
            "virtual a {\n sorry_server = 2001:db8::zz\n}\n".into(),
            2,
            17,
            "sorry_server",
            "not an address",
        ),
        (
            "virtual a {\n vip_nmask = /129\n}\n".into(),
            2,
            14,
            "vip_nmask",
            "prefix length",
        ),
        ("syncd_group = 10.0.0.1\n".into(), 1, 15, "syncd_group", "multicast"),
        // The two ends of a heartbeat channel are one family.
        (
            "primary = 2001:db8:1::1\nbackup = 192.0.2.2\n".into(),
            2,
            10,
            "backup",
            "one family",
        ),
        (
            "primary = 192.0.2.1\nprimary_private = fd00::1\nbackup = 192.0.2.2\nbackup_private = 10.9.0.2\n".into(),
            4,
            18,
            "backup_private",
            "one family",
        ),
        // Masks of the wrong family.
        (
            "virtual a {\n active = 1\n address = 2001:db8::100 eth0\n vip_nmask = 255.255.255.0\n}\n".into(),
            4,
            14,
            "vip_nmask",
            "write a prefix length such as /64",
        ),
        (
            "virtual a {\n active = 1\n address = 192.168.1.100 eth0\n vip_nmask = /64\n}\n".into(),
            4,
            14,
            "vip_nmask",
            "longer than an IPv4",
        ),
        (
            "nat_router = 2001:db8::1 eth1\nnat_nmask = 255.255.0.0\n".into(),
            2,
            13,
            "nat_nmask",
            "dotted mask",
        ),
        // Mixed families outside a tunnel.
        (
            farm("2001:db8::100", "2001:db8::1", "10.0.0.2", "direct", ""),
            15,
            13,
            "address",
            "only through a tunnel",
        ),
        (
            farm("2001:db8::100", "2001:db8::1", "10.0.0.2", "nat", ""),
            15,
            13,
            "address",
            "only through a tunnel",
        ),
        (
            farm("192.168.1.100", "10.0.0.1", "10.0.0.2", "direct", "").replace(
                " scheduler = rr\n",
                " scheduler = rr\n sorry_server = 2001:db8::99\n",
            ),
            10,
            17,
            "sorry_server",
            "only through a tunnel",
        ),
        // A tunnel, but a sync daemon runs.
        (
            farm("2001:db8::100", "10.0.0.1", "2001:db8::2", "tunnel", "syncdaemon = 1\n"),
            12,
            13,
            "address",
            "sync daemon",
        ),
        // A mark without an address over both families.
        (
            "virtual m {\n active = 1\n fwmark = 5\n server a {\n  address = 10.0.0.1\n  active = 1\n }\n server b {\n  address = 2001:db8::2\n  active = 1\n }\n}\n".into(),
            3,
            11,
            "fwmark",
            "both families",
        ),
        // NAT: one NAT router, of one family.
        (
            farm("2001:db8::100", "2001:db8::1", "2001:db8::2", "nat", "nat_router = 10.0.0.254 eth1:1\n"),
            8,
            12,
            "address",
            "NAT router",
        ),
        // A name with no address of the family the field needs.
        (
            farm("192.168.1.100", "v6only.example", "10.0.0.2", "direct", ""),
            11,
            13,
            "address",
            "to an IPv4 address",
        ),
    ]
}

#[test]
fn refusals_name_the_place_and_the_rule() {
    let mut failures = Vec::new();
    for (i, (text, line, col, kw, words)) in rejected().into_iter().enumerate() {
        match parse_str(&text, &opts()) {
            Ok(p) => failures.push(format!("case {i}: accepted ({:?})\n{text}", p.warnings)),
            Err(d) => {
                let e = d.first_error().expect("an error");
                let shown = e.to_string();
                let got = (
                    e.span.line,
                    e.span.col,
                    e.keyword.clone().unwrap_or_default(),
                );
                if got != (line, col, kw.to_string()) || !shown.contains(words) {
                    failures.push(format!(
                        "case {i}: got {got:?} {shown:?}, want ({line}, {col}, {kw:?}) with {words:?}"
                    ));
                }
                assert!(
                    shown.starts_with(&format!("t.cf:{}:{}", e.span.line, e.span.col)),
                    "{shown}"
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
