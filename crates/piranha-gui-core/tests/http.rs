//! HTTP-level tests of piranha-gui: authentication on every route and
//! method, CSRF, sessions, login back-off, allow-list, login redirects and
//! HTML escaping. What each panel writes is in `panels.rs`.

mod util;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use util::*;

#[tokio::test]
async fn unauthenticated_get_of_every_route_goes_to_login() {
    let h = H::new(SAMPLE);
    for r in ROUTES {
        let resp = h.get(r, None).await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{r}");
        let back = match r {
            "/" | "/control" | "/logout" => String::new(),
            _ => format!("?next={}", piranha_gui_core::pages::urlenc(r)),
        };
        assert_eq!(resp.location(), format!("/login{back}"), "{r}");
        assert!(!resp.body.contains("192.0.2"), "{r} leaked content");
        let head = h.send(Request::head(r).body(Body::empty()).unwrap()).await;
        assert_eq!(head.status, StatusCode::SEE_OTHER, "HEAD {r}");
        // A forged or stale cookie is no better.
        let resp = h.get(r, Some("piranha_session=00ff")).await;
        assert_eq!(resp.location(), format!("/login{back}"), "{r}");
    }
    assert_eq!(h.file(), SAMPLE);
}

#[tokio::test]
async fn unauthenticated_post_and_other_methods_are_refused_and_write_nothing() {
    let h = H::new(SAMPLE);
    // An anonymous (login-form) session with its valid CSRF token is not a login.
    let r = h.get("/login", None).await;
    let anon = r.cookie().unwrap();
    let csrf = csrf_of(&r.body);
    let evil = enc(&[
        ("csrf", &csrf),
        ("primary", "203.0.113.66"),
        ("action", "add"),
        ("vs", "www"),
        ("send", "evil"),
        ("name", "x"),
    ]);
    for r in ROUTES {
        for cookie in [None, Some(anon.as_str())] {
            let resp = h.post(r, cookie, evil.clone()).await;
            assert_eq!(resp.status, StatusCode::UNAUTHORIZED, "POST {r}");
        }
        for m in [Method::PUT, Method::DELETE, Method::PATCH] {
            let req = Request::builder()
                .method(m.clone())
                .uri(r)
                .body(Body::from(evil.clone()))
                .unwrap();
            let resp = h.send(req).await;
            assert_eq!(resp.status, StatusCode::UNAUTHORIZED, "{m} {r}");
        }
    }
    assert_eq!(h.file(), SAMPLE);
    assert!(!h.cf.with_extension("cf.bak").exists());
}

#[tokio::test]
async fn post_without_the_session_csrf_token_is_refused() {
    let h = H::new(SAMPLE);
    let (cookie, csrf) = h.login().await;
    let (_, other_csrf) = h.login().await;
    let good = |t: &str| enc(&[("csrf", t), ("primary", "192.0.2.99"), ("action", "accept")]);
    for body in [
        enc(&[("primary", "192.0.2.99")]),
        good(""),
        good(&"0".repeat(64)),
        good(&other_csrf),
        good(&csrf[..63]),
    ] {
        for r in [
            "/global_settings",
            "/redundancy",
            "/virtual_main",
            "/virtual_edit_virt?vs=www",
            "/logout",
        ] {
            let resp = h.post(r, Some(&cookie), body.clone()).await;
            assert_eq!(resp.status, StatusCode::FORBIDDEN, "{r} {body}");
        }
    }
    // A logged-in PUT is refused too, and nothing was written.
    let req = Request::put("/global_settings")
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    assert_eq!(h.send(req).await.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(h.file(), SAMPLE);
    // With the right token it works.
    let resp = h.post("/global_settings", Some(&cookie), good(&csrf)).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.body);
    assert!(h.file().contains("primary = 192.0.2.99\n"));
}

