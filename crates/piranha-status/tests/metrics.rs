//! The metrics exposition and its HTTP endpoint.
//!
//! The promtool tests need Prometheus's `promtool` (Debian package
//! `prometheus`): `tests/install-deps` installs it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use piranha_status::http::MetricsListener;
use piranha_status::metrics::{render, CONTENT_TYPE};
use piranha_status::model::{example, Director, Histogram};
use proptest::prelude::*;

/// Run `promtool check metrics` on `text`; its verdict and what it said.
fn promtool(text: &str) -> (bool, String) {
    let mut child = match Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!(
            "cannot run promtool ({e}): install it with tests/install-deps (Debian package prometheus)"
        ),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

fn assert_promtool_passes(text: &str) {
    let (ok, said) = promtool(text);
    assert!(
        ok && said.trim().is_empty(),
        "promtool check metrics: {said}\non:\n{text}"
    );
}

/// A director whose every name needs escaping, with a role and a state
/// outside the known sets.
fn nasty() -> Director {
    let mut d = example();
    let p = d.pulse.as_mut().unwrap();
    p.role = "weird \"role\"".into();
    let partner = p.partner.as_mut().unwrap();
    partner.address = "back\\slash".into();
    partner.channels[0].name = "line\nbreak".into();
    p.addresses[0].device = "eth0 \u{e9}\u{1f600}".into();
    let l = d.lvs.as_mut().unwrap();
    l.services[0].name = "w\"e\\b\n".into();
    l.services[0].servers[0].name = "}{,=\"".into();
    l.services[0].servers[1].state = "limbo".into();
    l.services[1].key = "".into();
    d
}

#[test]
fn promtool_accepts_the_example() {
    assert_promtool_passes(&render(&example()));
}

#[test]
fn promtool_accepts_names_that_need_escaping() {
    assert_promtool_passes(&render(&nasty()));
}

#[test]
fn promtool_accepts_a_director_without_lvs_or_pulse() {
    let mut d = example();
    d.lvs = None;
    assert_promtool_passes(&render(&d));
    assert_promtool_passes(&render(&Director::now()));
}

#[test]
fn promtool_is_a_real_check() {
    // A counter without `_total`: the check above must be able to fail.
    let (ok, said) = promtool("# HELP x_y z\n# TYPE x_y counter\nx_y 1\n");
    assert!(!ok && !said.is_empty());
}

/// The samples of an exposition: `name{labels}` as written, to its value.
fn samples(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap();
            (series.to_string(), value.to_string())
        })
        .collect()
}

