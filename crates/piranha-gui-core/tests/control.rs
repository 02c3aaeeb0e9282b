//! CONTROL/MONITORING against the daemons' control sockets: the status
//! shown from `status json` (a fake socket serving
//! `piranha_status::model::example()` stands for pulse and lvs), and the
//! drain, undrain and weight buttons, CSRF-protected, sending exactly one
//! request line to lvs and showing its answer.

mod util;

use axum::http::StatusCode;
use piranha_status::model::example;
use piranha_status::Answer;
use util::*;

/// An lvs.cf with the example's services: web2 and dns1 are configured
/// active, whatever their checks say.
const EXAMPLE_CF: &str = "\
serial_no = 3
primary = 10.0.0.1
service = lvs
backup_active = 1
backup = 10.0.0.2
network = direct

virtual web {
    active = 1
    address = 192.168.1.10 eth0:1
    port = 80
    scheduler = wlc
    protocol = tcp
    server web1 {
        address = 10.0.1.1
        active = 1
        weight = 1
    }
    server web2 {
        address = 10.0.1.2
        active = 1
        weight = 2
    }
}

virtual dns {
    active = 1
    address = 192.168.1.10 eth0:1
    port = 53
    scheduler = rr
    protocol = udp
    persistent = 300
    quorum = 2
    server dns1 {
        address = 10.0.1.3
        active = 1
        weight = 1
    }
}
";

fn cell<'a>(body: &'a str, row: &str, class: &str) -> &'a str {
    let i = body
        .find(&format!("<tr data-server=\"{row}\">"))
        .unwrap_or_else(|| panic!("no row {row}:\n{body}"));
    let r = &body[i..i + body[i..].find("</tr>").unwrap()];
    let j = r
        .find(&format!("<td class=\"{class}\">"))
        .unwrap_or_else(|| panic!("no {class} in {row}: {r}"));
    let c = &r[j + class.len() + 13..];
    &c[..c.find("</td>").unwrap()]
}

#[tokio::test]
async fn the_panel_shows_the_directors_status() {
    let h = H::new(EXAMPLE_CF);
    let mut d = example();
    // Whatever a daemon says is escaped.
    d.lvs.as_mut().unwrap().services[1].servers[0]
        .check
        .last
        .as_mut()
        .unwrap()
        .reason = "<script>alert(9)</script>".into();
    let pulse = FakeDaemon::serve(&h.app.settings.pulse_socket, move |l| status_of(&d, l));
    let (c, _) = h.login().await;
    let r = h.get("/control", Some(&c)).await;
    assert_eq!(r.status, StatusCode::OK);
    let b = &r.body;
    // pulse's side: role, partner, heartbeat age per channel, VIPs held.
    assert!(
        b.contains("<b id=\"role\">active</b> for 60 min (active, partner alive)"),
        "{b}"
    );
    assert!(
        b.contains("10.0.0.2 <span class=\"up\" id=\"partner\">alive</span>"),
        "{b}"
    );
    assert!(
        b.contains("<td>udp 10.0.0.2:539</td><td>0.4 s ago</td>"),
        "{b}"
    );
    assert!(b.contains("<td>192.168.1.10/24</td><td>eth0:1</td>"), "{b}");
    // Services: scheduler, sorry server, quorum.
    assert!(
        b.contains("<h3>web <code>tcp 192.168.1.10:80</code></h3>"),
        "{b}"
    );
    assert!(b.contains("wlc"));
    assert!(b.contains("10.0.1.99:80 (standing by)"), "{b}");
    assert!(b.contains("rr, persistent 300 s"), "{b}");
    assert!(
        b.contains("1 of 2 needed: <span class=\"down quorum\">LOST</span>"),
        "{b}"
    );
    // Real servers: the drained one has kernel weight 0, passes its
    // checks, is configured active, and offers UNDRAIN.
    assert_eq!(cell(b, "web/web2", "kernel-weight"), "0");
    assert_eq!(
        cell(b, "web/web2", "state"),
        "<span class=\"warn\">drained</span>"
    );
    assert!(cell(b, "web/web2", "health").starts_with("<span class=\"up\">up</span> (nanny 4242)"));
    assert_eq!(cell(b, "web/web2", "configured"), "yes");
    assert_eq!(
        cell(b, "web/web2", "last-check"),
        "<span class=\"up\">passed</span>: HTTP 200, 0.5 s ago (took 0.0 s)"
    );
    assert_eq!(
        cell(b, "web/web2", "admin"),
        "drain since 101 s ago, deadline in 10 min"
    );
    // Health apart from configured active: dns1 is configured active and
    // down, out of the table.
    assert_eq!(cell(b, "dns/dns1", "configured"), "yes");
    assert_eq!(
        cell(b, "dns/dns1", "health"),
        "<span class=\"down\">down</span> (nanny 4242)"
    );
    assert_eq!(
        cell(b, "dns/dns1", "kernel-weight"),
        "<span class=\"down\">not in table</span>"
    );
    assert!(cell(b, "dns/dns1", "last-check")
        .contains("failed</span>: &lt;script&gt;alert(9)&lt;/script&gt;"));
    assert!(!b.contains("<script>alert(9)"));
    // Connections, active then inactive.
    assert!(b.contains("<td>3</td><td>12</td>"), "{b}");
    // One button per state: web1 can be drained, web2 undrained.
    let web1 = &b[b.find("<tr data-server=\"web/web1\">").unwrap()..];
    let web1 = &web1[..web1.find("</tr>").unwrap()];
    assert!(web1.contains("value=\"drain\""), "{web1}");
    assert!(!web1.contains("value=\"undrain\""), "{web1}");
    assert!(web1.contains("name=\"service\" value=\"web\""), "{web1}");
    assert!(web1.contains("name=\"server\" value=\"web1\""), "{web1}");
    assert!(web1.contains("name=\"csrf\" value=\""), "{web1}");
    let web2 = &b[b.find("<tr data-server=\"web/web2\">").unwrap()..];
    assert!(web2[..web2.find("</tr>").unwrap()].contains("value=\"undrain\""));
    // pulse gave lvs's part: lvs's socket (absent here) is not asked, and
    // nothing is said to be missing.
    assert!(!b.contains("id=\"no-status\""));
    assert!(!b.contains("id=\"status-problems\""), "{b}");
    assert!(!b.contains("CONFIGURED IN LVS.CF"));
    // (login's own visit of the panel, then ours)
    assert_eq!(pulse.requests(), vec!["status json", "status json"]);
}

