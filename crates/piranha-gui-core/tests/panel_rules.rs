//! The panels' finer rules, found in review: CONTROL/MONITORING's
//! daemons found by pidfile, the "reload pulse" note after a save, REDUNDANCY's
//! heartbeat defaults, a page older than the file, and the port, address
//! and netmask fields (IPv6 too) judged by lvs.cf's own rules. Same harness
//! as `panels.rs`.

mod util;

use std::time::Duration;

use axum::http::StatusCode;
use util::*;

#[tokio::test]
async fn control_panel_finds_the_daemons_by_pidfile_and_proc() {
    let h = H::new(SAMPLE);
    let (c, _) = h.login().await;
    // A process whose name is `pulse` (a copy of sleep), named by the
    // pidfile: running. The lvs pidfile names a process of another name
    // (a reused pid): not running.
    let bin = h.dir.path().join("pulse");
    std::fs::copy("/bin/sleep", &bin).unwrap();
    let mut pulse = loop {
        // Another test's fork may briefly hold the copy open for writing.
        match std::process::Command::new(&bin).arg("30").spawn() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => {
                std::thread::sleep(Duration::from_millis(20))
            }
            r => break r.unwrap(),
        }
    };
    let mut other = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    std::fs::write(h.dir.path().join("pulse.pid"), format!("{}\n", pulse.id())).unwrap();
    std::fs::write(h.dir.path().join("lvs.pid"), format!("{}\n", other.id())).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let r = h.get("/control", Some(&c)).await;
    let (pp, op) = (pulse.id(), other.id());
    let _ = pulse.kill();
    let _ = pulse.wait();
    let _ = other.kill();
    let _ = other.wait();
    let row = |name: &str| {
        let i = r.body.find(&format!("<tr id=\"daemon-{name}\">")).unwrap();
        r.body[i..i + r.body[i..].find("</tr>").unwrap()].to_string()
    };
    let p = row("pulse");
    assert!(p.contains(&format!("<td>{pp}</td>")), "{p}");
    assert!(p.contains("<span class=\"up\">running</span>"), "{p}");
    let l = row("lvs");
    assert!(
        l.contains(&format!(
            "not running (stale pidfile: process {op} is `sleep`)"
        )),
        "{l}"
    );
    // With the processes gone and no pidfiles: not running.
    std::fs::remove_file(h.dir.path().join("lvs.pid")).unwrap();
    let r = h.get("/control", Some(&c)).await;
    assert!(r
        .body
        .contains(&format!("not running (stale pidfile: no process {pp})")));
    assert!(r.body.contains("not running (no pidfile)"));
}

#[tokio::test]
async fn a_saved_change_says_to_reload_pulse() {
    let h = H::new(SAMPLE);
    let (c, _) = h.login().await;
    let r = h
        .submit(&c, "/global_settings", &[("tcp_timeout", "900")])
        .await;
    assert_eq!(r.location(), "/global_settings?saved=1");
    let page = h.get(r.location(), Some(&c)).await;
    assert!(page.body.contains("id=\"reload-hint\""), "{}", page.body);
    assert!(page.body.contains("<code>service pulse reload</code>"));
    let r = h
        .submit(&c, "/global_settings", &[("tcp_timeout", "900")])
        .await;
    assert_eq!(r.location(), "/global_settings?unchanged=1");
    let page = h.get(r.location(), Some(&c)).await;
    assert!(!page.body.contains("reload-hint"));
    assert!(page.body.contains("Nothing was changed."));
}