#[test]
fn example_series_have_the_example_values() {
    let text = render(&example());
    let s = samples(&text);
    let web2 = r#"service="web",server="web2",address="10.0.1.2:80""#;
    let dns1 = r#"service="dns",server="dns1",address="10.0.1.3:53""#;
    let web = r#"service="web",key="tcp 192.168.1.10:80""#;
    let dns = r#"service="dns",key="udp 192.168.1.10:53""#;
    let want: Vec<(String, &str)> = vec![
        ("piranha_pulse_up".into(), "1"),
        (r#"piranha_pulse_role{role="active"}"#.into(), "1"),
        (r#"piranha_pulse_role{role="backup"}"#.into(), "0"),
        (r#"piranha_pulse_role{role="hot-standby"}"#.into(), "0"),
        ("piranha_pulse_role_seconds".into(), "3600.0"),
        ("piranha_pulse_takeovers_total".into(), "1"),
        ("piranha_pulse_handovers_total".into(), "0"),
        (r#"piranha_partner_alive{partner="10.0.0.2"}"#.into(), "1"),
        (
            r#"piranha_heartbeat_age_seconds{channel="udp 10.0.0.2:539"}"#.into(),
            "0.4",
        ),
        (
            r#"piranha_address_held{address="192.168.1.10/24",device="eth0:1"}"#.into(),
            "1",
        ),
        ("piranha_lvs_up".into(), "1"),
        ("piranha_lvs_standby".into(), "0"),
        (format!("piranha_service_in_kernel{{{web}}}"), "1"),
        (format!("piranha_service_disabled{{{web}}}"), "0"),
        (
            format!(r#"piranha_service_sorry_server_serving{{{web},address="10.0.1.99:80"}}"#),
            "0",
        ),
        (format!("piranha_service_quorum_up{{{dns}}}"), "0"),
        (format!("piranha_service_quorum_have{{{dns}}}"), "1"),
        (format!("piranha_service_quorum_need{{{dns}}}"), "2"),
        (
            format!("piranha_service_persistence_timeout_seconds{{{dns}}}"),
            "300",
        ),
        (format!("piranha_service_connections_total{{{web}}}"), "300"),
        (
            format!("piranha_service_incoming_bytes_total{{{web}}}"),
            "300000",
        ),
        (
            format!("piranha_service_outgoing_packets_total{{{web}}}"),
            "2700",
        ),
        (
            format!("piranha_service_connections_per_second{{{web}}}"),
            "2",
        ),
        (
            format!("piranha_service_outgoing_bytes_per_second{{{web}}}"),
            "18000",
        ),
        (format!("piranha_server_weight{{{web2}}}"), "2"),
        (format!("piranha_server_kernel_weight{{{web2}}}"), "0"),
        (
            format!(r#"piranha_server_state{{{web2},state="drained"}}"#),
            "1",
        ),
        (
            format!(r#"piranha_server_state{{{dns1},state="down"}}"#),
            "1",
        ),
        (format!("piranha_server_check_up{{{web2}}}"), "1"),
        (format!("piranha_server_check_up{{{dns1}}}"), "0"),
        (format!("piranha_server_active_connections{{{web2}}}"), "1"),
        (
            format!("piranha_server_inactive_connections{{{web2}}}"),
            "4",
        ),
        (format!("piranha_server_connections_total{{{web2}}}"), "100"),
        (format!("piranha_server_last_check_success{{{dns1}}}"), "0"),
        (
            format!("piranha_server_last_check_timestamp_seconds{{{dns1}}}"),
            "1796558400.5",
        ),
        (
            format!("piranha_server_last_check_duration_seconds{{{dns1}}}"),
            "0.002",
        ),
        (
            format!(r#"piranha_check_duration_seconds_bucket{{{web},le="0.001"}}"#),
            "2",
        ),
        (
            format!(r#"piranha_check_duration_seconds_bucket{{{web},le="0.0025"}}"#),
            "6",
        ),
        (
            format!(r#"piranha_check_duration_seconds_bucket{{{web},le="0.05"}}"#),
            "8",
        ),
        (
            format!(r#"piranha_check_duration_seconds_bucket{{{web},le="+Inf"}}"#),
            "8",
        ),
        (
            format!("piranha_check_duration_seconds_count{{{web}}}"),
            "8",
        ),
        (
            format!("piranha_check_duration_seconds_sum{{{web}}}"),
            "0.0696",
        ),
    ];
    for (series, value) in want {
        assert_eq!(
            s.get(&series).map(String::as_str),
            Some(value),
            "{series} in:\n{text}"
        );
    }
    // Absent, not zero: dns1 is not in the kernel's table and has no
    // counters; web has no quorum; dns has no sorry server.
    for prefix in [
        // one series a server: its current state only
        format!(r#"piranha_server_state{{{web2},state="up"}}"#),
        // check durations are per service, not per server
        format!("piranha_check_duration_seconds_count{{{web2}"),
        format!("piranha_server_kernel_weight{{{dns1}}}"),
        format!("piranha_server_active_connections{{{dns1}}}"),
        format!("piranha_server_connections_total{{{dns1}}}"),
        format!("piranha_service_quorum_up{{{web}}}"),
        format!("piranha_service_sorry_server_serving{{{dns}"),
    ] {
        assert!(
            !s.keys().any(|k| k.starts_with(&prefix)),
            "{prefix} should be absent"
        );
    }
    // A role outside the known set and a state too still show.
    let n = samples(&render(&nasty()));
    assert_eq!(
        n.get(r#"piranha_pulse_role{role="weird \"role\""}"#)
            .map(String::as_str),
        Some("1")
    );
    assert_eq!(
        n.get(r#"piranha_pulse_role{role="active"}"#)
            .map(String::as_str),
        Some("0")
    );
    assert!(n.keys().any(|k| k.contains(r#"state="limbo""#)));
    assert!(n.keys().any(|k| k.contains(r#"service="w\"e\\b\n""#)));
}

#[test]
fn without_lvs_and_pulse_the_up_gauges_say_so() {
    let s = samples(&render(&Director::now()));
    assert_eq!(s.get("piranha_lvs_up").map(String::as_str), Some("0"));
    assert_eq!(s.get("piranha_pulse_up").map(String::as_str), Some("0"));
    assert!(!s.keys().any(|k| k.starts_with("piranha_server_")));
}

/// Every family of the exposition, with its type, is in docs/METRICS.md,
/// and every family there is in the exposition.
#[test]
fn docs_list_every_family() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/METRICS.md"
    ))
    .unwrap();
    let documented: BTreeSet<(String, String)> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| `piranha_"))
        .map(|l| {
            let mut cells = l.split('|');
            let name = cells.next().unwrap().trim().trim_end_matches('`');
            let kind = cells.next().unwrap_or("").trim();
            (format!("piranha_{name}"), kind.to_string())
        })
        .collect();
    let rendered: BTreeSet<(String, String)> = render(&example())
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| {
            let (name, kind) = l.split_once(' ').unwrap();
            (name.to_string(), kind.to_string())
        })
        .collect();
    assert_eq!(documented, rendered);
}

// ---- the basic syntax, without promtool ----

/// Check one sample line: a metric name, optional labels with quoted,
/// escaped values, a blank, a float.  Returns the label values, unescaped.
fn check_line(line: &str) -> Result<Vec<String>, String> {
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.chars().enumerate().all(|(i, c)| {
                c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
            })
    };
    let end = line.find(['{', ' ']).ok_or("no value")?;
    if !name_ok(&line[..end]) {
        return Err(format!("bad name {:?}", &line[..end]));
    }
    let mut values = Vec::new();
    let mut rest = &line[end..];
    if let Some(r) = rest.strip_prefix('{') {
        rest = r;
        loop {
            let eq = rest.find('=').ok_or("label without =")?;
            if !name_ok(&rest[..eq]) {
                return Err(format!("bad label name {:?}", &rest[..eq]));
            }
            let mut chars = rest[eq + 1..].char_indices();
            if chars.next().map(|(_, c)| c) != Some('"') {
                return Err("label value not quoted".into());
            }
            let mut v = String::new();
            let close = loop {
                match chars.next().ok_or("unterminated label value")? {
                    (_, '\\') => match chars.next().ok_or("dangling escape")?.1 {
                        '\\' => v.push('\\'),
                        '"' => v.push('"'),
                        'n' => v.push('\n'),
                        c => return Err(format!("bad escape \\{c}")),
                    },
                    (_, '\n') => return Err("raw newline in label value".into()),
                    (i, '"') => break i,
                    (_, c) => v.push(c),
                }
            };
            values.push(v);
            rest = &rest[eq + 1 + close + 1..];
            if let Some(r) = rest.strip_prefix(',') {
                rest = r;
            } else if let Some(r) = rest.strip_prefix('}') {
                rest = r;
                break;
            } else {
                return Err("label not followed by , or }".into());
            }
        }
    }
    let value = rest.strip_prefix(' ').ok_or("no blank before the value")?;
    match value {
        "+Inf" | "-Inf" | "NaN" => Ok(values),
        v if v.parse::<f64>().is_ok_and(f64::is_finite) => Ok(values),
        v => Err(format!("bad value {v:?}")),
    }
}

#[test]
fn the_syntax_check_catches_bad_lines() {
    assert!(check_line(r#"a_b{x="1",y="q\"\\\n"} 1.5"#).is_ok());
    for bad in [
        "1a 1",
        "a{x=1} 1",
        r#"a{x="1} 1"#,
        r#"a{x="1"}1"#,
        r#"a{x="1"} one"#,
        r#"a{x="\q"} 1"#,
        "a 1 2",
    ] {
        assert!(check_line(bad).is_err(), "{bad:?} passed");
    }
}

fn director_with(names: &[String], floats: &[f64], counts: &[u64]) -> Director {
    let mut d = example();
    let mut n = names.iter().cycle();
    let mut f = floats.iter().cycle();
    let mut next = || n.next().unwrap().clone();
    let p = d.pulse.as_mut().unwrap();
    p.role = next();
    p.role_for = *f.next().unwrap();
    let partner = p.partner.as_mut().unwrap();
    partner.address = next();
    partner.channels[0].name = next();
    partner.channels[0].last_heard = Some(*f.next().unwrap());
    p.addresses[0].address = next();
    p.addresses[0].device = next();
    for v in &mut d.lvs.as_mut().unwrap().services {
        v.name = next();
        v.key = next();
        if let Some(s) = &mut v.sorry_server {
            s.address = next();
        }
        for r in &mut v.servers {
            r.name = next();
            r.address = next();
            r.state = next();
            r.check.state = next();
            if let Some(last) = &mut r.check.last {
                last.at = *f.next().unwrap();
                last.took = *f.next().unwrap();
            }
        }
        v.check_latency = Histogram {
            bounds: floats.to_vec(),
            counts: counts.to_vec(),
            sum: *f.next().unwrap(),
            count: counts.iter().copied().max().unwrap_or(0) / 2,
        };
    }
    d
}

proptest! {
    #[test]
    fn render_never_panics_and_stays_parseable(
        names in prop::collection::vec(any::<String>(), 1..8),
        floats in prop::collection::vec(any::<f64>(), 1..6),
        counts in prop::collection::vec(any::<u64>(), 0..6),
    ) {
        let d = director_with(&names, &floats, &counts);
        let text = render(&d);
        let mut label_values = BTreeSet::new();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            match check_line(line) {
                Ok(v) => label_values.extend(v),
                Err(e) => prop_assert!(false, "{e} in line {line:?}"),
            }
        }
        // Escaping round-trips: every name shows as a label value.
        for v in &d.lvs.as_ref().unwrap().services {
            prop_assert!(label_values.contains(&v.name), "{:?} lost", v.name);
            for r in &v.servers {
                prop_assert!(label_values.contains(&r.name), "{:?} lost", r.name);
            }
        }
    }
}

// ---- the endpoint ----

/// Send `request` raw, read the whole answer; its status line, headers
/// and body.
fn exchange(addr: SocketAddr, request: &[u8]) -> (String, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request).unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    let split = got
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("no end of head");
    let head = String::from_utf8(got[..split].to_vec()).unwrap();
    let (status, headers) = head.split_once("\r\n").unwrap_or((&head, ""));
    (
        status.to_string(),
        headers.to_string(),
        got[split + 4..].to_vec(),
    )
}

/// Serve `n` answered connections from a thread; the statuses, in order,
/// and how many snapshots were taken.
fn serve_n(n: usize) -> (SocketAddr, std::thread::JoinHandle<(Vec<u16>, usize)>) {
    let listener = MetricsListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let snapshots = Arc::new(AtomicUsize::new(0));
        let mut statuses = Vec::new();
        let give_up = Instant::now() + Duration::from_secs(60);
        while statuses.len() < n && Instant::now() < give_up {
            let counter = snapshots.clone();
            match listener.serve(move |_| {
                counter.fetch_add(1, Ordering::SeqCst);
                example()
            }) {
                Some(status) => statuses.push(status),
                None => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        (statuses, snapshots.load(Ordering::SeqCst))
    });
    (addr, handle)
}

fn header<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    headers.split("\r\n").find_map(|h| {
        let (k, v) = h.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[test]
fn endpoint_answers_each_kind_of_request() {
    let (addr, server) = serve_n(9);

    let (status, headers, body) = exchange(addr, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(header(&headers, "Content-Type"), Some(CONTENT_TYPE));
    assert_eq!(header(&headers, "Connection"), Some("close"));
    assert_eq!(body, render(&example()).into_bytes());
    assert_eq!(
        header(&headers, "Content-Length"),
        Some(body.len().to_string().as_str())
    );

    let (status, headers, body) = exchange(addr, b"HEAD /metrics?x=1 HTTP/1.0\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.is_empty());
    assert_eq!(
        header(&headers, "Content-Length"),
        Some(render(&example()).len().to_string().as_str())
    );

    let (status, _, body) = exchange(addr, b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(String::from_utf8(body).unwrap().contains("/metrics"));

    let (status, _, _) = exchange(addr, b"GET /nope HTTP/1.1\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 404 Not Found");

    let (status, headers, _) = exchange(
        addr,
        b"POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert_eq!(status, "HTTP/1.1 405 Method Not Allowed");
    assert_eq!(header(&headers, "Allow"), Some("GET, HEAD"));

    let (status, _, _) = exchange(addr, b"\x00\x01\x02 garbage\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 400 Bad Request");

    let (status, _, _) = exchange(addr, b"GET /metrics HTTP/1.1\r\nBad Header\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 400 Bad Request");

    let mut big = b"GET /metrics HTTP/1.1\r\nX-Big: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 9000));
    big.extend_from_slice(b"\r\n\r\n");
    let (status, _, _) = exchange(addr, &big);
    assert_eq!(status, "HTTP/1.1 431 Request Header Fields Too Large");

    // Half a head, then silence: answered after the read timeout.
    let started = Instant::now();
    let (status, _, _) = exchange(addr, b"GET /metrics HTTP/1.1\r\n");
    assert_eq!(status, "HTTP/1.1 408 Request Timeout");
    assert!(started.elapsed() >= Duration::from_millis(400));

    let (statuses, snapshots) = server.join().unwrap();
    assert_eq!(statuses, [200, 200, 200, 404, 405, 400, 400, 431, 408]);
    // Only the two answers with the metrics took a snapshot.
    assert_eq!(snapshots, 2);
}

#[test]
fn endpoint_serves_nothing_when_nobody_waits_nor_to_a_silent_client() {
    let listener = MetricsListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    assert_eq!(
        listener.serve(|_| panic!("no snapshot without a request")),
        None
    );
    // A client that connects and closes without a word gets nothing, and
    // its connection is used up.
    drop(TcpStream::connect(addr).unwrap());
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        listener.serve(|_| panic!("no snapshot without a request")),
        None
    );
    // The next one is served (from this thread: the request waits in the
    // socket until serve takes it).
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(listener.serve(|_| panic!("no snapshot for /")), Some(200));
    let mut got = String::new();
    s.read_to_string(&mut got).unwrap();
    assert!(got.starts_with("HTTP/1.1 200 OK\r\n"), "{got}");
}