#[tokio::test]
async fn login_post_needs_the_login_form_token() {
    let h = H::new(SAMPLE);
    let body = enc(&[("username", "piranha"), ("password", PASSWORD)]);
    assert_eq!(
        h.post("/login", None, body.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    let r = h.get("/login", None).await;
    let anon = r.cookie().unwrap();
    assert_eq!(
        h.post("/login", Some(&anon), body).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn wrong_password_or_user_is_refused() {
    let h = H::new(SAMPLE);
    let r = h.get("/login", None).await;
    let anon = r.cookie().unwrap();
    let csrf = csrf_of(&r.body);
    for (u, p) in [("piranha", "wrong"), ("root", PASSWORD), ("piranha", "")] {
        let resp = h
            .post(
                "/login",
                Some(&anon),
                enc(&[("csrf", &csrf), ("username", u), ("password", p)]),
            )
            .await;
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
        assert!(resp.body.contains("Login failed"));
        assert!(resp.cookie().is_none());
        assert_eq!(h.get("/control", Some(&anon)).await.location(), "/login");
    }
}

#[tokio::test]
async fn session_cookie_attributes_and_security_headers() {
    let h = H::new(SAMPLE);
    let r = h.get("/login", None).await;
    let sc = r
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(sc.starts_with("piranha_session="), "{sc}");
    for a in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(sc.contains(a), "{sc}");
    }
    for (k, v) in [
        ("x-frame-options", "DENY"),
        ("cache-control", "no-store"),
        ("x-content-type-options", "nosniff"),
    ] {
        assert_eq!(r.headers.get(k).unwrap(), v);
    }
    assert!(r
        .headers
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    // Refusals carry them too.
    let r = h.get("/control", None).await;
    assert_eq!(r.headers.get("x-frame-options").unwrap(), "DENY");
}

#[tokio::test]
async fn basic_auth_reads_but_cannot_change() {
    let h = H::new(SAMPLE);
    use base64_like::encode;
    let auth = format!("Basic {}", encode(&format!("piranha:{PASSWORD}")));
    let req = Request::get("/control")
        .header(header::AUTHORIZATION, &auth)
        .body(Body::empty())
        .unwrap();
    let r = h.send(req).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("<h1>CONTROL/MONITORING</h1>"));
    let bad = format!("Basic {}", encode("piranha:nope"));
    let req = Request::get("/control")
        .header(header::AUTHORIZATION, &bad)
        .body(Body::empty())
        .unwrap();
    assert_eq!(h.send(req).await.status, StatusCode::UNAUTHORIZED);
    let req = Request::post("/global_settings")
        .header(header::AUTHORIZATION, &auth)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(enc(&[("primary", "192.0.2.99"), ("csrf", "x")])))
        .unwrap();
    assert_eq!(h.send(req).await.status, StatusCode::UNAUTHORIZED);
    // Nor drain a real server.
    let lvs = FakeDaemon::serve(&h.app.settings.lvs_socket, |_| {
        piranha_status::Answer::ok("done")
    });
    let req = Request::post("/control")
        .header(header::AUTHORIZATION, &auth)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(enc(&[
            ("action", "drain"),
            ("service", "www"),
            ("server", "web1"),
            ("csrf", "x"),
        ])))
        .unwrap();
    assert_eq!(h.send(req).await.status, StatusCode::UNAUTHORIZED);
    assert!(lvs.requests().is_empty());
    assert_eq!(h.file(), SAMPLE);
}

mod base64_like {
    pub fn encode(s: &str) -> String {
        const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let b = s.as_bytes();
        let mut o = String::new();
        for c in b.chunks(3) {
            let n = (c[0] as u32) << 16
                | (*c.get(1).unwrap_or(&0) as u32) << 8
                | *c.get(2).unwrap_or(&0) as u32;
            for i in 0..4 {
                if i <= c.len() {
                    o.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    o.push('=');
                }
            }
        }
        o
    }
}

#[tokio::test]
async fn allow_list_is_checked_before_anything() {
    let h = H::new(SAMPLE);
    let outsider: std::net::SocketAddr = "198.51.100.7:5555".parse().unwrap();
    for r in ["/login", "/control", "/no/such"] {
        let resp = h
            .send_from(outsider, Request::get(r).body(Body::empty()).unwrap())
            .await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN, "{r}");
        assert!(resp.cookie().is_none());
    }
    // Even with a valid session from an allowed address.
    let (cookie, _) = h.login().await;
    let req = Request::get("/control")
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        h.send_from(outsider, req).await.status,
        StatusCode::FORBIDDEN
    );
    // IPv4-mapped IPv6 loopback counts as loopback.
    let mapped: std::net::SocketAddr = "[::ffff:127.0.0.1]:5555".parse().unwrap();
    let r = h
        .send_from(mapped, Request::get("/login").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::OK);

    let h = H::with(SAMPLE, |s| {
        s.allow = vec!["198.51.100.0/24".parse().unwrap()]
    });
    let ok = h
        .send_from(
            outsider,
            Request::get("/login").body(Body::empty()).unwrap(),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let local = h
        .send(Request::get("/login").body(Body::empty()).unwrap())
        .await;
    assert_eq!(local.status, StatusCode::FORBIDDEN);
    h.login_from(outsider).await;
}