#[tokio::test]
async fn without_pulse_the_status_comes_from_lvs_and_says_so() {
    let h = H::new(EXAMPLE_CF);
    let mut d = example();
    d.pulse = None;
    let _lvs = FakeDaemon::serve(&h.app.settings.lvs_socket, move |l| status_of(&d, l));
    let (c, _) = h.login().await;
    let r = h.get("/control", Some(&c)).await;
    let b = &r.body;
    assert!(b.contains("id=\"status-problems\""), "{b}");
    assert!(b.contains("pulse: cannot connect to "), "{b}");
    assert!(!b.contains("id=\"no-status\""));
    assert!(!b.contains("id=\"role\""));
    assert_eq!(cell(b, "web/web2", "kernel-weight"), "0");
}

#[tokio::test]
async fn absent_sockets_give_a_clear_message_and_lvs_cf_view() {
    let h = H::new(EXAMPLE_CF);
    let (c, csrf) = h.login().await;
    let r = h.get("/control", Some(&c)).await;
    assert_eq!(r.status, StatusCode::OK);
    let b = &r.body;
    assert!(
        b.contains("neither pulse nor lvs answers on its control socket"),
        "{b}"
    );
    for who in ["pulse", "lvs"] {
        let sock = h.dir.path().join(format!("{who}.ctl"));
        assert!(
            b.contains(&format!("<li>{who}: cannot connect to {}", sock.display())),
            "{b}"
        );
    }
    assert!(
        b.contains("<td>dns1</td><td>10.0.1.3</td><td>yes</td><td>1</td>"),
        "{b}"
    );
    assert!(!b.contains("value=\"drain\""));
    // A drain then says lvs cannot be reached.
    let r = h
        .post(
            "/control",
            Some(&c),
            enc(&[
                ("csrf", &csrf),
                ("action", "drain"),
                ("service", "web"),
                ("server", "web2"),
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        r.body
            .contains("lvs was asked: <code>drain web/web2</code>"),
        "{}",
        r.body
    );
    assert!(r.body.contains("lvs: cannot connect to "), "{}", r.body);
    assert!(r.body.contains("class=\"answer bad\""));
}

#[tokio::test]
async fn drain_needs_the_sessions_csrf_token_and_sends_one_line() {
    let h = H::new(EXAMPLE_CF);
    let d = example();
    let d2 = d.clone();
    // pulse passes a change on to lvs, as the real one does
    let lvs_path = h.app.settings.lvs_socket.clone();
    let pulse = FakeDaemon::serve(&h.app.settings.pulse_socket, move |l| {
        if l == "status json" {
            status_of(&d, l)
        } else {
            piranha_status::socket::ask(&lvs_path, l, std::time::Duration::from_secs(2))
                .unwrap_or_else(|e| Answer::error(e.to_string()))
        }
    });
    let lvs = FakeDaemon::serve(&h.app.settings.lvs_socket, move |l| {
        if l == "status json" {
            Answer::ok(d2.to_json())
        } else {
            Answer::ok(format!("done: {l}\n"))
        }
    });
    let (c, csrf) = h.login().await;
    let form = |token: Option<&str>| {
        let mut f = vec![("action", "drain"), ("service", "web"), ("server", "web2")];
        if let Some(t) = token {
            f.push(("csrf", t));
        }
        enc(&f)
    };
    let r = h.post("/control", Some(&c), form(None)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let wrong = "0".repeat(64);
    let r = h.post("/control", Some(&c), form(Some(&wrong))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Another session's token is wrong too.
    let (_, other) = h.login().await;
    assert_ne!(other, csrf);
    let r = h.post("/control", Some(&c), form(Some(&other))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(lvs.requests().is_empty(), "{:?}", lvs.requests());

    let r = h.post("/control", Some(&c), form(Some(&csrf))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(lvs.changes(), vec!["drain web/web2"]);
    // through pulse (whose socket may be open to the tool's group)
    assert_eq!(pulse.changes(), vec!["drain web/web2"]);
    assert!(r.body.contains("class=\"answer ok\""), "{}", r.body);
    assert!(
        r.body
            .contains("<pre id=\"answer-text\">done: drain web/web2\n</pre>"),
        "{}",
        r.body
    );
    // The status is shown again below the answer.
    assert!(r.body.contains("<tr data-server=\"web/web2\">"));

    // UNDRAIN and SET WEIGHT as the page's forms send them.
    let r = h
        .post(
            "/control",
            Some(&c),
            enc(&[
                ("csrf", &csrf),
                ("service", "web"),
                ("server", "web2"),
                ("action", "undrain"),
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = h
        .post(
            "/control",
            Some(&c),
            enc(&[
                ("csrf", &csrf),
                ("service", "web"),
                ("server", "web1"),
                ("auto", "1"),
                ("rate", "15"),
                ("weight", "5"),
                ("action", "weight"),
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // The auto update settings survive the change.
    assert!(
        r.body.contains("id=\"auto\" value=\"1\" checked"),
        "{}",
        r.body
    );
    assert!(r.body.contains("id=\"rate\" value=\"15\""));
    assert_eq!(
        lvs.changes(),
        vec!["drain web/web2", "undrain web/web2", "weight web/web1 5"]
    );

    // A form that does not make one request is refused before lvs.
    for bad in [
        vec![
            ("action", "weight"),
            ("service", "web"),
            ("server", "web1"),
            ("weight", "70000"),
        ],
        vec![
            ("action", "weight"),
            ("service", "web"),
            ("server", "web1 5"),
            ("weight", "1"),
        ],
        vec![
            ("action", "disable-service"),
            ("service", "web"),
            ("server", "web1"),
        ],
        vec![
            ("action", "drain"),
            ("service", "web/x"),
            ("server", "web1"),
        ],
    ] {
        let mut f = bad.clone();
        f.push(("csrf", &csrf));
        let r = h.post("/control", Some(&c), enc(&f)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        assert!(r.body.contains("Nothing was sent to lvs:"), "{}", r.body);
    }
    assert_eq!(lvs.changes().len(), 3, "{:?}", lvs.changes());
}

#[tokio::test]
async fn lvs_refusing_a_change_is_shown() {
    let h = H::new(EXAMPLE_CF);
    let lvs = FakeDaemon::serve(&h.app.settings.lvs_socket, |l| {
        if l == "status json" {
            Answer::ok(example().to_json())
        } else {
            Answer::error("no real server <web9> in web\n")
        }
    });
    let (c, csrf) = h.login().await;
    let r = h
        .post(
            "/control",
            Some(&c),
            enc(&[
                ("csrf", &csrf),
                ("action", "drain"),
                ("service", "web"),
                ("server", "web9"),
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(lvs.changes(), vec!["drain web/web9"]);
    assert!(r.body.contains("class=\"answer bad\""), "{}", r.body);
    assert!(r.body.contains("refused or not sent:"));
    assert!(
        r.body
            .contains("<pre id=\"answer-text\">no real server &lt;web9&gt; in web\n</pre>"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_daemon_that_answers_garbage_is_reported() {
    let h = H::new(EXAMPLE_CF);
    let _pulse = FakeDaemon::serve(&h.app.settings.pulse_socket, |_| {
        Answer::ok("pulse is fine")
    });
    let _lvs = FakeDaemon::serve(&h.app.settings.lvs_socket, |_| Answer::error("busy"));
    let (c, _) = h.login().await;
    let r = h.get("/control", Some(&c)).await;
    assert!(r.body.contains("id=\"no-status\""), "{}", r.body);
    assert!(
        r.body.contains("did not answer with the status JSON"),
        "{}",
        r.body
    );
    assert!(r.body.contains("refused `status json`: busy"), "{}", r.body);
    assert!(r.body.contains("CONFIGURED IN LVS.CF"));
}