#[tokio::test]
async fn redundancy_enable_writes_piranhas_heartbeat_defaults_and_reset_restores_them() {
    let bare = "serial_no = 3\nprimary = 192.0.2.10\n# partner\nbackup = 192.0.2.11\n";
    let h = H::new(bare);
    let (c, _) = h.login().await;
    let r = h.submit(&c, "/redundancy", &[("action", "enable")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let cfg = parse(&h.file());
    assert!(cfg.backup_active());
    assert_eq!(cfg.keepalive().to_string(), "6");
    assert_eq!(cfg.deadtime().to_string(), "18");
    assert_eq!(cfg.heartbeat_port(), 539);
    assert_eq!(cfg.serial_no(), 4, "one bump for the whole ENABLE");
    let page = h.get("/redundancy", Some(&c)).await;
    assert!(page.body.contains("id=\"reset\""));
    let r = h
        .submit(&c, "/redundancy", &[("keepalive", "1"), ("deadtime", "3")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = h.submit(&c, "/redundancy", &[("action", "reset")]).await;
    assert_eq!(r.location(), "/redundancy?saved=1");
    let text = h.file();
    let cfg = parse(&text);
    assert_eq!(cfg.keepalive().to_string(), "6");
    assert_eq!(cfg.deadtime().to_string(), "18");
    assert_eq!(
        cfg.backup().to_string(),
        "192.0.2.11",
        "RESET keeps the partner"
    );
    assert!(text.contains("# partner\n"));
    // RESET again: nothing to change, nothing written.
    let r = h.submit(&c, "/redundancy", &[("action", "reset")]).await;
    assert_eq!(r.location(), "/redundancy?unchanged=1");
    assert_eq!(h.file(), text);
    // ENABLE on a file that has the timers leaves them (SAMPLE: 2 and 6).
    let h = H::new(SAMPLE);
    let (c, _) = h.login().await;
    h.submit(&c, "/redundancy", &[("action", "enable")]).await;
    let cfg = parse(&h.file());
    assert_eq!(cfg.keepalive().to_string(), "2");
    assert_eq!(cfg.deadtime().to_string(), "6");
}

#[tokio::test]
async fn an_accept_from_a_page_older_than_the_file_writes_nothing() {
    // Regression: A loads GLOBAL SETTINGS, B changes the primary address,
    // A changes only the TCP timeout; A's ACCEPT sent the old primary back
    // as "changed" and silently undid B's change.
    let h = H::new(SAMPLE);
    let (a, _) = h.login().await;
    let (b, _) = h.login().await;
    let page_a = h.get("/global_settings", Some(&a)).await;
    let r = h
        .submit(&b, "/global_settings", &[("primary", "192.0.2.99")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let after_b = h.file();
    let mut fields = form_fields(&page_a.body);
    assert!(fields.contains_key("shown"));
    fields.insert("tcp_timeout".into(), "900".into());
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = h.post("/global_settings", Some(&a), enc(&pairs)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("was changed"), "{}", r.body);
    assert!(
        r.body.contains("value=\"192.0.2.99\""),
        "the file's value is shown"
    );
    assert_eq!(h.file(), after_b);
    // From the page as it is now, the same change goes through.
    let r = h
        .submit(&a, "/global_settings", &[("tcp_timeout", "900")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let cfg = parse(&h.file());
    assert_eq!(cfg.tcp_timeout(), 900);
    assert_eq!(cfg.primary().to_string(), "192.0.2.99");
    // A change elsewhere in the file (another panel) does not block a page.
    let page = h.get("/virtual_edit_services?vs=www", Some(&a)).await;
    h.submit(&b, "/redundancy", &[("action", "enable")]).await;
    let mut fields = form_fields(&page.body);
    fields.insert("expect".into(), "HTTP/1.1".into());
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let action = form_action(&page.body).unwrap();
    let r = h.post(&action, Some(&a), enc(&pairs)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Sub-panels are checked too.
    for (path, field, v) in [
        ("/virtual_edit_virt?vs=www", "timeout", "7"),
        ("/virtual_edit_real_server?vs=www&rs=web1", "weight", "11"),
        ("/virtual_edit_services?vs=www", "send", "x"),
        ("/redundancy", "keepalive", "3"),
    ] {
        let page = h.get(path, Some(&a)).await;
        let mut fields = form_fields(&page.body);
        assert!(fields.contains_key("shown"), "{path}");
        let r = h.submit(&b, path, &[(field, v)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        let before = h.file();
        fields.insert("action".into(), "accept".into());
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let r = h
            .post(&form_action(&page.body).unwrap(), Some(&a), enc(&pairs))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert_eq!(h.file(), before, "{path}");
    }
}

/// The port fields (the virtual server's, the heartbeat's) take exactly
/// what lvs.cf takes: lvs-config's editor decides, so a virtual server's
/// port is 0 to 65535 or a tcp service name, the heartbeat's 1 to 65535 or
/// a name, and a refused value gets lvs.cf's own message. Each refusal
/// matches what lvs.cf says of the same line (an error, or a warning that
/// it is not read as written); each accepted value reads back as the port.
#[tokio::test]
async fn port_fields_take_exactly_what_lvs_cf_takes() {
    let enabled = SAMPLE.replace("backup_active = 0", "backup_active = 1");
    let h = H::new(&enabled);
    let (c, _) = h.login().await;
    let http = lvs_config::value::service_port("http").expect("http in /etc/services");
    type Case<'a> = (&'a str, Result<u16, &'a str>);
    let virtual_port: &[Case] = &[
        ("1", Ok(1)),
        ("65535", Ok(65535)),
        ("0", Ok(0)),
        ("http", Ok(http)),
        ("0x1F90", Ok(8080)),
        ("65536", Err("port 65536 is out of range; expected 0 to 65535")),
        ("-1", Err("port -1 is out of range; expected 0 to 65535")),
        (
            "no-such-service",
            Err("`no-such-service` is neither a port number nor a tcp service name in /etc/services (write the port number, e.g. 80)"),
        ),
        ("80 81", Err("`80 81` is not a port number")),
        ("80#", Err("`80#` is not a port number")),
    ];
    let heartbeat_port: &[Case] = &[
        ("1", Ok(1)),
        ("65535", Ok(65535)),
        ("http", Ok(http)),
        ("0", Err("port 0 is out of range; expected 1 to 65535")),
        ("65536", Err("port 65536 is out of range; expected 1 to 65535")),
        (
            "70000",
            Err("port 70000 is out of range: read as 4464, as Piranha's htons() read it (write a port from 1 to 65535)"),
        ),
    ];
    // lvs.cf reads `line_to` as written: no error, and no warning on the
    // value other than about the configuration as a whole (a port-0
    // service left out without `persistent` is still port 0).
    let lvs_cf_reads = |line_from: &str, key_line: &str, value: &str| {
        let text = h.file().replace(line_from, &format!("{key_line}{value}"));
        let at = text.find(&format!("\n{key_line}{value}\n")).unwrap() + 1 + key_line.len();
        let opts = lvs_config::ParseOptions {
            file: "lvs.cf".into(),
            resolver: lvs_config::Resolver::None,
        };
        match lvs_config::parse_str(&text, &opts) {
            Ok(p) => p.warnings.iter().all(|w| {
                !(at..at + value.len()).contains(&w.span.start)
                    || w.kind == lvs_config::ErrorKind::InvalidConfiguration
            }),
            Err(_) => false,
        }
    };
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    for (path, field, key_line, cases) in [
        (
            "/virtual_edit_virt?vs=www",
            "port",
            "    port = ",
            virtual_port,
        ),
        (
            "/redundancy",
            "heartbeat_port",
            "heartbeat_port = ",
            heartbeat_port,
        ),
    ] {
        for (value, want) in cases {
            let now = h.file();
            let current = now
                .lines()
                .find(|l| l.starts_with(key_line))
                .unwrap()
                .to_string();
            let mut changes = vec![(field, *value)];
            if field == "heartbeat_port" {
                changes.push(("action", "accept"));
            }
            let r = h.submit(&c, path, &changes).await;
            let read = lvs_cf_reads(&current, key_line, value);
            match want {
                Ok(port) => {
                    assert_eq!(
                        r.status,
                        StatusCode::SEE_OTHER,
                        "{field}={value}: {}",
                        r.body
                    );
                    assert!(read, "lvs.cf refuses {field} = {value}");
                    let cfg = parse(&h.file());
                    let got = if field == "port" {
                        cfg.virtual_server("www").unwrap().port()
                    } else {
                        cfg.heartbeat_port()
                    };
                    assert_eq!(got, *port, "{field}={value}");
                    assert!(
                        h.file().contains(&format!("\n{key_line}{value}\n")),
                        "written as typed: {field}={value}"
                    );
                }
                Err(msg) => {
                    assert_eq!(
                        r.status,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "{field}={value}: {}",
                        r.body
                    );
                    assert!(!read, "lvs.cf takes {field} = {value}, the GUI did not");
                    assert!(
                        r.body.contains(&format!(
                            "<span class=\"err\" id=\"err-{field}\">{}</span>",
                            esc(msg)
                        )),
                        "{field}={value}: {}",
                        r.body
                    );
                    assert_eq!(h.file(), now, "{field}={value}");
                }
            }
        }
    }
}

/// What a refused address or mask field must say.
enum Says<'a> {
    /// This message (one of the GUI's own, or lvs.cf's refusal of the
    /// literal, which lvs-config's `address_literal` pins to the parser).
    Exactly(&'a str),
    /// What lvs.cf says of the file with the first string replaced by the
    /// second: its first error, detail and hint.
    LvsCf(&'a str, &'a str),
}

/// lvs.cf's first error about `text`, as a panel shows it.
fn lvs_cf_says(text: &str) -> String {
    let opts = lvs_config::ParseOptions {
        file: "lvs.cf".into(),
        resolver: lvs_config::Resolver::None,
    };
    let d = lvs_config::parse_str(text, &opts).expect_err("lvs.cf refuses it");
    let e = d.first_error().unwrap();
    piranha_gui_core::store::with_hint(&e.detail, e.hint.as_deref())
}

fn html_escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The address fields take what lvs.cf takes (issue 21): IPv4 in
/// Piranha's forms, IPv6 written bare, and the netmask fields a prefix
/// length `/N` next to the dotted masks; a refused literal gets lvs.cf's
/// reason, and a value that breaks an address-family rule of the file
/// (heartbeat channel, mask, real server of another family) gets lvs.cf's
/// message on the field the change was made in.
#[tokio::test]
async fn address_and_mask_fields_take_ipv6_as_lvs_cf_does() {
    let enabled = SAMPLE.replace("backup_active = 0", "backup_active = 1");
    type Change<'a> = &'a [(&'a str, &'a str)];
    let vs = "/virtual_edit_virt?vs=www";
    let rs = "/virtual_edit_real_server?vs=www&rs=web1";
    let accepted: &[(&str, Change, &[&str])] = &[
        (
            "/global_settings",
            &[("primary_private", "fd00::10")],
            &["primary_private = fd00::10"],
        ),
        (vs, &[("vip_nmask", "/24")], &["    vip_nmask = /24"]),
        (
            vs,
            &[("sorry_server", "0.0.0.0")],
            &["    sorry_server = 0.0.0.0"],
        ),
    ];
    let refused: &[(&str, Change, &str, Says)] = &[
        // The router and its mask change family in one ACCEPT, but the NAT
        // services are IPv4: lvs.cf's one-NAT-router rule.
        (
            "/global_settings",
            &[("nat_router_ip", "2001:db8:2::1"), ("nat_nmask", "/64")],
            "nat_router_ip",
            Says::LvsCf(
                "nat_router = 10.11.12.1 eth1:1\nnat_nmask = 255.255.255.0",
                "nat_router = 2001:db8:2::1 eth1:1\nnat_nmask = /64",
            ),
        ),
        // inet_aton's shorthand, which lvs.cf reads with a warning the
        // panel would not show: the address written out is asked for.
        (
            rs,
            &[("address", "10.200")],
            "address",
            Says::Exactly("`10.200` is inet_aton shorthand, read as 10.0.0.200: write 10.0.0.200"),
        ),
        (
            vs,
            &[("vip", "[2001:db8::80]")],
            "vip",
            Says::Exactly("`[2001:db8::80]`: lvs.cf takes an IPv6 address without brackets (write `2001:db8::80`; a port goes in the `port` keyword)"),
        ),
        (
            vs,
            &[("vip", "fe80::80")],
            "vip",
            Says::Exactly("`fe80::80` is link-local: it needs a zone, which IPVS cannot take (use a global or unique-local (fd00::/8) address)"),
        ),
        (
            vs,
            &[("vip", "2001:db8::80%eth0")],
            "vip",
            Says::Exactly("`2001:db8::80%eth0`: an address with a zone is not supported (use a global or unique-local IPv6 address)"),
        ),
        (
            vs,
            &[("sorry_server", "::ffff:10.11.12.99")],
            "sorry_server",
            Says::Exactly("`::ffff:10.11.12.99` is an IPv4-mapped IPv6 address (write the IPv4 address 10.11.12.99)"),
        ),
        (
            rs,
            &[("address", "ff02::1")],
            "address",
            Says::Exactly("`ff02::1` is a multicast address (write a unicast address)"),
        ),
        (
            rs,
            &[("address", "web1.example.com")],
            "address",
            Says::Exactly("`web1.example.com` is not an IPv4 or IPv6 address (write an address such as 192.168.1.10 or 2001:db8::10)"),
        ),
        (
            "/global_settings",
            &[("primary", "::")],
            "primary",
            Says::LvsCf("primary = 192.0.2.10", "primary = ::"),
        ),
        // Family rules, judged on the whole file.
        (
            "/global_settings",
            &[("primary", "2001:db8:1::10")],
            "primary",
            Says::LvsCf("primary = 192.0.2.10", "primary = 2001:db8:1::10"),
        ),
        (
            "/redundancy",
            &[("action", "accept"), ("backup", "2001:db8:1::11")],
            "backup",
            Says::LvsCf("backup = 192.0.2.11", "backup = 2001:db8:1::11"),
        ),
        (
            "/global_settings",
            &[("nat_router_ip", "2001:db8:2::1")],
            "nat_nmask",
            Says::LvsCf("nat_router = 10.11.12.1", "nat_router = 2001:db8:2::1"),
        ),
        (
            vs,
            &[("vip", "2001:db8::80")],
            "vip",
            Says::LvsCf("address = 192.0.2.80", "address = 2001:db8::80"),
        ),
        (
            rs,
            &[("address", "2001:db8::21")],
            "address",
            Says::LvsCf("address = 10.11.12.21", "address = 2001:db8::21"),
        ),
        (
            vs,
            &[("vip_nmask", "/64")],
            "vip_nmask",
            Says::LvsCf("    port = 80\n", "    port = 80\n    vip_nmask = /64\n"),
        ),
        (
            vs,
            &[("vip_nmask", "/129")],
            "vip_nmask",
            Says::LvsCf("    port = 80\n", "    port = 80\n    vip_nmask = /129\n"),
        ),
        (
            vs,
            &[("persistent", "60"), ("pmask", "/24")],
            "pmask",
            Says::Exactly("`/24` is not a netmask Piranha read: lvs.cf ignores it on the IPv4 service `www` (choose 255.255.255.0)"),
        ),
        (
            "/global_settings",
            &[("nat_nmask", "64")],
            "nat_nmask",
            Says::Exactly("`64` is not one of the offered netmasks or a prefix length such as /64"),
        ),
    ];
    let h = H::new(&enabled);
    let (c, _) = h.login().await;
    for (path, changes, lines) in accepted {
        std::fs::write(&h.cf, &enabled).unwrap();
        let r = h.submit(&c, path, changes).await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "{path} {changes:?}: {}",
            r.body
        );
        let text = h.file();
        parse(&text);
        for l in *lines {
            assert!(
                text.lines().any(|x| x == *l),
                "{path} {changes:?}: no line `{l}` in\n{text}"
            );
        }
    }
    for (path, changes, field, says) in refused {
        std::fs::write(&h.cf, &enabled).unwrap();
        let r = h.submit(&c, path, changes).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path} {changes:?}: {}",
            h.file()
        );
        let msg = match says {
            Says::Exactly(m) => m.to_string(),
            Says::LvsCf(from, to) => {
                assert!(enabled.contains(from), "{from}");
                lvs_cf_says(&enabled.replacen(from, to, 1))
            }
        };
        let want = format!(
            "<span class=\"err\" id=\"err-{field}\">{}</span>",
            html_escaped(&msg)
        );
        assert!(
            r.body.contains(&want),
            "{path} {changes:?}: want {want} in {}",
            &r.body[r.body.find("<main>").unwrap_or(0)..]
        );
        assert_eq!(h.file(), enabled, "{path} {changes:?}");
    }
}
