//! The panels' finer rules, found in review: CONTROL/MONITORING's
//! daemons found by pidfile, the "reload pulse" note after a save, REDUNDANCY's
//! heartbeat defaults, a page older than the file, and the port fields
//! judged by lvs.cf's own rules. Same harness as `panels.rs`.

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
