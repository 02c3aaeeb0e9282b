//! HTTP-level tests of piranha-gui's panels: exactly what each panel's
//! buttons write to lvs.cf, and what the control panel shows.

mod util;

use axum::http::StatusCode;
use util::*;

#[tokio::test]
async fn viewing_pages_never_writes() {
    let h = H::new(SAMPLE);
    let (cookie, _) = h.login().await;
    let before = std::fs::metadata(&h.cf).unwrap().modified().unwrap();
    for r in ROUTES
        .iter()
        .filter(|r| **r != "/logout" && !r.starts_with("/no"))
    {
        let resp = h.get(r, Some(&cookie)).await;
        assert!(
            resp.status == StatusCode::OK || resp.status == StatusCode::SEE_OTHER,
            "{r}: {}",
            resp.status
        );
    }
    assert_eq!(h.file(), SAMPLE);
    assert_eq!(
        std::fs::metadata(&h.cf).unwrap().modified().unwrap(),
        before
    );
    assert!(!h.dir.path().join("lvs.cf.bak").exists());
}

#[tokio::test]
async fn control_panel_without_daemons_shows_lvs_cf_and_auto_update() {
    let h = H::new(SAMPLE);
    let (cookie, _) = h.login().await;
    let r = h.get("/control", Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("id=\"no-status\""), "{}", r.body);
    assert!(r.body.contains("CONFIGURED IN LVS.CF"));
    assert!(
        r.body
            .contains("<td>web1</td><td>10.11.12.21</td><td>yes</td><td>10</td>"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("http-equiv=\"refresh\""));
    // The real server list says what lvs.cf configures, not "up".
    let list = h.get("/virtual_edit_real?vs=www", Some(&cookie)).await;
    assert!(
        list.body.contains("\">active</span></td><td>web1</td>"),
        "{}",
        list.body
    );
    let r = h.get("/control?auto=1&rate=15", Some(&cookie)).await;
    assert!(
        r.body
            .contains("<meta http-equiv=\"refresh\" content=\"15\">"),
        "{}",
        r.body
    );
    let r = h.get("/passwd", Some(&cookie)).await;
    assert!(r.body.contains("piranha-passwd"));
}

// ---------------------------------------------------------------- panels

#[tokio::test]
async fn accept_without_changes_leaves_the_file_byte_identical() {
    let h = H::new(SAMPLE);
    let (c, _) = h.login().await;
    for p in [
        "/global_settings",
        "/redundancy",
        "/virtual_edit_virt?vs=www",
        "/virtual_edit_real_server?vs=www&rs=web1",
        "/virtual_edit_services?vs=www",
    ] {
        let r = h.submit(&c, p, &[("action", "accept")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{p}: {}", r.body);
        assert!(
            r.location().contains("unchanged=1"),
            "{p}: {}",
            r.location()
        );
        assert_eq!(h.file(), SAMPLE, "{p}");
    }
}

#[tokio::test]
async fn global_settings_accept_changes_exactly_the_edited_keys() {
    let h = H::new(SAMPLE);
    let (c, _) = h.login().await;
    let r = h
        .submit(
            &c,
            "/global_settings",
            &[
                ("primary", "192.0.2.20"),
                ("network", "direct"),
                ("nat_nmask", "255.255.252.0"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let after = h.file();
    assert_eq!(
        changed_lines(SAMPLE, &after),
        vec![
            ("serial_no = 7".into(), "serial_no = 8".into()),
            ("primary = 192.0.2.10".into(), "primary = 192.0.2.20".into()),
            ("network = nat".into(), "network = direct".into()),
            (
                "nat_nmask = 255.255.255.0".into(),
                "nat_nmask = 255.255.252.0".into()
            ),
        ]
    );
    assert_eq!(
        std::fs::read_to_string(h.dir.path().join("lvs.cf.bak")).unwrap(),
        SAMPLE
    );
    let r = h.get("/global_settings?saved=1", Some(&c)).await;
    assert!(r.body.contains("Changes saved."));
    assert!(r.body.contains("value=\"192.0.2.20\""));

    // New keys go after the last global key; clearing removes the line.
    let before = h.file();
    let r = h
        .submit(
            &c,
            "/global_settings",
            &[
                ("tcp_timeout", "900"),
                ("primary_private", "10.11.12.10"),
                ("nat_router_ip", ""),
                ("nat_router_dev", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let after = h.file();
    let cfg = parse(&after);
    assert_eq!(cfg.tcp_timeout(), 900);
    assert_eq!(cfg.primary_private().to_string(), "10.11.12.10");
    assert!(cfg.nat_router.is_none());
    assert!(!after.contains("nat_router"));
    assert!(after.contains("# not shown by any panel\nhard_shutdown = 0\n"));
    assert!(after.contains("# the backup director\n"));
    let virt = |t: &str| t[t.find("virtual www").unwrap()..].to_string();
    assert_eq!(
        virt(&before),
        virt(&after),
        "the virtual block is untouched"
    );
}

#[tokio::test]
async fn redundancy_enable_accept_disable() {
    let h = H::new(SAMPLE);
    let (c, _) = h.login().await;
    let page = h.get("/redundancy", Some(&c)).await;
    assert!(page.body.contains("inactive"));
    assert!(page.body.contains("ENABLE"));
    let r = h.submit(&c, "/redundancy", &[("action", "enable")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        changed_lines(SAMPLE, &h.file()),
        vec![
            ("serial_no = 7".into(), "serial_no = 8".into()),
            ("backup_active = 0".into(), "backup_active = 1".into()),
        ]
    );
    let before = h.file();
    let r = h
        .submit(
            &c,
            "/redundancy",
            &[
                ("action", "accept"),
                ("backup", "192.0.2.12"),
                ("keepalive", "3"),
                ("deadtime", "9"),
                ("heartbeat_port", "1539"),
                ("monitor_links", "1"),
                ("syncdaemon", "1"),
                ("syncd_iface", "eth1"),
                ("syncd_id", "7"),
                ("hot_standby", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let after = h.file();
    assert!(after
        .starts_with("# lvs.cf written by hand; comments must survive the GUI\nserial_no = 9\n"));
    assert!(
        after.contains("# the backup director\nbackup_active = 1\nbackup = 192.0.2.12\n"),
        "{after}"
    );
    assert_ne!(before, after);
    let cfg = parse(&after);
    assert_eq!(cfg.backup().to_string(), "192.0.2.12");
    assert_eq!(cfg.keepalive().to_string(), "3");
    assert_eq!(cfg.deadtime().to_string(), "9");
    assert_eq!(cfg.heartbeat_port(), 1539);
    assert_eq!(cfg.monitor_links(), 1);
    assert!(cfg.syncdaemon());
    assert_eq!(cfg.syncd_iface(), "eth1");
    assert_eq!(cfg.syncd_id(), 7);
    assert!(cfg.hot_standby());
    assert_eq!(cfg.serial_no(), 9);
    let r = h.submit(&c, "/redundancy", &[("action", "disable")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!parse(&h.file()).backup_active());
}

#[tokio::test]
async fn invalid_input_is_reported_next_to_its_field_and_the_file_is_untouched() {
    let h = H::new(SAMPLE);
    let (c, _) = h.login().await;
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 12] = [
        ("/global_settings", &[("primary", "192.0.2.300")], "primary"),
        (
            "/global_settings",
            &[("nat_router_ip", "10.0.0.1"), ("nat_router_dev", "eth 1")],
            "nat_router_dev",
        ),
        ("/global_settings", &[("tcp_timeout", "-1")], "tcp_timeout"),
        (
            "/redundancy",
            &[("action", "accept"), ("heartbeat_port", "70000")],
            "heartbeat_port",
        ),
        ("/virtual_edit_virt?vs=www", &[("port", "70000")], "port"),
        (
            "/virtual_edit_virt?vs=www",
            &[("scheduler", "fastest")],
            "scheduler",
        ),
        ("/virtual_edit_virt?vs=www", &[("vip", "not.an.ip")], "vip"),
        (
            "/virtual_edit_real_server?vs=www&rs=web1",
            &[("address", "10.0.0.256")],
            "address",
        ),
        (
            "/virtual_edit_virt?vs=www",
            &[("vip", "[2001:db8::80]")],
            "vip",
        ),
        (
            "/virtual_edit_real_server?vs=www&rs=web1",
            &[("address", "fe80::21")],
            "address",
        ),
        (
            "/virtual_edit_virt?vs=www",
            &[("vip_nmask", "/64")],
            "vip_nmask",
        ),
        (
            "/virtual_edit_services?vs=www",
            &[("action", "accept"), ("send", "a\"b'c")],
            "send",
        ),
    ];
    // REDUNDANCY fields show only once the backup is enabled.
    let enabled = SAMPLE.replace("backup_active = 0", "backup_active = 1");
    std::fs::write(&h.cf, &enabled).unwrap();
    for (path, changes, field) in cases {
        let r = h.submit(&c, path, changes).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path} {changes:?}: {}",
            r.body
        );
        assert!(
            r.body.contains(&format!("id=\"err-{field}\"")),
            "{path} {changes:?}: {}",
            r.body
        );
        assert_eq!(h.file(), enabled, "{path} {changes:?}");
        // The refused value is shown again for correction.
        let shown = changes
            .iter()
            .find(|(k, _)| *k == field)
            .map(|(_, v)| *v)
            .unwrap_or("");
        if !shown.contains('"') && field != "scheduler" {
            assert!(
                r.body.contains(&format!("value=\"{shown}\"")),
                "{path}: {}",
                r.body
            );
        }
    }
    assert!(!h.dir.path().join("lvs.cf.bak").exists());
    // Several bad fields at once: each gets its message.
    let r = h
        .submit(
            &c,
            "/virtual_edit_virt?vs=www",
            &[("port", "70000"), ("reentry", "x"), ("timeout", "")],
        )
        .await;
    for f in ["port", "reentry", "timeout"] {
        assert!(r.body.contains(&format!("id=\"err-{f}\"")), "{f}");
    }
    assert_eq!(h.file(), enabled);
}

#[tokio::test]
async fn a_change_the_file_cannot_take_is_refused_by_the_editor() {
    // An inactive block may hold a value Piranha never read (a warning);
    // activating it makes that value an error: the editor refuses the
    // change, the page says so, the file is unchanged.
    let text = "serial_no = 1\nprimary = 192.0.2.10\nvirtual bare {\n    active = 0\n    address = 192.0.2.80 eth0:1\n    timeout = 0\n}\n";
    let h = H::new(text);
    let (c, csrf) = h.login().await;
    let r = h
        .post(
            "/virtual_main",
            Some(&c),
            enc(&[("csrf", &csrf), ("action", "toggle"), ("vs", "bare")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("id=\"err-panel\""), "{}", r.body);
    assert_eq!(h.file(), text);
}

#[tokio::test]
async fn virtual_servers_add_edit_real_servers_scripts_activate_delete() {
    let h = H::new(SAMPLE);
    let (c, csrf) = h.login().await;
    let post = |path: &'static str, f: Vec<(&'static str, String)>| {
        let mut pairs = vec![("csrf", csrf.clone())];
        pairs.extend(f);
        let body = enc(&pairs
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect::<Vec<_>>());
        h.post(path, Some(&c), body)
    };
    let before = h.file();
    let r = post("/virtual_main", vec![("action", "add".into())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let after = h.file();
    assert!(
        after.starts_with(&before.replace("serial_no = 7", "serial_no = 8")),
        "ADD only appends:\n{after}"
    );
    let cfg = parse(&after);
    let vs = cfg
        .virtual_server("[server_name]")
        .expect("Piranha's default name");
    assert!(!vs.active());
    assert_eq!(vs.port(), 80);
    assert_eq!(
        vs.send.as_ref().unwrap().value.text,
        "GET / HTTP/1.0\\r\\n\\r\\n"
    );
    assert_eq!(vs.expect.as_ref().unwrap().value.text, "HTTP");
    assert_eq!(vs.timeout(), 6);
    assert_eq!(vs.reentry(), 15);
    // A second ADD gets a distinct name.
    post("/virtual_main", vec![("action", "add".into())]).await;
    assert!(parse(&h.file()).virtual_server("[server_name]_2").is_some());
    post(
        "/virtual_main",
        vec![
            ("action", "delete".into()),
            ("vs", "[server_name]_2".into()),
        ],
    )
    .await;
    assert!(parse(&h.file()).virtual_server("[server_name]_2").is_none());

    // EDIT goes to the VIRTUAL SERVER sub-panel without writing.
    let f = h.file();
    let r = post(
        "/virtual_main",
        vec![("action", "edit".into()), ("vs", "[server_name]".into())],
    )
    .await;
    assert_eq!(r.location(), "/virtual_edit_virt?vs=%5Bserver_name%5D");
    assert_eq!(h.file(), f);

    let r = h
        .submit(
            &c,
            "/virtual_edit_virt?vs=%5Bserver_name%5D",
            &[
                ("name", "ftp service"),
                ("port", "21"),
                ("vip", "192.0.2.21"),
                ("device", "eth0:2"),
                ("vip_nmask", "255.255.255.0"),
                ("fwmark", "21"),
                ("persistent", "300"),
                ("pmask", "255.255.255.0"),
                ("scheduler", "rr"),
                ("quiesce_server", "1"),
                ("load_monitor", "ruptime"),
                ("timeout", "10"),
                ("reentry", "30"),
                ("sorry_server", "10.11.12.99"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/virtual_edit_virt?vs=ftp_service&saved=1");
    let cfg = parse(&h.file());
    let vs = cfg
        .virtual_server("ftp_service")
        .expect("renamed, blanks to _");
    assert_eq!(vs.port(), 21);
    assert_eq!(vs.vip().to_string(), "192.0.2.21");
    assert_eq!(vs.address.as_ref().unwrap().value.dev, "eth0:2");
    assert_eq!(vs.fwmark(), 21);
    assert_eq!(vs.persistent(), 300);
    assert_eq!(vs.scheduler().as_str(), "rr");
    assert!(vs.quiesce_server());
    assert_eq!(vs.load_monitor().as_str(), "ruptime");
    assert_eq!(vs.sorry_server().to_string(), "10.11.12.99");

    // REAL SERVER: two servers.
    for (name, addr, w) in [("ftp1", "10.11.12.31", "5"), ("ftp2", "10.11.12.32", "15")] {
        let r = h
            .submit(
                &c,
                "/virtual_edit_real?vs=ftp_service",
                &[("action", "add")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = h
            .submit(
                &c,
                "/virtual_edit_real_server?vs=ftp_service&rs=%5Bunnamed%5D",
                &[("name", name), ("address", addr), ("weight", w)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = h
            .submit(
                &c,
                "/virtual_edit_real?vs=ftp_service",
                &[("action", "toggle"), ("rs", name)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    // MONITORING SCRIPTS, with quotes the original could not store.
    let r = h
        .submit(
            &c,
            "/virtual_edit_services?vs=ftp_service",
            &[
                ("action", "accept"),
                ("send", "USER \"anonymous\"\\r\\n"),
                ("expect", "^220 .*"),
                ("use_regex", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = h
        .submit(
            &c,
            "/virtual_main",
            &[("action", "toggle"), ("vs", "ftp_service")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    let text = h.file();
    let cfg = parse(&text);
    let vs = cfg.virtual_server("ftp_service").unwrap();
    assert!(vs.active());
    assert_eq!(vs.servers.len(), 2);
    for (s, (n, a, w)) in vs
        .servers
        .iter()
        .zip([("ftp1", "10.11.12.31", 5), ("ftp2", "10.11.12.32", 15)])
    {
        assert_eq!(s.name.value, n);
        assert_eq!(s.addr().to_string(), a);
        assert_eq!(s.weight(), w);
        assert!(s.active());
    }
    assert_eq!(
        vs.send.as_ref().unwrap().value.text,
        "USER \"anonymous\"\\r\\n"
    );
    assert_eq!(vs.expect.as_ref().unwrap().value.text, "^220 .*");
    assert!(vs.use_regex());
    assert!(text.contains("expect = \"^220 .*\"\n"), "{text}");
    assert!(text.contains("# health check\n"));
    // The original virtual server is untouched.
    assert!(text.contains(&SAMPLE[SAMPLE.find("virtual www").unwrap()..]));

    // BLANK SEND / BLANK EXPECT / NO SEND PROGRAM remove the keys.
    h.submit(
        &c,
        "/virtual_edit_services?vs=ftp_service",
        &[
            ("action", "accept"),
            ("send_program", "/usr/local/bin/check %h"),
        ],
    )
    .await;
    assert!(h
        .file()
        .contains("send_program = \"/usr/local/bin/check %h\"\n"));
    for (a, k) in [
        ("blank_send", "send ="),
        ("blank_expect", "expect ="),
        ("no_send_program", "send_program ="),
    ] {
        let r = h
            .submit(
                &c,
                "/virtual_edit_services?vs=ftp_service",
                &[("action", a)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let t = h.file();
        let block = &t[t.find("virtual ftp_service").unwrap()..];
        assert!(!block.contains(k), "{a}: {block}");
    }
    // Deleting a real server and the virtual server.
    let r = h
        .submit(
            &c,
            "/virtual_edit_real?vs=ftp_service",
            &[("action", "delete"), ("rs", "ftp1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        parse(&h.file())
            .virtual_server("ftp_service")
            .unwrap()
            .servers
            .len(),
        1
    );
    let r = h
        .submit(
            &c,
            "/virtual_main",
            &[("action", "delete"), ("vs", "ftp_service")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let end = h.file();
    assert!(parse(&end).virtual_server("ftp_service").is_none());
    assert_eq!(
        end[end.find("virtual www").unwrap()..],
        SAMPLE[SAMPLE.find("virtual www").unwrap()..]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_edits_from_two_processes_do_not_corrupt_the_file() {
    let mut text = SAMPLE.to_string();
    for i in 0..16 {
        text.push_str(&format!(
            "virtual v{i} {{\n    active = 0\n    address = 192.0.2.{} eth0:1\n    port = 80\n}}\n",
            100 + i
        ));
    }
    // Two App instances on one file stand for two piranha-gui processes:
    // only the flock serialises them.
    let a = std::sync::Arc::new(H::new(&text));
    let b_app = piranha_gui_core::App::new(a.app.settings.clone());
    let (ca, ta) = a.login().await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let a = a.clone();
        let (ca, ta) = (ca.clone(), ta.clone());
        let b_app = b_app.clone();
        tasks.push(tokio::spawn(async move {
            let path = format!("/virtual_edit_virt?vs=v{i}");
            let body = enc(&[("csrf", &ta), ("port", &(1000 + i).to_string())]);
            if i % 2 == 0 {
                a.post(&path, Some(&ca), body).await.status
            } else {
                // Same request through the other "process".
                let other = H {
                    dir: tempfile::tempdir().unwrap(),
                    cf: a.cf.clone(),
                    app: b_app,
                    peer: a.peer,
                };
                let (cb, tb) = other.login().await;
                let body = enc(&[("csrf", &tb), ("port", &(1000 + i).to_string())]);
                let _ = ca;
                other.post(&path, Some(&cb), body).await.status
            }
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::SEE_OTHER);
    }
    let end = a.file();
    let cfg = parse(&end);
    assert_eq!(
        cfg.serial_no(),
        7 + 16,
        "every change bumped serial_no once"
    );
    for i in 0..16 {
        assert_eq!(
            cfg.virtual_server(&format!("v{i}")).unwrap().port(),
            1000 + i as u16
        );
    }
    assert_eq!(end.lines().count(), text.lines().count());
}

#[tokio::test]
async fn keeps_owner_mode_and_backup() {
    use std::os::unix::fs::PermissionsExt;
    let h = H::new(SAMPLE);
    std::fs::set_permissions(&h.cf, std::fs::Permissions::from_mode(0o664)).unwrap();
    let (c, _) = h.login().await;
    let r = h
        .submit(&c, "/global_settings", &[("udp_timeout", "30")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        std::fs::metadata(&h.cf).unwrap().permissions().mode() & 0o7777,
        0o664
    );
    assert_eq!(
        std::fs::read_to_string(h.dir.path().join("lvs.cf.bak")).unwrap(),
        SAMPLE
    );
}

#[tokio::test]
async fn a_broken_file_is_shown_not_overwritten() {
    let broken = "serial_no = 1\nvirtual x {\n    bogus = 80\n}\n";
    let h = H::new(broken);
    let (c, csrf) = h.login().await;
    let r = h.get("/virtual_main", Some(&c)).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(r.body.contains("lvs.cf:"), "{}", r.body);
    let r = h
        .post(
            "/global_settings",
            Some(&c),
            enc(&[("csrf", &csrf), ("primary", "192.0.2.1")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(h.file(), broken);
}

#[tokio::test]
async fn a_missing_file_is_created_by_the_first_accept() {
    let h = H::new("");
    std::fs::remove_file(&h.cf).unwrap();
    let (c, _) = h.login().await;
    let r = h
        .submit(
            &c,
            "/global_settings",
            &[("primary", "192.0.2.10"), ("network", "direct")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let cfg = parse(&h.file());
    assert_eq!(cfg.primary().to_string(), "192.0.2.10");
}

#[test]
fn refuses_to_start_without_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("piranha.passwd");
    let e = piranha_gui_core::check_passwd(&missing)
        .unwrap_err()
        .to_string();
    assert!(e.contains("piranha-passwd"), "{e}");
    piranha_auth::set_password(&missing, "someone", "x").unwrap();
    let e = piranha_gui_core::check_passwd(&missing)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no password for user piranha") && e.contains("piranha-passwd"),
        "{e}"
    );
    piranha_auth::set_password(&missing, "piranha", "pw").unwrap();
    piranha_gui_core::check_passwd(&missing).unwrap();
}

#[tokio::test]
async fn sub_panel_accepts_change_exactly_their_lines() {
    let h = H::new(SAMPLE);
    let (c, _) = h.login().await;
    type Pairs<'a> = &'a [(&'a str, &'a str)];
    let steps: [(&str, Pairs, Pairs); 4] = [
        (
            "/virtual_edit_virt?vs=www",
            &[("port", "8080"), ("scheduler", "lc")],
            &[
                ("    port = 80", "    port = 8080"),
                ("    scheduler = wlc", "    scheduler = lc"),
            ],
        ),
        (
            "/virtual_edit_virt?vs=www",
            &[("vip", "192.0.2.81"), ("timeout", "9")],
            &[
                (
                    "    address = 192.0.2.80 eth0:1",
                    "    address = 192.0.2.81 eth0:1",
                ),
                ("    timeout = 6", "    timeout = 9"),
            ],
        ),
        (
            "/virtual_edit_real_server?vs=www&rs=web1",
            &[("weight", "20"), ("address", "10.11.12.29")],
            &[
                (
                    "        address = 10.11.12.21",
                    "        address = 10.11.12.29",
                ),
                ("        weight = 10", "        weight = 20"),
            ],
        ),
        (
            "/virtual_edit_services?vs=www",
            &[("action", "accept"), ("expect", "HTTP/1.0 200")],
            &[("    expect = \"HTTP\"", "    expect = \"HTTP/1.0 200\"")],
        ),
    ];
    for (path, changes, want) in steps {
        let before = h.file();
        let r = h.submit(&c, path, changes).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}: {}", r.body);
        let after = h.file();
        let serial = parse(&before).serial_no();
        let mut expect = vec![(
            format!("serial_no = {serial}"),
            format!("serial_no = {}", serial + 1),
        )];
        expect.extend(want.iter().map(|(a, b)| (a.to_string(), b.to_string())));
        assert_eq!(changed_lines(&before, &after), expect, "{path}");
        assert_eq!(
            std::fs::read_to_string(h.dir.path().join("lvs.cf.bak")).unwrap(),
            before
        );
    }
}

// ------------------------------------------------------------------ IPv6

/// An active IPv4 virtual server without real servers, with both masks
/// and a sorry server: everything that changes family with its VIP.
const V4_SERVICE: &str = "\
serial_no = 1
primary = 192.0.2.10
network = direct
virtual www {
    active = 1
    address = 192.0.2.80 eth0:1
    vip_nmask = 255.255.255.0
    port = 80
    persistent = 60
    pmask = 255.255.255.0
    sorry_server = 192.0.2.99
}
";

#[tokio::test]
async fn a_virtual_server_moves_to_ipv6_in_one_accept_and_shows_it() {
    let h = H::new(V4_SERVICE);
    let (c, _) = h.login().await;
    // The VIP, its masks and the sorry server change family together:
    // each line is changed in place.
    let r = h
        .submit(
            &c,
            "/virtual_edit_virt?vs=www",
            &[
                ("vip", "2001:db8::80"),
                ("device", "eth0"),
                ("vip_nmask", "/64"),
                ("pmask", "/56"),
                ("sorry_server", "2001:db8::99"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let text = h.file();
    assert_eq!(
        changed_lines(V4_SERVICE, &text),
        vec![
            ("serial_no = 1".into(), "serial_no = 2".into()),
            (
                "    address = 192.0.2.80 eth0:1".into(),
                "    address = 2001:db8::80 eth0".into()
            ),
            (
                "    vip_nmask = 255.255.255.0".into(),
                "    vip_nmask = /64".into()
            ),
            ("    pmask = 255.255.255.0".into(), "    pmask = /56".into()),
            (
                "    sorry_server = 192.0.2.99".into(),
                "    sorry_server = 2001:db8::99".into()
            ),
        ]
    );
    let vs = parse(&text).virtual_server("www").unwrap().clone();
    assert_eq!(vs.vip_nmask(), Some(lvs_config::Mask::Prefix(64)));
    assert_eq!(vs.pmask(), Some(lvs_config::Mask::Prefix(56)));
    // The panel shows them back: the masks selected in their selects.
    let page = h.get("/virtual_edit_virt?vs=www", Some(&c)).await;
    assert!(
        page.body.contains("value=\"2001:db8::80\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("value=\"2001:db8::99\""));
    for m in ["/64", "/56"] {
        assert!(
            page.body
                .contains(&format!("<option value=\"{m}\" selected>{m}</option>")),
            "{m}: {}",
            page.body
        );
    }
    assert!(page.body.contains("<optgroup label=\"IPv6\">"));
    let fields = form_fields(&page.body);
    assert_eq!(fields["vip_nmask"], "/64");
    assert_eq!(fields["pmask"], "/56");
    // VIRTUAL SERVERS lists the VIP and its prefix.
    let list = h.get("/virtual_main", Some(&c)).await;
    assert!(
        list.body.contains(
            "<td>www</td><td>2001:db8::80</td><td>/64</td><td>80</td><td>tcp</td><td>eth0</td>"
        ),
        "{}",
        list.body
    );
    // ADD puts a real server at the family's "unset", then it is edited
    // to an IPv6 address and activated.
    let r = h
        .submit(&c, "/virtual_edit_real?vs=www", &[("action", "add")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(h.file().contains("        address = ::\n"), "{}", h.file());
    let r = h
        .submit(
            &c,
            "/virtual_edit_real_server?vs=www&rs=%5Bunnamed%5D",
            &[("name", "web6"), ("address", "2001:db8::21")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = h
        .submit(
            &c,
            "/virtual_edit_real?vs=www",
            &[("action", "toggle"), ("rs", "web6")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(h.file().contains("        address = 2001:db8::21\n"));
    let list = h.get("/virtual_edit_real?vs=www", Some(&c)).await;
    assert!(
        list.body.contains("<td>web6</td><td>2001:db8::21</td>"),
        "{}",
        list.body
    );
    // CONTROL/MONITORING without daemons: the service as ipvsadm writes it.
    let r = h.get("/control", Some(&c)).await;
    assert!(r.body.contains("tcp [2001:db8::80]:80"), "{}", r.body);
    // Without `vip_nmask`, an IPv6 service lists no dotted mask.
    let r = h
        .submit(&c, "/virtual_edit_virt?vs=www", &[("vip_nmask", "")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let list = h.get("/virtual_main", Some(&c)).await;
    assert!(
        list.body.contains("<td>2001:db8::80</td><td>unset</td>"),
        "{}",
        list.body
    );
    // Back to IPv4 while its real server is IPv6: refused on the VIP's
    // field with lvs.cf's words, nothing is written.
    let before = h.file();
    let r = h
        .submit(
            &c,
            "/virtual_edit_virt?vs=www",
            &[("vip", "192.0.2.80"), ("sorry_server", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"err-vip\""), "{}", r.body);
    assert!(r.body.contains("is IPv6 but virtual server `www` is IPv4"));
    assert_eq!(h.file(), before);
}

#[tokio::test]
async fn a_virtual_server_changing_family_alone_is_told_about_its_masks() {
    let h = H::new(V4_SERVICE);
    let (c, _) = h.login().await;
    let r = h
        .submit(
            &c,
            "/virtual_edit_virt?vs=www",
            &[("vip", "2001:db8::80"), ("sorry_server", "2001:db8::99")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for f in ["vip_nmask", "pmask"] {
        assert!(
            r.body.contains(&format!("id=\"err-{f}\"")),
            "{f}: {}",
            r.body
        );
    }
    assert!(
        r.body
            .contains("`255.255.255.0` is a dotted mask, but the virtual IP is an IPv6 address"),
        "{}",
        r.body
    );
    assert_eq!(h.file(), V4_SERVICE);
}

/// A tunnelled IPv4 service with an IPv6 real server, and an inactive
/// IPv6 service with an IPv4 one.
const MIXED: &str = "\
serial_no = 1
primary = 192.0.2.10
backup_active = 1
backup = 192.0.2.11
network = tunnel
virtual www {
    active = 1
    address = 192.0.2.80 eth0:1
    port = 80
    server web6 {
        address = 2001:db8::21
        active = 1
    }
}
virtual v6 {
    active = 0
    address = 2001:db8::90 eth0
    port = 80
    server web4 {
        address = 10.0.0.21
        active = 1
    }
}
";

/// A change on one panel that breaks a family rule elsewhere in the file
/// is refused with lvs.cf's message, shown on the panel where it was made.
#[tokio::test]
async fn a_family_rule_broken_from_another_panel_is_shown_there() {
    let h = H::new(MIXED);
    let (c, csrf) = h.login().await;
    let says = |text: &str| {
        let opts = lvs_config::ParseOptions {
            file: "lvs.cf".into(),
            resolver: lvs_config::Resolver::None,
        };
        let d = lvs_config::parse_str(text, &opts).expect_err("refused");
        let e = d.first_error().unwrap();
        piranha_gui_core::store::with_hint(&e.detail, e.hint.as_deref()).replace('"', "&quot;")
    };
    // GLOBAL SETTINGS: leaving the tunnel.
    let r = h
        .submit(&c, "/global_settings", &[("network", "direct")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let want = says(&MIXED.replace("network = tunnel", "network = direct"));
    assert!(want.contains("only through a tunnel"), "{want}");
    assert!(
        r.body.contains(&format!(
            "<span class=\"err\" id=\"err-network\">{want}</span>"
        )),
        "{}",
        r.body
    );
    // REDUNDANCY: a sync daemon.
    let r = h
        .submit(
            &c,
            "/redundancy",
            &[("action", "accept"), ("syncdaemon", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let want = says(&MIXED.replace("network = tunnel", "network = tunnel\nsyncdaemon = 1"));
    assert!(want.contains("sync daemon"), "{want}");
    assert!(
        r.body.contains(&format!(
            "<span class=\"err\" id=\"err-syncdaemon\">{want}</span>"
        )),
        "{}",
        r.body
    );
    assert_eq!(h.file(), MIXED);
    // In a tunnel, the inactive IPv6 service activates with its IPv4 real
    // server; outside one, (DE)ACTIVATE is refused on the list's panel.
    let direct = MIXED
        .replace("network = tunnel", "network = direct")
        .replace("address = 2001:db8::21", "address = 10.0.0.22");
    std::fs::write(&h.cf, &direct).unwrap();
    let r = h
        .post(
            "/virtual_main",
            Some(&c),
            enc(&[("csrf", &csrf), ("action", "toggle"), ("vs", "v6")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let want = says(&direct.replace(
        "    active = 0\n    address = 2001:db8::90",
        "    active = 1\n    address = 2001:db8::90",
    ));
    assert!(
        r.body
            .contains(&format!("<p class=\"bad err\" id=\"err-panel\">{want}</p>")),
        "{}",
        r.body
    );
    assert_eq!(h.file(), direct);
}

#[tokio::test]
async fn redundancy_shows_an_unset_partner_in_the_primarys_family() {
    let text = "serial_no = 1\nprimary = 2001:db8:1::10\nbackup_active = 1\n";
    let h = H::new(text);
    let (c, _) = h.login().await;
    let page = h.get("/redundancy", Some(&c)).await;
    assert_eq!(form_fields(&page.body)["backup"], "::");
    let r = h.submit(&c, "/redundancy", &[("action", "accept")]).await;
    assert!(r.location().contains("unchanged=1"), "{}", r.body);
    let r = h
        .submit(
            &c,
            "/redundancy",
            &[("action", "accept"), ("backup", "2001:db8:1::11")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(h.file().contains("\nbackup = 2001:db8:1::11\n"));
}

/// The way piranha-gui(8) gives to move a heartbeat channel to IPv6: the
/// partner's address unset first, then the primary's, then the partner's.
#[tokio::test]
async fn a_heartbeat_channel_moves_to_ipv6_through_an_unset_partner() {
    let enabled = SAMPLE.replace("backup_active = 0", "backup_active = 1");
    let h = H::new(&enabled);
    let (c, _) = h.login().await;
    let steps: [(&str, &[(&str, &str)]); 3] = [
        (
            "/redundancy",
            &[("action", "accept"), ("backup", "0.0.0.0")],
        ),
        ("/global_settings", &[("primary", "2001:db8:1::10")]),
        (
            "/redundancy",
            &[("action", "accept"), ("backup", "2001:db8:1::11")],
        ),
    ];
    for (path, changes) in steps {
        let r = h.submit(&c, path, changes).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}: {}", r.body);
    }
    let cfg = parse(&h.file());
    assert_eq!(cfg.primary().to_string(), "2001:db8:1::10");
    assert_eq!(cfg.backup().to_string(), "2001:db8:1::11");
}
