//! Active-active over BGP (issue 22) in lvs.cf: the keywords, what bgp mode
//! needs, and what it refuses with the reason.

use lvs_config::*;

fn opts() -> ParseOptions {
    ParseOptions {
        file: "t.cf".into(),
        resolver: Resolver::Custom(|_, _| None),
    }
}

/// Three directors in front of two real servers; `net`, `extra` (global
/// lines) and `vs_extra` (lines of the virtual block) per case.
fn cluster(net: &str, extra: &str, vs_extra: &str) -> String {
    format!(
        "director_mode = bgp\ndirectors = [ 10.21.0.11 10.21.0.12 10.21.0.13 ]\nnetwork = {net}\n{extra}\
virtual web {{\n active = 1\n address = 10.30.0.100 lo\n port = 80\n{vs_extra}\
 server r1 {{\n  address = 10.21.0.21\n  active = 1\n }}\n server r2 {{\n  address = 10.21.0.22\n  active = 1\n }}\n}}\n"
    )
}

fn first_error(text: &str) -> Diagnostic {
    parse_str(text, &opts())
        .unwrap_err()
        .first_error()
        .expect("an error")
        .clone()
}

#[test]
fn a_bgp_cluster_parses_with_its_defaults() {
    let text = cluster(
        "direct",
        "",
        " scheduler = mh\n sched_flags = mh-port,mh-fallback\n",
    );
    let p = parse_str(&text, &opts()).unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let c = &p.config;
    assert!(c.bgp());
    assert_eq!(c.director_mode(), DirectorMode::Bgp);
    assert_eq!(
        c.directors(),
        ["10.21.0.11", "10.21.0.12", "10.21.0.13"].map(|a| a.parse::<std::net::IpAddr>().unwrap())
    );
    assert_eq!(c.bird_socket(), "/run/bird/bird.ctl");
    assert_eq!(c.bird_routes(), "/run/piranha/bird/routes.conf");
    assert_eq!(c.withdraw_delay(), Seconds::secs(2));
    // every director is active: no standby, no sync daemons
    assert!(!c.hot_standby());
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.scheduler(), Scheduler::Mh);
    assert_eq!(vs.sched_flag_bits(), 0x08 | 0x10);
    // the canonical text reads back the same
    let out = write_config(c);
    assert!(out.contains("director_mode = bgp\n"), "{out}");
    assert!(out.contains("directors = [ 10.21.0.11 10.21.0.12 10.21.0.13 ]\n"));
    assert!(out.contains("sched_flags = mh-port,mh-fallback\n"));
    assert_eq!(&parse_str(&out, &opts()).unwrap().config, c);
}

#[test]
fn a_pair_file_keeps_its_meaning() {
    let text = "primary = 10.0.0.1\nbackup = 10.0.0.2\nbackup_active = 1\nsyncdaemon = 1\nhot_standby = 1\n\
virtual web {\n active = 1\n address = 10.0.0.100 eth0:1\n port = 80\n server r1 {\n  address = 10.1.0.21\n  active = 1\n }\n}\n";
    let c = parse_str(text, &opts()).unwrap().config;
    assert!(!c.bgp());
    assert_eq!(c.director_mode(), DirectorMode::Pair);
    assert!(c.syncdaemon() && c.hot_standby());
    assert!(!write_config(&c).contains("director_mode"));
}

#[test]
fn nat_is_refused_with_the_reason() {
    let e = first_error(&cluster("nat", "", " scheduler = mh\n"));
    assert_eq!(e.keyword.as_deref(), Some("network"));
    assert_eq!((e.span.line, e.span.col), (3, 11));
    assert!(
        e.detail.contains("NAT cannot work active-active"),
        "{}",
        e.detail
    );
    assert!(e.hint.as_deref().unwrap_or("").contains("network = direct"));
    // NAT by default (no `network` line) is refused at director_mode
    let text = cluster("direct", "", " scheduler = mh\n").replace("network = direct\n", "");
    let e = first_error(&text);
    assert_eq!(e.keyword.as_deref(), Some("director_mode"));
    assert_eq!(e.span.line, 1);
}

#[test]
fn bgp_needs_directors_and_an_address_per_service() {
    let text = cluster("direct", "", " scheduler = mh\n")
        .replace("directors = [ 10.21.0.11 10.21.0.12 10.21.0.13 ]\n", "");
    let e = first_error(&text);
    assert_eq!(e.keyword.as_deref(), Some("director_mode"));
    assert!(e.detail.contains("needs `directors`"), "{}", e.detail);
    let text = cluster("tunnel", "", " scheduler = mh\n fwmark = 7\n")
        .replace(" address = 10.30.0.100 lo\n", "");
    let e = first_error(&text);
    assert_eq!(e.keyword.as_deref(), Some("address"));
    assert!(e.detail.contains("no address to announce"), "{}", e.detail);
    // a director listed twice
    let e = first_error(&cluster("direct", "", "").replace("10.21.0.13 ]", "10.21.0.11 ]"));
    assert_eq!(e.keyword.as_deref(), Some("directors"));
    assert!(e.detail.contains("listed twice"));
}

#[test]
fn a_scheduler_other_than_mh_is_warned_about() {
    let p = parse_str(&cluster("direct", "", " scheduler = wlc\n"), &opts()).unwrap();
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    let w = &p.warnings[0];
    assert_eq!(w.keyword.as_deref(), Some("scheduler"));
    assert!(w.detail.contains("another real server"), "{}", w.detail);
    assert!(w.hint.as_deref().unwrap_or("").contains("scheduler = mh"));
}

#[test]
fn scheduler_flags_must_fit_the_scheduler() {
    let e = first_error(&cluster(
        "direct",
        "",
        " scheduler = sh\n sched_flags = mh-port\n",
    ));
    assert_eq!(e.keyword.as_deref(), Some("sched_flags"));
    assert!(
        e.detail
            .contains("`mh-port` is a flag of the mh scheduler, but this virtual server uses sh"),
        "{}",
        e.detail
    );
    let e = first_error(&cluster(
        "direct",
        "",
        " scheduler = mh\n sched_flags = mh-port,mh_fallback\n",
    ));
    assert!(
        e.detail.contains("`mh_fallback` is not a scheduler flag"),
        "{}",
        e.detail
    );
    // the raw flags go with any scheduler, in pair mode too
    let text = "virtual web {\n active = 1\n address = 10.0.0.100 eth0:1\n scheduler = wrr\n sched_flags = flag-3\n server r1 {\n  address = 10.1.0.21\n  active = 1\n }\n}\n";
    let c = parse_str(text, &opts()).unwrap().config;
    assert_eq!(c.virtual_servers[0].sched_flag_bits(), 0x20);
}

#[test]
fn bgp_keywords_without_bgp_are_warned_about() {
    let text = "directors = [ 10.0.0.1 ]\nwithdraw_delay = 1\n\
virtual web {\n active = 1\n address = 10.0.0.100 eth0:1\n server r1 {\n  address = 10.1.0.21\n  active = 1\n }\n}\n";
    let p = parse_str(text, &opts()).unwrap();
    let kws: Vec<_> = p
        .warnings
        .iter()
        .map(|w| w.keyword.clone().unwrap_or_default())
        .collect();
    assert_eq!(kws, ["directors", "withdraw_delay"]);
    assert!(p.warnings[0]
        .detail
        .contains("belongs to `director_mode = bgp`"));
}
