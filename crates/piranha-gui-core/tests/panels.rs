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
    let cases: [Case; 9] = [
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
            &[("address", "10.0.0")],
            "address",
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