#[tokio::test]
async fn sessions_expire_when_idle_and_end_at_logout() {
    let h = H::with(SAMPLE, |s| s.session_timeout = Duration::from_millis(1500));
    let (cookie, csrf) = h.login().await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        h.get("/control", Some(&cookie)).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(900)).await;
    // Still alive: the last request renewed it.
    assert_eq!(
        h.get("/control", Some(&cookie)).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(h.get("/control", Some(&cookie)).await.location(), "/login");
    let r = h
        .post(
            "/global_settings",
            Some(&cookie),
            enc(&[("csrf", &csrf), ("primary", "192.0.2.99")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(h.file(), SAMPLE);

    let (cookie, csrf) = h.login().await;
    let r = h
        .post("/logout", Some(&cookie), enc(&[("csrf", &csrf)]))
        .await;
    assert_eq!(r.location(), "/login");
    assert_eq!(h.get("/control", Some(&cookie)).await.location(), "/login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_logins_are_slowed_per_client_only() {
    let h = std::sync::Arc::new(H::with(SAMPLE, |s| {
        s.login_delay = Duration::from_millis(300);
        s.login_delay_max = Duration::from_secs(5);
    }));
    let attacker: std::net::SocketAddr = "127.0.0.9:1000".parse().unwrap();
    let try_bad = |h: std::sync::Arc<H>| async move {
        let r = h
            .send_from(
                attacker,
                Request::get("/login").body(Body::empty()).unwrap(),
            )
            .await;
        let anon = r.cookie().unwrap();
        let csrf = csrf_of(&r.body);
        let req = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, anon)
            .body(Body::from(enc(&[
                ("csrf", &csrf),
                ("username", "piranha"),
                ("password", "guess"),
            ])))
            .unwrap();
        let t = Instant::now();
        let r = h.send_from(attacker, req).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        t.elapsed()
    };
    let d1 = try_bad(h.clone()).await;
    let d2 = try_bad(h.clone()).await;
    assert!(d1 >= Duration::from_millis(300), "{d1:?}");
    assert!(d2 >= Duration::from_millis(600), "{d2:?}");
    // While the attacker waits for its third answer, another client logs in at once.
    let slow = tokio::spawn(try_bad(h.clone()));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let t = Instant::now();
    h.login().await;
    assert!(
        !slow.is_finished(),
        "the other client waited for the attacker"
    );
    assert!(
        t.elapsed() < Duration::from_millis(1100),
        "{:?}",
        t.elapsed()
    );
    let d3 = slow.await.unwrap();
    assert!(d3 >= Duration::from_millis(1200), "{d3:?}");
}

fn basic(user_pw: &str) -> String {
    format!("Basic {}", base64_like::encode(user_pw))
}

async fn basic_get(h: &H, peer: std::net::SocketAddr, auth: &str) -> (StatusCode, Duration) {
    let t = Instant::now();
    let req = Request::get("/control")
        .header(header::AUTHORIZATION, auth)
        .body(Body::empty())
        .unwrap();
    (h.send_from(peer, req).await.status, t.elapsed())
}

#[tokio::test]
async fn basic_auth_failures_are_slowed_like_form_logins() {
    let h = H::with(SAMPLE, |s| {
        s.login_delay = Duration::from_millis(300);
        s.login_delay_max = Duration::from_secs(5);
    });
    let peer: std::net::SocketAddr = "127.0.0.11:1000".parse().unwrap();
    let bad = basic("piranha:guess");
    let (st, d1) = basic_get(&h, peer, &bad).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (_, d2) = basic_get(&h, peer, &bad).await;
    assert!(d1 >= Duration::from_millis(300), "{d1:?}");
    assert!(d2 >= Duration::from_millis(600), "{d2:?}");
    // A guess sent while the last answer is still pending waits for it.
    let pending = {
        let h = std::sync::Arc::new(h);
        let h2 = h.clone();
        let bad = bad.clone();
        let first = tokio::spawn(async move { basic_get(&h2, peer, &bad).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (st, d) = basic_get(&h, peer, &basic(&format!("piranha:{PASSWORD}"))).await;
        assert_eq!(st, StatusCode::OK);
        let (_, d3) = first.await.unwrap();
        assert!(d3 >= Duration::from_millis(1200), "{d3:?}");
        d
    };
    assert!(pending >= Duration::from_millis(1000), "{pending:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_from_one_client_are_checked_one_at_a_time() {
    // Regression: the back-off only counted failures already recorded, so
    // a burst of guesses sent at once was checked at once, and a right
    // one among them answered without delay.
    let h = std::sync::Arc::new(H::with(SAMPLE, |s| {
        s.login_delay = Duration::from_millis(300);
        s.login_delay_max = Duration::from_secs(5);
    }));
    let peer: std::net::SocketAddr = "127.0.0.12:1000".parse().unwrap();
    let mut bad = Vec::new();
    for i in 0..3 {
        let h = h.clone();
        bad.push(tokio::spawn(async move {
            basic_get(&h, peer, &basic(&format!("piranha:guess{i}"))).await
        }));
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    let (st, d) = basic_get(&h, peer, &basic(&format!("piranha:{PASSWORD}"))).await;
    assert_eq!(st, StatusCode::OK);
    // Behind three failures: 300 + 600 + 1200 ms of back-off at least.
    assert!(
        d >= Duration::from_millis(1500),
        "right guess answered after {d:?}"
    );
    for b in bad {
        assert_eq!(b.await.unwrap().0, StatusCode::UNAUTHORIZED);
    }
    // Another client was never slowed.
    let t = Instant::now();
    let (st, _) = basic_get(
        &h,
        "127.0.0.13:1000".parse().unwrap(),
        &basic(&format!("piranha:{PASSWORD}")),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        t.elapsed() < Duration::from_millis(1000),
        "{:?}",
        t.elapsed()
    );
}

async fn login_with_next(h: &H, next: &str) -> Resp {
    let r = h
        .get(
            &format!("/login?next={}", piranha_gui_core::pages::urlenc(next)),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let anon = r.cookie().unwrap();
    let csrf = csrf_of(&r.body);
    let req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &anon)
        .body(Body::from(enc(&[
            ("csrf", &csrf),
            ("username", "piranha"),
            ("password", PASSWORD),
            ("next", next),
        ])))
        .unwrap();
    h.send(req).await
}

#[tokio::test]
async fn login_returns_to_the_page_asked_for_and_never_elsewhere() {
    let h = H::new(SAMPLE);
    let r = h.get("/virtual_edit_real?vs=www&rs=web1", None).await;
    assert_eq!(
        r.location(),
        "/login?next=%2Fvirtual_edit_real%3Fvs%3Dwww%26rs%3Dweb1"
    );
    let page = h.get(r.location(), None).await;
    assert!(
        page.body.contains(
            "<input type=\"hidden\" name=\"next\" value=\"/virtual_edit_real?vs=www&amp;rs=web1\">"
        ),
        "{}",
        page.body
    );
    let r = login_with_next(&h, "/virtual_edit_real?vs=www&rs=web1").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/virtual_edit_real?vs=www&rs=web1");
    for evil in [
        "//evil.example/",
        "///evil.example/",
        "/\\evil.example/",
        "/\\/evil.example/",
        "https://evil.example/",
        "http:/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/ok\r\nSet-Cookie: piranha_session=fixed",
        "/ok\tx",
        "/caf\u{e9}",
        "/login",
        "/login?next=/x",
        "/logout",
        "",
    ] {
        let r = login_with_next(&h, evil).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{evil:?}");
        assert_eq!(r.location(), "/control", "{evil:?}");
        assert!(r.headers.get_all(header::SET_COOKIE).iter().count() == 1);
        // Nor does the login page carry it on.
        let page = h
            .get(
                &format!("/login?next={}", piranha_gui_core::pages::urlenc(evil)),
                None,
            )
            .await;
        assert!(!page.body.contains("name=\"next\""), "{evil:?}");
    }
}

#[tokio::test]
async fn oversized_form_fields_are_refused_and_write_nothing() {
    let h = H::new(SAMPLE);
    let (c, t) = h.login().await;
    let long = "A".repeat(piranha_gui_core::server::MAX_FIELD_LEN + 1);
    for (path, field) in [
        ("/virtual_edit_services?vs=www", "send"),
        ("/global_settings", "primary"),
        ("/global_settings", &*long),
    ] {
        let v = if field == long { "1" } else { &long };
        let r = h
            .post(path, Some(&c), enc(&[("csrf", &t), (field, v)]))
            .await;
        assert_eq!(
            r.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{path} {}",
            &field[..4]
        );
    }
    let mut many: Vec<(String, String)> = (0..100).map(|i| (format!("f{i}"), "1".into())).collect();
    many.insert(0, ("csrf".into(), t.clone()));
    let pairs: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = h.post("/global_settings", Some(&c), enc(&pairs)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    // The same change at a normal length goes through.
    let ok = "A".repeat(200);
    let r = h
        .submit(&c, "/virtual_edit_services?vs=www", &[("send", &ok)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(h.file().contains(&format!("send = \"{ok}\"")));
}

const HOSTILE: &str = "\
# <script>alert('comment')</script>
serial_no = 1
primary = 192.0.2.10
virtual <script>alert(1)</script> {
    active = 1
    address = 192.0.2.80 eth0:1
    port = 80
    send = \"<script>alert(2)</script>\"
    expect = '\"><img src=x onerror=alert(3)>'
    send_program = \"/bin/check </textarea><script>alert(4)</script>\"
    server <b>onmouseover=alert(5)</b> {
        address = 10.11.12.21
        active = 1
    }
}
";

fn assert_escaped(what: &str, body: &str) {
    for bad in ["<script", "<img", "<b>onmouse", "</textarea"] {
        assert!(!body.contains(bad), "{what}: unescaped {bad}\n{body}");
    }
}

#[tokio::test]
async fn values_from_lvs_cf_are_html_escaped_on_every_page() {
    assert!(
        parse(HOSTILE)
            .virtual_server("<script>alert(1)</script>")
            .is_some(),
        "the hostile sample parses"
    );
    let h = H::new(HOSTILE);
    let (c, _) = h.login().await;
    let vs = piranha_gui_core::pages::urlenc("<script>alert(1)</script>");
    let rs = piranha_gui_core::pages::urlenc("<b>onmouseover=alert(5)</b>");
    for path in [
        "/control".to_string(),
        "/virtual_main".into(),
        format!("/virtual_edit_virt?vs={vs}"),
        format!("/virtual_edit_real?vs={vs}"),
        format!("/virtual_edit_real_server?vs={vs}&rs={rs}"),
        format!("/virtual_edit_services?vs={vs}"),
    ] {
        let r = h.get(&path, Some(&c)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_escaped(&path, &r.body);
    }
    let r = h.get("/virtual_main", Some(&c)).await;
    assert!(r.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let r = h
        .get(&format!("/virtual_edit_services?vs={vs}"), Some(&c))
        .await;
    assert!(r
        .body
        .contains("value=\"&quot;&gt;&lt;img src=x onerror=alert(3)&gt;\""));
    // Without daemons, CONTROL/MONITORING shows lvs.cf's view.
    let r = h.get("/control", Some(&c)).await;
    assert!(r
        .body
        .contains("<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>"));
    // A refused form echoes the submitted value, escaped.
    let r = h
        .submit(
            &c,
            &format!("/virtual_edit_virt?vs={vs}"),
            &[("port", "<script>x</script>")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_escaped("refused form", &r.body);
    // An unparsable file is shown with its errors, escaped.
    std::fs::write(&h.cf, "serial_no = 1\n<script>alert(7)</script> = 1\n").unwrap();
    let r = h.get("/global_settings", Some(&c)).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_escaped("file problem", &r.body);
    assert!(r.body.contains("&lt;script&gt;"), "{}", r.body);
}
